"""Sending a wide frame: batches, splitting rejected batches, the journal, one outcome per row.

This module owns the promise that every input row ends with exactly one
recorded outcome, also when the run stops early. The report starts as a
row-indexed table (``not_sent`` for rows with something to send, ``skipped``
for the others) and each finished batch overwrites its rows once.

HTTP is the client's business: this module hands it JSON bodies (built from
the per-row fragments of :class:`~pandas_hubtickets._payload.EncodedFrame`)
and reads back parsed replies or typed errors.

Memory stays proportional to the frame and the report: the workers build
the JSON text of a few batches at a time (:data:`_TEXTS_AT`; with a journal,
the rows' fingerprints from that same text), and a resume fingerprints the
frame a chunk at a time; HubSpot's answers are kept only as Arrow arrays, when asked
(converted :data:`_CONVERT_AT` answers at a time, one tidy frame made of them
at the end).
"""

from __future__ import annotations

import itertools
import logging
import signal
import threading
import time
import uuid
import warnings
from collections.abc import Hashable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ._coerce import unreported
from ._columns import find_id_column
from ._definitions import Definitions, check_values
from ._diff import NOT_FOUND, compare, key_property, read_current
from ._display import result_html, result_text
from ._flatten import compact, tidy_of, to_arrow, to_arrow_all
from ._journal import Journal, fingerprint
from ._json import gc_paused
from ._payload import EncodedFrame, NaMode, Problem, ProblemList, check_batch_size, encode_frame
from ._progress import Progress, progress_bar
from ._undo import check_undo_path, write_undo
from .errors import (
    ArgumentTypeError,
    ConfigurationError,
    DefinitionsUnavailable,
    FlattenError,
    HubSpotError,
    HubTicketsError,
    RateLimitError,
    TransportError,
    UnreachableError,
    UpdateInterrupted,
    UpdateStopped,
)

if TYPE_CHECKING:
    import os
    from types import FrameType

    from ._client import TicketsClient

__all__ = ["REPORT_COLUMNS", "STATUSES", "UpdateResult", "check_client", "update"]

log = logging.getLogger(__name__)

STATUSES = (
    "updated",
    "already_updated",
    "failed",
    "unknown",
    "skipped",
    "not_sent",
    "dry_run",
    "unchanged",
    "partly_updated",
)
REPORT_COLUMNS = ["objectId", "status", "http_status", "error", "message", "attempts", "batch"]
_NOT_LANDED = ("failed", "unknown", "not_sent")
#: Rows ``ok`` and ``failed_rows()`` are about: not landed, or landed without refused cells.
_TO_RESEND = (*_NOT_LANDED, "partly_updated")
OnInvalid = Literal["raise", "skip", "skip_cells"]
_RESUMED = "already updated by an earlier run (journal)"
_MAY_HAVE_LANDED = (
    "the request may have been applied: check the ticket in HubSpot, or send the row "
    "again (sending the same values twice is safe)"
)
#: ``error`` of a row that a 2xx answer did not list among the updated tickets.
UNCONFIRMED = "UNCONFIRMED"
#: Rows whose text a resume builds at once, to compare with the journal's fingerprints.
_RESUME_CHUNK = 10_000
#: Answers kept as Arrow that are put in one piece (see _flatten.compact).
_COMPACT = 64
#: Parsed answers converted to Arrow at once, by the main thread (see _Run.record): pyarrow's
#: cost per call, a quarter of an answer's conversion, is paid once for all of them.
_CONVERT_AT = 16
#: Batches whose rows' texts are built in one call (see _Texts): most of a 100-row batch's
#: cost is per call (0.49 ms a batch alone, 0.12 ms in a call for 4, 0.055 ms for 16). 16 raised
#: bench_client's peak memory from 870 to 1,050 B a row (bigger temporaries the allocator keeps).
_TEXTS_AT = 4


def _no_problems() -> pd.DataFrame:
    return ProblemList(pd.RangeIndex(0)).frame()


@dataclass(frozen=True)
class _Outcome:
    """What happened to some rows of one batch."""

    rows: np.ndarray
    status: Literal["updated", "failed", "unknown"]
    http_status: int | None
    error: str | None
    message: str | None
    attempts: int


@dataclass
class _BatchResult:
    batch: int
    outcomes: list[_Outcome] = field(default_factory=list)
    #: HubSpot's parsed answers, when collected (converted by the main thread; see _Run.record).
    answers: list[Any] = field(default_factory=list)
    #: Each row's fingerprint (by position) of the text sent, when the run is journaled.
    fingerprints: dict[int, str] = field(default_factory=dict)
    stop: BaseException | None = None


@dataclass
class UpdateResult:
    """What an update run did, row by row.

    Attributes
    ----------
    report : pandas.DataFrame
        One row per input row, same index and order; columns ``objectId``,
        ``status`` (one of :data:`STATUSES`: ``updated`` -- HubSpot's answer
        lists the ticket; ``already_updated``; ``failed``; ``unknown`` -- a
        request may have been applied but HubSpot did not confirm it, check
        or resend; ``skipped``; ``not_sent``; ``dry_run``; ``unchanged`` --
        ``only_changed=True`` found nothing that differs from HubSpot's values,
        nothing was sent; ``partly_updated`` -- ``on_invalid="skip_cells"``:
        HubSpot confirmed the row's valid cells, its refused cells were not
        sent, ``error`` holds the first refused code and ``problems`` all of
        them), ``http_status``,
        ``error`` (the first problem's code, HubSpot's code such as
        ``INVALID_DATE``, the transport failure, or ``UNCONFIRMED``),
        ``message``, ``attempts`` (requests that carried the row), ``batch``.
    tickets : pandas.DataFrame
        The tidy frame (see :func:`pandas_hubtickets.flatten`) of everything
        HubSpot returned; empty when the run was made with ``tickets=False``.
    payload : list or None
        With ``dry_run=True``, the body that would have been sent.
    elapsed : float
        Seconds the run took.
    problems : pandas.DataFrame
        Every (row, column) problem of the rows refused before sending
        (``on_invalid="skip"``), with the columns of
        :attr:`PayloadError.problems <pandas_hubtickets.PayloadError>`:
        ``row``, ``objectId``, ``column``, ``code``, ``value``, ``problem``.
        A refused row's ``report`` entry shows only its first code.
    changes : pandas.DataFrame or None
        With ``only_changed=True``: every changed cell of the rows that were
        to be sent (``objectId``, ``property``, ``old``, ``new``, ``problem``;
        see :meth:`HubTicketsAccessor.diff
        <pandas_hubtickets._accessor.HubTicketsAccessor.diff>`), and a line
        per ticket that does not exist or was deleted. With ``dry_run=True``
        it is the preview: what would change, from what to what.
    """

    report: pd.DataFrame
    tickets: pd.DataFrame
    frame: pd.DataFrame = field(repr=False)
    payload: Any = None
    elapsed: float = 0.0
    problems: pd.DataFrame = field(default_factory=_no_problems, repr=False)
    changes: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def counts(self) -> pd.Series:
        """Rows per status, every status listed (zeros included)."""
        return self.report["status"].value_counts().reindex(list(STATUSES), fill_value=0)

    @property
    def ok(self) -> bool:
        """True when every row landed whole: none failed, is unknown, unsent or partly updated.

        ``already_updated`` and ``unchanged`` rows count as landed. A dry run
        that found problems (refused cells included) is not ok either.
        """
        return self.problems.empty and not self.report["status"].isin(_TO_RESEND).any()

    def failed_rows(self) -> pd.DataFrame:
        """The input rows not known to have landed whole.

        ``failed``, ``unknown``, ``not_sent`` and ``partly_updated`` rows,
        ready to fix and resend (resending an ``unknown`` row's same values is
        safe). Join with :attr:`report` for the reasons.
        """
        return cast(pd.DataFrame, self.frame[self.report["status"].isin(_TO_RESEND).to_numpy()])

    def __repr__(self) -> str:
        return result_text("UpdateResult", self.report, self.elapsed, self.problems, self.changes)

    def _repr_html_(self) -> str:
        return result_html("UpdateResult", self.report, self.elapsed, self.problems, self.changes)


class _Run:
    """One update run: its table of outcomes and its batches."""

    def __init__(self, frame: pd.DataFrame, encoded: EncodedFrame) -> None:
        n = len(encoded)
        self.frame = frame
        self.encoded = encoded
        # the same two str objects in every cell (astype(object) would make one per row)
        self.status = np.full(n, "skipped", dtype=object)
        self.status[encoded.sendable] = "not_sent"
        self.http_status = np.full(n, np.nan)
        self.error = np.full(n, None, dtype=object)
        self.message = np.full(n, None, dtype=object)
        self.attempts = np.zeros(n, dtype=np.int64)
        self.batch = np.full(n, np.nan)
        self.tickets: list[Any] = []  # answers as Arrow: one tidy frame is made at the end
        self.compacted = 0  # self.tickets[:compacted] each hold _COMPACT parts
        self.answers: list[Any] = []  # parsed answers not yet converted (fewer than _CONVERT_AT)
        self.problems = _no_problems()
        self.started = time.monotonic()
        #: Rows sent without some refused cells (``on_invalid="skip_cells"``).
        self.partial = np.zeros(n, dtype=bool)
        #: The ``error`` and ``message`` a partly updated row keeps (its refused cells).
        self.notes = (self.error, self.message)
        #: With ``only_changed``: the changed cells (see :meth:`Changes.frame`).
        self.changes: pd.DataFrame | None = None
        #: The id column (where a problem of the id property is reported).
        self.id_column: str = "objectId"

    def refuse(self, found: ProblemList) -> None:
        """Fail, without sending them, the rows with a problem; keep all their problems.

        Rows an earlier run updated (the journal) keep ``already_updated``.
        """
        for p in found.items:
            assert p.rows is not None, "a problem of a whole column refuses the frame"
            rows = p.rows[self.status[p.rows] != "already_updated"]
            first = rows[self.status[rows] != "failed"]
            self.status[rows] = "failed"
            self.error[first] = p.code
            before = self.message[rows]
            known = ~pd.isna(before)
            note = f"{p.message} (found before sending)"
            joined = np.where(known, before, "").astype(object) + ("; " + note)
            self.message[rows] = np.where(known, joined, note)
        refused = self.status == "failed"
        kept = ProblemList(found.index, found.ids)
        for p in found.items:
            assert p.rows is not None
            keep = refused[p.rows]
            values = None if p.values is None else list(itertools.compress(p.values, keep))
            kept.add(p.rows[keep], p.column, p.code, p.message, values)
        self.problems = kept.frame()

    def skip_cells(self, found: ProblemList) -> None:
        """Leave out the refused cells of the properties sent; refuse only rows with none left.

        A problem of a row itself (its id) refuses the row. A row keeping some
        valid cells is sent with them: its ``error`` and ``message`` name the
        cells left out, and it becomes ``partly_updated`` when HubSpot confirms.
        """
        columns = {name: j for j, name in enumerate(self.encoded.names)}
        bad = [np.zeros(len(self.status), dtype=bool) for _ in columns]
        row_level = ProblemList(found.index, found.ids)
        cells: list[Problem] = []
        for p in found.items:
            assert p.rows is not None, "a problem of a whole column refuses the frame"
            if isinstance(p.column, str) and p.column in columns:
                bad[columns[p.column]][p.rows] = True
                cells.append(p)
            else:
                row_level.add(p.rows, p.column, p.code, p.message, p.values)
        before = self.encoded.sendable
        self.encoded = replace(
            self.encoded,
            values=tuple(
                pc.if_else(pa.array(mask), pa.nulls(len(mask), pa.string()), arr)
                for arr, mask in zip(self.encoded.values, bad, strict=True)
            ),
        )
        emptied = before & ~self.encoded.sendable
        for p in cells:  # a row left with nothing to send is refused with its cells
            assert p.rows is not None
            keep = emptied[p.rows]
            if keep.any():
                values = None if p.values is None else list(itertools.compress(p.values, keep))
                row_level.add(p.rows[keep], p.column, p.code, p.message, values)
        self.refuse(row_level)
        self.problems = found.frame()
        partial = np.zeros(len(self.status), dtype=bool)
        for mask in bad:
            partial |= mask
        self.partial = partial & (self.status == "not_sent")
        for p in cells:
            assert p.rows is not None
            rows = p.rows[self.partial[p.rows]]
            self.error[rows[pd.isna(self.error[rows])]] = p.code
            note = f"{p.column}: {p.code}"
            known = ~pd.isna(self.message[rows])
            before = np.where(known, self.message[rows], "").astype(object)
            self.message[rows] = np.where(known, before + (", " + note), note)
        rows = np.flatnonzero(self.partial)
        self.message[rows] = "refused cells not sent (" + self.message[rows] + "); see problems"
        self.notes = (self.error.copy(), self.message.copy())

    def only_changed(self, client: TicketsClient, progress: bool | None) -> None:
        """Read the tickets to be sent and keep only the cells that differ from HubSpot's.

        Rows with nothing that differs become ``unchanged`` (``failed`` when
        cells of theirs were refused: those would be the change); rows whose ticket
        does not exist or was deleted ``failed`` (``OBJECT_NOT_FOUND``), never sent.
        """
        pending = self.status == "not_sent"
        ids = self.encoded.id_values[pending]  # ticket ids, or the id_property's values
        key = key_property(self.encoded)
        current = read_current(client, ids, self.encoded.names, progress=progress, id_property=key)
        changes = compare(self.encoded, current)
        gone = changes.missing & pending
        self.status[gone] = "failed"
        self.error[gone] = NOT_FOUND
        self.message[gone] = "the ticket does not exist or was deleted (found by reading it)"
        same = pending & ~gone & ~changes.any_changed
        self.status[same] = "unchanged"
        self.status[same & self.partial] = "failed"  # only its refused cells would change it
        self.changes = changes.frame(rows=pending)
        self.encoded = changes.only_changed()

    def record(self, result: _BatchResult) -> None:
        for o in result.outcomes:
            assert (self.status[o.rows] == "not_sent").all(), "a row got two outcomes"
            self.status[o.rows] = o.status
            self.http_status[o.rows] = np.nan if o.http_status is None else o.http_status
            self.error[o.rows] = o.error
            self.message[o.rows] = o.message
            if o.status == "updated" and self.partial[o.rows].any():
                part = o.rows[self.partial[o.rows]]
                self.status[part] = "partly_updated"
                self.error[part] = self.notes[0][part]
                self.message[part] = self.notes[1][part]
            self.attempts[o.rows] = o.attempts
            self.batch[o.rows] = result.batch
        self.answers.extend(result.answers)
        if len(self.answers) >= _CONVERT_AT:
            self.convert()

    def convert(self) -> None:
        """Convert the answers kept so far to Arrow in one go; an odd one is left out, warned of."""
        answers, self.answers = self.answers, []
        if not answers:
            return
        try:
            self.tickets.append(to_arrow_all(answers))
        except FlattenError:  # an odd answer must not cost the report, nor the other answers
            for answer in answers:
                try:
                    self.tickets.append(to_arrow(answer))
                except FlattenError as exc:
                    warnings.warn(f"HubSpot's answer could not be flattened: {exc}", stacklevel=2)
        if len(self.tickets) - self.compacted >= _COMPACT:  # small Arrow parts cost 4x
            self.tickets[self.compacted :] = [compact(self.tickets[self.compacted :])]
            self.compacted += 1

    def result(self, payload: Any = None) -> UpdateResult:
        report = pd.DataFrame(
            {
                "objectId": self.encoded.id_values,
                "status": pd.Categorical(self.status, categories=list(STATUSES)),
                "http_status": pd.array(self.http_status, dtype="Int64"),
                "error": pd.array(self.error, dtype="string"),
                "message": pd.array(self.message, dtype="string"),
                "attempts": self.attempts,
                "batch": pd.array(self.batch, dtype="Int64"),
            },
            index=self.encoded.index,
        )
        return UpdateResult(
            report=report,
            tickets=self._tickets(),
            frame=self.frame,
            payload=payload,
            elapsed=time.monotonic() - self.started,
            problems=self.problems,
            changes=self.changes,
        )

    def _tickets(self) -> pd.DataFrame:
        self.convert()
        return tidy_of(self.tickets)


def _failure(exc: HubSpotError | TransportError, rows: np.ndarray, attempts: int) -> _Outcome:
    """The outcome of rows whose request failed: ``unknown`` when it may have been applied."""
    status: Literal["failed", "unknown"] = "unknown" if exc.maybe_applied else "failed"
    if isinstance(exc, HubSpotError):
        results = exc.body.get("validationResults") if isinstance(exc.body, dict) else None
        details = exc.body.get("errors") if isinstance(exc.body, dict) else None
        if results:
            text = "; ".join(f"{r.get('name')}: {r.get('message')}" for r in results)
        elif isinstance(details, list) and details:  # the versioned APIs' Error.errors
            text = "; ".join(map(_detail, details))
        else:
            text = exc.message
        if exc.maybe_applied:
            text = f"{text}; but an earlier attempt got no answer, so {_MAY_HAVE_LANDED}"
        return _Outcome(rows, status, exc.status, exc.error, text, attempts)
    if exc.maybe_applied:
        text = f"{exc}; {_MAY_HAVE_LANDED}"
    else:
        text = f"{exc} (nothing was applied; sending again is safe)"
    return _Outcome(rows, status, None, "TRANSPORT_ERROR", text, attempts)


def _detail(detail: Any) -> str:
    """An ``ErrorDetail`` of the versioned APIs as ``"property: message"``."""
    if not isinstance(detail, dict):
        return str(detail)
    context = detail.get("context")
    names = context.get("propertyName") if isinstance(context, dict) else None
    message = str(detail.get("message"))
    return f"{', '.join(map(str, names))}: {message}" if isinstance(names, list) else message


def _traced(data: Any, rows: np.ndarray, object_ids: np.ndarray) -> np.ndarray:
    """Which ``rows`` a versioned answer's ``results`` list.

    By their ``objectWriteTraceId`` (the row's position); a result without
    one by its ``id``, when the rows were sent by ticket id.
    """
    results = data.get("results") if isinstance(data, dict) else None
    traces: set[int] = set()
    ids: set[str] = set()
    for r in results if isinstance(results, list) else ():
        trace = r.get("objectWriteTraceId") if isinstance(r, dict) else None
        if isinstance(trace, str) and trace.isdecimal():
            traces.add(int(trace))
        elif isinstance(r, dict) and isinstance(r.get("id"), str):
            ids.add(r["id"])
    listed = np.isin(rows, list(traces))
    if ids:
        listed |= np.isin(object_ids[rows].astype(str), list(ids)) & (object_ids[rows] > 0)
    return listed


def _named(
    data: Any, rows: np.ndarray, ids: np.ndarray, status: int, attempts: int
) -> list[_Outcome]:
    """Rows a versioned 207 answer's ``errors`` name (by the ids in each one's ``context``)."""
    errors = data.get("errors") if isinstance(data, dict) else None
    outcomes: list[_Outcome] = []
    left = np.ones(len(rows), dtype=bool)
    texts = np.array([str(i) for i in ids[rows].tolist()], dtype=object)
    for error in errors if isinstance(errors, list) else ():
        context = error.get("context") if isinstance(error, dict) else None
        named = context.get("ids") if isinstance(context, dict) else None
        if not isinstance(named, list):
            continue
        hit = left & np.isin(texts, [str(i) for i in named])
        if hit.any():
            code = error.get("category") or error.get("code") or f"HTTP_{status}"
            message = str(error.get("message") or code)
            outcomes.append(_Outcome(rows[hit], "failed", status, str(code), message, attempts))
            left &= ~hit
    return outcomes


def _confirmed(data: Any) -> set[int]:
    """The objectIds a batch-update answer lists as updated (v1 returns the ticket objects)."""
    if not isinstance(data, list):
        return set()
    return {
        t["objectId"]
        for t in data
        if isinstance(t, dict) and type(t.get("objectId")) is int  # not a bool, nor "1"
    }


def _rejects_some(exc: HubSpotError) -> bool:
    """A whole batch refused for some of its objects: a 400, or a 404 for a missing object.

    HubSpot's documents do not say how v1 answers an unknown id in a batch
    update (a 400 ``validationResults`` like the emulator's, or a 404): both split.
    """
    return exc.status == 400 or (exc.status == 404 and exc.error == "OBJECT_NOT_FOUND")


def _is_fatal(exc: HubSpotError) -> bool:
    """Errors after which no other batch can succeed: stop the run."""
    daily = isinstance(exc, RateLimitError) and exc.policy == "DAILY"
    return daily or exc.status in (401, 403)


def _stops_run(exc: HubSpotError | TransportError) -> bool:
    """Whether a failure to read the definitions means no batch could be sent either.

    A 403 there may be a scope the token lacks only for the definitions: it
    does not stop the run but asks for ``check_properties=False``.
    """
    if isinstance(exc, HubSpotError):
        return _is_fatal(exc) and exc.status != 403
    return isinstance(exc, UnreachableError)


class _Stop(Exception):
    """Raised inside a batch after an error that ends the whole run."""

    def __init__(self, cause: HubTicketsError) -> None:
        self.cause = cause
        super().__init__(str(cause))


class _Texts:
    """The rows' JSON texts of each batch, built for :data:`_TEXTS_AT` batches at a time.

    The first worker to need a batch's texts builds those of its whole group
    of batches (one :meth:`EncodedFrame.fragments` call); each batch takes
    its own once, and a group is dropped when its last batch has: at most a
    few groups' texts exist at once.
    """

    def __init__(self, encoded: EncodedFrame, batches: Sequence[np.ndarray]) -> None:
        self._encoded = encoded
        self._batches = batches
        self._lock = threading.Lock()
        #: Per group under way: each batch's texts (None once taken), and how many are left.
        self._groups: dict[int, tuple[list[list[str] | None], list[int]]] = {}

    def take(self, batch: int) -> list[str]:
        """The texts of the rows of batch number ``batch``, in its row order."""
        group, member = divmod(batch, _TEXTS_AT)
        with self._lock:  # building takes the GIL anyway: one worker at a time loses nothing
            if group not in self._groups:
                members = self._batches[group * _TEXTS_AT : (group + 1) * _TEXTS_AT]
                flat = self._encoded.fragments(np.concatenate(members)).to_pylist()
                ends = np.cumsum([len(rows) for rows in members]).tolist()
                texts: list[list[str] | None] = [
                    flat[start:end] for start, end in zip([0, *ends[:-1]], ends, strict=True)
                ]
                self._groups[group] = (texts, [len(members)])
            texts, left = self._groups[group]
            mine, texts[member] = texts[member], None
            left[0] -= 1
            if not left[0]:
                del self._groups[group]
        assert mine is not None, "a batch's texts are taken once"
        return mine


class _Sender:
    """Sends one batch, splitting it in halves while HubSpot rejects it as a whole."""

    def __init__(
        self,
        client: TicketsClient,
        encoded: EncodedFrame,
        texts: _Texts,
        tickets: bool,
        journaled: bool,
    ) -> None:
        self.client = client
        self.encoded = encoded
        #: Each batch's rows' texts (built a group of batches at a time).
        self.texts = texts
        #: Whether HubSpot's answers are flattened and kept (``update(tickets=...)``).
        self.tickets = tickets
        #: Whether each row's fingerprint is wanted (for the journal).
        self.journaled = journaled
        #: Set when the run must stop: no request starts after that.
        self.stopped = threading.Event()

    def __call__(self, batch: int, rows: np.ndarray) -> _BatchResult:
        result = _BatchResult(batch)
        try:
            # this batch's JSON text only, built by the workers (halves reuse it)
            texts = self.texts.take(batch)
            if self.journaled:  # without the trace id: a resume may find the row elsewhere
                untraced = map(self.encoded.flavor.untraced, texts)
                result.fingerprints = dict(
                    zip(rows.tolist(), map(fingerprint, untraced), strict=True)
                )
            self._send(rows, texts, result, carried=0)
        except _Stop as stop:
            result.stop = stop.cause
        except Exception as exc:  # unexpected: rows not yet answered stay not_sent
            self.stopped.set()
            result.stop = exc
        return result

    def _send(self, rows: np.ndarray, texts: list[str], result: _BatchResult, carried: int) -> None:
        if self.stopped.is_set():
            return  # these rows stay not_sent
        body = self.encoded.wrap_fragments(texts)
        try:
            reply = self.client.batch_update_reply(body)
        except HubSpotError as exc:
            attempts = carried + (exc.attempts or 1)
            if _rejects_some(exc) and len(rows) > 1:
                # v1 rejects a batch for one bad object without saying which: split it.
                half = len(rows) // 2
                self._send(rows[:half], texts[:half], result, attempts)
                self._send(rows[half:], texts[half:], result, attempts)
                return
            result.outcomes.append(_failure(exc, rows, attempts))
            if _is_fatal(exc):
                self.stopped.set()
                raise _Stop(exc) from exc
            return
        except UnreachableError as exc:  # never connected: nothing applied, nothing will be
            self.stopped.set()
            raise _Stop(exc) from exc
        except TransportError as exc:
            result.outcomes.append(_failure(exc, rows, carried + (exc.attempts or 1)))
            return
        attempts = carried + reply.attempts
        failed: list[_Outcome] = []
        if self.encoded.flavor.trace_prefix is None:
            confirmed = _confirmed(reply.data)  # a lookup per row: np.isin costs 5x more here
            sent = self.encoded.object_ids[rows].tolist()
            listed = np.fromiter(map(confirmed.__contains__, sent), bool, len(sent))
        else:  # versioned: results by trace id; a 207's errors by the ids they name
            listed = _traced(reply.data, rows, self.encoded.object_ids)
            ids = self.encoded.id_values
            failed = _named(reply.data, rows[~listed], ids, reply.status, attempts)
        result.outcomes.extend(failed)
        if listed.any():
            result.outcomes.append(
                _Outcome(rows[listed], "updated", reply.status, None, None, attempts)
            )
        unconfirmed = ~listed
        for o in failed:  # rows a 207's errors name
            unconfirmed &= ~np.isin(rows, o.rows)
        if unconfirmed.any():
            message = f"HubSpot answered {reply.status} without listing this ticket among the "
            message += f"updated ones, so it did not confirm the update; {_MAY_HAVE_LANDED}"
            result.outcomes.append(
                _Outcome(rows[unconfirmed], "unknown", reply.status, UNCONFIRMED, message, attempts)
            )
        if self.tickets and listed.any():
            result.answers.append(reply.data)  # converted with others by the main thread


def _journal_rows(run: _Run, result: _BatchResult, run_id: str) -> Iterator[dict[str, Any]]:
    for o in result.outcomes:  # ids as Python ints (a ticket id) or str (an id_property value)
        for pos, oid in zip(o.rows.tolist(), run.encoded.id_values[o.rows].tolist(), strict=True):
            yield {
                "run": run_id,
                "batch": result.batch,
                "objectId": oid,
                "fingerprint": result.fingerprints[pos],
                "status": o.status,
                "http_status": o.http_status,
                "error": o.error,
                "message": o.message,
                "attempts": o.attempts,
                "time": time.time(),
            }


def _resume(run: _Run, journal: Journal) -> None:
    """Mark the rows the journal says were already updated with these very values.

    The rows' text is built and fingerprinted a chunk at a time (only the rows
    of tickets the journal holds), never for the whole frame at once.
    """
    done = journal.updated()
    if not done:
        return
    ids = run.encoded.id_values
    known = {oid for oid, _ in done}
    rows = np.flatnonzero(run.encoded.sendable & np.isin(ids, list(known)))
    untraced = run.encoded.flavor.untraced
    for start in range(0, len(rows), _RESUME_CHUNK):
        chunk = rows[start : start + _RESUME_CHUNK]
        texts = run.encoded.fragments(chunk).to_pylist()
        for pos, oid, text in zip(chunk.tolist(), ids[chunk].tolist(), texts, strict=True):
            if (oid, fingerprint(untraced(text))) in done:
                run.status[pos] = "already_updated"
                run.message[pos] = _RESUMED


def update(
    df: pd.DataFrame,
    client: TicketsClient,
    properties: Sequence[Hashable] | str | None = None,
    *,
    id_column: str | None = None,
    batch_size: int = 100,
    na: NaMode = "skip",
    progress: bool | Progress | None = None,
    journal: str | os.PathLike[str] | None = None,
    dry_run: bool = False,
    check_properties: bool = True,
    on_invalid: OnInvalid = "raise",
    problems: ProblemList | None = None,
    tickets: bool = True,
    only_changed: bool = False,
    undo: str | os.PathLike[str] | None = None,
    definitions: Definitions | None = None,
    id_property: str | None = None,
) -> UpdateResult:
    """Send a wide frame as batch updates; see ``DataFrame.hubtickets.update``.

    Parameters
    ----------
    tickets : bool, default True
        Collect HubSpot's answers as the tidy ``result.tickets`` (each answer
        is flattened as it arrives). ``False`` keeps nothing of them: for big
        pushes, memory then stays proportional to the frame and the report.
    problems : ProblemList, optional
        Problems the caller found in ``df`` itself (a command line that parses
        dates per row, say), built with ``ProblemList(df.index)``: reported in
        the same pass as every problem found here, under the same
        ``on_invalid`` rule. The list is filled in place.
    only_changed : bool, default False
        Read the tickets first (one request per 100) and send only the cells
        that differ from HubSpot's values; see ``DataFrame.hubtickets.update``.
    undo : path, optional
        With ``only_changed``: write each changed cell's previous value there
        (Parquet, made durable) before anything is sent; see :func:`undo`.
    progress : bool, Progress or None
        As ``DataFrame.hubtickets.update``; or a bar of the caller's to advance
        (and leave open), so that several runs share one bar.
    definitions : list of dict, optional
        HubSpot's property definitions when already read for this run
        (``client.properties()``, by coercion or for earlier chunks of a file):
        the check makes no request then.
    id_property : str, optional
        The id column holds this unique property's values (the client's API
        must be a date-versioned one); see ``DataFrame.hubtickets.update``.

    Examples
    --------
    >>> import pandas as pd
    >>> from pandas_hubtickets._payload import ProblemList
    >>> edits = pd.DataFrame({"objectId": [176602, 178218], "subject": ["a", "b"]})
    >>> found = ProblemList(edits.index)
    >>> found.add(np.array([1]), "due_date", "NOT_ISO_8601", "'soon' is not a date", ["soon"])
    >>> result = update(edits, client, on_invalid="skip", problems=found, progress=False)
    >>> result.report["status"].tolist()
    ['updated', 'failed']
    >>> result.problems[["row", "column", "code", "value"]].values.tolist()
    [[1, 'due_date', 'NOT_ISO_8601', 'soon']]
    """
    _check_arguments(df, client, on_invalid, problems, progress, dry_run, check_properties, tickets)
    _check_only_changed(only_changed, undo)
    batch_size = check_batch_size(batch_size)
    found = problems if problems is not None else ProblemList(df.index)
    id_column = id_column_of(df, id_column, id_property)
    encoded = encode_frame(
        df,
        properties,
        id_column=id_column,
        na=na,
        problems=found,
        api=client.api,
        id_property=id_property,
    )
    book = Journal(journal, write=not dry_run) if journal is not None else None
    run = _Run(df, encoded)
    run.id_column = id_column
    if book is not None:
        _resume(run, book)
    if check_properties and (run.status == "not_sent").any():
        findings = (
            _findings(client, run)
            if definitions is None
            else _checked(run, definitions)  # read already (coercion, chunks)
        )
        found.extend(unreported(found.items, findings))  # a cell the caller reported: once
    if found.refuses_frame or (len(found) and on_invalid == "raise"):
        found.raise_if_any()
    if on_invalid == "skip_cells":
        run.skip_cells(found)
    else:
        run.refuse(found)
    if only_changed:
        reading = progress if progress is None or isinstance(progress, bool) else False
        _read_changes(run, client, reading, None if dry_run else undo)  # a shared bar: none
    pending = np.flatnonzero(run.status == "not_sent")
    if dry_run:
        run.status[pending] = "dry_run"
        return run.result(payload=run.encoded.flavor.wrap(run.encoded.records(pending)))
    batches = [pending[i : i + batch_size] for i in range(0, len(pending), batch_size)]
    texts = _Texts(run.encoded, batches)
    sender = _Sender(client, run.encoded, texts, tickets, journaled=book is not None)
    run_id = uuid.uuid4().hex
    stop: BaseException | None = None
    if book is not None:
        book.lock()  # one writer at a time, until the run ends; refused before anything is sent
    bar = (
        progress
        if isinstance(progress, Progress)
        else progress_bar(len(pending), desc="hubtickets update", unit="row", enabled=progress)
    )
    # The collector paused for the whole run: the parsed answers, kept a few at a time until
    # their conversion (see _CONVERT_AT), are thousands of dicts without a cycle each; walked
    # and promoted by the collections any allocation can set off, they cost 0.1-0.3 ms a request.
    with gc_paused():
        pool = ThreadPoolExecutor(max_workers=client.max_workers, thread_name_prefix="hubtickets")
        unrecorded = {pool.submit(sender, i, rows): rows for i, rows in enumerate(batches)}
        ctrl_c = _CtrlC()
        try:
            with ctrl_c.installed():
                # as_completed waits on each batch once (wait() on all of them, again for each
                # batch that finishes, cost the main thread CPU that grew with the batches)
                for future in as_completed(unrecorded):
                    with ctrl_c.deferred():  # recorded and journaled, or neither
                        del unrecorded[future]
                        stop = _finish(run, future.result(), book, run_id, bar)
                    if stop is not None:
                        break
        except (Exception, KeyboardInterrupt) as exc:  # stop, and keep every outcome we have
            stop = exc
        finally:
            sender.stopped.set()  # no new request starts, not even a split half
            pool.shutdown(wait=False, cancel_futures=True)
            try:
                with ctrl_c.installed():
                    for future in list(unrecorded):  # batches in flight when the run stopped
                        outcome = None if future.cancelled() else future.result()
                        with ctrl_c.deferred():
                            if outcome is not None:
                                _finish(run, outcome, book, run_id, bar)
                            del unrecorded[future]
            except KeyboardInterrupt as again:  # a second Ctrl-C: stop waiting for them
                stop = again
                for future, rows in unrecorded.items():
                    if not future.cancelled():
                        run.message[rows] = "in flight when interrupted: may or may not have landed"
            if bar is not progress:
                bar.close()
            if book is not None:
                book.close()
        run.convert()
    result = run.result()
    if isinstance(stop, KeyboardInterrupt):
        raise UpdateInterrupted("update interrupted; see .result", result) from stop
    if stop is not None:
        raise UpdateStopped(_stopped(stop, result), result) from stop
    return result


def _check_arguments(
    df: object,
    client: object,
    on_invalid: object,
    problems: object,
    progress: object,
    dry_run: object,
    check_properties: object,
    tickets: object,
) -> None:
    """Refuse arguments of the wrong type or value before anything else happens."""
    if not isinstance(df, pd.DataFrame):
        raise ArgumentTypeError(f"expected a pandas DataFrame, got {type(df).__name__}")
    check_client(client)
    if on_invalid not in ("raise", "skip", "skip_cells"):
        message = f"on_invalid must be 'raise', 'skip' or 'skip_cells', not {on_invalid!r}"
        raise ConfigurationError(message)
    flags = (("dry_run", dry_run), ("check_properties", check_properties), ("tickets", tickets))
    for name, flag in flags:
        if not isinstance(flag, bool):
            raise ArgumentTypeError(f"{name} must be True or False, got {type(flag).__name__}")
    if progress is not None and not isinstance(progress, bool | Progress):
        got = type(progress).__name__
        raise ArgumentTypeError(f"progress must be True, False or None, got {got}")
    if problems is not None:
        if not isinstance(problems, ProblemList):
            got = type(problems).__name__
            raise ArgumentTypeError(f"problems must be a ProblemList or None, got {got}")
        if not problems.index.equals(df.index):
            raise ConfigurationError("problems must be a ProblemList(df.index) of this frame")


def check_client(client: object) -> None:
    """Refuse anything but a TicketsClient (a URL or a token given by mistake, say)."""
    from ._client import TicketsClient

    if not isinstance(client, TicketsClient):
        raise ArgumentTypeError(
            "client must be a TicketsClient (e.g. ht.TicketsClient(...)), "
            f"got {type(client).__name__}"
        )


def _check_only_changed(only_changed: object, undo: str | os.PathLike[str] | None) -> None:
    if not isinstance(only_changed, bool):
        got = type(only_changed).__name__
        raise ArgumentTypeError(f"only_changed must be True or False, got {got}")
    if undo is not None and not only_changed:
        raise ConfigurationError(
            "undo= needs only_changed=True: only then are the previous values read"
        )
    if undo is not None:
        check_undo_path(undo)


def _read_changes(
    run: _Run, client: TicketsClient, progress: bool | None, undo: str | os.PathLike[str] | None
) -> None:
    """Keep only the changed cells (reading the tickets); write the undo file before sending.

    Raises
    ------
    UpdateStopped, UpdateInterrupted
        The tickets could not be read, or Ctrl-C: nothing was sent.
    """
    try:
        run.only_changed(client, progress)
        if undo is not None and run.changes is not None:
            write_undo(undo, run.changes)
    except (HubSpotError, TransportError, OSError) as exc:
        result = run.result()
        what = "write the undo file" if isinstance(exc, OSError) else "read the tickets"
        message = f"update stopped before sending anything: could not {what} ({exc}); see .result"
        raise UpdateStopped(message, result) from exc
    except KeyboardInterrupt as exc:
        message = "update interrupted before sending; see .result"
        raise UpdateInterrupted(message, run.result()) from exc


def _findings(client: TicketsClient, run: _Run) -> list[Problem]:
    """What HubSpot's property definitions say it would refuse (one GET request).

    Raises
    ------
    UpdateStopped
        HubSpot cannot be reached at all, the token is refused (401) or the
        DAILY limit is spent: the run stops with nothing sent.
    DefinitionsUnavailable
        Any other failure to read the definitions (a 403 for a token without
        the scope, a server error after its retries).
    """
    try:
        definitions = client.properties()
    except (HubSpotError, TransportError) as exc:
        if _stops_run(exc):  # nothing else would succeed: stop before sending
            result = run.result()
            raise UpdateStopped(_stopped(exc, result), result) from exc
        # e.g. a token without the scope, a server error after its retries
        raise DefinitionsUnavailable(
            f"could not read HubSpot's ticket property definitions to check the values "
            f"before sending ({exc}); pass check_properties=False to send without this check"
        ) from exc
    return _checked(run, definitions)


def _checked(run: _Run, definitions: Definitions) -> list[Problem]:
    """The values, and the id property, checked against the definitions."""
    problems = check_values(run.encoded, definitions)
    return problems + _id_property_problems(run.encoded, definitions, run.id_column)


def _id_property_problems(
    encoded: EncodedFrame, definitions: Definitions, id_column: str
) -> list[Problem]:
    """The id property must be one HubSpot has, with unique values (else every batch fails)."""
    name = key_property(encoded)
    if name is None or name == "hs_object_id":
        return []
    records = (
        definitions.to_dict("records") if isinstance(definitions, pd.DataFrame) else definitions
    )
    found = [d for d in records if d.get("name") == name]
    if not found:
        why = f"HubSpot has no ticket property named {name!r} (id_property)"
    elif found[0].get("hasUniqueValue") is False:
        why = f"{name!r} (id_property) does not have unique values: HubSpot cannot find by it"
    else:
        return []
    return [Problem(None, id_column, "INVALID_ID_PROPERTY", why)]


def id_column_of(df: pd.DataFrame, id_column: str | None, id_property: str | None) -> str:
    """The id column: as named, else the one named after ``id_property`` (never another), else
    the usual rule."""
    if id_column is None and id_property is not None:
        return id_property
    return find_id_column(df, id_column)


def _stopped(stop: BaseException, result: UpdateResult) -> str:
    """The message of an UpdateStopped: why, and what it means for the rows left."""
    if isinstance(stop, UnreachableError):
        left = int((result.report["status"] == "not_sent").sum())
        return (
            f"update stopped: {stop}; nothing was sent for the {left:,} rows left not_sent, "
            "so running it again is safe; see .result"
        )
    return f"update stopped early: {stop}; see .result"


class _CtrlC:
    """Ctrl-C stops a run between two recorded batches, never half-way through recording one.

    While :meth:`installed` (main thread only, and only over Python's default
    handler), SIGINT raises ``KeyboardInterrupt`` at once, except inside
    :meth:`deferred`, where it is held until the block ends: a batch is then
    both in the report and in the journal, or in neither.
    """

    def __init__(self) -> None:
        self._holding = False
        self._pending = False

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        if self._holding:
            self._pending = True
        else:
            raise KeyboardInterrupt

    @contextmanager
    def installed(self) -> Iterator[None]:
        own = (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        )
        if own:
            signal.signal(signal.SIGINT, self._handler)
        try:
            yield
        finally:
            if own:
                signal.signal(signal.SIGINT, signal.default_int_handler)

    @contextmanager
    def deferred(self) -> Iterator[None]:
        self._holding = True
        try:
            yield
        finally:
            self._holding = False
        if self._pending:
            self._pending = False
            raise KeyboardInterrupt


def _finish(
    run: _Run, result: _BatchResult, book: Journal | None, run_id: str, bar: Progress
) -> BaseException | None:
    """Record a finished batch (and journal it); return why the run must stop, if it must."""
    run.record(result)
    bar.update(sum(len(o.rows) for o in result.outcomes))
    if book is not None and result.outcomes:
        try:
            book.append(_journal_rows(run, result, run_id))
        except OSError as exc:  # a full disk: the journal's promise is broken, stop
            return result.stop or exc
    return result.stop
