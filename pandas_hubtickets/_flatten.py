"""HubSpot's ticket objects to a tidy frame, and back to the wide form (pure, no network).

:func:`flatten` turns any response holding ticket objects into one row per
property version: v1's (batch update, batch read, a page of get-all, a single
ticket) and the date-versioned API's and v3's (a batch answer or a page with
``results``, a single ``SimplePublicObject``), several of these, or their JSON
text. Both shapes give the same columns. :func:`current` takes such a tidy
frame back to one row per ticket holding each property's current value.

The fast path does no Python work per version: the version dicts are
collected by reference and converted to Arrow in C++ in one call, and the
ticket- and property-level columns are expanded with :func:`numpy.repeat`.
When anything does not convert, a second, slower pass walks the input to name
the first offending object, property and version.
"""

from __future__ import annotations

import itertools
import os
import re
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
    "EXTRA_COLUMNS",
    "TIDY_COLUMNS",
    "compact",
    "concat_tidy",
    "current",
    "flatten",
    "iso_ms",
    "read_tidy",
    "tidy_of",
    "to_arrow",
    "to_arrow_all",
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

EXTRA_COLUMNS = ("sourceLabel", "updatedByUserId")
"""Columns after :data:`TIDY_COLUMNS`, each only where some version of the input has it.

Only the date-versioned API (and v3) gives them."""

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
# What versions are converted to: the sources (a few texts, repeated) dictionary-encoded, a
# chunk at a time, which holds a quarter of their text's memory until the tidy frame is made.
_VERSION_CODED = pa.struct(
    [
        pa.field("source", pa.dictionary(pa.int32(), pa.string()))
        if member.name == "source"
        else member
        for member in _VERSION
    ]
)
_TICKET_KEYS = frozenset([*(member.name for member in _TICKET), "properties"])
# The date-versioned API's (and v3's) SimplePublicObject and its ValueWithTimestamp.
_OBJECT = pa.struct([("id", pa.string()), ("archived", pa.bool_())])
_VALUE_WITH_TIMESTAMP = pa.struct(
    [
        ("value", pa.string()),
        ("timestamp", pa.string()),
        ("sourceType", pa.string()),
        ("sourceId", pa.string()),
        ("sourceLabel", pa.string()),
        ("updatedByUserId", pa.int64()),
    ]
)
_EXTRA_TYPES = {name: _VALUE_WITH_TIMESTAMP.field(name).type for name in EXTRA_COLUMNS}
# A dict with one of these (and no objectId) is a date-versioned object; "properties" is v1's too.
_OBJECT_KEYS = frozenset(["id", "propertiesWithHistory", "archived", "createdAt", "updatedAt"])
_ANY_OBJECT_KEYS = _TICKET_KEYS | _OBJECT_KEYS
# The members of a date-versioned batch answer or page, beside its results.
_ANSWER_KEYS = frozenset(
    [
        "results",
        "paging",
        "status",
        "startedAt",
        "completedAt",
        "requestedAt",
        "links",
        "errors",
        "numErrors",
    ]
)
_ID_DIGITS = "[0-9]{1,19}"
_MS_UTC = pa.timestamp("ms", tz="UTC")
# What pyarrow's cast reads as a moment with a zone.
_ISO = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"[T ][0-9]{2}(:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)$"
)
_TEXT = (str, bytes, bytearray)
# What pyarrow raises on a value it cannot convert (surrogates raise UnicodeEncodeError,
# a ValueError; ints beyond 64 bits raise OverflowError).
_CONVERSION_ERRORS = (pa.ArrowException, ValueError, TypeError, OverflowError)
_NEEDS_CURRENT = ("objectId", "property", "value", "version")
#: Versions converted to Arrow at a time: one chunk's Python objects exist at once, not all.
_CHUNK_ROWS = 4_096
#: Ticket objects of a list gathered at once (:func:`_gathered_at_once`): an update's answer
#: (HubSpot takes 100 a batch); a longer list is gathered and converted a chunk at a time.
_AT_ONCE = 100
#: JSON texts at least this long (in characters or bytes) are parsed one ticket at a time.
_STREAM_MIN = 1 << 20
#: Bytes of a streamed text decoded at a time.
_STREAM_BLOCK = 4 << 20
#: Where the conversion allocates. With Arrow's default pool (mimalloc) the process grew about
#: 40 MiB beyond the 69 MiB of arrays converted from bench_flatten's answer (hundreds of chunks
#: of small buffers; neither other chunk sizes, copies nor release_unused gave it back); with
#: the system allocator about 20 MiB (peak resident growth: bench_flatten).
_POOL = pa.system_memory_pool()


def flatten(response: Any) -> pd.DataFrame:
    """Flatten HubSpot's ticket objects, of any API, into one row per property version.

    Parameters
    ----------
    response : list, dict, iterable, str or bytes
        v1: a batch-update response (a list of ticket objects); a batch-read
        response (a dict keyed by the id as a string); a page of get-all
        (``{"objects": [...], "hasMore", "offset"}``); a single ticket object.
        The date-versioned API (``2026-03``) and v3: a batch answer
        (``{"status", "results": [...], ...}``, 200 or 207: its ``errors`` are
        not tickets and are left out) or a page (``{"results": [...],
        "paging"}``) of objects (``SimplePublicObject``); a single object. Also an
        iterable (a generator, say) of any of these, shapes mixed or not; or
        the same as JSON text. A dict is a v1 ticket when it has ``objectId``
        (or, lacking it, ``properties`` and no key of the other API, so that
        the missing id is reported), a date-versioned object when it has
        ``id``, ``propertiesWithHistory`` or ``archived``, a page when it has
        ``objects``, an answer when it has ``results``, else a batch-read map.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`TIDY_COLUMNS`, one row per version, tickets and
        properties in the order of the input, versions newest first:

        ==========  ==========================  =================================
        column      dtype                       taken from
        ==========  ==========================  =================================
        objectId    ``int64``                   the ticket (``id`` [3]_)
        objectType  ``category`` [1]_           the ticket (NA when absent)
        portalId    ``int64``                   the ticket (``Int64``, NA [3]_)
        isDeleted   ``bool``                    the ticket (``archived``; False
                                                when absent)
        property    ``category`` [1]_           the property's name
        value       ``string[pyarrow]``         the version
        timestamp   ``datetime64[ms, UTC]``     the version (NaT when absent)
        source      ``category`` [1]_           the version (``sourceType``)
        sourceId    ``string[pyarrow]``         the version [2]_
        sourceVid   ``list<int64>[pyarrow]``    the version (``[]`` when absent;
                                                NA [3]_)
        version     ``int32``                   0 = newest = the current value
        ==========  ==========================  =================================

        Then, only where some version of the input has one (the
        date-versioned API and v3 give them), ``sourceLabel``
        (``string[pyarrow]``) and ``updatedByUserId`` (``Int64``): see
        :data:`EXTRA_COLUMNS`.

        A property without versions (a read without history, or an empty
        ``versions`` list) gives one row, version 0, from its own ``value``,
        ``timestamp``, ``source`` and ``sourceId``. A date-versioned
        property gives its ``propertiesWithHistory`` (newest first) when it
        has any, else one row, version 0, from its text in ``properties``
        (timestamp, source and sourceId NA); a property whose text is
        ``null`` and that has no history (an unset property HubSpot was
        asked for) gives no row, as v1 leaves it out. Properties come in the
        order of ``properties``, then those only in ``propertiesWithHistory``.

    Raises
    ------
    ArgumentTypeError
        When given a DataFrame or Series: there is nothing to flatten.
    FlattenError
        When the input is not valid JSON or not made of ticket objects (an
        error answer, say). The message names the first offending ticket
        object, of either API, by its position in the stream of ticket
        objects, and the property and version within it, e.g. ``object 2,
        property 'status', version 1: bad timestamp 'x' (expected int64)``
        or ``object 0, property 'status', version 1: bad timestamp
        '31/01/2024' (expected ISO 8601 with a zone)``.

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

    .. [3] The date-versioned API names a ticket by ``id``, the digits of
       an int64 as text, and says nothing of ``objectType``, ``portalId`` or
       ``sourceVid``: they are NA in its rows. ``portalId`` is then
       ``Int64`` (pandas' nullable integer); a frame of v1 tickets alone
       keeps ``int64``. Its timestamps (ISO 8601 text, read by
       :func:`iso_ms`) give the same ``datetime64[ms, UTC]`` as v1's epoch
       milliseconds. Values stay the text HubSpot sent: a ``datetime``
       property reads ``"1522872562016"`` through v1 and
       ``"2018-04-04T20:09:22.016Z"`` through the date-versioned API
       (``current(typed=True)`` reads both).

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

    The same ticket read through the date-versioned API:

    >>> history = [
    ...     {"value": "IN_PROGRESS", "timestamp": "2018-04-04T21:19:39.774Z", "sourceType": "API"},
    ...     {"value": "OPEN", "timestamp": "2018-04-04T19:39:19.430Z", "sourceType": "API"},
    ... ]
    >>> obj = {
    ...     "id": "178218",
    ...     "properties": {"status": "IN_PROGRESS"},
    ...     "propertiesWithHistory": {"status": history},
    ...     "archived": False,
    ... }
    >>> twin = ht.flatten({"status": "COMPLETE", "results": [obj]})
    >>> twin[["objectId", "property", "value", "source", "version"]].equals(
    ...     tidy[["objectId", "property", "value", "source", "version"]]
    ... )
    True
    >>> twin["timestamp"].equals(tidy["timestamp"])
    True
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


def to_arrow_all(responses: Sequence[Any]) -> _Converted:
    """:func:`to_arrow` of several responses, as one part (what :func:`compact` of theirs gives).

    Responses that are each a list of at most :data:`_AT_ONCE` v1 ticket
    objects (``update``'s answers) are gathered together and converted in
    one call per column: pyarrow's cost per call (about a quarter of an
    answer's conversion) is paid once for all of them. Anything else is
    converted response by response. Raises :class:`FlattenError` as
    :func:`to_arrow` does, for the first response that does not convert.

    Examples
    --------
    >>> a = [{"objectId": 1, "portalId": 7, "properties": {"status": {"value": "OPEN"}}}]
    >>> b = [{"objectId": 2, "portalId": 7, "properties": {"subject": {"value": "hi"}}}]
    >>> tidy_of([to_arrow_all([a, b])]).equals(flatten([a, b]))
    True
    """
    if all(type(r) is list and len(r) <= _AT_ONCE and _v1_tickets(r) for r in responses):
        with gc_paused():
            gathered = _gathered_at_once(list(itertools.chain.from_iterable(responses)))
            try:
                part = None if gathered is None else _from_tickets(gathered)
            except _CONVERSION_ERRORS:
                part = None  # to_arrow names the offending response's object
        if part is not None:
            return part
    return compact([to_arrow(response) for response in responses])


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

    # Property p has rows[p] rows (its versions); ticket t has per_ticket[t] properties.
    # Ticket- and property-level columns are repeated straight into their rows: no per-row
    # index arrays, no take (peak memory: bench_flatten).
    rows = converted.per_property
    ends = np.concatenate([[0], np.cumsum(rows)])
    rows_per_ticket = np.diff(ends[np.concatenate([[0], np.cumsum(converted.per_ticket)])])
    version = _version_numbers(rows, int(ends[-1]))  # first: later columns reuse its temporaries
    del ends
    value, timestamp, source, source_id, source_vid = versions.flatten()
    # Through the system allocator: its temporaries are reused by the numpy columns below.
    stamps = pc.cast(timestamp, _MS_UTC).to_pandas(memory_pool=_POOL)
    columns = {
        "objectId": np.repeat(envelope.field("objectId").to_numpy(), rows_per_ticket),
        "objectType": _categorical(envelope.field("objectType"), rows_per_ticket),
        "portalId": _integers(envelope.field("portalId"), rows_per_ticket),
        "isDeleted": np.repeat(
            envelope.field("isDeleted").fill_null(False).to_numpy(zero_copy_only=False),
            rows_per_ticket,
        ),
        "property": _categorical(names, rows),
        "value": pd.arrays.ArrowExtensionArray(value),
        "timestamp": stamps,
        "source": _categorical(source),
        "sourceId": pd.arrays.ArrowExtensionArray(
            _with_newest_source_id(source_id, property_source_ids, rows)
        ),
        "sourceVid": pd.arrays.ArrowExtensionArray(source_vid),
        "version": version,
    }
    for name, extra in converted.extras.items():
        columns[name] = _extra_column(name, extra)
    # Every array above is fresh: no need for pandas to copy them.
    tidy: pd.DataFrame = pd.DataFrame(columns, copy=False)
    return tidy


def concat_tidy(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Tidy frames one after the other, as :func:`flatten` of their answers in one go gives.

    Lets a caller flatten each answer as it arrives and drop the parsed JSON:
    categoricals are unioned (categories in order of first appearance, as
    :func:`flatten` makes them), every other column keeps its dtype
    (``portalId`` becomes ``Int64`` when some frame's is), and a column of
    :data:`EXTRA_COLUMNS` that only some frames have is NA in the others.

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
    extras = [name for name in EXTRA_COLUMNS if any(name in frame for frame in frames)]
    for name in (*TIDY_COLUMNS, *extras):
        some = next(frame[name].array for frame in frames if name in frame)
        parts = [
            frame[name]
            if name in frame
            else pd.Series(some.take(np.full(len(frame), -1), allow_fill=True))
            for frame in frames
        ]
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
    gives it. A column of :data:`EXTRA_COLUMNS` is kept, as :func:`flatten`
    keeps it, only where some row has a value (a dataset of fixed schema may
    hold them empty).

    Parameters
    ----------
    path : str or os.PathLike
        A Parquet file (or a folder of them) holding the tidy columns (others
        are ignored).

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
    names = pq.ParquetDataset(path).schema.names  # a file, or a folder (a dataset)
    extras = [name for name in EXTRA_COLUMNS if name in names]
    table = pq.read_table(path, columns=[*TIDY_COLUMNS, *extras])

    def arrow(name: str, type_: pa.DataType) -> pd.arrays.ArrowExtensionArray:
        return pd.arrays.ArrowExtensionArray(table.column(name).cast(type_))

    columns = {
        "objectId": table.column("objectId").to_numpy(),
        "objectType": _categorical(table.column("objectType").cast(pa.string())),
        "portalId": _integers(table.column("portalId")),
        "isDeleted": table.column("isDeleted").to_numpy(),
        "property": _categorical(table.column("property").cast(pa.string())),
        "value": arrow("value", pa.string()),
        "timestamp": table.column("timestamp").cast(pa.timestamp("ms", tz="UTC")).to_pandas(),
        "source": _categorical(table.column("source").cast(pa.string())),
        "sourceId": arrow("sourceId", pa.string()),
        "sourceVid": arrow("sourceVid", _VERSION.field("sourceVid").type),
        "version": table.column("version").to_numpy().astype(np.int32),
    }
    for name in extras:
        extra = table.column(name)
        if extra.null_count < len(extra):
            columns[name] = _extra_column(name, extra.cast(_EXTRA_TYPES[name]))
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

    versioned: bool = False
    """Date-versioned objects (``id``, ``propertiesWithHistory``), else v1 ticket objects."""
    tickets: list[Any] = field(default_factory=list)
    names: list[Any] = field(default_factory=list)
    properties: list[Any] = field(default_factory=list)
    """v1: the property dicts (their ``sourceId``); date-versioned: nothing."""
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
    """Of ``_VERSION_CODED``: :data:`_VERSION` with ``source`` dictionary-encoded."""
    per_ticket: np.ndarray
    per_property: np.ndarray
    extras: dict[str, pa.ChunkedArray] = field(default_factory=dict)
    """Version-level columns of :data:`EXTRA_COLUMNS` that some version has."""


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
    few = isinstance(response, list) and len(response) <= _AT_ONCE
    if few and _v1_tickets(response):  # an update's answer: gathered at once
        gathered = _gathered_at_once(response)
        if gathered is not None:
            try:
                part = _from_tickets(gathered)
            except _CONVERSION_ERRORS:
                part = None  # the general path below names the offending object
            if part is not None:
                return part
    return _convert(_ticket_objects(response), seen=[])


def _v1_tickets(data: Any) -> bool:
    """Whether ``data`` is a list of v1 ticket objects only (each a dict with an objectId)."""
    return isinstance(data, list) and all(type(t) is dict and "objectId" in t for t in data)


def _gathered_at_once(tickets: list[dict[str, Any]]) -> _Gathered | None:
    """What :func:`_gather` gathers from a few v1 ticket objects, in one chunk.

    The same references in the same order, collected by comprehensions and
    ``itertools.chain`` instead of a Python loop per ticket and per property;
    None when anything is not as :func:`_gather` expects (the general path
    then names the problem). One chunk, whatever its versions: the frame is
    the same, and the tickets of one answer are few (see :data:`_AT_ONCE`).
    """
    try:
        props = [t["properties"] for t in tickets]
        if not all(type(p) is dict for p in props):
            return None
        properties = list(itertools.chain.from_iterable(map(dict.values, props)))
        # a property without versions is its own one version, as in _gather
        histories = [p.get("versions") or (p,) for p in properties]
        per_property = list(map(len, histories))
    except (KeyError, TypeError, AttributeError):
        return None
    versions = list(itertools.chain.from_iterable(histories))
    return _Gathered(
        tickets=list(tickets),
        names=list(itertools.chain.from_iterable(props)),
        properties=properties,
        versions=versions,
        per_ticket=list(map(len, props)),
        per_property=per_property,
    )


def _convert(tickets: Iterable[Any], seen: list[Any] | None) -> _Converted:
    """Gather and convert ``tickets`` chunk by chunk; ``seen`` keeps them to locate an error.

    Without ``seen`` (a streamed text) any problem raises :class:`NotStreamable`.
    """
    parts: list[_Converted] = []
    for gathered in _gather(tickets, seen):
        try:
            part = _from_objects(gathered) if gathered.versioned else _from_tickets(gathered)
        except _CONVERSION_ERRORS as exc:
            _raise_located(seen, exc)
        if part is None:
            _raise_located(seen, None)
        parts.append(part)
        del gathered  # else this chunk's objects live on while the next is parsed
    return _concat(parts)


def _from_tickets(gathered: _Gathered) -> _Converted | None:
    """One chunk of v1 ticket objects as Arrow; None when a required field is missing."""
    envelope = pa.array(gathered.tickets, type=_TICKET, memory_pool=_POOL)
    names = pa.array(gathered.names, type=pa.string(), memory_pool=_POOL)
    property_source_ids = pa.array(gathered.properties, type=_PROPERTY, memory_pool=_POOL).field(
        "sourceId"
    )
    versions = _chunked(pa.array(gathered.versions, type=_VERSION_CODED, memory_pool=_POOL))
    if versions.null_count or any(envelope.field(f).null_count for f in _REQUIRED):
        return None
    return _Converted(
        envelope=envelope,
        names=pa.chunked_array([names]),
        properties=pa.chunked_array([property_source_ids]),
        versions=pa.chunked_array([_vids_filled(v) for v in versions.chunks], type=_VERSION_CODED),
        per_ticket=np.array(gathered.per_ticket, dtype=np.int64),
        per_property=np.array(gathered.per_property, dtype=np.int64),
    )


def _from_objects(gathered: _Gathered) -> _Converted | None:
    """One chunk of date-versioned objects as Arrow, in v1's columns; None when one is bad.

    ``id`` (text) becomes the int64 ``objectId``, ``archived`` ``isDeleted``,
    ``sourceType`` ``source`` and the ISO 8601 timestamps epoch milliseconds;
    ``objectType``, ``portalId`` and ``sourceVid`` are null.
    """
    objects = pa.array(gathered.tickets, type=_OBJECT, memory_pool=_POOL)
    ids, archived = objects.flatten()
    if ids.null_count or pc.all(pc.match_substring_regex(ids, f"^{_ID_DIGITS}$")).as_py() is False:
        return None
    count = len(objects)
    envelope = pa.StructArray.from_arrays(
        [
            pc.cast(ids, pa.int64()),
            pa.nulls(count, pa.string()),
            pa.nulls(count, pa.int64()),
            archived,
        ],
        fields=list(_TICKET),
    )
    raw = _chunked(pa.array(gathered.versions, type=_VALUE_WITH_TIMESTAMP, memory_pool=_POOL))
    if raw.null_count:
        return None
    versions: list[pa.StructArray] = []
    extras: dict[str, list[pa.Array]] = {name: [] for name in EXTRA_COLUMNS}
    for chunk in raw.chunks:
        value, iso, source, source_id, label, user = chunk.flatten()
        stamp = iso_ms(iso)
        if stamp.null_count > iso.null_count:
            return None
        vids = pa.nulls(len(chunk), _VERSION.field("sourceVid").type)
        versions.append(
            pa.StructArray.from_arrays(
                [value, stamp, pc.dictionary_encode(source), source_id, vids],
                fields=list(_VERSION_CODED),
            )
        )
        extras["sourceLabel"].append(label)
        extras["updatedByUserId"].append(user)
    names = pa.array(gathered.names, type=pa.string(), memory_pool=_POOL)
    return _Converted(
        envelope=envelope,
        names=pa.chunked_array([names]),
        properties=pa.chunked_array([pa.nulls(len(names), pa.string())]),
        versions=pa.chunked_array(versions, type=_VERSION_CODED),
        per_ticket=np.array(gathered.per_ticket, dtype=np.int64),
        per_property=np.array(gathered.per_property, dtype=np.int64),
        extras={
            name: pa.chunked_array(chunks, type=_EXTRA_TYPES[name])
            for name, chunks in extras.items()
            if any(len(chunk) > chunk.null_count for chunk in chunks)
        },
    )


def _vids_filled(versions: pa.StructArray) -> pa.StructArray:
    """v1 versions (of ``_VERSION_CODED``) with ``[]`` where ``sourceVid`` is absent."""
    *fields, vids = versions.flatten()
    if not vids.null_count:
        return versions
    filled = pc.fill_null(vids, pa.scalar([], type=vids.type))
    return pa.StructArray.from_arrays([*fields, filled], fields=list(_VERSION_CODED))


def iso_ms(text: pa.Array) -> pa.Array:
    """ISO 8601 moments as int64 epoch milliseconds (UTC): how the new APIs' times are read.

    Each text is a date and a time with a zone (``Z``, ``+02:00``, ``+0200``,
    ``+02``); digits beyond the millisecond are floored. Null where the text
    is null or not such a moment (``"31/01/2024"``, ``"2024-02-30T00:00Z"``,
    a date alone, a time without a zone, epoch milliseconds).

    Examples
    --------
    >>> import pyarrow as pa
    >>> moments = ["2018-04-04T20:09:22.016Z", "1970-01-01T02:00+02:00", "2024-01-31", None]
    >>> iso_ms(pa.array(moments))
    <pyarrow.lib.Int64Array object at ...>
    [
      1522872562016,
      0,
      null,
      null
    ]
    """
    try:  # HubSpot's own form, in C++ without a look at the texts
        return pc.cast(pc.cast(text, _MS_UTC), pa.int64())
    except pa.ArrowInvalid:
        pass
    none = pa.scalar(None, pa.string())
    shaped = pc.if_else(pc.match_substring_regex(text, _ISO), text, none)
    floored = pc.replace_substring_regex(shaped, r"(\.[0-9]{3})[0-9]+", r"\1")
    try:
        return pc.cast(pc.cast(floored, _MS_UTC), pa.int64())
    except pa.ArrowInvalid:  # a day that is not in the calendar: each distinct text alone
        distinct = pc.unique(floored)
        read = pa.array([_one_iso_ms(t) for t in distinct.to_pylist()], type=pa.int64())
        return read.take(pc.index_in(floored, value_set=distinct))


def _one_iso_ms(text: str | None) -> int | None:
    """One text as :func:`iso_ms` reads it, alone (None: it does not read)."""
    try:
        moment = pc.cast(pa.array([text], pa.string()), _MS_UTC)
    except pa.ArrowInvalid:
        return None
    read: int | None = moment.cast(pa.int64())[0].as_py()
    return read


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
        extras={n: pa.chunked_array([e.combine_chunks()]) for n, e in whole.extras.items()},
    )


def _concat(parts: Sequence[_Converted]) -> _Converted:
    """Several converted responses as one (no part at all: an empty one)."""
    if not parts:
        return _convert([], seen=None)
    if len(parts) == 1:
        return parts[0]

    def extra(part: _Converted, name: str) -> list[pa.Array]:
        chunks: list[pa.Array] = (
            part.extras[name].chunks
            if name in part.extras
            else [pa.nulls(len(part.versions), _EXTRA_TYPES[name])]
        )
        return chunks

    present = [name for name in EXTRA_COLUMNS if any(name in p.extras for p in parts)]
    return _Converted(
        envelope=pa.concat_arrays([p.envelope for p in parts]),
        names=pa.chunked_array([c for p in parts for c in p.names.chunks], type=pa.string()),
        properties=pa.chunked_array(
            [c for p in parts for c in p.properties.chunks], type=pa.string()
        ),
        versions=pa.chunked_array(
            [c for p in parts for c in p.versions.chunks], type=_VERSION_CODED
        ),
        per_ticket=np.concatenate([p.per_ticket for p in parts]),
        per_property=np.concatenate([p.per_property for p in parts]),
        extras={
            name: pa.chunked_array(
                [c for p in parts for c in extra(p, name)], type=_EXTRA_TYPES[name]
            )
            for name in present
        },
    )


def _is_object(data: Any) -> bool:
    """Whether ``data`` is a date-versioned (or v3) object rather than a v1 ticket object."""
    return isinstance(data, dict) and "objectId" not in data and not _OBJECT_KEYS.isdisjoint(data)


def _gather(tickets: Iterable[Any], seen: list[Any] | None) -> Iterator[_Gathered]:
    """The ticket objects, properties and versions of ``tickets`` by reference, in chunks.

    A chunk holds objects of one API: one begins where the shape changes.
    """
    out = _Gathered()
    for ticket in tickets:
        versioned = _is_object(ticket)
        if versioned is not out.versioned:
            if out.tickets:
                yield out
            out = _Gathered(versioned=versioned)
        out.tickets.append(ticket)
        if seen is not None:
            seen.append(ticket)
        try:
            if versioned:
                _gather_object(ticket, out)
            else:
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
            out = _Gathered(versioned=versioned)
    yield out


def _gather_object(obj: dict[str, Any], out: _Gathered) -> None:
    """A date-versioned object's properties into ``out``: each one's history, else its text."""
    props = obj.get("properties")
    props = {} if props is None else props
    history = obj.get("propertiesWithHistory")
    history = {} if history is None else history
    count = 0
    for name, value in props.items():
        versions = history.get(name)
        if versions:
            out.versions.extend(versions)
            out.per_property.append(len(versions))
        elif value is None:  # asked for, never set: v1 leaves such a property out
            continue
        else:
            out.versions.append({"value": value})
            out.per_property.append(1)
        out.names.append(name)
        count += 1
    for name, versions in history.items():
        if versions and name not in props:
            out.versions.extend(versions)
            out.per_property.append(len(versions))
            out.names.append(name)
            count += 1
    out.per_ticket.append(count)


def _streamed(text: str | bytes | bytearray, block: int) -> Iterator[Any]:
    """The ticket objects of a JSON text, as :func:`_ticket_objects` finds them, one at a time.

    Streams a top-level array, page, batch-read map or date-versioned answer
    (whose first member is one of its own: ``status``, ``results``, ...);
    raises :class:`NotStreamable` for anything else (a single ticket, say),
    and for whatever the whole parse would read differently (a repeated key).
    """
    reader = Reader(text, block=block)
    first = reader.peek()
    if first == "[":
        for item in reader.elements():
            yield from _ticket_objects(item, parsed=True)
    elif first == "{":
        keys: set[str] = set()
        envelope = None  # the member holding the tickets: "objects", "results"; None: a map
        for key in reader.members():
            if key in keys or key == "objectId":
                raise NotStreamable("a repeated key, or a ticket")
            if not keys:
                envelope = (
                    "objects" if key == "objects" else "results" if key in _ANSWER_KEYS else None
                )
            keys.add(key)
            if key == envelope:
                yield from reader.elements()
            elif envelope == "objects" or (
                envelope == "results" and key != "objects" and key not in _ANY_OBJECT_KEYS
            ):
                reader.value()
            elif envelope or key in _ANY_OBJECT_KEYS or key in ("objects", "results"):
                raise NotStreamable("a ticket, a page or an answer, not a map")
            else:
                yield reader.value()
        if envelope == "results" and envelope not in keys:
            raise NotStreamable("an answer without results")
    else:
        raise NotStreamable("neither an array nor an object")
    reader.end()


def _ticket_objects(data: Any, *, parsed: bool = False) -> Iterator[Any]:
    """Every ticket object in ``data``, in order: pages, answers, maps, iterables and JSON unpacked.

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
        elif "results" in data and _ANY_OBJECT_KEYS.isdisjoint(data):
            results = data["results"]
            if not isinstance(results, list):
                raise FlattenError(f"an answer's results is not a list (got {_kind(results)})")
            yield from results
        elif _ANY_OBJECT_KEYS.isdisjoint(data):
            if data.get("status") == "error" or {"category", "message"} <= data.keys():
                raise FlattenError(
                    f"an error answer holds no tickets: {_short(data.get('message'))}"
                )
            yield from data.values()
        else:
            yield data
    elif _v1_tickets(data):
        yield from data  # v1 ticket objects (an update's answer): each is one, as below
    elif isinstance(data, Iterable) and not isinstance(data, _TEXT):
        for item in data:
            yield from _ticket_objects(item, parsed=parsed)
    else:
        yield data


def _integers(
    values: pa.Array | pa.ChunkedArray, repeats: np.ndarray | None = None
) -> np.ndarray | pd.arrays.IntegerArray:
    """Arrow int64 as numpy ``int64``, or as pandas' nullable ``Int64`` when any is null.

    With ``repeats``, each value ``repeats`` times.
    """

    def repeated(array: np.ndarray) -> np.ndarray:
        return array if repeats is None else np.repeat(array, repeats)

    if not values.null_count:
        return repeated(values.to_numpy())
    whole = repeated(pc.fill_null(values, 0).to_numpy())
    return pd.arrays.IntegerArray(
        whole, repeated(pc.is_null(values).to_numpy(zero_copy_only=False))
    )


def _version_numbers(rows: np.ndarray, total: int) -> np.ndarray:
    """0, 1, ... within each property of ``rows`` rows, as int32, in one array and no other.

    A running sum of steps of 1 that drops back to 0 at each property's first row.
    """
    version = np.ones(total, dtype=np.int32)
    if total:
        some = rows[rows > 0]
        starts = np.cumsum(some[:-1])
        np.subtract(1, some, out=some)
        version[0] = 0
        version[starts] = some[:-1]
        del some, starts
        np.cumsum(version, out=version)
    return version


def _with_newest_source_id(
    source_id: pa.ChunkedArray, property_source_ids: pa.ChunkedArray, rows: np.ndarray
) -> pa.ChunkedArray | pa.Array:
    """The versions' ``sourceId``, the property's own filling version 0 where it has none.

    The property-level sourceId is the newest version's: it may stand in for version 0 only.
    """
    if property_source_ids.null_count == len(property_source_ids):
        return source_id  # nothing to fill in (as the date-versioned API answers): no copy
    index = np.int32 if len(rows) < 2**31 else np.int64
    newest = np.zeros(len(source_id), dtype=bool)
    newest[(np.cumsum(rows) - rows)[rows > 0]] = True
    fill = property_source_ids.take(np.repeat(np.arange(len(rows), dtype=index), rows))
    filled: pa.ChunkedArray | pa.Array = pc.coalesce(
        source_id, pc.if_else(pa.array(newest), fill, pa.scalar(None, pa.string()))
    )
    return filled


def _extra_column(name: str, values: pa.Array | pa.ChunkedArray) -> Any:
    """A column of :data:`EXTRA_COLUMNS` with its tidy dtype: ``Int64`` or pyarrow strings."""
    if name == "updatedByUserId":
        return _integers(values)
    return pd.arrays.ArrowExtensionArray(values)


def _chunked(array: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray:
    """pa.array returns a ChunkedArray when strings overflow 2 GiB; make that the only case."""
    return array if isinstance(array, pa.ChunkedArray) else pa.chunked_array([array])


def _categorical(
    values: pa.Array | pa.ChunkedArray, repeats: np.ndarray | None = None
) -> pd.Categorical:
    """Strings, plain or dictionary-encoded, as a categorical: categories in order of appearance.

    The categories are pyarrow strings; the codes the smallest signed integer that holds
    them, as pandas picks it (int8 up to 126 categories), written chunk by chunk (no
    int32 copy of the whole column). With ``repeats``, each value ``repeats`` times
    (repeating the codes, not the strings).
    """
    chunked = _chunked(values)
    encoded = chunked if pa.types.is_dictionary(chunked.type) else pc.dictionary_encode(chunked)
    # Each chunk's dictionary (shared by all when encoded here) as codes of the categories.
    categories: dict[str, int] = {}
    recode = [
        np.array(
            [categories.setdefault(text, len(categories)) for text in chunk.dictionary.to_pylist()]
            + [-1]
        )
        for chunk in encoded.chunks
    ]
    narrow = next(t for t in (np.int8, np.int16, np.int32) if len(categories) < np.iinfo(t).max)
    codes = np.empty(len(encoded), dtype=narrow)
    start = 0
    for chunk, to_codes in zip(encoded.chunks, recode, strict=True):
        local = pc.fill_null(chunk.indices, len(to_codes) - 1).to_numpy()
        codes[start : start + len(chunk)] = to_codes[local]
        start += len(chunk)
    if repeats is not None:
        codes = np.repeat(codes, repeats)
    names = pa.array(list(categories), pa.string())
    dtype = pd.CategoricalDtype(pd.Index(pd.arrays.ArrowExtensionArray(names)))
    categorical: pd.Categorical = pd.Categorical.from_codes(codes, dtype=dtype)
    return categorical


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
    if _is_object(ticket):
        return _object_problem(ticket)
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


def _object_problem(obj: dict[Any, Any]) -> str | None:
    """What is wrong with one date-versioned object, as :func:`_ticket_problem` says it."""
    object_id = obj.get("id")
    if object_id is None:
        return ": no id"
    if not (
        isinstance(object_id, str)
        and re.fullmatch(_ID_DIGITS, object_id)
        and int(object_id) < 2**63
    ):
        return f": bad id {_short(object_id)} (expected the digits of an int64, as text)"
    problem = _fields_problem(obj, _OBJECT)
    if problem is not None:
        return f": {problem}"
    maps = {key: obj.get(key) for key in ("properties", "propertiesWithHistory")}
    for key, value in maps.items():
        if value is not None and not isinstance(value, dict):
            return f": {key} is not a JSON object (got {_kind(value)})"
    for name, value in (maps["properties"] or {}).items():
        if not isinstance(name, str):
            return f": property name {_short(name)} is not a string"
        if value is not None and not _converts([value], pa.string()):
            return f", property {name!r}: bad value {_short(value)} (expected string)"
    for name, history in (maps["propertiesWithHistory"] or {}).items():
        if not isinstance(name, str):
            return f": property name {_short(name)} is not a string"
        problem = _history_problem(history)
        if problem is not None:
            return f", property {name!r}{problem}"
    return None


def _history_problem(history: Any) -> str | None:
    """What is wrong with one property's ``propertiesWithHistory``, as ``", version i: ..."``."""
    if not history:
        return None
    if not isinstance(history, list):
        return f": its history is not a list (got {_kind(history)})"
    for index, version in enumerate(history):
        if not isinstance(version, dict):
            return f", version {index}: not a JSON object (got {_kind(version)})"
        problem = _fields_problem(version, _VALUE_WITH_TIMESTAMP)
        stamp = version.get("timestamp")
        if problem is None and stamp is not None and iso_ms(pa.array([stamp])).null_count:
            problem = f"bad timestamp {_short(stamp)} (expected ISO 8601 with a zone)"
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
