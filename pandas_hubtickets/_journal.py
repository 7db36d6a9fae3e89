"""The append-only journal of an update run (JSON Lines), and resuming from it.

The first line is a header, ``{"journal":"pandas-hubtickets","version":1}``;
each finished batch then appends one line per row: the ticket id, a
fingerprint of exactly what was sent for it, and its outcome. A later run
with the same journal skips the rows whose id *and* fingerprint were already
``updated``, so a row whose values changed since is sent again. The journal
never holds the token, nor property values (only their fingerprint).

A file is used as a journal only if it is new or empty, starts with that
header, or (a journal written before the header existed) starts with a
journal entry; anything else (the user's CSV) is refused and never written.
One run writes at a time: the file is locked (``flock``, or ``msvcrt.locking``
on Windows) from just before the first batch is sent until the run ends, and
a second writer is refused before it sends anything.

A run killed half-way through a write leaves a partial line; reading skips
it, and any other line that is not a journal entry, with one warning (that
batch's rows are simply sent again, which is safe: a batch update of the
same values is idempotent), and the next run starts on a fresh line. Only a
ticket's newest entry counts.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Any

from .errors import ArgumentTypeError, ConfigurationError, JournalError

if sys.platform == "win32":
    import msvcrt
else:
    import fcntl

__all__ = ["HEADER", "Journal", "fingerprint"]

_KIND = "pandas-hubtickets"
_VERSION = 1
#: The first line of every journal: what the file is, and its format version.
HEADER = {"journal": _KIND, "version": _VERSION}
_HEADER_LINE = (json.dumps(HEADER, separators=(",", ":")) + "\n").encode("utf-8")
#: Windows locks are mandatory (a locked byte cannot be read by others): lock
#: one byte far past the end of any journal instead of its contents.
_WINDOWS_LOCK_OFFSET = 0x7FFFFFFF
_SHOWN_LINES = 10


def fingerprint(fragment: str) -> str:
    """A short stable digest of one row's JSON body fragment."""
    return hashlib.blake2b(fragment.encode("utf-8"), digest_size=10).hexdigest()


def _entry(line: bytes) -> dict[str, Any] | None:
    """The journal entry a line holds, or None (not JSON, cut short, wrong types)."""
    try:
        value = json.loads(line)
    except ValueError:  # also a UnicodeDecodeError
        return None
    if (
        isinstance(value, dict)
        and type(value.get("objectId")) in (int, str)  # a ticket id, or an id_property value
        and isinstance(value.get("fingerprint"), str)
        and isinstance(value.get("status"), str)
    ):
        return value
    return None


def _try_lock(fh: IO[bytes]) -> bool:
    """Take the exclusive lock without waiting; False when another file object holds it."""
    if sys.platform == "win32":
        fh.seek(_WINDOWS_LOCK_OFFSET)
        try:
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:  # EACCES: another handle holds it
            return False
        finally:
            fh.seek(0, os.SEEK_END)
    else:
        try:  # flock, not lockf: it also conflicts between two opens in one process
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
    return True


def _unlock(fh: IO[bytes]) -> None:
    if sys.platform == "win32":
        fh.seek(_WINDOWS_LOCK_OFFSET)
        msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
    else:
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


class Journal:
    """An append-only JSON Lines record of finished batches, checked when opened.

    Opening reads the file (refusing one that is not a journal of this
    library) and, for a run that will write, checks that it can be written
    and that no other run holds it: all before any request. :meth:`lock`
    then holds it for the sending part of the run, until :meth:`close`.

    Parameters
    ----------
    path : str or os.PathLike
        The file; created (with its header) by :meth:`lock`, its folder must exist.
    write : bool, default True
        False for a dry run: the journal is only read.

    Raises
    ------
    JournalError
        The file is not a journal, cannot be read or written, or is in use.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "push.jsonl"
    >>> book = Journal(path)
    >>> book.lock()
    >>> book.append([{"objectId": 7, "fingerprint": "ab12", "status": "updated"}])
    >>> Journal(path)
    Traceback (most recent call last):
    ...
    pandas_hubtickets.errors.JournalError: the journal ... is in use by another update run ...
    >>> book.close()
    >>> Journal(path).updated()
    {(7, 'ab12')}
    >>> print(path.read_text(), end="")
    {"journal":"pandas-hubtickets","version":1}
    {"objectId":7,"fingerprint":"ab12","status":"updated"}
    """

    def __init__(self, path: str | os.PathLike[str], *, write: bool = True) -> None:
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
        self._file: IO[bytes] | None = None
        self._size, self._latest = self._read()
        if write:
            self._check_writable()
            self._check_free()

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"

    def _refuse(self, why: str) -> JournalError:
        return JournalError(f"the journal {str(self.path)!r} {why}", path=str(self.path))

    def _read(self) -> tuple[int, dict[int | str, tuple[str, str]]]:
        """(size read, objectId -> (fingerprint, status) of its newest entry)."""
        try:
            fh = self.path.open("rb")
        except FileNotFoundError:
            return 0, {}
        except OSError as exc:
            raise self._refuse(f"cannot be read: {exc.strerror or exc}") from exc
        latest: dict[int | str, tuple[str, str]] = {}
        ignored: list[int] = []
        first = True
        with fh:
            size = os.fstat(fh.fileno()).st_size
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                entry = _entry(line)
                if first:
                    first = False
                    if entry is None:  # a journal from before the header starts with an entry
                        self._check_header(line)
                        continue
                if entry is None:
                    ignored.append(number)
                else:
                    latest[entry["objectId"]] = (entry["fingerprint"], entry["status"])
        if first and size:
            raise self._refuse("is not a pandas-hubtickets journal (it holds only blank lines)")
        if ignored:
            self._warn_ignored(ignored)
        return size, latest

    def _check_header(self, line: bytes) -> None:
        try:
            header = json.loads(line)
        except ValueError:
            header = None
        if not isinstance(header, dict) or header.get("journal") != _KIND:
            raise self._refuse(
                "is not a pandas-hubtickets journal (its first line is neither the journal's "
                "header nor a journal entry) and is left untouched; name a new file"
            )
        version = header.get("version")
        if type(version) is not int or version > _VERSION:
            raise self._refuse(
                f"has format version {version!r}; this pandas-hubtickets reads versions up "
                f"to {_VERSION}: upgrade it, or name a new file"
            )

    def _warn_ignored(self, numbers: list[int]) -> None:
        shown = ", ".join(map(str, numbers[:_SHOWN_LINES]))
        if len(numbers) > _SHOWN_LINES:
            shown += f", ... ({len(numbers):,} in all)"
        which = (
            f"line {shown} is not a journal entry and is"
            if len(numbers) == 1
            else f"lines {shown} are not journal entries and are"
        )
        warnings.warn(
            f"{self.path}: {which} ignored (cut short by a crash?); "
            "the rows they were about will be sent again",
            stacklevel=4,
        )

    def _check_writable(self) -> None:
        try:
            if self.path.exists():
                os.close(os.open(self.path, os.O_WRONLY | os.O_APPEND))
            else:  # create nothing yet: a run refused before sending leaves no file
                tempfile.TemporaryFile(dir=self.path.parent).close()
        except OSError as exc:
            raise self._refuse(f"cannot be written: {exc.strerror or exc}") from exc

    def _check_free(self) -> None:
        """Refuse at once when another run holds the journal (not only when sending)."""
        try:
            fh = self.path.open("rb")
        except FileNotFoundError:
            return
        with fh:
            if not _try_lock(fh):
                raise self._in_use()
            _unlock(fh)

    def _in_use(self) -> JournalError:
        return self._refuse(
            "is in use by another update run (one writer at a time); "
            "wait for it to finish, or name another journal"
        )

    def updated(self) -> set[tuple[int | str, str]]:
        """(objectId, fingerprint) of every ticket whose *latest* entry is ``updated``.

        Only the newest entry of a ticket counts: after A, then B, then A again
        was sent, resending A must not be skipped because A once landed.
        """
        return {(oid, fp) for oid, (fp, status) in self._latest.items() if status == "updated"}

    def lock(self) -> None:
        """Hold the journal until :meth:`close`; write the header to a new one.

        Raises
        ------
        JournalError
            Another run holds it, or wrote to it since it was read (what was
            read would be stale), or it cannot be written.
        """
        try:
            fh = self.path.open("a+b")
        except OSError as exc:
            raise self._refuse(f"cannot be written: {exc.strerror or exc}") from exc
        try:
            if not _try_lock(fh):
                raise self._in_use()
            size = os.fstat(fh.fileno()).st_size
            if size != self._size:
                _unlock(fh)
                raise self._refuse(
                    "was written by another update run since this one read it; run again"
                )
            if size == 0:
                fh.write(_HEADER_LINE)
            else:  # after a crash mid-line, start on a fresh line
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":
                    fh.write(b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        except BaseException:
            fh.close()
            raise
        self._file = fh

    def append(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Append rows and make them durable before returning (after :meth:`lock`)."""
        assert self._file is not None, "lock() the journal before appending"
        text = "".join(json.dumps(dict(r), separators=(",", ":")) + "\n" for r in rows)
        self._file.write(text.encode("utf-8"))
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        """Release the lock; the journal can be used by another run."""
        if self._file is not None:
            try:
                _unlock(self._file)
            finally:
                self._file.close()
                self._file = None
