"""Wide rows to HubSpot batch-update bodies (pure: validation and encoding, no network).

A wide frame holds a ticket id and one column per ticket property.
:func:`encode_frame` validates the whole frame, collecting every problem into
one :class:`~pandas_hubtickets.errors.PayloadError`, and encodes it column by
column into an :class:`EncodedFrame`. From that, request bodies are built
either as Python objects (:meth:`EncodedFrame.records`) or directly as compact
JSON text (:meth:`EncodedFrame.fragments`, for the rows asked for), vectorised
with pyarrow.

The two API flavours differ only in the shape of a body; that difference
lives in the :class:`Flavor` classes below and nowhere else.
"""

from __future__ import annotations

import difflib
import gc
import json
from collections.abc import Hashable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property, lru_cache
from itertools import pairwise, repeat
from json.encoder import encode_basestring
from typing import Any, ClassVar, Literal, NamedTuple, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ._api import Api, endpoints
from ._columns import ID_COLUMNS
from ._encode import encode_coded, is_missing, offsets_and_data
from ._ids import ticket_id
from .errors import PROBLEM_COLUMNS, ArgumentTypeError, ConfigurationError, PayloadError

__all__ = [
    "MAX_BATCH",
    "EncodedFrame",
    "Problem",
    "ProblemList",
    "check_batch_size",
    "encode_frame",
]

MAX_BATCH = 100
NaMode = Literal["skip", "clear", "error"]
_NA_MODES = ("skip", "clear", "error")


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


class Flavor:
    """How one API version shapes a batch-update body."""

    name: ClassVar[str]
    #: JSON text opening a row before its ``objectWriteTraceId`` (None: the API has none).
    trace_prefix: ClassVar[str | None] = None

    def records(
        self, ids: list[Any], properties: list[Any], positions: np.ndarray
    ) -> list[dict[str, Any]]:
        """One body object per row from its id, its :meth:`properties` and its position.

        ``ids`` are the rows' ids (ticket ids, or ``id_property`` values),
        ``positions`` their positions in the frame (int64).
        """
        raise NotImplementedError

    def properties(self, names: Sequence[str], columns: list[list[Any]], gaps: bool) -> list[Any]:
        """Each row's properties from its cells (:meth:`cells`), column by column.

        With ``gaps``, a cell ``None`` (or a form's copy that is false) is a
        property left out; without, every cell is sent. Every row has at
        least one property.
        """
        raise NotImplementedError

    def cells(self, name: str, values: list[str | None]) -> list[Any]:
        """Property ``name``'s cells from its values (``None``: left out), one per row."""
        return values

    def forms(self, name: str, distinct: np.ndarray) -> np.ndarray:
        """Property ``name``'s cell per distinct value (the last one ``None``: left out)."""
        return distinct

    def copies(self, forms: np.ndarray, codes: np.ndarray) -> list[Any]:
        """The cells ``forms[codes]``, each row's its own object where a cell is mutable."""
        return cast(list[Any], forms[codes].tolist())

    def untraced(self, text: str) -> str:
        """A row's JSON text without its ``objectWriteTraceId`` (what the journal fingerprints)."""
        return text

    def property_affixes(self, name: str) -> tuple[str, str]:
        """JSON text before and after a property's quoted value."""
        raise NotImplementedError

    def row_affixes(self) -> tuple[str, str, str]:
        """JSON text before the id, between the id and the properties, and after them."""
        raise NotImplementedError

    def wrap(self, records: list[dict[str, Any]]) -> Any:
        raise NotImplementedError

    def wrap_affixes(self) -> tuple[str, str]:
        """JSON text before and after the comma-separated rows of a body."""
        raise NotImplementedError

    def wrap_text(self, rows: str) -> str:
        before, after = self.wrap_affixes()
        return before + rows + after


class V1(Flavor):
    """CRM Objects v1: ``[{"objectId": 1, "properties": [{"name", "value"}]}]``."""

    name = "v1"

    def records(
        self, ids: list[Any], properties: list[Any], positions: np.ndarray
    ) -> list[dict[str, Any]]:
        return [{"objectId": i, "properties": row} for i, row in zip(ids, properties, strict=True)]

    def properties(self, names: Sequence[str], columns: list[list[Any]], gaps: bool) -> list[Any]:
        # a property is a non-empty dict, always true: filter(None, ...) drops the gaps in C
        if gaps:
            return [list(filter(None, row)) for row in zip(*columns, strict=True)]
        return list(map(list, zip(*columns, strict=True)))  # each list its exact size

    def cells(self, name: str, values: list[str | None]) -> list[Any]:
        return [None if v is None else {"name": name, "value": v} for v in values]

    def forms(self, name: str, distinct: np.ndarray) -> np.ndarray:
        # a left-out cell's form is an empty dict: false, as a property never is
        cells = [{} if v is None else {"name": name, "value": v} for v in distinct.tolist()]
        forms = np.empty(len(cells), dtype=object)
        forms[:] = cells
        return forms

    def copies(self, forms: np.ndarray, codes: np.ndarray) -> list[Any]:
        return list(map(dict.copy, forms[codes].tolist()))

    def property_affixes(self, name: str) -> tuple[str, str]:
        return '{"name":' + _dumps(name) + ',"value":', "}"

    def row_affixes(self) -> tuple[str, str, str]:
        return '{"objectId":', ',"properties":[', "]}"

    def wrap(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return records

    def wrap_affixes(self) -> tuple[str, str]:
        return "[", "]"


class DateVersioned(Flavor):
    """The date-versioned API (2026-03) and v3.

    ``{"inputs": [{"objectWriteTraceId": "0", "id": "1", "properties": {...}}]}``:
    the trace id is the row's position in the frame, which HubSpot's answer
    repeats on each result. With ``id_property`` each input also names the
    property whose value ``id`` is (``"idProperty"``).
    """

    name = "2026-03"
    trace_prefix = '{"objectWriteTraceId":"'

    def __init__(self, id_property: str | None = None) -> None:
        self.id_property = id_property

    def records(
        self, ids: list[Any], properties: list[Any], positions: np.ndarray
    ) -> list[dict[str, Any]]:
        named = {} if self.id_property is None else {"idProperty": self.id_property}
        return [
            {"objectWriteTraceId": pos, **named, "id": i, "properties": row}
            for pos, i, row in zip(
                map(str, positions.tolist()), map(str, ids), properties, strict=True
            )
        ]

    def properties(self, names: Sequence[str], columns: list[list[Any]], gaps: bool) -> list[Any]:
        if gaps:
            return [
                {n: v for n, v in zip(names, row, strict=True) if v is not None}
                for row in zip(*columns, strict=True)
            ]
        return list(map(dict, map(zip, repeat(names), zip(*columns, strict=True))))

    def untraced(self, text: str) -> str:
        return "{" + text.split(",", 1)[1]  # the trace id is digits: the first comma ends it

    def property_affixes(self, name: str) -> tuple[str, str]:
        return _dumps(name) + ":", ""

    def row_affixes(self) -> tuple[str, str, str]:
        named = "" if self.id_property is None else '"idProperty":' + _dumps(self.id_property) + ","
        return '",' + named + '"id":"', '","properties":{', "}}"

    def wrap(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        return {"inputs": records}

    def wrap_affixes(self) -> tuple[str, str]:
        return '{"inputs":[', "]}"


def _flavor(api: str, id_property: str | None = None) -> Flavor:
    """The body shape of ``api``: v3 shares the date-versioned API's.

    Raises
    ------
    ConfigurationError
        ``id_property`` with v1, which updates by ticket id only.
    """
    if not endpoints(api).versioned:
        if id_property is not None:
            raise ConfigurationError(
                f"id_property={id_property!r} needs api='2026-03' or 'v3': "
                "v1 updates tickets by their HubSpot id only"
            )
        return V1()
    return DateVersioned(id_property)


def check_batch_size(batch_size: object) -> int:
    """Return ``batch_size`` if it is a whole number from 1 to 100 (HubSpot's limit), else raise.

    Raises
    ------
    ArgumentTypeError
        When it is not an int (a float, a bool or a string is refused).
    ConfigurationError
        When it is out of range.

    Examples
    --------
    >>> check_batch_size(50)
    50
    >>> check_batch_size(0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pandas_hubtickets.errors.ConfigurationError: batch_size must be ... from 1 to 100, not 0
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer):
        got = type(batch_size).__name__
        message = f"batch_size must be an int from 1 to {MAX_BATCH}, got {got} {batch_size!r}"
        raise ArgumentTypeError(message)
    if not 1 <= batch_size <= MAX_BATCH:
        message = f"batch_size must be a whole number from 1 to {MAX_BATCH}, not {batch_size!r}"
        raise ConfigurationError(message)
    return int(batch_size)


@dataclass(frozen=True)
class EncodedFrame:
    """A validated wide frame, encoded column by column.

    Attributes
    ----------
    index : pandas.Index
        The frame's row labels, in order.
    object_ids : numpy.ndarray
        The ticket ids (int64), one per row (0 where not known: a bad id, or
        rows identified by ``keys``).
    names : tuple of str
        The property names, in column order.
    values : tuple of pyarrow.StringArray
        One array per property: the string to send, or null to leave the
        property untouched (``na`` has already been applied).
    flavor : Flavor
        The API body shape.
    keys : pyarrow.StringArray or None
        With ``id_property``: each row's value of that property (null where
        invalid), sent as the ``id`` instead of the ticket id.
    coded : tuple of (_Coded or None)
        Per property (or empty), its few possible texts and each row's code,
        for a categorical or bool column; used only with the very array of
        ``values`` it describes (a frame made with other ``values`` by
        :func:`dataclasses.replace` does not reuse it).
    """

    index: pd.Index
    object_ids: np.ndarray
    names: tuple[str, ...]
    values: tuple[pa.StringArray, ...]
    flavor: Flavor
    keys: pa.StringArray | None = None
    coded: tuple[_Coded | None, ...] = ()

    @cached_property
    def id_values(self) -> np.ndarray:
        """What identifies each row's ticket (report, journal): its id, or its ``keys`` text."""
        if self.keys is None:
            return self.object_ids
        return np.asarray(self.keys.to_numpy(zero_copy_only=False), dtype=object)

    def __len__(self) -> int:
        return len(self.object_ids)

    @cached_property
    def sendable(self) -> np.ndarray:
        """Boolean mask of the rows with at least one property to send."""
        mask = np.zeros(len(self), dtype=bool)
        for present in self._present:
            mask |= present
        return mask

    @cached_property
    def _present(self) -> tuple[np.ndarray, ...]:
        """Per property, the boolean mask of the rows that send it."""
        return tuple(arr.is_valid().to_numpy(zero_copy_only=False) for arr in self.values)

    @cached_property
    def _json_values(self) -> tuple[tuple[pa.StringArray, ...], ...]:
        """Per property, arrays whose texts end to end are its escaped values (:func:`_escaped`)."""
        return tuple(_escaped(arr) for arr in self.values)

    @cached_property
    def _json_keys(self) -> tuple[pa.StringArray, ...]:
        """The ``keys`` as :attr:`_json_values` holds the values (none without ``keys``)."""
        return () if self.keys is None else _escaped(self.keys)

    @cached_property
    def _json_struct(self) -> pa.StructArray:
        """The arrays of :attr:`_json_keys` and :attr:`_json_values` in a struct (one take)."""
        arrays = [*self._json_keys, *(a for texts in self._json_values for a in texts)]
        return pa.StructArray.from_arrays(arrays, names=[str(i) for i in range(len(arrays))])

    @cached_property
    def _coded(self) -> tuple[_Coded | None, ...]:
        """:attr:`coded` per property, where it describes that property's values (else None)."""
        coded = self.coded or (None,) * len(self.values)
        return tuple(
            None if c is None or c.values is not arr else c
            for c, arr in zip(coded, self.values, strict=True)
        )

    @cached_property
    def _full(self) -> tuple[bool, ...]:
        """Per property, whether every row sends it (then no mask is needed for it)."""
        return tuple(not arr.null_count for arr in self.values)

    @cached_property
    def _layout(self) -> _Layout:
        """The texts around the values, the same on every row, and their size in bytes."""
        lead = self.flavor.trace_prefix
        head, middle, tail = self.flavor.row_affixes()
        affixes = [self.flavor.property_affixes(name) for name in self.names]
        fixed = _utf8_len((lead or "") + head + middle + tail)
        fixed += 2 * _ID_DIGITS  # the id (or key) and the trace id
        fixed += sum(_utf8_len("," + before + '"' + '"' + after) for before, after in affixes)
        quoted = tuple((before + '"', '"' + after) for before, after in affixes)
        return _Layout(lead, head, middle, tail, quoted, fixed)

    @cached_property
    def _widest(self) -> int:
        """A bound of a row's bytes (a subset of rows this many times fits one chunk)."""
        texts = [*self._json_keys, *(a for texts in self._json_values for a in texts)]
        longest = (int(np.diff(offsets_and_data(a)[0]).max(initial=0)) for a in texts)
        return self._layout.fixed + sum(longest)

    @staticmethod
    def _rows(positions: Sequence[int] | np.ndarray | None) -> np.ndarray | None:
        """``positions`` as int64 row positions (``None`` stays ``None``: every row)."""
        return None if positions is None else np.asarray(positions, dtype=np.int64)

    def records(self, positions: Sequence[int] | np.ndarray | None = None) -> list[dict[str, Any]]:
        """Body objects for the rows at ``positions`` (default: every sendable row).

        Rows with nothing to send are left out. Python's cyclic garbage collector
        is paused while the many small containers are built (it would walk them
        all again and again), and left as it was found. They are built 16,384
        rows at a time (:meth:`_block_records`), into a list of the exact size.

        Examples
        --------
        >>> frame = pd.DataFrame({"objectId": [7, 8], "subject": ["a", None]})
        >>> encode_frame(frame).records([1, 0])
        [{'objectId': 7, 'properties': [{'name': 'subject', 'value': 'a'}]}]
        """
        with _collector_paused():
            if positions is None:
                rows = np.flatnonzero(self.sendable)
            else:
                given = np.asarray(positions, dtype=np.int64)
                rows = given[self.sendable[given]]
            records: list[Any] = [None] * len(rows)  # the list's exact size
            blocks = self._record_blocks(rows, _BATCHED_ROWS)
            for start, built in zip(range(0, len(rows), _BATCHED_ROWS), blocks, strict=True):
                records[start : start + len(built)] = built
            return records

    def record_batches(self, batch_size: int) -> Iterator[list[dict[str, Any]]]:
        """The :meth:`records` of each of :meth:`batches`, in order.

        The batches of about 16,384 rows are built at a time with the collector
        paused (as :meth:`records` does), then handed over one by one with the
        collector as the caller had it: it then runs about once per 16,384 rows
        rather than once per batch, and the values are taken from Arrow once
        per 16,384 rows too.

        Examples
        --------
        >>> frame = pd.DataFrame({"objectId": [7, 8, 9], "subject": ["a", None, "c"]})
        >>> [[r["objectId"] for r in batch] for batch in encode_frame(frame).record_batches(1)]
        [[7], [9]]
        """
        rows = np.flatnonzero(self.sendable)
        for built in self._record_blocks(rows, batch_size * max(1, _BATCHED_ROWS // batch_size)):
            yield from [
                built[start : start + batch_size] for start in range(0, len(built), batch_size)
            ]

    def _record_blocks(self, rows: np.ndarray, size: int) -> Iterator[list[dict[str, Any]]]:
        """The body objects of the sendable rows at ``rows``, ``size`` rows at a time.

        Each block is built with the collector paused, so that its cells' lists
        stay small and their memory is reused from one block to the next.
        """
        with _collector_paused():
            forms = self._forms(len(rows))
        for start in range(0, len(rows), size):
            with _collector_paused():
                built = self._block_records(rows[start : start + size], forms)
            yield built

    def _block_records(
        self, rows: np.ndarray, forms: list[np.ndarray | None]
    ) -> list[dict[str, Any]]:
        """The body objects of the sendable rows at ``rows``, in order.

        Where some rows leave properties out, the rows that send the same
        properties are built together (:func:`_patterns`), each from full
        columns, then put back in order: filtering every row's cells one by
        one cost three times as much.
        """
        at = _at(rows)
        present = [valid[at] for valid in self._present]
        gaps = not all(valid.all() for valid in present)
        patterns = _patterns(present) if gaps else None
        if patterns is not None:
            order, groups = patterns
            rows = rows[order]
            at = rows
        ids, columns = self._cells(rows, at, forms)
        flavor, names = self.flavor, self.names
        if patterns is None:
            properties = flavor.properties(names, columns, gaps)
        else:
            properties = []
            for start, stop, sent in groups:
                cells = [columns[j][start:stop] for j in sent]
                properties += flavor.properties([names[j] for j in sent], cells, False)
        built = flavor.records(ids, properties, rows)
        if patterns is None:
            return built
        back = np.empty_like(order)
        back[order] = np.arange(len(order))
        return list(map(built.__getitem__, back.tolist()))

    def _forms(self, rows: int) -> list[np.ndarray | None]:
        """Per property, its cells' :meth:`Flavor.forms` where its values repeat (else None).

        Only where the property has at most ``rows`` distinct values (forms
        are made for every distinct value, however few rows are built) and at
        most :data:`_FORMS`: a copy reads its form, and many forms no longer
        stay in the processor's cache (10 columns of 5,000 values each: copies
        cost twice as much as new dicts).
        """
        return [
            None
            if shared is None or len(shared[0]) > min(rows, _FORMS)
            else self.flavor.forms(name, shared[0])
            for name, shared in zip(self.names, self._shared, strict=True)
        ]

    def _cells(
        self, rows: np.ndarray, at: slice | np.ndarray, forms: list[np.ndarray | None]
    ) -> tuple[list[Any], list[list[Any]]]:
        """The ids and the cells (:meth:`Flavor.cells`, column by column) of the rows at
        ``rows`` (``at``: the same rows, as a slice where they are consecutive)."""
        flavor = self.flavor
        columns = []
        for name, arr, shared, form in zip(
            self.names, self.values, self._shared, forms, strict=True
        ):
            if shared is None:
                part = arr.take(rows) if isinstance(at, np.ndarray) else arr[at]
                columns.append(flavor.cells(name, part.to_pylist()))
            elif form is not None:
                columns.append(flavor.copies(form, shared[1][at]))
            else:
                distinct, codes = shared
                columns.append(flavor.cells(name, distinct[codes[at]].tolist()))
        return self.id_values[at].tolist(), columns

    @cached_property
    def _shared(self) -> tuple[tuple[np.ndarray, np.ndarray] | None, ...]:
        """Per property, :func:`_distinct_and_codes` of its values (of a coded one: its codes)."""
        return tuple(
            _distinct_and_codes(arr) if coded is None else coded.shared()
            for arr, coded in zip(self.values, self._coded, strict=True)
        )

    def fragments(self, positions: Sequence[int] | np.ndarray | None = None) -> pa.StringArray:
        """Each row's body object as compact JSON text (null where nothing is sent).

        Only the rows at ``positions`` (default: every row) are encoded, so a
        run builds one batch's text at a time. Safe to call from several threads.

        Examples
        --------
        >>> frame = pd.DataFrame({"objectId": [7, 8], "subject": ["a", None]})
        >>> encode_frame(frame).fragments().to_pylist()
        ['{"objectId":7,"properties":[{"name":"subject","value":"a"}]}', None]
        >>> encode_frame(frame).fragments([0]).to_pylist()
        ['{"objectId":7,"properties":[{"name":"subject","value":"a"}]}']
        """
        rows = self._rows(positions)
        sendable = self.sendable if rows is None else self.sendable[rows]
        chunks = [
            _with_validity(texts, sendable[start : start + len(texts)])
            for start, texts in self._texts(rows, "", "", "")
        ]
        if not chunks:  # no row to send
            return pa.nulls(len(sendable), pa.string())
        return chunks[0] if len(chunks) == 1 else pa.concat_arrays(chunks)

    def body_text(self, positions: Sequence[int] | np.ndarray | None = None) -> str:
        """The compact JSON body for the rows at ``positions`` (default: every sendable row).

        Written by one join of every row's pieces into one Arrow buffer (a few
        buffers for a very large frame), decoded once: no Python string per row.

        Examples
        --------
        >>> frame = pd.DataFrame({"objectId": [7, 8], "subject": ["a", None]})
        >>> encode_frame(frame).body_text()
        '[{"objectId":7,"properties":[{"name":"subject","value":"a"}]}]'
        >>> encode_frame(frame, api="2026-03").body_text([1])
        '{"inputs":[]}'
        """
        opening, closing = self.flavor.wrap_affixes()
        parts = [
            _decoded(texts)
            for _, texts in self._texts(self._rows(positions), opening, ",", closing)
        ]
        if not parts:  # no row to send
            return opening + closing
        return parts[0] if len(parts) == 1 else "".join(parts)

    def wrap_fragments(self, fragments: Sequence[str]) -> str:
        """The compact JSON body holding these rows' :meth:`fragments`."""
        return self.flavor.wrap_text(",".join(fragments))

    def batches(self, batch_size: int) -> Iterator[np.ndarray]:
        """Positions of the sendable rows, in chunks of at most ``batch_size``."""
        rows = np.flatnonzero(self.sendable)
        for start in range(0, len(rows), batch_size):
            yield rows[start : start + batch_size]

    def _texts(
        self, rows: np.ndarray | None, opening: str, separator: str, closing: str
    ) -> Iterator[tuple[int, pa.StringArray]]:
        """The JSON text of the rows at ``rows`` (default: every row), in chunks.

        Yields ``(first row, texts)`` per chunk of consecutive rows, whose
        texts stay within one Arrow string array's 2 GiB. A row with nothing
        to send is ``""``; every other row's text is followed by ``separator``,
        except the last one, followed by ``closing``; ``opening`` precedes the
        first one. So the rows' texts, end to end, are the whole body.

        Each row is joined in one pass from pieces: the escaped values, and
        between two values one piece of glue, the constant texts there that
        the row has (per property a comma where a property came before it in
        the row, the texts before and after its value, where the cell is
        present). Glue that is the same on every row is a plain string; other
        glue is taken by code from its few possible texts (:func:`_glue`).
        A categorical or bool value is one of few texts too: it joins the glue
        around it, taken by its code with the glue's (one piece, not three).
        """
        keys, full, layout = self._json_keys, self._full, self._layout
        codes = [
            None if c is None else c.codes if rows is None else c.codes[rows] for c in self._coded
        ]
        if rows is None:
            values, ids, sendable = self._json_values, self.object_ids, self.sendable
            positions = np.arange(len(self), dtype=np.int64)
            present: Sequence[np.ndarray | None] = self._present
        else:
            ids, sendable, positions = self.object_ids[rows], self.sendable[rows], rows
            if not sendable.any():
                return
            taken = iter(self._json_struct.take(pa.array(rows, pa.int64())).flatten())
            keys = tuple(next(taken) for _ in keys)
            values = tuple(tuple(next(taken) for _ in texts) for texts in self._json_values)
            present = [None if f else p[rows] for f, p in zip(full, self._present, strict=True)]
        sent = np.flatnonzero(sendable)
        if not len(sent):
            return
        every = len(sent) == len(sendable)  # every row sends something: no mask needed
        extra = _utf8_len(opening + separator + closing)
        if rows is not None and len(rows) * (self._widest + extra) <= _CHUNK_BYTES:
            bounds = [(0, len(rows))]
        else:
            sized = [*keys, *(a for texts in values for a in texts)]
            bounds = _chunk_bounds(sized, layout.fixed + extra, len(ids))
        for start, stop in bounds:
            chunk, n = slice(start, stop), stop - start
            mask = None if every else sendable[chunk]
            # the constant texts between two values, each where its mask is true (None: every row)
            glue: list[tuple[str, np.ndarray | None] | _Choice] = []
            if opening:
                glue.append((opening, _only(sent[0] - start, n)))
            pieces: list[pa.Array | str] = []
            if layout.lead is not None:
                glue.append((layout.lead, mask))
                pieces += [_glue(glue), _digits(positions[chunk], mask)]
                glue = []
            glue.append((layout.head, mask))
            pieces.append(_glue(glue))
            if self.keys is None:
                pieces.append(_digits(ids[chunk], mask))
            else:
                for arr in keys:
                    part = arr.slice(start, stop - start)
                    sent_part = part if mask is None else _with_validity(part, mask & _valid(part))
                    pieces.append(sent_part)
            glue = [(layout.middle, mask)]
            seen: np.ndarray | None = None  # the rows where a property came before (None: all)
            for j, (texts, valid, (before, after), coded, code) in enumerate(
                zip(values, present, layout.affixes, self._coded, codes, strict=True)
            ):
                valid = None if valid is None else valid[chunk]
                if coded is not None and _table_size(glue) * len(coded.texts) > _GLUE_CODES:
                    pieces.append(_glue(glue))
                    glue = []
                if j:  # a comma where a property came before this one
                    glue.append((",", _both(seen, valid)))
                glue.append((before, valid))
                if coded is None or code is None:
                    pieces.append(_glue(glue))
                    pieces.extend(arr.slice(start, stop - start) for arr in texts)
                    glue = []
                else:
                    glue.append(_Choice(coded.texts, code[chunk]))
                glue.append((after, valid))
                seen = valid if not j else None if seen is None or valid is None else seen | valid
            glue.append((layout.tail, mask))
            if separator or closing:
                last = _only(sent[-1] - start, n)
                glue += [(separator, ~last if mask is None else mask & ~last), (closing, last)]
            pieces.append(_glue(glue))
            yield start, _join(pieces)


class _Coded(NamedTuple):
    """A property's values as codes into few texts (:attr:`EncodedFrame.coded`)."""

    #: The array of :attr:`EncodedFrame.values` these codes describe.
    values: pa.StringArray
    #: Per code, the value's text between its quotes (escaped); ``""`` for a null.
    texts: tuple[str, ...]
    #: Per row, its code.
    codes: np.ndarray
    #: Per code, the value's text as it is (past them: a missing cell's code).
    plain: tuple[str, ...]

    def shared(self) -> tuple[np.ndarray, np.ndarray]:
        """:func:`_distinct_and_codes` of :attr:`values`, read off the codes (nothing hashed)."""
        # a missing cell is null, or "" after na="clear" (the only way a coded column has none)
        missing = None if self.values.null_count else ""
        return np.array([*self.plain, missing], dtype=object), self.codes


def _coded(values: pa.StringArray, texts: tuple[str, ...], codes: np.ndarray) -> _Coded:
    """The values ``texts[codes]`` (code -1: null, or ``""`` after ``na='clear'``) as a _Coded."""
    forms = _escaped_texts(texts)
    missing = codes < 0
    if missing.any():
        return _Coded(values, (*forms, ""), np.where(missing, len(forms), codes), texts)
    return _Coded(values, forms, codes, texts)


@lru_cache(maxsize=256)
def _escaped_texts(texts: tuple[str, ...]) -> tuple[str, ...]:
    """Each text as it is written between a JSON string's quotes (the same few recur: cached)."""
    return tuple(encode_basestring(text)[1:-1] for text in texts)


class _Choice(NamedTuple):
    """One of few texts per row: ``texts[codes[i]]`` on row ``i``."""

    texts: tuple[str, ...]
    codes: np.ndarray


class _Layout(NamedTuple):
    """The JSON texts of a body's rows that do not depend on the values."""

    #: Before the trace id (``None``: the API has none).
    lead: str | None
    #: Before the id, between the id and the properties, after them.
    head: str
    middle: str
    tail: str
    #: Per property, the text before its value and after it.
    affixes: tuple[tuple[str, str], ...]
    #: A row's bytes besides its values (at most).
    fixed: int


#: At most this many texts in one piece of glue with choices (:func:`_glue`).
_GLUE_CODES = 256
#: The longest decimal text of an int64 (a sign and 19 digits).
_ID_DIGITS = 20
#: At most this many bytes of JSON text in one Arrow string array (int32 offsets: < 2 GiB).
_CHUNK_BYTES = 1 << 30


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector; afterwards, leave it as it was found."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


#: Rows whose Python bodies :meth:`EncodedFrame.record_batches` builds at a time.
_BATCHED_ROWS = 1 << 14
#: At most this many distinct values of a property are made forms (:meth:`EncodedFrame._forms`).
_FORMS = 1 << 10
#: Cells sampled to tell whether a column's values repeat (:func:`_distinct_and_codes`).
_SAMPLE_CELLS = 1 << 16


def _distinct_and_codes(arr: pa.StringArray) -> tuple[np.ndarray, np.ndarray] | None:
    """A column's distinct values as Python strings, then ``None``, and each cell's position
    among them (a null cell's: the last), where its values repeat; else ``None``.

    Decoding UTF-8 into a new Python string per cell was a third of the cost
    of Python bodies. Where a sample of evenly spaced cells (every eighth, at
    most 65,536) holds at most one distinct value for every four cells, as in
    a column of a few hundred values on many rows, each distinct value is
    decoded once and its cells share that string (strings are immutable);
    a column of free text is left to be decoded cell by cell.

    Examples
    --------
    >>> distinct, codes = _distinct_and_codes(pa.array(["a", None, "é"] * 30))
    >>> distinct[codes].tolist() == ["a", None, "é"] * 30
    True
    >>> _distinct_and_codes(pa.array([f"note {i}" for i in range(90)])) is None
    True
    """
    sample = arr.take(np.arange(0, len(arr), max(8, len(arr) // _SAMPLE_CELLS)))
    sent = len(sample) - sample.null_count
    # unique's values (a null among them) cost half of count_distinct's count
    if 4 * (len(pc.unique(sample)) - (sent < len(sample))) > sent:
        return None
    encoded = arr.dictionary_encode()
    distinct = np.array([*encoded.dictionary.to_pylist(), None], dtype=object)
    return distinct, encoded.indices.fill_null(len(distinct) - 1).to_numpy()


def _at(rows: np.ndarray) -> slice | np.ndarray:
    """``rows`` as a slice where they are consecutive (a view, no copy), else as they are."""
    if len(rows) and rows[-1] - rows[0] == len(rows) - 1:
        return slice(int(rows[0]), int(rows[-1]) + 1)
    return rows


#: Rows with different sets of properties are grouped (:func:`_patterns`) when there are
#: at most one such set per this many rows.
_PATTERN_ROWS = 16


def _patterns(
    present: Sequence[np.ndarray],
) -> tuple[np.ndarray, list[tuple[int, int, list[int]]]] | None:
    """The rows ordered so that those sending the same properties are consecutive.

    ``present`` holds, per property, the rows that send it. Returns the order
    (stable) and, per run of rows in that order, its bounds and the properties
    it sends; ``None`` where there are many different sets of properties (more
    than one per :data:`_PATTERN_ROWS` rows) or more than 63 properties with gaps.

    Examples
    --------
    >>> first = np.arange(40) % 4 != 1  # every fourth row leaves the first property out
    >>> order, groups = _patterns([first, np.ones(40, dtype=bool)])
    >>> order[:3].tolist(), groups
    ([1, 5, 9], [(0, 10, [1]), (10, 40, [0, 1])])
    >>> _patterns([np.arange(4) % 2 == 0, np.ones(4, dtype=bool)]) is None  # 2 sets in 4 rows
    True
    """
    n = len(present[0])
    gappy = [j for j, valid in enumerate(present) if not valid.all()]
    if len(gappy) > 63:
        return None
    code = np.zeros(n, dtype=np.uint64)
    for bit, j in enumerate(gappy):
        code |= present[j].astype(np.uint64) << np.uint64(bit)
    order = np.argsort(code, kind="stable")
    ranked = code[order]
    starts = np.flatnonzero(ranked[1:] != ranked[:-1]) + 1
    if len(starts) * _PATTERN_ROWS >= n:
        return None
    bounds = [0, *starts.tolist(), n]
    groups = []
    for start, stop in pairwise(bounds):
        sent = int(ranked[start])
        gaps = {j for bit, j in enumerate(gappy) if not sent >> bit & 1}
        groups.append((start, stop, [j for j in range(len(present)) if j not in gaps]))
    return order, groups


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def _chunk_bounds(values: Sequence[pa.StringArray], fixed: int, n: int) -> list[tuple[int, int]]:
    """Row ranges whose JSON text (at most ``fixed`` bytes a row plus its values) fits a chunk."""
    sizes = [int(o[-1] - o[0]) for o, _ in map(offsets_and_data, values)]
    if sum(sizes) + fixed * n <= _CHUNK_BYTES:
        return [(0, n)]
    row_bytes = np.full(n, fixed, dtype=np.int64)
    for arr in values:
        row_bytes += np.diff(offsets_and_data(arr)[0])
    ends = np.cumsum(row_bytes)
    bounds, start = [], 0
    while start < n:
        done = ends[start - 1] if start else 0
        stop = max(int(np.searchsorted(ends, done + _CHUNK_BYTES, side="right")), start + 1)
        bounds.append((start, stop))
        start = stop
    return bounds


def _digits(ints: np.ndarray, mask: np.ndarray | None) -> pa.StringArray:
    """The integers' decimal texts, null where ``mask`` is false (``None``: nowhere)."""
    return pa.array(ints, mask=None if mask is None else ~mask).cast(pa.string())


def _both(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    """Where both masks are true (``None``: every row)."""
    return b if a is None else a if b is None else a & b


def _only(row: int, n: int) -> np.ndarray:
    """Boolean mask of ``n`` rows, true at ``row`` only (nowhere when it is out of range)."""
    mask = np.zeros(n, dtype=bool)
    if 0 <= row < n:
        mask[row] = True
    return mask


def _table_size(parts: Sequence[tuple[str, np.ndarray | None] | _Choice]) -> int:
    """At most how many texts :func:`_glue` builds for ``parts``."""
    masks = {id(part[1]) for part in parts if not isinstance(part, _Choice) and part[1] is not None}
    size = 1 << len(masks)
    for part in parts:
        if isinstance(part, _Choice):
            size *= len(part.texts)
    return size


def _glue(parts: Sequence[tuple[str, np.ndarray | None] | _Choice]) -> pa.StringArray | str:
    """Per row, ``parts`` end to end: texts where their mask is true (``None``: always), choices.

    A plain string when that is the same on every row. Otherwise each row's
    combination of masks and choices is a code, the text of every code is
    built once, and the rows' texts are taken by code: one array, however many
    parts (the parts between two values have at most four masks: 16 codes;
    :meth:`EncodedFrame._texts` keeps choices to about :data:`_GLUE_CODES` codes).
    """
    texts: list[str | _Choice] = []
    masks: list[np.ndarray] = []  # the masks true on some rows but not all, once each
    bits: list[int | None] = []
    for part in parts:
        if isinstance(part, _Choice):
            bits.append(None)
            texts.append(part)
            continue
        text, mask = part
        if not text or (mask is not None and not mask.any()):
            continue
        if mask is None or mask.all():
            bits.append(None)
        else:
            known = [i for i, m in enumerate(masks) if m is mask]
            bits.append(known[0] if known else len(masks))
            if not known:
                masks.append(mask)
        texts.append(text)
    coded = [text for text in texts if isinstance(text, _Choice)]
    if not masks and not coded:
        return "".join(cast(list[str], texts))
    # the code: the masks' bits, then each choice's code as a digit of a mixed radix
    size = 1 << len(masks)
    for choice in coded:
        size *= len(choice.texts)
    dtype = np.uint8 if size <= 256 else np.int32
    code = np.zeros(len(masks[0]) if masks else len(coded[0].codes), dtype=dtype)
    for bit, mask in enumerate(masks):
        code |= mask.view(np.uint8) << bit
    radix = 1 << len(masks)
    for choice in coded:
        code += choice.codes.astype(dtype) * dtype(radix)
        radix *= len(choice.texts)
    table = _glue_table(
        tuple(
            (text.texts if isinstance(text, _Choice) else text, bit)
            for text, bit in zip(texts, bits, strict=True)
        ),
        len(masks),
    )
    index = pa.from_numpy_dtype(dtype)
    return table.take(pa.Array.from_buffers(index, len(code), [None, pa.py_buffer(code)]))


@lru_cache(maxsize=256)
def _glue_table(
    parts: tuple[tuple[str | tuple[str, ...], int | None], ...], masks: int
) -> pa.StringArray:
    """The texts of :func:`_glue`'s codes (the same few glue tables recur: built once each).

    ``parts`` are, in order, texts with the bit of their mask (``None``: on
    every row) and choices' texts (bit ``None``).
    """
    choices = [""] * (1 << masks)  # per code so far, its text
    for text, bit in parts:
        if not isinstance(text, str):  # a choice: its code is the next digit
            choices = [c + t for t in text for c in choices]
        elif bit is None:
            choices = [c + text for c in choices]
        else:
            choices = [c + text if i >> bit & 1 else c for i, c in enumerate(choices)]
    encoded = [c.encode("utf-8") for c in choices]
    bounds = np.cumsum([0, *map(len, encoded)], dtype=np.int32)
    return pa.Array.from_buffers(
        pa.string(), len(choices), [None, pa.py_buffer(bounds), pa.py_buffer(b"".join(encoded))]
    )


def _join(pieces: list[pa.Array | str]) -> pa.StringArray:
    """Each row's pieces end to end, in one pass (a null piece counts as ``""``)."""
    merged: list[pa.Array | str] = []
    for piece in pieces:
        if isinstance(piece, str) and merged and isinstance(merged[-1], str):
            merged[-1] += piece
        elif not (isinstance(piece, str) and not piece):
            merged.append(piece)
    return pc.binary_join_element_wise(*merged, "", null_handling="replace", null_replacement="")


def _with_validity(texts: pa.StringArray, valid: np.ndarray) -> pa.StringArray:
    """The same texts (no copy), null where not ``valid``."""
    if valid.all() and not texts.null_count:
        return texts
    # the bitmap starts at the array's offset into its buffers, as the offsets do
    bits = np.concatenate([np.zeros(texts.offset, dtype=bool), valid])
    bitmap = pa.py_buffer(np.packbits(bits, bitorder="little"))
    _, offsets, data = texts.buffers()
    nulls = int(len(valid) - valid.sum())
    return pa.Array.from_buffers(
        pa.string(), len(texts), [bitmap, offsets, data], null_count=nulls, offset=texts.offset
    )


def _valid(arr: pa.Array) -> np.ndarray:
    """Boolean mask of the non-null entries."""
    return np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=bool)


def _decoded(texts: pa.StringArray) -> str:
    """All the texts end to end, decoded straight from the array's data buffer."""
    offsets, _ = offsets_and_data(texts)
    data = texts.buffers()[2]
    return str(memoryview(data)[offsets[0] : offsets[-1]], "utf-8") if data is not None else ""


def _escape_positions(text: np.ndarray) -> np.ndarray:
    """Positions of the bytes to escape (control characters, ``"`` and ``\\``).

    Compared a block at a time, so that the comparisons' temporaries stay in
    the processor's cache.
    """
    found = []
    for start in range(0, len(text), _ESCAPE_BLOCK):
        block = text[start : start + _ESCAPE_BLOCK]
        bad = (block ^ 0x02) <= 0x20  # below 0x20 or 0x22: XOR 2 maps 0x22 to 0x20, 0x20 above
        bad |= block == 0x5C
        if bad.any():
            found.append(np.flatnonzero(bad) + start)
    return np.concatenate(found) if found else np.empty(0, dtype=np.int64)


#: Bytes of text compared at a time by :func:`_escape_positions`.
_ESCAPE_BLOCK = 1 << 18


def _escaped(arr: pa.StringArray) -> tuple[pa.StringArray, ...]:
    """Each string as the text between a JSON string literal's quotes (null stays null).

    The check is a few byte comparisons over the array's data buffer. When
    nothing needs escaping (the usual case) the array is returned as it is.
    Otherwise two arrays whose texts, end to end, are the escaped strings: the
    array itself with the strings to escape made null (a new validity bitmap,
    no copy), and those strings escaped (``""`` on the other rows) by the
    standard library's own encoder of JSON strings, the one :func:`json.dumps`
    calls (in C: faster than rewriting bytes with numpy, even where every
    string needs escaping).
    """
    offsets, data = offsets_and_data(arr)
    bad = _escape_positions(data[offsets[0] : offsets[-1]])
    if not len(bad):
        return (arr,)
    at = np.searchsorted(offsets, bad + offsets[0], side="right") - 1  # each one's row, sorted
    rows = at[np.diff(at, prepend=-1) != 0]
    valid = _valid(arr) if arr.null_count else np.ones(len(arr), dtype=bool)
    rows = rows[valid[rows]]  # a null's slot may hold text (a refused key): it is not sent
    if not len(rows):
        return (arr,)
    texts = arr.take(pa.array(rows, pa.int64())).to_pylist()
    some = pa.array([encode_basestring(text)[1:-1] for text in texts], pa.string())
    if isinstance(some, pa.ChunkedArray):  # pa.array's answer to texts beyond 2 GiB
        raise OverflowError("the escaped text of one column exceeds 2 GiB")
    bounds = np.zeros(len(arr) + 1, dtype=np.int32)
    bounds[rows + 1] = np.diff(offsets_and_data(some)[0])
    np.cumsum(bounds, out=bounds)
    escaped = pa.Array.from_buffers(
        pa.string(), len(arr), [None, pa.py_buffer(bounds), some.buffers()[2]]
    )
    valid[rows] = False
    return _with_validity(arr, valid), escaped


@dataclass(frozen=True)
class Problem:
    """Cells of one column (or a whole column, or the frame) that cannot be sent as they are.

    Attributes
    ----------
    rows : numpy.ndarray or None
        Row positions, or ``None`` when the column (or the frame) itself is at fault.
    column : Hashable or None
        The column label, or ``None`` for a frame-level problem.
    code : str
        Machine-readable: ``DUPLICATE_ID``, ``INFINITE_NUMBER``, HubSpot's
        ``INVALID_OPTION``, ...
    message : str
        What is wrong, and the fix where there is one.
    values : sequence or None
        The offending values, one per row of ``rows`` (``None``: not applicable).
    """

    rows: np.ndarray | None
    column: Hashable | None
    code: str
    message: str
    values: Sequence[Any] | None = None


class ProblemList:
    """Collects :class:`Problem` s; one PayloadError lists them all.

    Parameters
    ----------
    index : pandas.Index
        The frame's row labels, to name rows by label.
    ids : pandas.Series, optional
        The ids as given, to show next to each row (set by :func:`encode_frame`).
    """

    def __init__(self, index: pd.Index, ids: pd.Series | None = None) -> None:
        self.index = index
        self.ids = ids
        self.items: list[Problem] = []

    def __len__(self) -> int:
        return len(self.items)

    def add(
        self,
        rows: np.ndarray | None,
        column: Hashable | None,
        code: str,
        message: str,
        values: Sequence[Any] | None = None,
    ) -> None:
        """Record a problem (rows as positions); an empty ``rows`` records nothing."""
        if rows is None or len(rows):
            self.items.append(Problem(rows, column, code, message, values))

    def extend(self, problems: Sequence[Problem]) -> None:
        """Record problems found elsewhere (e.g. by the property-definitions check)."""
        for p in problems:
            self.add(p.rows, p.column, p.code, p.message, p.values)

    @property
    def refuses_frame(self) -> bool:
        """True when a problem is about a whole column or the frame, not some rows."""
        return any(p.rows is None for p in self.items)

    def row_mask(self) -> np.ndarray:
        """Boolean mask of the rows with at least one problem."""
        mask = np.zeros(len(self.index), dtype=bool)
        for p in self.items:
            if p.rows is not None:
                mask[p.rows] = True
        return mask

    def frame(self) -> pd.DataFrame:
        """Every problem as a row (``PayloadError.problems``): frame-level first, then by row."""
        frames = []
        for p in self.items:
            pos = np.array([-1]) if p.rows is None else np.asarray(p.rows)
            n = len(pos)
            rows = [None] if p.rows is None else self.index[pos].tolist()
            ids = [None] * n if self.ids is None or p.rows is None else self.ids.iloc[pos]
            values = [None] * n if p.values is None else list(p.values)
            frame = {
                "row": rows,
                "objectId": list(ids),
                "column": [p.column] * n,
                "code": [p.code] * n,
                "value": values,
                "problem": [p.message] * n,
            }
            frames.append(pd.DataFrame(frame, dtype=object).assign(_pos=pos))
        if not frames:
            empty: pd.DataFrame = pd.DataFrame({c: [] for c in PROBLEM_COLUMNS}, dtype=object)
            return empty
        # frame-level problems first, then by row, keeping the column order within a row
        problems = pd.concat(frames, ignore_index=True).sort_values("_pos", kind="stable")
        ordered: pd.DataFrame = problems[PROBLEM_COLUMNS].reset_index(drop=True)
        return ordered

    def error(self) -> PayloadError | None:
        """The PayloadError listing every problem, if there is any."""
        if not self.items:
            return None
        return PayloadError(self.frame())

    def raise_if_any(self) -> None:
        error = self.error()
        if error is not None:
            raise error


def _id_series(df: pd.DataFrame, id_column: str) -> pd.Series | None:
    if id_column in df.columns:
        at = df.columns.get_loc(id_column)  # a slice or a mask where the label repeats
        return df.iloc[:, at] if isinstance(at, int | np.integer) else None
    if id_column in df.index.names:
        level: pd.Series = pd.Series(df.index.get_level_values(id_column), index=df.index)
        return level
    return None


_INT64_MAX = np.iinfo(np.int64).max


def _check_ids(raw: pd.Series, id_column: str, problems: ProblemList) -> np.ndarray:
    """Validate the ids; return them as int64 (0 where invalid)."""
    n = len(raw)
    if raw.dtype == object:  # pandas.isna raises on Decimal("sNaN")
        missing = np.fromiter(map(is_missing, raw.array), dtype=bool, count=n)
    else:
        missing = raw.isna().to_numpy()

    def add(rows: np.ndarray, code: str, message: str) -> None:
        if len(rows):
            problems.add(rows, id_column, code, message, raw.iloc[rows].tolist())

    add(np.flatnonzero(missing), "MISSING_ID", "id is missing")
    ids = np.zeros(n, dtype=np.int64)
    if pd.api.types.is_bool_dtype(raw.dtype):
        add(np.flatnonzero(~missing), "INVALID_ID", "id is a boolean, not a ticket id")
    elif pd.api.types.is_integer_dtype(raw.dtype):  # exact and vectorised
        unsigned = pd.api.types.is_unsigned_integer_dtype(raw.dtype)
        values = raw.to_numpy(dtype=np.uint64 if unsigned else np.int64, na_value=0)
        add(np.flatnonzero(~missing & (values <= 0)), "INVALID_ID", "id is not positive")
        big = values > _INT64_MAX if unsigned else np.zeros(n, dtype=bool)
        add(np.flatnonzero(big), "INVALID_ID", "id is too large for a ticket id")
        ids = np.where(big, 0, values).astype(np.int64)
    else:  # floats, or objects/strings ("176602" from a CSV read as text): one by one
        # numpy scalars keep a float32's width, which bounds the ids it holds exactly
        cells = raw.to_numpy() if isinstance(raw.dtype, np.dtype) else raw.tolist()
        reasons: dict[str, list[int]] = {}
        for i, v in enumerate(cells):
            if missing[i]:
                continue
            got = ticket_id(v)
            if isinstance(got, str):
                reasons.setdefault(got, []).append(i)
            else:
                ids[i] = got
        for reason, rows in reasons.items():
            add(np.asarray(rows), "INVALID_ID", reason)
    ids = np.where(ids > 0, ids, 0)
    if not (ids[1:] > ids[:-1]).all():  # ids in increasing order (as usual) are distinct
        dup = (ids > 0) & pd.Series(ids).duplicated(keep=False).to_numpy()
        message = "id appears in more than one row: keep one row per ticket"
        add(np.flatnonzero(dup), "DUPLICATE_ID", message)
    return ids


def _check_keys(raw: pd.Series, id_column: str, problems: ProblemList) -> pa.StringArray:
    """Validate ``id_property`` values (text: non-empty, no spaces around, unique); null if bad."""
    n = len(raw)
    cells = raw.astype(object).to_numpy()
    missing = np.fromiter(map(is_missing, cells), dtype=bool, count=n)
    text = np.fromiter((isinstance(v, str) for v in cells), dtype=bool, count=n)
    texts = cells.copy()
    texts[~text] = None
    keys = pa.array(texts, pa.string())
    stripped = pc.utf8_trim_whitespace(keys)
    blank = text & _true(pc.equal(pc.utf8_length(stripped), 0))
    padded = text & ~blank & _true(pc.not_equal(stripped, keys))
    good = text & ~blank & ~padded
    texts[~good] = None
    dup = good & pd.Series(texts).duplicated(keep=False).to_numpy()

    def add(rows: np.ndarray, code: str, message: str) -> None:
        if len(rows):
            problems.add(rows, id_column, code, message, raw.iloc[rows].tolist())

    add(np.flatnonzero(missing), "MISSING_ID", "id is missing")
    add(
        np.flatnonzero(~missing & ~text),
        "INVALID_ID",
        "an id_property value must be text (it is matched as text): convert the column with "
        ".astype(str) or read the file as text",
    )
    add(np.flatnonzero(blank), "INVALID_ID", "id is empty")
    add(np.flatnonzero(padded), "INVALID_ID", "id has spaces around it: remove them")
    message = "id appears in more than one row: keep one row per ticket"
    add(np.flatnonzero(dup), "DUPLICATE_ID", message)
    return _with_validity(keys, good & ~dup)


def _true(mask: pa.BooleanArray) -> np.ndarray:
    """Where ``mask`` is true (null: false), as numpy booleans."""
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


def _pick_columns(
    df: pd.DataFrame, properties: Sequence[Hashable] | str | None, id_column: str, p: ProblemList
) -> list[tuple[Hashable, int]]:
    """Return (name, column position) for each property to send, recording naming problems."""
    positions: dict[Hashable, list[int]] = {}
    for i, label in enumerate(df.columns):
        positions.setdefault(label, []).append(i)
    if properties is None:
        names = [c for c in positions if c != id_column]
    else:
        names = [properties] if isinstance(properties, str) else list(properties)
    picked: list[tuple[Hashable, int]] = []
    seen: set[Hashable] = set()
    for name in names:
        if not isinstance(name, str):
            p.add(None, name, "BAD_COLUMN_NAME", f"property name {name!r} is not a string")
        elif not name.strip():
            p.add(None, name, "BAD_COLUMN_NAME", "property name is empty")
        elif not _is_unicode(name):
            message = f"property name {name!r} is not valid Unicode (a lone surrogate): rename it"
            p.add(None, name, "BAD_COLUMN_NAME", message)
        elif name == id_column:
            message = "the id column cannot also be sent as a property"
            p.add(None, name, "ID_COLUMN_AS_PROPERTY", message)
        elif name in seen or len(positions.get(name, ())) > 1:
            p.add(None, name, "DUPLICATE_COLUMN", f"property {name!r} appears more than once")
        elif name not in positions:
            message = f"no column named {name!r}{_suggest(name, df.columns)}"
            p.add(None, name, "NO_SUCH_COLUMN", message)
        else:
            picked.append((name, positions[name][0]))
        seen.add(name)
    if not names:
        p.add(None, None, "NO_PROPERTIES", "no property columns to send")
    return picked


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _suggest(name: str, labels: Iterable[Hashable]) -> str:
    """``"; did you mean 'x'?"`` for the closest label, or ``""``."""
    texts = {str(label): label for label in labels}
    close = difflib.get_close_matches(name, list(texts), n=1, cutoff=0.6)
    if not close:  # export headers: "Ticket ID" for "ticket_id"
        folded = {k.lower().replace(" ", "_"): k for k in texts}
        close = [folded[k] for k in difflib.get_close_matches(name.lower(), list(folded), n=1)]
    return f"; did you mean {texts[close[0]]!r}?" if close else ""


def _id_problem(df: pd.DataFrame, id_column: str) -> str:
    """Why ``id_column`` names no id, with the frame's columns and the closest one."""
    if id_column in df.columns and id_column in df.index.names:
        return f"{id_column!r} is both a column and the index name"
    if id_column in df.columns:
        return f"id column {id_column!r} names several columns"
    labels = [*df.columns, *(n for n in df.index.names if n is not None)]
    shown = ", ".join(repr(c) for c in labels[:20]) + (", ..." if len(labels) > 20 else "")
    what, hint = f"id column {id_column!r} is not", _suggest(id_column, labels)
    if id_column == ID_COLUMNS[0]:  # the default: none of the usual names is there
        what = f"no ticket id column: none of {', '.join(map(repr, ID_COLUMNS))} is"
        hint = next(filter(None, (_suggest(name, labels) for name in ID_COLUMNS)), "")
    return (
        f"{what} a column nor the index name "
        f"(the frame has {shown or 'no columns'}){hint}; "
        "pass id_column= to name the column holding the ticket ids"
    )


def encode_frame(
    df: pd.DataFrame,
    properties: Sequence[Hashable] | str | None = None,
    *,
    id_column: str = "objectId",
    na: NaMode = "skip",
    api: Api | str = "v1",
    problems: ProblemList | None = None,
    id_property: str | None = None,
) -> EncodedFrame:
    """Validate and encode a wide frame; raise one PayloadError listing every problem.

    See :meth:`pandas_hubtickets._accessor.HubTicketsAccessor.to_payload` for the
    meaning of the arguments.

    Parameters
    ----------
    problems : ProblemList, optional
        Collect the problems here instead of raising (a caller that checks
        more before it reports them all at once). Cells at fault are null in
        the result, and rows with a bad id have id 0.
    id_property : str, optional
        The id column holds this property's values (text), sent as each
        input's ``id`` with ``"idProperty"`` (date-versioned APIs only).

    Examples
    --------
    >>> import pandas as pd
    >>> found = ProblemList(pd.RangeIndex(2))
    >>> frame = pd.DataFrame({"objectId": [7, 7], "subject": ["a", "b"]})
    >>> encoded = encode_frame(frame, problems=found)
    >>> found.frame()[["row", "code"]].values.tolist()
    [[0, 'DUPLICATE_ID'], [1, 'DUPLICATE_ID']]
    """
    if not isinstance(df, pd.DataFrame):
        raise ArgumentTypeError(f"expected a pandas DataFrame, got {type(df).__name__}")
    if not isinstance(id_column, str):
        got = type(id_column).__name__
        raise ArgumentTypeError(f"id_column must be a str (a column or index name), got {got}")
    if properties is not None and not isinstance(properties, Iterable):
        got = type(properties).__name__
        raise ArgumentTypeError(f"properties must be a list of column names or None, got {got}")
    if na not in _NA_MODES:
        raise ConfigurationError(f"na must be one of {_NA_MODES}, not {na!r}")
    if id_property is not None and (not isinstance(id_property, str) or not id_property.strip()):
        got = type(id_property).__name__
        raise ArgumentTypeError(f"id_property must be a property name (a non-empty str), got {got}")
    flavor = _flavor(api, id_property)
    keys = None
    collect = problems is not None
    found = problems if problems is not None else ProblemList(df.index)
    raw_ids = _id_series(df, id_column)
    if id_column in df.columns and id_column in df.index.names:
        raw_ids = None
    if raw_ids is None:
        found.add(None, id_column, "NO_ID_COLUMN", _id_problem(df, id_column))
        ids = np.zeros(len(df), dtype=np.int64)
        keys = None if id_property is None else pa.nulls(len(df), pa.string())
    else:
        found.ids = raw_ids
        if id_property is None:
            ids = _check_ids(raw_ids, id_column, found)
        else:
            ids = np.zeros(len(df), dtype=np.int64)
            keys = _check_keys(raw_ids, id_column, found)
    picked = _pick_columns(df, properties, id_column, found)
    values, coded = [], []
    for name, _ in picked:
        column = df[name]  # a str that labels one column only (_pick_columns): iloc's cost halved
        arr, cell_problems, codes = encode_coded(column)
        for rows, code, why in cell_problems:
            found.add(rows, name, code, why, column.iloc[rows].tolist())
        if na == "clear":
            arr = arr.fill_null("")
        elif na == "error" and arr.null_count:
            missing = np.array(arr.is_null().to_numpy(zero_copy_only=False))
            for rows, _, _ in cell_problems:
                missing[rows] = False  # reported already; not also as missing
            message = "missing value (na='error'): fill it, or use na='skip' to leave it unchanged"
            found.add(np.flatnonzero(missing), name, "MISSING_VALUE", message)
        values.append(arr)
        coded.append(None if codes is None else _coded(arr, *codes))
    if not collect:
        found.raise_if_any()
    return EncodedFrame(
        index=df.index,
        object_ids=ids,
        names=tuple(str(name) for name, _ in picked),
        values=tuple(values),
        flavor=flavor,
        keys=keys,
        coded=tuple(coded),
    )
