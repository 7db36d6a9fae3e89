"""Check that the lower-bound constraints file says what pyproject.toml declares.

``make test-min`` installs the package with ``-c .ci/constraints-min.txt`` and runs the suite,
which proves the declared lower bounds only while that file pins each runtime dependency (and
each dependency of an extra users install: excel, plot, fast, dask) at exactly its ``>=``
bound. This script fails, naming every mismatch at once, when

- a runtime dependency in ``[project] dependencies`` has no ``>=`` lower bound,
- the constraints file does not pin it with ``==`` at that bound (missing, or another version),
- with ``--installed``: a package installed in the running environment is not at the version
  pinned for this Python (pins whose environment marker does not apply are skipped).

A Python newer than the floor of ``requires-python`` is only noted: the run is still useful,
but it does not prove the Python floor.

Usage: ``python tools/check_min_versions.py [--pyproject FILE] [--constraints FILE] [--installed]``
"""

from __future__ import annotations

import argparse
import platform
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
#: Extras that only the project itself installs: their bounds promise nothing to users.
TOOLING = frozenset({"test", "bench"})


def declared_floors(pyproject: Path) -> tuple[dict[str, Version], list[str]]:
    """The ``>=`` bound of each runtime and user-facing extra dependency, and those with none."""
    project = tomllib.loads(pyproject.read_text())["project"]
    floors: dict[str, Version] = {}
    unbounded = []
    extras = project.get("optional-dependencies", {})
    promised = [  # the extras users install are promises too; test and bench are ours
        *project.get("dependencies", []),
        *(line for name, lines in extras.items() if name not in TOOLING for line in lines),
    ]
    for line in promised:
        req = Requirement(line)
        lows = [Version(s.version) for s in req.specifier if s.operator == ">="]
        if lows:
            floors[canonicalize_name(req.name)] = max(lows)
        else:
            unbounded.append(req.name)
    return floors, unbounded


def pins(constraints: Path) -> list[Requirement]:
    """The ``name==version`` lines of a constraints file (comments and blanks skipped)."""
    lines = (line.split("#", 1)[0].strip() for line in constraints.read_text().splitlines())
    return [Requirement(line) for line in lines if line]


def _pinned(req: Requirement) -> Version | None:
    exact = [s for s in req.specifier if s.operator == "=="]
    return Version(exact[0].version) if len(exact) == 1 and len(req.specifier) == 1 else None


def problems(
    pyproject: Path, constraints: Path, installed: Callable[[str], str | None] | None = None
) -> list[str]:
    """Every way the constraints file, pyproject.toml and (optionally) the environment disagree."""
    floors, unbounded = declared_floors(pyproject)
    found = [f"{name}: pyproject.toml declares no >= lower bound" for name in unbounded]
    reqs = pins(constraints)
    found += [
        f"{req}: {constraints.name} must pin with == only" for req in reqs if not _pinned(req)
    ]
    for name, floor in floors.items():
        at = {_pinned(r) for r in reqs if canonicalize_name(r.name) == name and not r.marker}
        if at != {floor}:
            shown = ", ".join(sorted(str(v) for v in at if v)) or "nothing"
            found.append(
                f"{name}: pyproject.toml declares >={floor}, {constraints.name} pins {shown}"
                f" (it needs exactly one unconditional line {name}=={floor})"
            )
    if installed is not None:
        for req in reqs:
            want = _pinned(req)
            if want is None or (req.marker and not req.marker.evaluate()):
                continue
            have = installed(req.name)
            if have is None or Version(have) != want:
                found.append(
                    f"{req.name}: {have or 'not'} installed, {constraints.name} pins {want}"
                )
    return found


def _installed_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def main(argv: Sequence[str] | None = None) -> int:
    """Print every mismatch and return 1, or return 0 when there is none."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyproject", type=Path, default=ROOT / "pyproject.toml")
    parser.add_argument("--constraints", type=Path, default=ROOT / ".ci" / "constraints-min.txt")
    parser.add_argument(
        "--installed",
        action="store_true",
        help="also require the running environment to hold exactly the pinned versions",
    )
    args = parser.parse_args(argv)
    found = problems(
        args.pyproject, args.constraints, _installed_version if args.installed else None
    )
    for line in found:
        print(f"check_min_versions: {line}", file=sys.stderr)
    if found:
        return 1
    requires = tomllib.loads(args.pyproject.read_text())["project"].get("requires-python", "")
    python = platform.python_version()
    floor = [s.version for s in SpecifierSet(requires) if s.operator == ">="]
    if args.installed and floor and Version(python).release[:2] != Version(floor[0]).release[:2]:
        print(f"check_min_versions: note: Python {python}, not the floor {requires}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
