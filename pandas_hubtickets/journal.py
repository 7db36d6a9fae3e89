"""The append-only journal of an update run (JSON Lines), and resuming from it.

Each finished batch appends one line per row: the ticket id, a fingerprint
of exactly what was sent for it, and its outcome. A later run with the same
journal skips the rows whose id *and* fingerprint were already ``updated``,
so a row whose values changed since is sent again. The journal never holds
the token, nor property values (only their fingerprint).

A run killed half-way through a write leaves at most one partial last line;
reading ignores it (that batch's rows are simply sent again, which is safe:
a batch update of the same values is idempotent).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["Journal", "fingerprint"]


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
        self.path = Path(path)
        if self.path.is_dir():
            raise ValueError(f"journal must be a file, not the folder {str(self.path)!r}")
        if not self.path.parent.is_dir():
            raise ValueError(f"journal folder {str(self.path.parent)!r} does not exist")

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"

    def entries(self) -> list[dict[str, Any]]:
        """Every complete line written so far."""
        if not self.path.exists():
            return []
        out = []
        with self.path.open(encoding="utf-8") as fh:
            for line in fh:
                if not line.endswith("\n"):
                    break  # a write cut short by a crash
                out.append(json.loads(line))
        return out

    def updated(self) -> set[tuple[int, str]]:
        """(objectId, fingerprint) of every row already updated."""
        entries = self.entries()
        return {(e["objectId"], e["fingerprint"]) for e in entries if e["status"] == "updated"}

    def append(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Append rows and make them durable before returning."""
        text = "".join(json.dumps(dict(r), separators=(",", ":")) + "\n" for r in rows)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
