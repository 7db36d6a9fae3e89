"""The append-only journal of an update run (JSON Lines), and resuming from it.

Each finished batch appends one line per row: the ticket id, a fingerprint
of exactly what was sent for it, and its outcome. A later run with the same
journal skips the rows whose id *and* fingerprint were already ``updated``,
so a row whose values changed since is sent again. The journal never holds
the token, nor property values (only their fingerprint).

A run killed half-way through a write leaves a partial last line; reading
skips it (that batch's rows are simply sent again, which is safe: a batch
update of the same values is idempotent) and the next append starts on a
fresh line. Only a ticket's newest entry counts.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .errors import ArgumentTypeError, ConfigurationError

__all__ = ["Journal", "fingerprint"]

_FIELDS = frozenset({"objectId", "fingerprint", "status"})


def fingerprint(fragment: str) -> str:
    """A short stable digest of one row's JSON body fragment."""
    return hashlib.blake2b(fragment.encode("utf-8"), digest_size=10).hexdigest()


class Journal:
    """An append-only JSON Lines record of finished batches.

    Parameters
    ----------
    path : str or os.PathLike
        The file; created on the first append, its folder must exist.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        if not isinstance(path, str | os.PathLike):
            got = type(path).__name__
            raise ArgumentTypeError(f"journal must be a path (str or os.PathLike), got {got}")
        self.path = Path(path)
        if self.path.is_dir():
            message = f"journal must be a file, not the folder {str(self.path)!r}"
            raise ConfigurationError(message)
        if not self.path.parent.is_dir():
            message = f"journal folder {str(self.path.parent)!r} does not exist"
            raise ConfigurationError(message)

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"

    def entries(self) -> list[dict[str, Any]]:
        """Every complete, readable line written so far, oldest first.

        A line cut short by a crash (or anything else that is not a JSON
        object) is skipped with a warning: its rows are simply sent again.
        """
        if not self.path.exists():
            return []
        out = []
        with self.path.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, start=1):
                try:
                    entry = json.loads(line)
                except ValueError:
                    entry = None
                if isinstance(entry, dict) and entry.keys() >= _FIELDS:
                    out.append(entry)
                elif line.strip():
                    warnings.warn(
                        f"{self.path}: line {number} is not a journal entry and is ignored "
                        "(cut short by a crash?); its rows will be sent again",
                        stacklevel=2,
                    )
        return out

    def updated(self) -> set[tuple[int, str]]:
        """(objectId, fingerprint) of every ticket whose *latest* entry is ``updated``.

        Only the newest entry of a ticket counts: after A, then B, then A again
        was sent, resending A must not be skipped because A once landed.
        """
        latest = {e["objectId"]: e for e in self.entries()}
        return {(oid, e["fingerprint"]) for oid, e in latest.items() if e["status"] == "updated"}

    def append(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Append rows and make them durable before returning."""
        text = "".join(json.dumps(dict(r), separators=(",", ":")) + "\n" for r in rows)
        with self.path.open("a+b") as fh:
            if fh.tell() > 0:  # after a crash mid-line, start on a fresh line
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":
                    text = "\n" + text
            fh.write(text.encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
