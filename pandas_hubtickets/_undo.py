"""Undoing an only-changed push: the undo file and :func:`undo`.

``update(..., only_changed=True, undo=path)`` writes every cell it is about to
change (``objectId``, ``property``, ``old``: HubSpot's value before, ``new``:
what the push writes) to a Parquet file, made durable (written beside, fsynced,
renamed, the folder fsynced) before the first request. :func:`undo` reads the
tickets again and, cell by cell:

- HubSpot holds ``new``: the push landed and nobody changed it since; ``old``
  is written back (no value before: the property is cleared) -> ``restored``;
- HubSpot holds ``old``: the push did not land, or was undone already ->
  ``unchanged``, nothing sent (so running undo twice is safe);
- anything else: someone changed the ticket after the push -> ``conflict``,
  left as it is, never overwritten;
- the ticket does not exist or was deleted -> ``failed`` (``OBJECT_NOT_FOUND``).

HubSpot has no conditional write: a change made between undo's read and its
write (a fraction of a second) would be overwritten.

A push by a unique property (``id_property``) writes the file with its keys in
``objectId`` (as the push's report shows them) and each ticket's HubSpot id in
``hs_object_id``: the undo reads and restores by that id, so it changes the very
tickets the push changed, with any API, even if a key moved to another ticket since.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ._diff import NOT_FOUND, TICKET_ID, read_current
from ._display import result_html, result_text
from .errors import ConfigurationError, InputFileError

if TYPE_CHECKING:
    from ._client import TicketsClient

__all__ = ["UNDO_COLUMNS", "UNDO_STATUSES", "UndoResult", "check_undo_path", "undo", "write_undo"]

UNDO_COLUMNS = ["objectId", "property", "old", "new"]
_KEYED_COLUMNS = [*UNDO_COLUMNS, TICKET_ID]
UNDO_STATUSES = ("restored", "unchanged", "conflict", "failed", "unknown", "not_sent", "dry_run")
_MARK = b"pandas-hubtickets-undo"
_SCHEMA = pa.schema(
    [
        ("objectId", pa.int64()),
        ("property", pa.string()),
        ("old", pa.string()),
        ("new", pa.string()),
    ],
    metadata={_MARK: b"1"},
)
#: The file of a push by an id_property: its keys in ``objectId``, HubSpot's ids beside.
_KEYED_SCHEMA = pa.schema(
    [("objectId", pa.string()), *list(_SCHEMA)[1:], (TICKET_ID, pa.int64())],
    metadata=_SCHEMA.metadata,
)
_NOT_DONE = ("conflict", "failed", "unknown", "not_sent")


def check_undo_path(path: str | os.PathLike[str]) -> None:
    """Refuse an undo file that exists already (it may be an earlier push's) or has no folder.

    Raises
    ------
    ConfigurationError
        Before anything is read or sent.
    """
    target = Path(path)
    if target.exists():
        raise ConfigurationError(
            f"the undo file {str(path)!r} exists already: it may hold an earlier push's "
            "previous values; choose another name (or move it away)"
        )
    if not target.resolve().parent.is_dir():
        raise ConfigurationError(
            f"cannot write the undo file {str(path)!r}: its folder does not exist"
        )


def write_undo(path: str | os.PathLike[str], changes: pd.DataFrame) -> None:
    """Write the changed cells of ``changes`` (a diff frame) durably, before anything is sent.

    Missing tickets (rows with a ``problem``) are left out. The changes of a
    push by an ``id_property`` (with ``hs_object_id``) keep their keys and
    HubSpot's ids. The file appears whole or not at all: written beside under
    a temporary name, fsynced, renamed over ``path`` only if it still does not
    exist, the folder fsynced.
    """
    cells = changes[changes["problem"].isna()]
    keyed = TICKET_ID in cells.columns
    columns = {
        "objectId": pa.array(cells["objectId"].to_numpy(dtype=object if keyed else np.int64)),
        "property": pa.array(cells["property"].astype(str).tolist(), pa.string()),
        "old": pa.array(cells["old"].array, pa.string()),
        "new": pa.array(cells["new"].array, pa.string()),
    }
    if keyed:
        columns[TICKET_ID] = pa.array(cells[TICKET_ID].to_numpy(dtype=np.int64))
    table = pa.table(columns, schema=_KEYED_SCHEMA if keyed else _SCHEMA)
    target = Path(path)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.resolve().parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            pq.write_table(table, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.link(temp, target)  # fails if the file appeared meanwhile: never replace one
    finally:
        os.unlink(temp)
    _fsync_folder(target.resolve().parent)


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows cannot open a folder: the rename is durable enough there
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read(path: str | os.PathLike[str]) -> pa.Table:
    if os.path.isdir(path):  # a pushed file of several chunks: one undo file per chunk
        parts = sorted(Path(path).glob("chunk-*.parquet"))
        if not parts:
            raise InputFileError(f"{str(path)!r} is a folder without undo files")
        return pa.concat_tables([_read(part) for part in parts])
    try:
        table = pq.read_table(path)
    except FileNotFoundError:
        raise InputFileError(f"no undo file {str(path)!r}") from None
    except (OSError, pa.ArrowInvalid) as exc:
        raise InputFileError(f"{str(path)!r} is not an undo file of this library: {exc}") from exc
    names = table.column_names
    if _MARK not in (table.schema.metadata or {}) or names not in (UNDO_COLUMNS, _KEYED_COLUMNS):
        raise InputFileError(
            f"{str(path)!r} is not an undo file of this library (written by "
            "update(..., only_changed=True, undo=...) or push --only-changed --undo)"
        )
    return table


@dataclass
class UndoResult:
    """What :func:`undo` did, cell by cell.

    Attributes
    ----------
    report : pandas.DataFrame
        One row per cell of the undo file: ``objectId``, ``property``,
        ``old`` (restored), ``new`` (what the push wrote), ``current`` (what
        HubSpot held before the undo), ``status`` (one of
        :data:`UNDO_STATUSES`), ``error``, ``message``; for a push by an
        ``id_property``, ``objectId`` holds its keys and ``hs_object_id``
        the ticket ids restored.
    elapsed : float
        Seconds the run took.
    """

    report: pd.DataFrame
    elapsed: float = 0.0
    problems: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    @property
    def counts(self) -> pd.Series:
        """Cells per status, every status listed (zeros included)."""
        counts = self.report["status"].value_counts()
        return counts.reindex(list(UNDO_STATUSES), fill_value=0)

    @property
    def ok(self) -> bool:
        """True when no cell is in conflict, failed, unknown or was left unsent."""
        return not self.report["status"].isin(_NOT_DONE).any()

    def conflicts(self) -> pd.DataFrame:
        """The cells someone changed after the push (left as they are)."""
        conflicts: pd.DataFrame = self.report[self.report["status"] == "conflict"]
        return conflicts

    def __repr__(self) -> str:
        return result_text("UndoResult", self.report, self.elapsed, self.problems, None)

    def _repr_html_(self) -> str:
        return result_html("UndoResult", self.report, self.elapsed, self.problems, None)


def _current_of_cells(
    client: TicketsClient, cells: pd.DataFrame, ids: np.ndarray, progress: bool | None
) -> tuple[np.ndarray, pa.StringArray]:
    """Whether each cell's ticket (``ids``) was found, and its current value (null: none)."""
    names = list(dict.fromkeys(cells["property"].tolist()))
    current = read_current(client, ids, names, progress=progress)
    at = pd.Index(current.object_ids).get_indexer(ids)
    found = at >= 0
    take = pa.array(at, pa.int64(), mask=~found)
    values = pa.nulls(len(cells), pa.string())
    codes = pd.Categorical(cells["property"], categories=names).codes
    for j, arr in enumerate(current.values):
        mine = pa.array(codes == j)
        values = pc.if_else(mine, arr.take(take), values)
    return found, values


def undo(
    client: TicketsClient,
    path: str | os.PathLike[str],
    *,
    batch_size: int = 100,
    progress: bool | None = None,
    dry_run: bool = False,
) -> UndoResult:
    """Restore the values an only-changed push replaced, where nobody changed them since.

    Parameters
    ----------
    client : TicketsClient
        Where the push went.
    path : path
        The undo file of ``update(..., only_changed=True, undo=path)`` or
        ``hubtickets push --only-changed --undo FILE``.
    batch_size : int, default 100
        Tickets per request.
    progress : bool, optional
        Show progress bars; by default only on a terminal or in Jupyter.
    dry_run : bool, default False
        Read and compare, send nothing: cells that would be restored are ``dry_run``.

    Returns
    -------
    UndoResult
        One row per cell: ``restored``; ``unchanged`` (HubSpot holds the old
        value: the push did not land there, or it was undone already);
        ``conflict`` (changed since the push: left alone); ``failed``,
        ``unknown`` or ``not_sent`` as in :func:`update`. Running it again is
        safe: restored cells are ``unchanged`` the second time.

    Raises
    ------
    InputFileError
        ``path`` is not an undo file of this library.
    UpdateStopped, UpdateInterrupted
        The restoring push stopped; ``exc.result`` is its per-ticket result.

    Examples
    --------
    >>> import pandas as pd
    >>> import pandas_hubtickets as ht
    >>> path = Path(tempfile.mkdtemp()) / "undo.parquet"
    >>> edits = pd.DataFrame({"objectId": [176602], "subject": ["renamed"]})
    >>> pushed = edits.hubtickets.update(client, only_changed=True, undo=path, progress=False)
    >>> ht.undo(client, path, progress=False).report["status"].tolist()
    ['restored']
    >>> ht.undo(client, path, progress=False).report["status"].tolist()  # safe to run again
    ['unchanged']
    """
    from ._update import check_client, update

    check_client(client)
    started = time.monotonic()
    cells = _read(path).to_pandas(types_mapper=pd.ArrowDtype)
    n = len(cells)
    keyed = TICKET_ID in cells.columns  # a push by an id_property: restored by HubSpot's id
    ids = cells[TICKET_ID if keyed else "objectId"].to_numpy(dtype=np.int64)
    found, now = _current_of_cells(client, cells, ids, progress) if n else (np.zeros(0, bool), None)
    status = np.full(n, "restored", dtype=object)
    error = np.full(n, None, dtype=object)
    message = np.full(n, None, dtype=object)
    current: Any = pd.array([], dtype="string")
    if now is not None:
        blank = pc.fill_null(now, "")
        new = pa.array(cells["new"].array, pa.string())
        old = pc.fill_null(pa.array(cells["old"].array, pa.string()), "")
        at_new = pc.equal(blank, pc.fill_null(new, "")).to_numpy(zero_copy_only=False)
        at_old = pc.equal(blank, old).to_numpy(zero_copy_only=False)
        status[at_old] = "unchanged"
        message[at_old] = "HubSpot holds the previous value: nothing to restore"
        conflict = ~at_new & ~at_old
        status[conflict] = "conflict"
        message[conflict] = "changed since the push: left as it is (HubSpot holds another value)"
        status[~found] = "failed"
        error[~found] = NOT_FOUND
        message[~found] = "the ticket does not exist or was deleted"
        current = pd.arrays.ArrowExtensionArray(now)
    restore = status == "restored"
    if restore.any() and dry_run:
        status[restore] = "dry_run"
    elif restore.any():
        previous = cells.loc[restore, "old"].fillna("").astype(object)
        wide = (
            cells[restore]
            .assign(objectId=ids[restore], value=previous)
            .pivot(index="objectId", columns="property", values="value")
        )
        wide.columns = [str(c) for c in wide.columns]
        frame = wide.astype(object).where(wide.notna(), None).reset_index()
        result = update(
            frame,
            client,
            batch_size=batch_size,
            progress=progress,
            check_properties=False,
            tickets=False,
        )
        by_ticket = result.report.set_index("objectId")
        rows = np.flatnonzero(restore)
        got = by_ticket.loc[ids[rows]]
        outcome = got["status"].astype(str).to_numpy()
        status[rows] = np.where(outcome == "updated", "restored", outcome)
        error[rows] = got["error"].astype(object).where(got["error"].notna(), None).to_numpy()
        message[rows] = got["message"].astype(object).where(got["message"].notna(), None).to_numpy()
    report = pd.DataFrame(
        {
            "objectId": cells["objectId"].to_numpy(dtype=object if keyed else np.int64),
            "property": pd.array(cells["property"].astype(str).to_numpy(), dtype="string"),
            "old": cells["old"].array,
            "new": cells["new"].array,
            "current": current,
            "status": pd.Categorical(status, categories=list(UNDO_STATUSES)),
            "error": pd.array(error, dtype="string"),
            "message": pd.array(message, dtype="string"),
        }
    )
    if keyed:
        report[TICKET_ID] = ids
    return UndoResult(report, time.monotonic() - started)
