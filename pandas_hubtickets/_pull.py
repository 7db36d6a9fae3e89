"""Pulls: tickets into a tidy frame, or streamed into a Parquet dataset; since a moment; appended.

Every pull reads pages of ticket objects (the client's pages for the whole
account, batch reads of 100 ids for listed or changed tickets: 50 with history
on the versioned APIs), in the shape of the client's API, flattens each page
as it arrives and drops its JSON, and shows a progress bar.

:func:`pull_dataset` writes a *dataset*: a folder of Parquet files, one per
chunk of pages, each holding whole tickets sorted by ``objectId`` (in one row
group), so memory is bounded by a chunk, not the portal, and every ticket's
rows sit in exactly one file: a reader's partitions (Dask's, one per file)
split between tickets, never inside one. All files share one schema
(:data:`DATASET_SCHEMA`), so ``pd.read_parquet(folder)``,
``pyarrow.dataset.dataset(folder)``, DuckDB (``'folder/*.parquet'``), polars
and ``dask.dataframe.read_parquet(folder)`` read them as one table.

A pull is staged in a hidden sub-folder (``.pull-*``, which every one of those
readers skips) and moved into place only once every page is read: an
interrupted pull leaves the dataset as it was.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Final

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ._api import page_objects
from ._client import LAST_MODIFIED, Changes, TicketsClient, _ticket_id
from ._flatten import EXTRA_COLUMNS, concat_tidy, flatten
from ._progress import Progress, progress_bar
from .errors import ArgumentTypeError, ConfigurationError

__all__ = [
    "DATASET_SCHEMA",
    "DEFAULT_PAGES_PER_FILE",
    "DatasetPull",
    "append_tidy",
    "changed_among",
    "changes_since",
    "check_dataset_folder",
    "pull",
    "pull_dataset",
]

Since = datetime | date | str | int
DEFAULT_PAGES_PER_FILE: Final = 50
"""Pages (of up to 100 tickets) per dataset file: 5,000 tickets a file."""
PART_GLOB: Final = "part-*.parquet"
_DICT = pa.dictionary(pa.int32(), pa.string())
DATASET_SCHEMA: Final = pa.schema(
    [
        ("objectId", pa.int64()),
        ("objectType", _DICT),
        ("portalId", pa.int64()),
        ("isDeleted", pa.bool_()),
        ("property", _DICT),
        ("value", pa.string()),
        ("timestamp", pa.timestamp("ms", tz="UTC")),
        ("source", _DICT),
        ("sourceId", pa.string()),
        ("sourceVid", pa.list_(pa.int64())),
        ("version", pa.int32()),
        ("sourceLabel", pa.string()),
        ("updatedByUserId", pa.int64()),
    ]
)
"""The schema of every dataset file: the tidy columns, with int32 dictionary codes.

Fixed, so that files of chunks with more or fewer distinct properties (int8
or int16 codes in pandas) still read as one table. The date-versioned API's
``sourceLabel`` and ``updatedByUserId`` are in every file (empty where the
answers had none, as v1's never do): a dataset pulled through v1 and
appended to through 2026-03 is still one table, and :func:`read_tidy`
leaves out the columns that hold no value."""


# ------------------------------------------------------------------ sources
@dataclass
class _Plan:
    """What a pull reads: pages of ticket objects with the bar's advance, and the changes."""

    pages: Iterator[tuple[list[dict[str, Any]], int]]
    total: int | None
    changes: Changes | None
    asked: list[int] | None  # the ids read by id (listed or changed); None: every ticket


def changes_since(client: TicketsClient, since: Since, progress: bool | None) -> Changes:
    """:meth:`TicketsClient.changed_since`, with a bar only if the change log cannot answer."""
    bar: Progress | None = None

    def scanned(n: int) -> None:
        nonlocal bar
        if bar is None:
            desc = f"reading {LAST_MODIFIED}"
            bar = progress_bar(None, desc=desc, unit="ticket", enabled=progress)
        bar.update(n)

    try:
        return client.changed_since(since, progress=scanned)
    finally:
        if bar is not None:
            bar.close()


def changed_among(changes: Changes, ids: Iterable[int] | None) -> list[int]:
    """The changed tickets that are among ``ids`` (all of them when ``ids`` is None)."""
    listed = None if ids is None else set(ids)
    return [i for i in changes.ids if listed is None or i in listed]


def _plan(
    client: TicketsClient,
    properties: str | Sequence[str] | None,
    history: bool,
    since: Since | None,
    ids: Iterable[int | str] | None,
    progress: bool | None,
) -> _Plan:
    if not isinstance(client, TicketsClient):
        raise ArgumentTypeError(
            f"client must be a TicketsClient (e.g. ht.TicketsClient(...)), "
            f"got {type(client).__name__}"
        )
    asked = None if ids is None else list(dict.fromkeys(_ticket_id(i) for i in ids))
    changes = None if since is None else changes_since(client, since, progress)
    if changes is not None:
        asked = changed_among(changes, asked)
    if asked is None:
        pages = client.iter_pages(properties, history=history)
        full = ((objects, len(objects)) for objects in map(page_objects, pages))
        return _Plan(full, None, changes, None)
    batches = client.iter_batches(asked, properties, history=history)
    size = client.batch_size(history)
    sizes = (min(size, len(asked) - i) for i in range(0, len(asked), size))
    return _Plan(zip(batches, sizes, strict=True), len(asked), changes, asked)


def _flattened(plan: _Plan, bar: Progress) -> Iterator[pd.DataFrame]:
    """Each page flattened as it arrives (its JSON is dropped), counted on ``bar``."""
    for objects, advance in plan.pages:
        yield flatten(objects)
        bar.update(advance)


def pull(
    client: TicketsClient,
    properties: str | Sequence[str] | None = None,
    *,
    history: bool = False,
    since: Since | None = None,
    ids: Iterable[int | str] | None = None,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Tickets as a tidy frame (one row per property version), with a progress bar.

    Parameters
    ----------
    client : TicketsClient
    properties : str or sequence of str, optional
        Properties to read. ``None``: with ``history``, every ticket property;
        without, what HubSpot returns by default.
    history : bool, default False
        Every version of each property, not only the current value.
    since : datetime, date, str or int, optional
        Only the tickets changed at or after this moment (naive: UTC; ISO 8601
        text or epoch milliseconds too), found by
        :meth:`TicketsClient.changed_since`: the change log when it can answer,
        else every ticket's ``hs_lastmodifieddate``.
    ids : iterable of int or str, optional
        Only these tickets (with ``since``: those of them that changed).
    progress : bool, optional
        Show a progress bar; default only on a terminal or in Jupyter.

    Returns
    -------
    pandas.DataFrame
        The tidy frame of :func:`~pandas_hubtickets.flatten`.

    Examples
    --------
    >>> import pandas_hubtickets as ht
    >>> tidy = ht.pull(client, ["subject"], ids=[176602, 178218], progress=False)
    >>> tidy[["objectId", "property", "value"]]
       objectId property          value
    0    176602  subject  ticket 176602
    1    178218  subject  ticket 178218
    """
    plan = _plan(client, properties, history, since, ids, progress)
    with progress_bar(plan.total, desc="hubtickets pull", unit="ticket", enabled=progress) as bar:
        return concat_tidy(list(_flattened(plan, bar)))


# ---------------------------------------------------------------- appending
def append_tidy(
    old: pd.DataFrame, new: pd.DataFrame, replaced: Iterable[int] | None = None
) -> pd.DataFrame:
    """``old`` without the rows of the tickets pulled again, then ``new``.

    Parameters
    ----------
    old, new : pandas.DataFrame
        Tidy frames (:func:`~pandas_hubtickets.flatten`).
    replaced : iterable of int, optional
        The tickets whose old rows go: by default those in ``new``. A pull by
        id passes every id it asked for, so that a ticket HubSpot no longer
        returns (deleted) loses its rows too.

    Returns
    -------
    pandas.DataFrame
        No ticket has rows from both frames, so nothing is duplicated.

    Examples
    --------
    >>> import pandas_hubtickets as ht
    >>> def tickets(**subjects):
    ...     return ht.flatten([{"objectId": int(i[1:]), "portalId": 7,
    ...                         "properties": {"subject": {"value": s}}}
    ...                        for i, s in subjects.items()])
    >>> both = append_tidy(tickets(t1="old", t2="kept"), tickets(t1="new"))
    >>> both[["objectId", "value"]].to_dict("list")
    {'objectId': [2, 1], 'value': ['kept', 'new']}
    """
    gone = new["objectId"].unique() if replaced is None else list(replaced)
    kept = old[~old["objectId"].isin(gone)]
    return concat_tidy([kept.reset_index(drop=True), new.reset_index(drop=True)])


# ----------------------------------------------------------------- datasets
@dataclass(frozen=True)
class DatasetPull:
    """What :func:`pull_dataset` did.

    Attributes
    ----------
    path : pathlib.Path
        The dataset folder.
    files : list of pathlib.Path
        The files this pull wrote (one per chunk of pages).
    rows, tickets : int
        Version rows and tickets this pull wrote.
    removed : int
        Rows taken out of the dataset's earlier files: their tickets' new rows
        replace them (``append=True``), or the whole earlier dataset
        (``append=False``).
    changes : Changes or None
        With ``since``: the changed tickets and how they were found.
    """

    path: Path
    files: list[Path]
    rows: int
    tickets: int
    removed: int
    changes: Changes | None


def _table(tidy: pd.DataFrame) -> pa.Table:
    """A chunk as the dataset's Arrow table, sorted by ticket (versions stay in order)."""
    ordered = tidy.sort_values("objectId", kind="stable", ignore_index=True)
    table = pa.Table.from_pandas(ordered, preserve_index=False)
    for name in EXTRA_COLUMNS:
        if name not in table.column_names:
            table = table.append_column(name, pa.nulls(len(table), DATASET_SCHEMA.field(name).type))
    return table.select(DATASET_SCHEMA.names).cast(DATASET_SCHEMA)


def _write(table: pa.Table, path: Path) -> None:
    """One file, one row group: a reader splitting by row group never splits a ticket."""
    pq.write_table(table, path, row_group_size=max(1, table.num_rows))


def _chunks(frames: Iterator[pd.DataFrame], pages_per_file: int) -> Iterator[pd.DataFrame]:
    chunk: list[pd.DataFrame] = []
    for frame in frames:
        chunk.append(frame)
        if len(chunk) == pages_per_file:
            yield concat_tidy(chunk)
            chunk = []
    if chunk:
        yield concat_tidy(chunk)


def _remove_tickets(files: list[Path], ids: pa.Array) -> int:
    """Take the rows of ``ids`` out of ``files``, one file in memory at a time; rows removed."""
    removed = 0
    for file in files:
        hit = pc.is_in(pq.read_table(file, columns=["objectId"])["objectId"], value_set=ids)
        n = pc.sum(hit).as_py() or 0
        if not n:
            continue
        table = pq.read_table(file, schema=DATASET_SCHEMA)
        removed += n
        if n == table.num_rows:
            file.unlink()
            continue
        temporary = file.with_name(f".{file.name}.tmp")
        _write(table.filter(pc.invert(hit)), temporary)
        os.replace(temporary, file)
    return removed


def _count_rows(files: list[Path]) -> int:
    return sum(pq.ParquetFile(file).metadata.num_rows for file in files)


def check_dataset_folder(path: str | os.PathLike[str]) -> Path:
    """``path`` as a dataset folder, or raise: not a file, and holding no other files.

    A folder read as a dataset may hold only its ``part-*.parquet`` files
    (hidden ``.``/``_`` entries aside): readers of the folder would fail on
    any other file, and a pull replacing the dataset must not touch it.
    """
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise ConfigurationError(f"{folder} is a file; a dataset is a folder")
    if not folder.is_dir():
        return folder
    strangers = sorted(
        p.name
        for p in folder.iterdir()
        if not p.match(PART_GLOB) and not p.name.startswith((".", "_"))
    )
    if strangers:
        shown = ", ".join(strangers[:5]) + (", ..." if len(strangers) > 5 else "")
        raise ConfigurationError(
            f"{folder} holds files that are not part of a dataset ({shown}); readers of the "
            "folder would fail on them: use a new or empty folder"
        )
    return folder


def pull_dataset(
    client: TicketsClient,
    path: str | os.PathLike[str],
    properties: str | Sequence[str] | None = None,
    *,
    history: bool = False,
    since: Since | None = None,
    ids: Iterable[int | str] | None = None,
    append: bool = False,
    pages_per_file: int = DEFAULT_PAGES_PER_FILE,
    progress: bool | None = None,
) -> DatasetPull:
    """Stream tickets into a Parquet dataset: a folder, one file per chunk of pages.

    Memory holds one chunk (``pages_per_file`` pages of up to 100 tickets),
    whatever the size of the portal. Each file holds whole tickets sorted by
    ``objectId`` in one row group, so each ticket's rows are in exactly one
    file and a per-ticket analysis can run file by file (Dask: one partition
    per file). Every file has the schema :data:`DATASET_SCHEMA`.

    Parameters
    ----------
    client : TicketsClient
    path : str or os.PathLike
        The dataset folder (made if missing). It may hold only the dataset's
        ``part-*.parquet`` files (and hidden ones): any other file is refused,
        as readers of the folder would fail on it.
    properties, history, since, ids, progress
        As for :func:`pull`.
    append : bool, default False
        Add the pulled tickets to the dataset already in ``path``: the rows of
        every ticket read again (with ``since`` or ``ids``: every id asked
        for, so a deleted ticket loses its rows) are taken out of the earlier
        files, one file at a time. ``False``: the pull replaces the dataset.
    pages_per_file : int, default 50
        Pages per file (and per chunk held in memory).

    Returns
    -------
    DatasetPull
        ``path``, ``files`` written, ``rows``, ``tickets``, ``removed``,
        ``changes``.

    Examples
    --------
    >>> import os, tempfile
    >>> import pandas as pd
    >>> import pandas_hubtickets as ht
    >>> folder = os.path.join(tempfile.mkdtemp(), "tickets")
    >>> done = ht.pull_dataset(client, folder, ["subject"], progress=False)
    >>> done.tickets, len(done.files)
    (2, 1)
    >>> pd.read_parquet(folder)[["objectId", "value"]]
       objectId          value
    0    176602  ticket 176602
    1    178218  ticket 178218
    """
    if not isinstance(pages_per_file, int) or pages_per_file < 1:
        raise ConfigurationError(f"pages_per_file must be a positive int, got {pages_per_file!r}")
    folder = check_dataset_folder(path)
    folder.mkdir(parents=True, exist_ok=True)
    earlier = sorted(folder.glob(PART_GLOB))
    plan = _plan(client, properties, history, since, ids, progress)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    staging = folder / f".pull-{stamp}-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        staged: list[Path] = []
        rows = tickets = 0
        keep_ids = append and plan.asked is None  # else no list of every id: memory stays flat
        written: list[pa.Array] = []
        with progress_bar(
            plan.total, desc="hubtickets pull", unit="ticket", enabled=progress
        ) as bar:
            for n, chunk in enumerate(_chunks(_flattened(plan, bar), pages_per_file)):
                table = _table(chunk)
                if table.num_rows == 0:
                    continue
                staged.append(staging / f"part-{stamp}-{n:05d}.parquet")
                _write(table, staged[-1])
                rows += table.num_rows
                chunk_ids = pc.unique(table["objectId"])  # a ticket is in one chunk only
                tickets += len(chunk_ids)
                if keep_ids:
                    written.append(chunk_ids)
        if not append:
            removed = _count_rows(earlier)
            for file in earlier:
                file.unlink()
        else:
            gone = written if plan.asked is None else [pa.array(plan.asked, pa.int64())]
            removed = _remove_tickets(earlier, pa.chunked_array(gone, pa.int64()).combine_chunks())
        files = [folder / file.name for file in staged]
        for file, target in zip(staged, files, strict=True):
            os.replace(file, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return DatasetPull(folder, files, rows, tickets, removed, plan.changes)
