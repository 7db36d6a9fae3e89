"""What a push would change: a wide frame's encoded values against HubSpot's current ones.

The frame is encoded exactly as :func:`~pandas_hubtickets._payload.encode_frame`
would send it, and each string is compared with the value HubSpot holds, so
``"3"`` and ``3.0`` are the same value and so are a date and its midnight
milliseconds. HubSpot's answers (read in batches of 100 tickets, up to
``client.max_workers`` at a time, through the client's rate limiter and
retries) are converted to Arrow as they arrive, one C++ call a batch; the
comparison is one pyarrow kernel per property, never a Python loop per cell.

An empty string and no value at all are the same: sending ``""`` to a
property HubSpot has never set changes nothing.

A frame keyed by a unique property (``id_property``, versioned APIs only) is
read by that property (``batch_read(id_property=...)``) and matched to the
answers by its values; each changed cell also gets the ticket's HubSpot id
(``hs_object_id``), which an undo file keeps, so an undo finds the very
tickets the push changed even if their keys change later.

The versioned APIs (v3, 2026-03) answer ``SimplePublicObject`` s, whose
``datetime`` values are ISO 8601 and ``date`` values ``YYYY-MM-DD``, where
what is sent is epoch milliseconds: :func:`versioned_array` turns their
answers into the same Arrow struct as v1's, those values (found by the
property definitions' ``type``) rewritten as the epoch milliseconds they
are, so both APIs compare like with like.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ._api import endpoints, page_objects
from ._payload import MAX_BATCH, EncodedFrame, NaMode, encode_frame
from ._progress import progress_bar

if TYPE_CHECKING:
    from ._client import TicketsClient

__all__ = [
    "NOT_FOUND",
    "TICKET_ID",
    "Changes",
    "Current",
    "answer_array",
    "compare",
    "current_from",
    "diff",
    "key_property",
    "read_current",
    "versioned_array",
]

#: ``error`` of a row whose ticket does not exist or was deleted (HubSpot's own code).
NOT_FOUND = "OBJECT_NOT_FOUND"
#: The column of HubSpot's ticket ids in the changes of a frame keyed by an ``id_property``.
TICKET_ID = "hs_object_id"
_GONE = "ticket {} does not exist or was deleted: nothing can be changed"
_GONE_KEY = "no ticket has {} {!r} (or it was deleted): nothing can be changed"


@dataclass(frozen=True)
class Current:
    """HubSpot's current values of some tickets (one entry per ticket read).

    Attributes
    ----------
    object_ids : numpy.ndarray
        The tickets HubSpot returned and that are not deleted (int64); read
        by an ``id_property``, that property's values (objects, text).
    values : tuple of pyarrow.StringArray
        One array per property name, aligned with ``object_ids``; null where
        the ticket has no value.
    hubspot_ids : numpy.ndarray or None
        Read by an ``id_property``: the tickets' HubSpot ids (int64), aligned
        with ``object_ids``; None when ``object_ids`` are those ids.
    """

    object_ids: np.ndarray
    values: tuple[pa.StringArray, ...]
    hubspot_ids: np.ndarray | None = None

    @property
    def ticket_ids(self) -> np.ndarray:
        """The tickets' HubSpot ids (int64), however they were read."""
        return self.object_ids if self.hubspot_ids is None else self.hubspot_ids


def _answer_type(names: Sequence[str], key: pa.DataType | None = None) -> pa.StructType:
    """What a diff reads of a ticket; read by a ``key`` (its type), HubSpot's id as ``ticketId``."""
    value = pa.struct([("value", pa.string())])
    by_key = [] if key is None else [("ticketId", pa.int64())]
    return pa.struct(
        [
            ("objectId", pa.int64() if key is None else key),
            ("isDeleted", pa.bool_()),
            ("properties", pa.struct([(n, value) for n in names])),
            *by_key,
        ]
    )


def answer_array(tickets: Sequence[Mapping[str, Any]], names: Sequence[str]) -> pa.StructArray:
    """HubSpot's ticket objects as one Arrow struct array of what a diff needs (one C++ call).

    Keys other than ``objectId``, ``isDeleted`` and each property's ``value``
    are never looked at; a value that is not text is read as text.
    """
    try:
        return pa.array(tickets, type=_answer_type(names))
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # HubSpot sends text; be lenient
        return pa.array([_as_text(t, names) for t in tickets], type=_answer_type(names))


def _epoch_text(values: pa.StringArray, kind: str | None) -> pa.StringArray:
    """``date``/``datetime`` values in ISO 8601 as epoch ms text; anything else unchanged.

    Examples
    --------
    >>> _epoch_text(pa.array(["2024-01-31", "1706659200000", None, ""]), "date").to_pylist()
    ['1706659200000', '1706659200000', None, '']
    >>> _epoch_text(pa.array(["2024-01-31T12:00:00.000Z"]), "datetime").to_pylist()
    ['1706702400000']
    >>> _epoch_text(pa.array(["2024-01-31"]), "string").to_pylist()
    ['2024-01-31']
    """
    if kind not in ("date", "datetime") or len(values) == 0:
        return values
    moments = pd.to_datetime(
        pd.Series(values.to_numpy(zero_copy_only=False), dtype=object),
        format="ISO8601",
        utc=True,
        errors="coerce",
    )
    read = moments.notna().to_numpy()
    ms = moments.dt.as_unit("ms").to_numpy(dtype="datetime64[ms]").astype(np.int64)
    text = pc.cast(pa.array(ms, pa.int64(), mask=~read), pa.string())
    return pc.if_else(pa.array(read), text, values)


def versioned_array(
    objects: Sequence[Mapping[str, Any]],
    names: Sequence[str],
    kinds: Mapping[str, str | None],
    id_property: str | None = None,
) -> pa.StructArray:
    """Versioned ``SimplePublicObject`` s as the struct of :func:`answer_array` (one C++ call).

    ``id`` becomes the int64 ``objectId`` (with ``id_property``: that
    property's value, as text, and ``id`` the int64 ``ticketId``),
    ``archived`` ``isDeleted``, and each value of a property whose ``kinds``
    entry is ``date`` or ``datetime`` the epoch milliseconds it stands for.

    Examples
    --------
    >>> objs = [{"id": "7", "archived": False, "properties": {"due": "2024-01-31"}}]
    >>> arr = versioned_array(objs, ["due"], {"due": "date"})
    >>> current_from([arr], ["due"]).values[0].to_pylist()
    ['1706659200000']
    """
    wanted = [*names, id_property] if id_property is not None else list(names)
    shape = pa.struct(
        [
            ("id", pa.string()),
            ("archived", pa.bool_()),
            ("properties", pa.struct([(n, pa.string()) for n in dict.fromkeys(wanted)])),
        ]
    )
    try:
        raw = pa.array(objects, type=shape)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # HubSpot sends text; be lenient
        raw = pa.array([_versioned_text(o, wanted) for o in objects], type=shape)
    props = pc.struct_field(raw, [2])
    values = [
        pa.StructArray.from_arrays(
            [_epoch_text(pc.struct_field(props, [shape[2].type.get_field_index(n)]), kinds.get(n))],
            names=["value"],
        )
        for n in names
    ]
    ticket = pc.cast(pc.struct_field(raw, [0]), pa.int64())
    if id_property is None:
        key, by_key = ticket, []
    else:
        key = pc.struct_field(props, [shape[2].type.get_field_index(id_property)])
        by_key = [ticket]
    kind = _answer_type(names, None if id_property is None else key.type)
    properties = (
        pa.StructArray.from_arrays(values, fields=list(kind[2].type))
        if names
        else pa.array([{}] * len(raw), kind[2].type)
    )
    return pa.StructArray.from_arrays(
        [key, pc.struct_field(raw, [1]), properties, *by_key], fields=list(kind)
    )


def _versioned_text(obj: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    """A versioned object whose id and property values are text."""
    props = obj.get("properties") or {}
    return {
        "id": None if obj.get("id") is None else str(obj["id"]),
        "archived": obj.get("archived"),
        "properties": {n: None if props.get(n) is None else str(props[n]) for n in names},
    }


def current_from(arrays: Sequence[pa.StructArray], names: Sequence[str]) -> Current:
    """The current values in the :func:`answer_array` of several reads (deleted ones left out).

    Examples
    --------
    >>> tickets = [{"objectId": 7, "properties": {"status": {"value": "OPEN"}}},
    ...            {"objectId": 8, "isDeleted": True, "properties": {}}]
    >>> got = current_from([answer_array(tickets, ["status", "subject"])], ["status", "subject"])
    >>> got.object_ids.tolist(), [v.to_pylist() for v in got.values]
    ([7], [['OPEN'], [None]])
    """
    if not arrays:
        arrays = [answer_array([], names)]
    arr = pa.concat_arrays(list(arrays))
    arr = arr.filter(pc.invert(pc.fill_null(pc.struct_field(arr, [1]), False)))
    key = pc.struct_field(arr, [0])
    ids = key.to_numpy(zero_copy_only=False)
    values = tuple(pc.struct_field(arr, [2, i, 0]) for i in range(len(names)))
    if pa.types.is_integer(key.type):
        return Current(ids.astype(np.int64), values)
    tickets = pc.fill_null(pc.struct_field(arr, [3]), 0).to_numpy(zero_copy_only=False)
    return Current(ids, values, tickets.astype(np.int64))


def _as_text(ticket: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    """A ticket object whose property values are text."""
    props = ticket.get("properties") or {}
    values = {}
    for name in names:
        prop = props.get(name)
        value = prop.get("value") if isinstance(prop, Mapping) else None
        values[name] = {"value": None if value is None else str(value)}
    return {
        "objectId": ticket.get("objectId"),
        "isDeleted": ticket.get("isDeleted"),
        "properties": values,
    }


def _kinds(
    client: TicketsClient, definitions: Sequence[Mapping[str, Any]] | None
) -> dict[str, str | None]:
    """Each property's ``type``, from ``definitions`` or (if None) ``client.properties()``."""
    records = client.properties() if definitions is None else definitions
    return {str(d.get("name")): d.get("type") for d in records}


def read_current(
    client: TicketsClient,
    object_ids: np.ndarray,
    names: Sequence[str],
    *,
    progress: bool | None = False,
    definitions: Sequence[Mapping[str, Any]] | None = None,
    id_property: str | None = None,
) -> Current:
    """Read the current values of ``names`` for these tickets: one request per 100 tickets.

    The batches go out up to ``client.max_workers`` at a time, through the
    client's rate limiter and retries; each answer is converted to Arrow in
    the worker that read it. Ids that are not positive (rows with a bad id)
    are not read. On a versioned API, ``date`` and ``datetime`` values are
    read as the epoch milliseconds they stand for; their types come from
    ``definitions`` (what ``client.properties()`` returned), read here when
    not given. With ``id_property`` (versioned APIs only) ``object_ids``
    hold that property's values (text) and so does :attr:`Current.object_ids`.

    Raises
    ------
    HubSpotError, TransportError
        A batch could not be read after the client's retries.
    ConfigurationError
        ``id_property`` with the v1 API.
    """
    if id_property is None:
        ids = pd.unique(object_ids[object_ids > 0])
    else:
        ids = pd.unique(object_ids[pd.notna(object_ids)])
    chunks = [ids[i : i + MAX_BATCH] for i in range(0, len(ids), MAX_BATCH)]
    wanted = list(names)
    versioned = endpoints(client.api).versioned
    kinds = _kinds(client, definitions) if versioned and len(ids) else {}

    def read(chunk: np.ndarray) -> pa.StructArray:
        answer = client.batch_read(chunk.tolist(), wanted, history=False, id_property=id_property)
        if versioned:
            return versioned_array(page_objects(answer), wanted, kinds, id_property)
        return answer_array(page_objects(answer), wanted)

    arrays: list[pa.StructArray] = []
    pool = ThreadPoolExecutor(max(1, client.max_workers), "hubtickets-read")
    with progress_bar(len(ids), desc="hubtickets read", unit="ticket", enabled=progress) as bar:
        try:
            for chunk, future in [(c, pool.submit(read, c)) for c in chunks]:
                arrays.append(future.result())
                bar.update(len(chunk))
        finally:  # a failed read or Ctrl-C: the reads not started never start
            pool.shutdown(wait=True, cancel_futures=True)
    return current_from(arrays, wanted)


@dataclass(frozen=True)
class Changes:
    """How an encoded frame differs from HubSpot's current values, cell by cell.

    Attributes
    ----------
    encoded : EncodedFrame
        The frame as it would be sent in full.
    found : numpy.ndarray
        Per row: the ticket exists and is not deleted.
    old : tuple of pyarrow.StringArray
        Per property, per row: HubSpot's current value (null: none).
    changed : tuple of numpy.ndarray
        Per property, per row: the cell is sent and differs from ``old``.
    ticket_ids : numpy.ndarray
        Per row: the ticket's HubSpot id (int64; 0 where not found).
    """

    encoded: EncodedFrame
    found: np.ndarray
    old: tuple[pa.StringArray, ...]
    changed: tuple[np.ndarray, ...]
    ticket_ids: np.ndarray

    @property
    def missing(self) -> np.ndarray:
        """Rows with something to send whose ticket does not exist or was deleted."""
        missing: np.ndarray = self.encoded.sendable & ~self.found & _identified(self.encoded)
        return missing

    @property
    def any_changed(self) -> np.ndarray:
        """Rows with at least one changed cell."""
        mask = np.zeros(len(self.encoded), dtype=bool)
        for changed in self.changed:
            mask |= changed
        return mask

    def only_changed(self) -> EncodedFrame:
        """The encoded frame keeping only the changed cells (the others null: not sent)."""
        values = tuple(
            pc.if_else(pa.array(changed), arr, pa.nulls(len(arr), pa.string()))
            for arr, changed in zip(self.encoded.values, self.changed, strict=True)
        )
        return replace(self.encoded, values=values)

    def frame(self, rows: np.ndarray | None = None) -> pd.DataFrame:
        """One row per changed cell (and one per missing ticket), in row then column order.

        Columns ``objectId`` (the row's id as written: with an
        ``id_property``, that property's value), ``property``, ``old``
        (HubSpot's value, missing when it has none), ``new`` (what would be
        sent), ``problem`` (missing, or why the row cannot be changed), and
        with an ``id_property`` ``hs_object_id`` (the ticket's HubSpot id;
        missing where none was found); the index holds the input rows'
        labels. ``rows`` (a boolean mask) keeps only those rows.
        """
        keep = np.ones(len(self.encoded), dtype=bool) if rows is None else rows
        names = self.encoded.names
        positions, props, olds, news = [], [], [], []
        for j, (old, new, changed) in enumerate(
            zip(self.old, self.encoded.values, self.changed, strict=True)
        ):
            pos = np.flatnonzero(changed & keep)
            take = pa.array(pos, pa.int64())
            positions.append(pos)
            props.append(np.full(len(pos), j, dtype=np.int32))
            olds.append(old.take(take))
            news.append(new.take(take))
        gone = np.flatnonzero(self.missing & keep)
        positions.append(gone)
        props.append(np.full(len(gone), -1, dtype=np.int32))
        olds.append(pa.nulls(len(gone), pa.string()))
        news.append(pa.nulls(len(gone), pa.string()))
        pos = np.concatenate(positions)
        prop = np.concatenate(props)
        order = np.lexsort((prop, pos))
        take = pa.array(order, pa.int64())
        rows = pos[order]
        ids = self.encoded.id_values[rows]
        problem = np.full(len(order), None, dtype=object)
        is_gone = prop[order] < 0
        key = key_property(self.encoded)
        why = [_GONE.format(i) if key is None else _GONE_KEY.format(key, i) for i in ids[is_gone]]
        problem[is_gone] = why
        categories = pd.Index(pd.arrays.ArrowExtensionArray(pa.array(names, pa.string())))
        codes = prop[order]
        frame: pd.DataFrame = pd.DataFrame(
            {
                "objectId": ids,
                "property": pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(categories)),
                "old": pd.arrays.ArrowExtensionArray(pa.concat_arrays(olds).take(take)),
                "new": pd.arrays.ArrowExtensionArray(pa.concat_arrays(news).take(take)),
                "problem": pd.array(problem, dtype="string"),
            },
            index=self.encoded.index[rows],
        )
        if key is not None:
            tickets = self.ticket_ids[rows]
            frame[TICKET_ID] = pd.arrays.IntegerArray(tickets, tickets <= 0)  # 0: not found
        return frame


def key_property(encoded: EncodedFrame) -> str | None:
    """The unique property whose values identify ``encoded``'s rows, or None (ticket ids).

    Examples
    --------
    >>> frame = pd.DataFrame({"ref": ["EXT-7"], "subject": ["a"]})
    >>> key_property(encode_frame(frame, id_column="ref", api="2026-03", id_property="ref"))
    'ref'
    >>> key_property(encode_frame(frame.assign(ref=7), id_column="ref")) is None
    True
    """
    name = getattr(encoded.flavor, "id_property", None)
    return name if isinstance(name, str) else None


def _identified(encoded: EncodedFrame) -> np.ndarray:
    """Rows with a valid id (a positive ticket id, or a valid key)."""
    if encoded.keys is None:
        return np.asarray(encoded.object_ids > 0)
    return np.asarray(encoded.keys.is_valid().to_numpy(zero_copy_only=False), dtype=bool)


def compare(encoded: EncodedFrame, current: Current) -> Changes:
    """Compare each cell that would be sent with HubSpot's current value (vectorised).

    A cell is changed when it is sent (not null) and differs from the current
    value, an empty string and no value counting as the same; rows whose
    ticket was not found have no changed cells. A frame keyed by an
    ``id_property`` is matched by those values (``current`` read by them).

    Examples
    --------
    >>> frame = pd.DataFrame({"objectId": [7, 8, 9], "n": [3.0, 4, 5]})
    >>> now = Current(np.array([7, 8]), (pa.array(["3", "5"]),))
    >>> changes = compare(encode_frame(frame), now)
    >>> changes.frame()[["objectId", "old", "new"]].head(1).values.tolist()
    [[8, '5', '4']]
    >>> changes.frame()["problem"].tolist()[1]
    'ticket 9 does not exist or was deleted: nothing can be changed'
    """
    if np.array_equal(current.object_ids, encoded.id_values):  # read in the frame's order
        found = np.ones(len(encoded), dtype=bool)
        aligned = current.values
        tickets = current.ticket_ids
    else:
        at = pd.Index(current.object_ids).get_indexer(encoded.id_values)
        found = at >= 0
        take = pa.array(at, pa.int64(), mask=~found)
        aligned = tuple(now.take(take) for now in current.values)
        tickets = np.zeros(len(encoded), dtype=np.int64)
        tickets[found] = current.ticket_ids[at[found]]
    olds, changed = [], []
    for new, old in zip(encoded.values, aligned, strict=True):
        differs = pc.not_equal(pc.fill_null(old, ""), new)  # null where nothing is sent
        olds.append(old)
        changed.append(pc.fill_null(differs, False).to_numpy(zero_copy_only=False) & found)
    return Changes(encoded, found, tuple(olds), tuple(changed), tickets)


def diff(
    df: pd.DataFrame,
    client: TicketsClient,
    properties: Sequence[Hashable] | str | None = None,
    *,
    id_column: str | None = None,
    na: NaMode = "skip",
    progress: bool | None = False,
    id_property: str | None = None,
) -> pd.DataFrame:
    """Each cell of ``df`` that differs from HubSpot's value; see ``DataFrame.hubtickets.diff``."""
    from ._update import check_client, id_column_of

    check_client(client)
    column = id_column_of(df, id_column, id_property)
    encoded = encode_frame(
        df, properties, id_column=column, na=na, api=client.api, id_property=id_property
    )
    current = read_current(
        client,
        encoded.id_values[encoded.sendable],
        encoded.names,
        progress=progress,
        id_property=id_property,
    )
    return compare(encoded, current).frame()
