"""Pushing a file of edits a chunk at a time: one progress bar, one report, bounded memory.

A file bigger than one chunk is read three times, a chunk at a time, never
whole: once for its ids alone (duplicates across chunks, and the rows
``keep`` leaves out), once to check every chunk (a dry run against the
property definitions, read once), so that bad input is refused before
anything is sent, and once to send each chunk through :func:`update`,
advancing one shared progress bar. The chunks' results are joined into one
:class:`UpdateResult`. A file of one chunk is read once more than a frame
(its ids) and sent by one ``update`` run. Memory holds a chunk, the ids
(8 bytes a row) and the report, never the whole file.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from ._definitions import Definitions
from ._files import EditsFile
from ._flatten import concat_tidy
from ._payload import NaMode, Problem, ProblemList, _check_ids, _check_keys
from ._progress import Progress, progress_bar
from ._undo import check_undo_path
from ._update import STATUSES, OnInvalid, UpdateResult, id_column_of, update
from .errors import (
    ConfigurationError,
    HubSpotError,
    PayloadError,
    TransportError,
    UpdateInterrupted,
    UpdateStopped,
)

if TYPE_CHECKING:
    import os

    from ._client import TicketsClient

__all__ = ["CHUNK_ROWS", "KEEP", "StreamedResult", "push_file"]

Keep = Literal["error", "first", "last"]
#: What a caller does to each chunk's edits before they are checked: edits, problems.
Prepare = Callable[[int, pd.DataFrame], tuple[pd.DataFrame, Sequence[Problem]]]
#: Duplicate-row policies: refuse the rows (``error``), or send the first or last row of a ticket.
KEEP: tuple[Keep, ...] = ("error", "first", "last")
#: Rows read and sent at a time by default.
CHUNK_ROWS = 100_000
_DUPLICATE = "id appears in more than one row: keep one row per ticket"


class StreamedResult(UpdateResult):
    """The :class:`UpdateResult` of a file pushed in chunks.

    ``frame`` holds only the input rows not known to have landed (the whole
    file is never in memory), which is what :meth:`failed_rows` returns.
    """

    def failed_rows(self) -> pd.DataFrame:
        """The input rows not known to have landed (``failed``, ``unknown``, ``not_sent``)."""
        return self.frame


@dataclass
class _Part:
    """What one chunk's run left: its report, problems, answers and rows not landed."""

    report: pd.DataFrame
    problems: pd.DataFrame
    tickets: pd.DataFrame
    failed: pd.DataFrame
    changes: pd.DataFrame | None = None


@dataclass
class _Push:
    """One push of a file: its settings and what its first read found (ids, duplicates)."""

    source: EditsFile
    client: TicketsClient
    id_column: str
    date_columns: Sequence[str]
    keep: Keep
    chunk_rows: int
    options: dict[str, Any]
    ids: np.ndarray | None = None
    #: Rows left out because another row of their ticket is sent (keep first or last).
    drop: np.ndarray | None = None
    #: Rows whose ticket has a row in another chunk (keep error; a chunk finds its own).
    across: np.ndarray | None = None
    definitions: Definitions | None = None
    #: What the caller does to each chunk's edits first (pick, rename, coerce); its problems.
    prepare: Prepare | None = None
    #: The unique property the id column holds values of (``ids`` are then codes of them).
    id_property: str | None = None

    def chunks(self, columns: Sequence[str] | None = None) -> Iterator[tuple[int, pd.DataFrame]]:
        """(position of the first row, rows) of each chunk of the file."""
        start = 0
        for frame in self.source.frames(self.chunk_rows, columns):
            yield start, frame
            start += len(frame)

    def read_ids(self) -> int:
        """Read the ids alone and find the duplicates; return the number of chunks."""
        parts, sizes = [], []
        for _, frame in self.chunks([self.id_column]):
            sizes.append(len(frame))
            if self.id_column in frame.columns:
                found = ProblemList(frame.index)  # the update reports the bad ids
                check = _check_ids if self.id_property is None else _keys
                parts.append(check(frame[self.id_column], self.id_column, found))
        if len(parts) != len(sizes):
            return len(sizes)  # no id column: the update says so
        if self.id_property is not None:  # each distinct value a number (0: invalid)
            self.ids = pd.factorize(np.concatenate(parts))[0].astype(np.int64) + 1
        else:
            self.ids = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        valid = self.ids > 0
        ids = pd.Series(self.ids)
        if self.keep != "error":
            self.drop = valid & ids.duplicated(keep=self.keep).to_numpy()
        elif len(sizes) > 1 and (every := valid & ids.duplicated(keep=False).to_numpy()).any():
            chunk = np.repeat(np.arange(len(sizes)), sizes)
            pairs = pd.DataFrame({"id": self.ids, "chunk": chunk})
            self.across = every & ~pairs.duplicated(keep=False).to_numpy()
        return len(sizes)

    def run(self, start: int, raw: pd.DataFrame, **options: Any) -> _Part:
        """One chunk through :func:`update`; its report gains the rows ``keep`` left out."""
        rows = slice(start, start + len(raw))
        drop = None if self.drop is None else self.drop[rows]
        kept = raw if drop is None or not drop.any() else raw[~drop]
        edits, found = self.source.prepare(kept, self.id_column, self.date_columns)
        if self.prepare is not None:
            edits, more = self.prepare(start, edits)
            found.extend(more)
        if self.across is not None:  # keep="error": nothing was dropped
            across = self.across[rows]
            if across.any():
                at = np.flatnonzero(across)
                found.add(at, self.id_column, "DUPLICATE_ID", _DUPLICATE, edits.index[at].tolist())
        options = {**self.options, **options}
        try:
            result = update(
                edits,
                self.client,
                id_column=self.id_column,
                problems=found,
                definitions=self.definitions,
                **options,
            )
        except (UpdateStopped, UpdateInterrupted) as stop:
            stop.result = self._part_result(stop.result, raw, start, drop)
            raise
        return _Part(
            report=self._with_dropped(result.report, raw, start, drop),
            problems=result.problems,
            tickets=result.tickets,
            failed=result.failed_rows(),
            changes=result.changes,
        )

    def _part_result(
        self, result: UpdateResult, raw: pd.DataFrame, start: int, drop: np.ndarray | None
    ) -> UpdateResult:
        report = self._with_dropped(result.report, raw, start, drop)
        failed = result.failed_rows()
        part = _Part(report, result.problems, result.tickets, failed, result.changes)
        return _joined([part], result.elapsed)

    def _with_dropped(
        self, report: pd.DataFrame, raw: pd.DataFrame, start: int, drop: np.ndarray | None
    ) -> pd.DataFrame:
        """``report`` with the rows ``keep`` left out, ``skipped``, each in its place."""
        if drop is None or not drop.any():
            return report
        assert self.ids is not None
        left_out = np.flatnonzero(drop)
        n = len(left_out)
        message = f"another row of this ticket is sent instead (--keep {self.keep})"
        extra = pd.DataFrame(
            {
                "objectId": self._shown(raw, start, left_out),
                "status": pd.Categorical(["skipped"] * n, categories=list(STATUSES)),
                "http_status": pd.array([None] * n, dtype="Int64"),
                "error": pd.array([None] * n, dtype="string"),
                "message": pd.array([message] * n, dtype="string"),
                "attempts": np.zeros(n, dtype=np.int64),
                "batch": pd.array([None] * n, dtype="Int64"),
            },
            index=pd.Index(raw[self.id_column].iloc[left_out], name=report.index.name),
        )
        order = np.argsort(np.concatenate([np.flatnonzero(~drop), left_out]), kind="stable")
        joined: pd.DataFrame = pd.concat([report, extra]).iloc[order]
        return joined

    def _shown(self, raw: pd.DataFrame, start: int, rows: np.ndarray) -> np.ndarray:
        """The ``objectId`` a report shows for ``raw``'s ``rows`` (its ids, or key values)."""
        if self.id_property is not None:
            return np.asarray(raw[self.id_column].to_numpy(dtype=object)[rows])
        if self.ids is None:
            return np.zeros(len(rows), dtype=np.int64)
        shown: np.ndarray = self.ids[start + rows]
        return shown

    def unsent(self, start: int) -> list[_Part]:
        """The rows from ``start`` on as ``not_sent`` (the run stopped before them).

        Only their ids are read again: they are in the report, not in ``failed_rows()``.
        """
        parts = []
        for first, raw in self.chunks([self.id_column]):
            if first + len(raw) <= start:
                continue
            raw = raw.iloc[max(0, start - first) :]
            at = first + max(0, start - first)
            drop = None if self.drop is None else self.drop[at : at + len(raw)]
            kept = np.ones(len(raw), dtype=bool) if drop is None else ~drop
            n = int(kept.sum())
            report = pd.DataFrame(
                {
                    "objectId": self._shown(raw, at, np.flatnonzero(kept)),
                    "status": pd.Categorical(["not_sent"] * n, categories=list(STATUSES)),
                    "http_status": pd.array([None] * n, dtype="Int64"),
                    "error": pd.array([None] * n, dtype="string"),
                    "message": pd.array([None] * n, dtype="string"),
                    "attempts": np.zeros(n, dtype=np.int64),
                    "batch": pd.array([None] * n, dtype="Int64"),
                },
                index=pd.Index(raw[self.id_column][kept], name=self.id_column),
            )
            report = self._with_dropped(report, raw, at, drop)
            parts.append(_Part(report, _no_problems(), concat_tidy([]), pd.DataFrame()))
        return parts


def _keys(raw: pd.Series, id_column: str, found: ProblemList) -> np.ndarray:
    """The ``id_property`` values as objects (None where invalid), for :func:`pd.factorize`."""
    return np.asarray(_check_keys(raw, id_column, found).to_numpy(zero_copy_only=False), object)


def _no_problems() -> pd.DataFrame:
    return ProblemList(pd.RangeIndex(0)).frame()


def _joined(parts: list[_Part], elapsed: float, payload: Any = None) -> StreamedResult:
    """One result of the chunks' results: reports in file order, batches numbered on."""
    reports = []
    batches = 0
    for part in parts:
        report = part.report
        if report["batch"].notna().any():
            report = report.assign(batch=report["batch"] + batches)
            batches = int(report["batch"].max()) + 1
        reports.append(report)
    problems = [p.problems for p in parts if len(p.problems)]
    changes = [p.changes for p in parts if p.changes is not None]
    return StreamedResult(
        report=pd.concat(reports) if reports else pd.DataFrame(),
        tickets=concat_tidy([p.tickets for p in parts]),
        frame=pd.concat([p.failed for p in parts]) if parts else pd.DataFrame(),
        payload=payload,
        elapsed=elapsed,
        problems=pd.concat(problems, ignore_index=True) if problems else _no_problems(),
        changes=pd.concat(changes) if changes else None,
    )


def push_file(
    source: EditsFile,
    client: TicketsClient,
    *,
    id_column: str | None,
    date_columns: Sequence[str] = (),
    keep: Keep = "error",
    chunk_rows: int = CHUNK_ROWS,
    na: NaMode = "skip",
    progress: bool | None = None,
    journal: str | os.PathLike[str] | None = None,
    dry_run: bool = False,
    check_properties: bool = True,
    on_invalid: OnInvalid = "raise",
    tickets: bool = False,
    only_changed: bool = False,
    undo: str | os.PathLike[str] | None = None,
    definitions: Definitions | None = None,
    prepare: Prepare | None = None,
    id_property: str | None = None,
) -> StreamedResult:
    """Send a file of edits a chunk at a time, as one update run: one bar, one report.

    Every input row gets exactly one outcome in ``report`` (in file order);
    every problem of every chunk is found before anything is sent, and with
    ``on_invalid="raise"`` refuses the whole file (one ``PayloadError``).
    The journal works across chunks (a resume sends only what is left).

    Parameters
    ----------
    source : EditsFile
        The file.
    client : TicketsClient
        Where to send.
    id_column : str
        The header of the ticket ids.
    date_columns : sequence of str
        Columns read as ISO 8601 dates (see :func:`read_edits`).
    keep : {"error", "first", "last"}, default "error"
        Rows of the same ticket (anywhere in the file): refused as
        ``DUPLICATE_ID``, or only the first (last) row of each ticket is sent
        and the others are reported ``skipped``.
    chunk_rows : int, default 100,000
        Rows read, checked and sent at a time: memory is bounded by it.
    na, progress, journal, dry_run, check_properties, on_invalid, tickets, only_changed
        As :func:`update` (``tickets`` defaults to False here).
    undo : path, optional
        As :func:`update`. A file of several chunks writes a folder of that
        name instead, one Parquet file per chunk sent, each before its chunk
        is sent; :func:`~pandas_hubtickets.undo` reads either.
    definitions : list of dict, optional
        HubSpot's property definitions when already read: no read then.
    prepare : callable, optional
        ``prepare(position of the chunk's first row, edits)`` returns the
        edits to check and send instead, and the problems it found in them
        (the command line picks, renames and coerces columns with it). It is
        called once when a chunk is checked and again when it is sent.
    id_property : str, optional
        The id column holds this unique property's values (date-versioned
        APIs; see ``DataFrame.hubtickets.update``). Its values are held as
        text while the ids are read, not 8 bytes a row.

    Returns
    -------
    StreamedResult
        An :class:`UpdateResult` whose ``frame`` holds the rows not landed only.

    Examples
    --------
    >>> import io
    >>> text = io.StringIO("objectId,subject\\n176602,a\\n178218,b\\n176602,c\\n")
    >>> result = push_file(EditsFile(text), client, id_column="objectId", keep="last",
    ...                    chunk_rows=2, progress=False)
    >>> result.report["status"].tolist()
    ['skipped', 'updated', 'updated']
    """
    if keep not in KEEP:
        raise ConfigurationError(f"keep must be 'error', 'first' or 'last', not {keep!r}")
    if not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise ConfigurationError(f"chunk_rows must be a positive number, not {chunk_rows!r}")
    started = time.monotonic()
    if id_column is None:  # the one header the id rule names (read from the first row)
        id_column = id_column_of(next(source.frames(1)), None, id_property)
    options = {
        "na": na,
        "check_properties": check_properties,
        "tickets": tickets,
        "journal": journal,
        "only_changed": only_changed,
        "id_property": id_property,
    }
    push = _Push(source, client, id_column, date_columns, keep, chunk_rows, options)
    push.definitions, push.prepare, push.id_property = definitions, prepare, id_property
    if push.read_ids() <= 1:  # one chunk: one update run, as for a frame
        (start, raw), *_ = push.chunks()
        part = push.run(
            start, raw, progress=progress, dry_run=dry_run, on_invalid=on_invalid, undo=undo
        )
        return _joined([part], time.monotonic() - started)
    if check_properties and push.definitions is None:
        # the first chunk's run reads them again if this fails, and stops as a run does
        with contextlib.suppress(HubSpotError, TransportError):
            push.definitions = client.properties()  # once for every chunk
    checked, pending = _check(push, dry_run, on_invalid, started)
    if dry_run:
        return _joined(checked, time.monotonic() - started)
    if undo is not None:
        check_undo_path(undo)
        os.mkdir(undo)  # one file per chunk inside, each written before its chunk is sent
    return _send(push, pending, on_invalid, progress, started, undo)


def _check(push: _Push, dry_run: bool, on_invalid: str, started: float) -> tuple[list[_Part], int]:
    """Every chunk as a dry run: the parts (for a dry run) and the rows to send.

    Raises
    ------
    PayloadError
        With ``on_invalid="raise"``: every problem of every chunk, before anything is sent.
    """
    parts: list[_Part] = []
    problems: list[pd.DataFrame] = []
    pending = 0
    journal = push.options["journal"] if dry_run else None
    try:
        for start, raw in push.chunks():
            part = push.run(
                start, raw, dry_run=True, on_invalid="skip", progress=False, journal=journal
            )
            pending += int((part.report["status"] == "dry_run").sum())
            if len(part.problems):
                problems.append(part.problems)
            if dry_run:
                parts.append(part)
    except (UpdateStopped, UpdateInterrupted, KeyboardInterrupt) as stop:
        _stopped(push, stop, [], 0, started, sending=False)  # nothing was sent
    if problems and on_invalid == "raise":
        raise PayloadError(pd.concat(problems, ignore_index=True))
    return parts, pending


def _send(
    push: _Push,
    pending: int,
    on_invalid: OnInvalid,
    progress: bool | None,
    started: float,
    undo: str | os.PathLike[str] | None,
) -> StreamedResult:
    parts: list[_Part] = []
    start = 0
    bar: Progress = progress_bar(pending, desc="hubtickets update", unit="row", enabled=progress)
    try:
        for number, (start, raw) in enumerate(push.chunks()):
            folder = None if undo is None else os.path.join(undo, f"chunk-{number:05d}.parquet")
            part = push.run(start, raw, progress=bar, on_invalid=on_invalid, undo=folder)
            bar.update(int((part.report["status"] == "already_updated").sum()))
            parts.append(part)
            start += len(raw)
    except (UpdateStopped, UpdateInterrupted, KeyboardInterrupt) as stop:
        _stopped(push, stop, parts, start, started, sending=True)
    finally:
        bar.close()
    return _joined(parts, time.monotonic() - started)


def _stopped(
    push: _Push,
    stop: BaseException,
    parts: list[_Part],
    start: int,
    started: float,
    *,
    sending: bool,
) -> None:
    """Raise ``stop`` again with one result: the chunks done, the one stopped, the rest unsent.

    A stop while checking (``sending=False``) leaves every row ``not_sent``.
    """
    if sending and isinstance(stop, UpdateStopped | UpdateInterrupted):
        stopped = stop.result
        parts = [*parts, _Part(stopped.report, stopped.problems, stopped.tickets, stopped.frame)]
        start += len(stopped.report)
    result = _joined([*parts, *push.unsent(start)], time.monotonic() - started)
    if isinstance(stop, UpdateStopped):
        raise UpdateStopped(str(stop), result) from stop.__cause__
    raise UpdateInterrupted("update interrupted; see .result", result) from stop
