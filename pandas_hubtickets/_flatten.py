"""HubSpot v1 ticket objects to a tidy frame, and back to the wide form (pure, no network).

:func:`flatten` turns any v1 response holding ticket objects (batch update,
batch read, a page of get-all, a single ticket, several of these, or their
JSON text) into one row per property version. :func:`current` takes such a
tidy frame back to one row per ticket holding each property's current value.

The fast path does no Python work per version: the version dicts are
collected by reference and converted to Arrow in C++ in one call, and the
ticket- and property-level columns are expanded with :func:`numpy.repeat`.
When anything does not convert, a second, slower pass walks the input to name
the first offending object, property and version.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pandas.api.types import union_categoricals

from ._json import NotStreamable, Reader, gc_paused, loads
from .errors import ArgumentTypeError, FlattenError

__all__ = [
    "TIDY_COLUMNS",
    "compact",
    "concat_tidy",
    "current",
    "flatten",
    "read_tidy",
    "tidy_of",
    "to_arrow",
    "write_tidy",
]

TIDY_COLUMNS = (
    "objectId",
    "objectType",
    "portalId",
    "isDeleted",
    "property",
    "value",
    "timestamp",
    "source",
    "sourceId",
    "sourceVid",
    "version",
)
"""The columns of a tidy frame, in order."""

# What pyarrow reads from each level of a ticket object; other keys are ignored.
_TICKET = pa.struct(
    [
        ("objectId", pa.int64()),
        ("objectType", pa.string()),
        ("portalId", pa.int64()),
        ("isDeleted", pa.bool_()),
    ]
)
_REQUIRED = ("objectId", "portalId")
_PROPERTY = pa.struct([("sourceId", pa.string())])
_VERSION = pa.struct(
    [
        ("value", pa.string()),
        ("timestamp", pa.int64()),
        ("source", pa.string()),
        ("sourceId", pa.string()),
        ("sourceVid", pa.list_(pa.int64())),
    ]
)
_TICKET_KEYS = frozenset([*(member.name for member in _TICKET), "properties"])
_TEXT = (str, bytes, bytearray)
# What pyarrow raises on a value it cannot convert (surrogates raise UnicodeEncodeError,
# a ValueError; ints beyond 64 bits raise OverflowError).
_CONVERSION_ERRORS = (pa.ArrowException, ValueError, TypeError, OverflowError)
_NEEDS_CURRENT = ("objectId", "property", "value", "version")
#: Versions converted to Arrow at a time: one chunk's Python objects exist at once, not all.
_CHUNK_ROWS = 4_096
#: JSON texts at least this long (in characters or bytes) are parsed one ticket at a time.
_STREAM_MIN = 1 << 20
#: Bytes of a streamed text decoded at a time.
_STREAM_BLOCK = 4 << 20


def flatten(response: Any) -> pd.DataFrame:
    """Flatten HubSpot v1 ticket objects into one row per property version.

    Parameters
    ----------
    response : list, dict, iterable, str or bytes
        Any of: a batch-update response (a list of ticket objects); a
        batch-read response (a dict keyed by the id as a string); a page of
        get-all (``{"objects": [...], "hasMore", "offset"}``); a single ticket
        object; an iterable (a generator, say) of any of these; or the same as
        JSON text. A dict is a ticket when it has ``objectId`` (or, lacking
        it, another ticket key such as ``properties``, so that the missing id
        is reported), a page when it has ``objects``, else a batch-read map.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`TIDY_COLUMNS`, one row per version, tickets and
        properties in the order of the input, versions newest first:

        ==========  ==========================  =================================
        column      dtype                       taken from
        ==========  ==========================  =================================
        objectId    ``int64``                   the ticket
        objectType  ``category`` [1]_           the ticket (NA when absent)
        portalId    ``int64``                   the ticket
        isDeleted   ``bool``                    the ticket (False when absent)
        property    ``category`` [1]_           the property's name
        value       ``string[pyarrow]``         the version
        timestamp   ``datetime64[ms, UTC]``     the version (NaT when absent)
        source      ``category`` [1]_           the version
        sourceId    ``string[pyarrow]``         the version [2]_
        sourceVid   ``list<int64>[pyarrow]``    the version (``[]`` when absent)
        version     ``int32``                   0 = newest = the current value
        ==========  ==========================  =================================

        A property without versions (a read without history, or an empty
        ``versions`` list) gives one row, version 0, from its own ``value``,
        ``timestamp``, ``source`` and ``sourceId``.

    Raises
    ------
    ArgumentTypeError
        When given a DataFrame or Series: there is nothing to flatten.
    FlattenError
        When the input is not valid JSON or not made of ticket objects. The
        message names the first offending ticket object by its position in
        the stream of ticket objects, and the property and version within it,
        e.g. ``object 2, property 'status', version 1: bad timestamp 'x'
        (expected int64)``.

    See Also
    --------
    current : The wide form of the result.

    Notes
    -----
    .. [1] Categories are ``string[pyarrow]`` (``pd.ArrowDtype(pa.string())``),
       in order of first appearance; codes are ``int8`` up to 126 categories.
       HubSpot's object types, property names and sources are few, so a row
       costs one byte for each. The categories' dtype is set explicitly so
       that the dtype is the same under pandas 2 and 3 (whose default string
       categories differ: ``object`` and ``str``).

    .. [2] Each version keeps its own ``sourceId``, NA when HubSpot gave
       none. The property-level ``sourceId`` describes the newest version
       only: it fills version 0 when that version has none, never an older
       version (a workflow's or an import's change is not the latest user's).

    ``version`` is ``int32`` rather than ``int16``: HubSpot documents no limit
    on the length of a property's history, and ``int32`` cannot overflow for
    any history that fits in memory, for two bytes a row. Strings use 4-byte
    offsets (``pa.string()``); a column of more than 2 GiB of text is chunked.
    With about 9 characters per value, a row takes about 53 bytes.

    ``FlattenError`` is a ``ValueError``.

    Examples
    --------
    >>> import pandas_hubtickets as ht
    >>> ticket = {
    ...     "objectType": "TICKET",
    ...     "portalId": 62515,
    ...     "objectId": 178218,
    ...     "properties": {
    ...         "status": {
    ...             "value": "IN_PROGRESS",
    ...             "versions": [
    ...                 {"value": "IN_PROGRESS", "timestamp": 1522876779774, "source": "API"},
    ...                 {"value": "OPEN", "timestamp": 1522870759430, "source": "API"},
    ...             ],
    ...         }
    ...     },
    ...     "isDeleted": False,
    ... }
    >>> tidy = ht.flatten([ticket])
    >>> tidy[["objectId", "property", "value", "source", "version"]]
       objectId property        value source  version
    0    178218   status  IN_PROGRESS    API        0
    1    178218   status         OPEN    API        1
    >>> tidy["timestamp"].iloc[1]
    Timestamp('2018-04-04 19:39:19.430000+0000', tz='UTC')
    """
    if isinstance(response, pd.DataFrame | pd.Series):
        raise ArgumentTypeError(
            "flatten takes the JSON HubSpot returned (dicts, lists, str or bytes), not a "
            f"{type(response).__name__}; a tidy frame (one row per version) has nothing "
            "left to flatten"
        )
    return tidy_of([to_arrow(response)])


def to_arrow(response: Any) -> _Converted:
    """What :func:`flatten` reads from ``response``, as Arrow: keep it, make the frame later.

    Raises :class:`FlattenError` as :func:`flatten` does. ``tidy_of`` of the
    parts of several responses equals ``flatten`` of all of them at once.
    """
    with gc_paused():  # parsing and gathering make millions of objects, none of them cyclic
        return _converted(response)


def tidy_of(parts: Sequence[_Converted]) -> pd.DataFrame:
    """The tidy frame of the responses that :func:`to_arrow` converted, in order.

    Examples
    --------
    >>> a = {"objectId": 1, "portalId": 7, "properties": {"status": {"value": "OPEN"}}}
    >>> b = {"objectId": 2, "portalId": 7, "properties": {"subject": {"value": "hi"}}}
    >>> tidy_of([to_arrow(a), to_arrow(b)]).equals(flatten([a, b]))
    True
    """
    converted = parts[0] if len(parts) == 1 else _concat(parts)
    envelope, names, property_source_ids = converted.envelope, converted.names, converted.properties
    versions = converted.versions

    # Row r is a version of property prop_of_row[r], of ticket ticket_of_row[r].
    counts = converted.per_property
    index = np.int32 if counts.sum() < 2**31 else np.int64  # half the memory of int64
    prop_of_row = np.repeat(np.arange(len(counts), dtype=index), counts)
    ticket_of_row = np.repeat(np.arange(len(envelope), dtype=index), converted.per_ticket)[
        prop_of_row
    ]
    first_row = (np.cumsum(counts) - counts).astype(index)
    value, timestamp, source, source_id, source_vid = versions.flatten()
    version = (np.arange(len(prop_of_row), dtype=index) - first_row[prop_of_row]).astype(
        np.int32, copy=False
    )
    # The property-level sourceId is the newest version's: it may stand in for version 0 only.
    newest_source_id = pc.if_else(
        pa.array(version == 0), property_source_ids.take(prop_of_row), pa.scalar(None, pa.string())
    )
    columns = {
        "objectId": envelope.field("objectId").to_numpy()[ticket_of_row],
        "objectType": _categorical(envelope.field("objectType")).take(ticket_of_row),
        "portalId": envelope.field("portalId").to_numpy()[ticket_of_row],
        "isDeleted": envelope.field("isDeleted")
        .fill_null(False)
        .to_numpy(zero_copy_only=False)[ticket_of_row],
        "property": _categorical(names).take(prop_of_row),
        "value": pd.arrays.ArrowExtensionArray(value),
        "timestamp": pc.cast(timestamp, pa.timestamp("ms", tz="UTC")).to_pandas(),
        "source": _categorical(source),
        "sourceId": pd.arrays.ArrowExtensionArray(pc.coalesce(source_id, newest_source_id)),
        "sourceVid": pd.arrays.ArrowExtensionArray(
            pc.fill_null(source_vid, pa.scalar([], type=_VERSION.field("sourceVid").type))
        ),
        "version": version,
    }
    # Every array above is fresh: no need for pandas to copy them.
    tidy: pd.DataFrame = pd.DataFrame(columns, copy=False)
    return tidy


def concat_tidy(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Tidy frames one after the other, as :func:`flatten` of their answers in one go gives.

    Lets a caller flatten each answer as it arrives and drop the parsed JSON:
    categoricals are unioned (categories in order of first appearance, as
    :func:`flatten` makes them), every other column keeps its dtype.

    Examples
    --------
    >>> a = {"objectId": 1, "portalId": 7, "properties": {"status": {"value": "OPEN"}}}
    >>> b = {"objectId": 2, "portalId": 7, "properties": {"subject": {"value": "hi"}}}
    >>> both = concat_tidy([flatten([a]), flatten([b])])
    >>> both.equals(flatten([a, b]))
    True
    """
    if len(frames) == 1:
        return frames[0]
    if not frames:
        return flatten([])
    columns: dict[str, Any] = {}
    for name in TIDY_COLUMNS:
        parts = [frame[name] for frame in frames]
        if isinstance(parts[0].dtype, pd.CategoricalDtype):
            columns[name] = union_categoricals([part.array for part in parts])
        else:
            columns[name] = pd.concat(parts, ignore_index=True)
    tidy: pd.DataFrame = pd.DataFrame(columns, copy=False)
    return tidy


def write_tidy(tidy: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Save a tidy frame as Parquet that any reader opens without help.

    ``tidy.to_parquet(path)`` writes pandas metadata from which
    ``pd.read_parquet`` cannot rebuild ``sourceVid`` (``data type 'list<item:
    int64>[pyarrow]' not understood``, on pandas 2.2 and 3.x alike). This
    writes the same Arrow columns without that metadata: ``pd.read_parquet``,
    ``pyarrow.parquet.read_table``, DuckDB and polars open it (``sourceVid`` a
    list of int64, ``objectType``, ``property`` and ``source``
    dictionary-encoded strings, ``timestamp`` in UTC milliseconds), and
    :func:`read_tidy` gives back the exact dtypes.

    Parameters
    ----------
    tidy : pandas.DataFrame
        A frame made by :func:`flatten` (its index is not written).
    path : str or os.PathLike
        The Parquet file to write.

    Examples
    --------
    >>> import os, tempfile
    >>> import pandas as pd
    >>> import pandas_hubtickets as ht
    >>> tidy = ht.flatten({"objectId": 1, "portalId": 7, "properties": {"a": {"value": "x"}}})
    >>> path = os.path.join(tempfile.mkdtemp(), "history.parquet")
    >>> ht.write_tidy(tidy, path)
    >>> pd.read_parquet(path)[["objectId", "property", "value"]]
       objectId property value
    0         1        a     x
    >>> ht.read_tidy(path).equals(tidy)
    True
    """
    if not isinstance(tidy, pd.DataFrame):
        raise ArgumentTypeError(f"tidy must be a DataFrame, got {type(tidy).__name__}")
    table = pa.Table.from_pandas(tidy, preserve_index=False)
    pq.write_table(table.replace_schema_metadata(None), path)


def read_tidy(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read back a saved tidy frame with its exact dtypes.

    Reads files written by :func:`write_tidy` and by ``DataFrame.to_parquet``
    (which plain ``pd.read_parquet`` cannot open: see :func:`write_tidy`); this
    reads the Arrow table and gives every column the dtype :func:`flatten`
    gives it.

    Parameters
    ----------
    path : str or os.PathLike
        A Parquet file holding the tidy columns (others are ignored).

    Returns
    -------
    pandas.DataFrame
        Equal to the frame that was saved.

    Examples
    --------
    >>> import os, tempfile
    >>> import pandas_hubtickets as ht
    >>> tidy = ht.flatten({"objectId": 1, "portalId": 7, "properties": {"a": {"value": "x"}}})
    >>> path = os.path.join(tempfile.mkdtemp(), "history.parquet")
    >>> tidy.to_parquet(path)
    >>> ht.read_tidy(path).equals(tidy)
    True
    """
    table = pq.read_table(path, columns=list(TIDY_COLUMNS))

    def arrow(name: str, type_: pa.DataType) -> pd.arrays.ArrowExtensionArray:
        return pd.arrays.ArrowExtensionArray(table.column(name).cast(type_))

    columns = {
        "objectId": table.column("objectId").to_numpy(),
        "objectType": _categorical(table.column("objectType").cast(pa.string())),
        "portalId": table.column("portalId").to_numpy(),
        "isDeleted": table.column("isDeleted").to_numpy(),
        "property": _categorical(table.column("property").cast(pa.string())),
        "value": arrow("value", pa.string()),
        "timestamp": table.column("timestamp").cast(pa.timestamp("ms", tz="UTC")).to_pandas(),
        "source": _categorical(table.column("source").cast(pa.string())),
        "sourceId": arrow("sourceId", pa.string()),
        "sourceVid": arrow("sourceVid", _VERSION.field("sourceVid").type),
        "version": table.column("version").to_numpy().astype(np.int32),
    }
    tidy: pd.DataFrame = pd.DataFrame(columns, copy=False)
    return tidy


def current(tidy: pd.DataFrame) -> pd.DataFrame:
    """The wide form of a tidy frame: one row per ticket, each property's current value.

    Parameters
    ----------
    tidy : pandas.DataFrame
        A frame like the result of :func:`flatten`; it needs the columns
        ``objectId``, ``property``, ``value`` and ``version``. Only the rows
        with ``version == 0`` (the current values) are used.

    Returns
    -------
    pandas.DataFrame
        ``objectId``, then one column per property, named after it, holding
        the values with the dtype of ``tidy["value"]`` (pyarrow strings for
        the output of :func:`flatten`); NA where a ticket lacks the property.
        Tickets (rows) and properties (columns) are in order of first
        appearance; the index is a fresh ``RangeIndex``.

    Raises
    ------
    FlattenError
        (a ``ValueError``) When a needed column is missing, an ``objectId`` or ``property`` is
        missing, or a ticket has two current values for one property (as
        when two responses for the same ticket were concatenated).

    See Also
    --------
    flatten : The tidy form.

    Examples
    --------
    >>> import pandas_hubtickets as ht
    >>> tidy = ht.flatten(
    ...     [
    ...         {
    ...             "objectId": 1,
    ...             "portalId": 62515,
    ...             "properties": {"status": {"value": "OPEN"}, "subject": {"value": "Hi"}},
    ...         },
    ...         {"objectId": 2, "portalId": 62515, "properties": {"status": {"value": "CLOSED"}}},
    ...     ]
    ... )
    >>> from pandas_hubtickets._flatten import current
    >>> current(tidy)
       objectId  status subject
    0         1    OPEN      Hi
    1         2  CLOSED    <NA>
    """
    if not isinstance(tidy, pd.DataFrame):
        raise ArgumentTypeError(f"tidy must be a DataFrame, got {type(tidy).__name__}")
    missing = [c for c in _NEEDS_CURRENT if c not in tidy.columns]
    if missing:
        raise FlattenError(f"not a tidy ticket frame: missing column(s) {', '.join(missing)}")
    latest = tidy[tidy["version"] == 0]
    ticket_codes, object_ids = pd.factorize(latest["objectId"])
    prop_codes, names = pd.factorize(latest["property"])
    if (ticket_codes < 0).any() or (prop_codes < 0).any():
        raise FlattenError("objectId and property must not be missing in the current rows")
    cell = prop_codes * len(object_ids) + ticket_codes
    order = np.argsort(cell, kind="stable")
    repeated = np.flatnonzero(np.diff(cell[order]) == 0)
    if len(repeated):
        row = order[repeated[0]]
        raise FlattenError(
            f"{len(repeated)} cell(s) with two current values, e.g. objectId "
            f"{object_ids[ticket_codes[row]]}, property {names[prop_codes[row]]!r}"
        )
    # order lists the rows by property (then ticket): the slices of one property each.
    bounds = np.searchsorted(prop_codes[order], np.arange(len(names) + 1))
    values = latest["value"].array
    columns: list[Any] = [object_ids]
    for start, stop in itertools.pairwise(bounds):
        rows = order[start:stop]
        take = np.full(len(object_ids), -1, dtype=np.intp)
        take[ticket_codes[rows]] = rows
        columns.append(values.take(take, allow_fill=True))
    wide: pd.DataFrame = pd.DataFrame(dict(enumerate(columns)))
    wide.columns = pd.Index(["objectId", *names])
    return wide


@dataclass
class _Gathered:
    """References into the input, in row order, for pyarrow to convert in one call each."""

    tickets: list[Any] = field(default_factory=list)
    names: list[Any] = field(default_factory=list)
    properties: list[Any] = field(default_factory=list)
    versions: list[Any] = field(default_factory=list)
    """The version dicts, or a property's own dict when it has no versions."""
    per_ticket: list[int] = field(default_factory=list)
    """The number of properties of each ticket."""
    per_property: list[int] = field(default_factory=list)
    """The number of rows of each property."""


@dataclass
class _Converted:
    """The input as Arrow: ticket, property and version level, and how they nest."""

    envelope: pa.StructArray
    names: pa.ChunkedArray
    properties: pa.ChunkedArray
    """Each property's own ``sourceId``."""
    versions: pa.ChunkedArray
    per_ticket: np.ndarray
    per_property: np.ndarray


def _converted(response: Any) -> _Converted:
    """``response`` as Arrow, converted a chunk of :data:`_CHUNK_ROWS` versions at a time.

    A long JSON text is parsed a ticket object at a time (:class:`Reader`),
    so that only one chunk's Python objects exist at once; if it is not
    plain JSON of ticket objects (or anything fails), it is parsed again
    whole, so that the error names what the whole parse finds.
    """
    if isinstance(response, _TEXT) and len(response) >= _STREAM_MIN:
        try:
            return _convert(_streamed(response, _STREAM_BLOCK), seen=None)
        except NotStreamable:
            pass
    return _convert(_ticket_objects(response), seen=[])


def _convert(tickets: Iterable[Any], seen: list[Any] | None) -> _Converted:
    """Gather and convert ``tickets`` chunk by chunk; ``seen`` keeps them to locate an error.

    Without ``seen`` (a streamed text) any problem raises :class:`NotStreamable`.
    """
    parts: list[tuple[pa.Array, ...]] = []
    per_ticket: list[int] = []
    per_property: list[int] = []
    for gathered in _gather(tickets, seen):
        try:
            envelope = pa.array(gathered.tickets, type=_TICKET)
            names = pa.array(gathered.names, type=pa.string())
            property_source_ids = pa.array(gathered.properties, type=_PROPERTY).field("sourceId")
            versions = _chunked(pa.array(gathered.versions, type=_VERSION))
        except _CONVERSION_ERRORS as exc:
            _raise_located(seen, exc)
        if versions.null_count or any(envelope.field(f).null_count for f in _REQUIRED):
            _raise_located(seen, None)
        parts.append((envelope, names, property_source_ids, *versions.chunks))
        per_ticket += gathered.per_ticket
        per_property += gathered.per_property
        del gathered  # else this chunk's objects live on while the next is parsed
    return _Converted(
        envelope=pa.concat_arrays([p[0] for p in parts]),
        names=pa.chunked_array([p[1] for p in parts], type=pa.string()),
        properties=pa.chunked_array([p[2] for p in parts], type=pa.string()),
        versions=pa.chunked_array([v for p in parts for v in p[3:]], type=_VERSION),
        per_ticket=np.array(per_ticket, dtype=np.int64),
        per_property=np.array(per_property, dtype=np.int64),
    )


def compact(parts: Sequence[_Converted]) -> _Converted:
    """Several converted responses as one, each array in one piece.

    Arrow pads and aligns every buffer: the parts of many small answers take
    about four times the memory of their tidy frames, one compacted part less
    than its frame.

    Examples
    --------
    >>> a = {"objectId": 1, "portalId": 7, "properties": {"status": {"value": "OPEN"}}}
    >>> tidy_of([compact([to_arrow(a), to_arrow(a)])]).equals(flatten([a, a]))
    True
    """
    whole = _concat(parts)
    return _Converted(
        envelope=whole.envelope,
        names=pa.chunked_array([whole.names.combine_chunks()]),
        properties=pa.chunked_array([whole.properties.combine_chunks()]),
        versions=pa.chunked_array([whole.versions.combine_chunks()]),
        per_ticket=whole.per_ticket,
        per_property=whole.per_property,
    )


def _concat(parts: Sequence[_Converted]) -> _Converted:
    """Several converted responses as one (no part at all: an empty one)."""
    if not parts:
        return _convert([], seen=None)
    return _Converted(
        envelope=pa.concat_arrays([p.envelope for p in parts]),
        names=pa.chunked_array([c for p in parts for c in p.names.chunks], type=pa.string()),
        properties=pa.chunked_array(
            [c for p in parts for c in p.properties.chunks], type=pa.string()
        ),
        versions=pa.chunked_array([c for p in parts for c in p.versions.chunks], type=_VERSION),
        per_ticket=np.concatenate([p.per_ticket for p in parts]),
        per_property=np.concatenate([p.per_property for p in parts]),
    )


def _gather(tickets: Iterable[Any], seen: list[Any] | None) -> Iterator[_Gathered]:
    """The ticket objects, properties and versions of ``tickets`` by reference, in chunks."""
    out = _Gathered()
    for ticket in tickets:
        out.tickets.append(ticket)
        if seen is not None:
            seen.append(ticket)
        try:
            props = ticket["properties"]
            out.names.extend(props)
            out.properties.extend(props.values())
            out.per_ticket.append(len(props))
            for prop in props.values():
                history = prop.get("versions")
                if history:
                    out.versions.extend(history)
                    out.per_property.append(len(history))
                else:
                    out.versions.append(prop)
                    out.per_property.append(1)
        except (KeyError, TypeError, AttributeError) as exc:
            _raise_located(seen, exc)
        if len(out.versions) >= _CHUNK_ROWS:
            yield out
            out = _Gathered()
    yield out


def _streamed(text: str | bytes | bytearray, block: int) -> Iterator[Any]:
    """The ticket objects of a JSON text, as :func:`_ticket_objects` finds them, one at a time.

    Streams a top-level array, page or batch-read map; raises
    :class:`NotStreamable` for anything else (a single ticket, say), and for
    whatever the whole parse would read differently (a repeated key).
    """
    reader = Reader(text, block=block)
    first = reader.peek()
    if first == "[":
        for item in reader.elements():
            yield from _ticket_objects(item, parsed=True)
    elif first == "{":
        keys: set[str] = set()
        page = False
        for key in reader.members():
            if key in keys or key == "objectId":
                raise NotStreamable("a repeated key, or a ticket")
            page = page or (not keys and key == "objects")
            keys.add(key)
            if page and key == "objects":
                yield from reader.elements()
            elif page:
                reader.value()
            elif key in _TICKET_KEYS or key == "objects":
                raise NotStreamable("a ticket or a page, not a map")
            else:
                yield reader.value()
    else:
        raise NotStreamable("neither an array nor an object")
    reader.end()


def _ticket_objects(data: Any, *, parsed: bool = False) -> Iterator[Any]:
    """Every ticket object in ``data``, in order: pages, maps, iterables and JSON unpacked.

    Whatever is not a container is yielded as is, to be reported as a bad
    ticket object at its position.
    """
    if isinstance(data, _TEXT) and not parsed:
        try:
            decoded = loads(data)
        except ValueError as exc:
            raise FlattenError(f"not valid JSON: {exc}") from exc
        yield from _ticket_objects(decoded, parsed=True)
    elif isinstance(data, dict):
        if "objects" in data and "objectId" not in data:
            objects = data["objects"]
            if not isinstance(objects, list):
                raise FlattenError(f"a page's objects is not a list (got {_kind(objects)})")
            yield from objects
        elif _TICKET_KEYS.isdisjoint(data):
            yield from data.values()
        else:
            yield data
    elif isinstance(data, Iterable) and not isinstance(data, _TEXT):
        for item in data:
            yield from _ticket_objects(item, parsed=parsed)
    else:
        yield data


def _chunked(array: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray:
    """pa.array returns a ChunkedArray when strings overflow 2 GiB; make that the only case."""
    return array if isinstance(array, pa.ChunkedArray) else pa.chunked_array([array])


def _categorical(values: pa.Array | pa.ChunkedArray) -> pd.Categorical:
    """Strings as a categorical: pyarrow string categories in order of first appearance.

    pandas picks the smallest signed integer that holds the codes (int8 up to
    126 categories).
    """
    encoded = pc.dictionary_encode(_chunked(values)).combine_chunks()
    dtype = pd.CategoricalDtype(pd.Index(pd.arrays.ArrowExtensionArray(encoded.dictionary)))
    return pd.Categorical.from_codes(pc.fill_null(encoded.indices, -1).to_numpy(), dtype=dtype)


def _raise_located(tickets: list[Any] | None, cause: BaseException | None) -> NoReturn:
    """Raise a FlattenError naming the first bad ticket object among ``tickets``.

    ``None`` (a streamed text, whose tickets are not kept) raises
    :class:`NotStreamable` instead: the text is then parsed whole.
    """
    if tickets is None:
        raise NotStreamable("a bad ticket object") from cause
    for position, ticket in enumerate(tickets):
        problem = _ticket_problem(ticket)
        if problem is not None:
            raise FlattenError(f"object {position}{problem}") from cause
    raise FlattenError(f"cannot flatten the response: {cause}") from cause


def _ticket_problem(ticket: Any) -> str | None:
    """What is wrong with one ticket object, as ``": ..."`` or ``", property ...: ..."``."""
    if not isinstance(ticket, dict):
        return f": not a JSON object (got {_kind(ticket)})"
    for name in _REQUIRED:
        if ticket.get(name) is None:
            return f": no {name}"
    problem = _fields_problem(ticket, _TICKET)
    if problem is not None:
        return f": {problem}"
    if "properties" not in ticket:
        return ": no properties"
    props = ticket["properties"]
    if not isinstance(props, dict):
        return f": properties is not a JSON object (got {_kind(props)})"
    for name, prop in props.items():
        if not isinstance(name, str):
            return f": property name {_short(name)} is not a string"
        problem = _property_problem(prop)
        if problem is not None:
            return f", property {name!r}{problem}"
    return None


def _property_problem(prop: Any) -> str | None:
    """What is wrong with one property, as ``": ..."`` or ``", version i: ..."``."""
    if not isinstance(prop, dict):
        return f": not a JSON object (got {_kind(prop)})"
    history = prop.get("versions")
    problem = _fields_problem(prop, _VERSION if not history else _PROPERTY)
    if problem is not None:
        return f": {problem}"
    if not history:
        return None
    if not isinstance(history, list):
        return f": versions is not a list (got {_kind(history)})"
    if _converts(history, _VERSION):
        return None
    for index, version in enumerate(history):
        if not isinstance(version, dict):
            return f", version {index}: not a JSON object (got {_kind(version)})"
        problem = _fields_problem(version, _VERSION)
        if problem is not None:
            return f", version {index}: {problem}"
    return None


def _converts(items: list[Any], type_: pa.DataType) -> bool:
    """Whether every item converts to ``type_``, none of them null."""
    try:
        return bool(pa.array(items, type=type_).null_count == 0)
    except _CONVERSION_ERRORS:
        return False


def _fields_problem(obj: dict[Any, Any], struct: pa.StructType) -> str | None:
    """The first field of ``struct`` whose value in ``obj`` does not convert, described."""
    for member in struct:
        value = obj.get(member.name)
        if value is not None and not _converts([value], member.type):
            return f"bad {member.name} {_short(value)} (expected {member.type})"
    return None


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:56]}...{text[-1]}"


def _kind(obj: object) -> str:
    return type(obj).__name__
