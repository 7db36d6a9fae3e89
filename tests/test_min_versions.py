"""tools/check_min_versions.py: the lower-bound constraints cannot drift from pyproject.toml."""

from __future__ import annotations

import importlib.util
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location(
    "check_min_versions", ROOT / "tools" / "check_min_versions.py"
)
assert _spec is not None and _spec.loader is not None
checker = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(checker)

PYPROJECT = """
[project]
name = "fake"
requires-python = ">=3.10"
dependencies = ["pandas>=2.2", "tqdm>=4.66"]
"""


def run(tmp_path: Path, constraints: str, *args: str, pyproject: str = PYPROJECT) -> int:
    (tmp_path / "pyproject.toml").write_text(pyproject)
    (tmp_path / "constraints.txt").write_text(constraints)
    paths = ["--pyproject", str(tmp_path / "pyproject.toml")]
    return int(checker.main([*paths, "--constraints", str(tmp_path / "constraints.txt"), *args]))


def test_the_repository_pins_exactly_what_it_declares():
    assert checker.main([]) == 0


def test_pins_at_the_declared_floors_pass(tmp_path):
    constraints = "# floors\npandas==2.2.0\ntqdm==4.66  # same version\nnumpy==1.22.4\n"
    assert run(tmp_path, constraints) == 0


def test_every_mismatch_is_named_at_once(tmp_path, capsys):
    assert run(tmp_path, "pandas==2.2.3\nrequests>=2\n") == 1
    err = capsys.readouterr().err
    assert "pandas: pyproject.toml declares >=2.2, constraints.txt pins 2.2.3" in err
    assert "tqdm: pyproject.toml declares >=4.66, constraints.txt pins nothing" in err
    assert "requests>=2: constraints.txt must pin with == only" in err


def test_a_conditional_pin_does_not_stand_for_a_declared_floor(tmp_path, capsys):
    assert run(tmp_path, 'pandas==2.2.0; python_version < "3.11"\ntqdm==4.66.0\n') == 1
    assert "pandas: pyproject.toml declares >=2.2, constraints.txt pins nothing" in (
        capsys.readouterr().err
    )


def test_a_dependency_without_a_lower_bound_fails(tmp_path, capsys):
    pyproject = PYPROJECT.replace('"tqdm>=4.66"', '"tqdm"')
    assert run(tmp_path, "pandas==2.2.0\n", pyproject=pyproject) == 1
    assert "tqdm: pyproject.toml declares no >= lower bound" in capsys.readouterr().err


NO_DEPENDENCIES = PYPROJECT.replace('"pandas>=2.2", "tqdm>=4.66"', "")


@pytest.mark.parametrize("offset", [0, 1])
def test_installed_versions_must_be_the_pinned_ones(tmp_path, capsys, offset):
    have = version("pytest")
    major, rest = have.split(".", 1)
    pinned = f"{int(major) + offset}.{rest}"
    skipped = 'no-such-package==1.0; python_version < "3"\n'  # marker false: not required
    constraints = f"pytest=={pinned}\n{skipped}"
    assert run(tmp_path, constraints, pyproject=NO_DEPENDENCIES) == 0  # environment not read
    assert run(tmp_path, constraints, "--installed", pyproject=NO_DEPENDENCIES) == offset
    err = capsys.readouterr().err
    assert (f"pytest: {have} installed, constraints.txt pins {pinned}" in err) == bool(offset)
    assert "no-such-package" not in err


def test_a_missing_package_is_reported(tmp_path, capsys):
    constraints = "no-such-package==1.0\n"
    assert run(tmp_path, constraints, "--installed", pyproject=NO_DEPENDENCIES) == 1
    assert "no-such-package: not installed, constraints.txt pins 1.0" in capsys.readouterr().err


def test_the_extras_users_install_are_promises_too_but_test_and_bench_are_not(tmp_path, capsys):
    pyproject = PYPROJECT + (
        "[project.optional-dependencies]\n"
        'excel = ["python-calamine>=0.2"]\n'
        'dask = ["dask[dataframe]>=2024.8"]\n'
        'test = ["pytest>=8"]\n'
        'bench = ["orjson>=3.9"]\n'
    )
    floors = "pandas==2.2.0\ntqdm==4.66.0\n"
    assert run(tmp_path, floors, pyproject=pyproject) == 1
    err = capsys.readouterr().err
    assert "python-calamine: pyproject.toml declares >=0.2" in err
    assert "dask: pyproject.toml declares >=2024.8" in err
    assert "pytest" not in err and "orjson" not in err
    pinned = floors + "python-calamine==0.2.0\ndask==2024.8.0\n"
    assert run(tmp_path, pinned, pyproject=pyproject) == 0
