"""Analyses of a tidy ticket frame: point-in-time values, spells, transitions, the audit trail.

Pure and vectorised: every function sorts the versions it needs once (ticket,
property, then time, oldest first) and finds what it wants with array
comparisons between neighbouring rows, never a Python loop per ticket.

Time is typed the way :func:`~pandas_hubtickets.flatten` types it: every
moment is ``datetime64[ms, UTC]`` (HubSpot's epoch milliseconds, exactly),
every length of time ``timedelta64[ms]``. Moments given as arguments may be
anything :class:`pandas.Timestamp` reads; naive ones are taken as UTC, as the
encoder takes them. Versions without a timestamp cannot be placed in time and
are left out of every analysis but :func:`current` without ``as_of``.

Two consecutive versions of a property with the same value (an update that
re-sent what was there) are one spell and no transition or change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ._definitions import _Definition, _parse
from ._flatten import current as _current_values
from ._flatten import iso_ms
from .errors import ArgumentTypeError, ConfigurationError, FlattenError

if TYPE_CHECKING:
    from ._client import TicketsClient

__all__ = ["changes", "current", "durations", "transitions"]

Definitions = pd.DataFrame | Sequence[Mapping[str, Any]]
_NAT = np.iinfo(np.int64).min  # NaT as int64
_NEEDED = ("objectId", "property", "value", "timestamp", "source", "sourceId", "version")
_STRING = pd.ArrowDtype(pa.string())
_SHOWN = 5  # bad values quoted per property in a typing error


@dataclass(frozen=True)
class _Versions:
    """Versions ordered by ticket, property, then time (oldest first; ties: older version first).

    ``rows`` are positions in the tidy frame; ``first`` marks each (ticket,
    property)'s oldest version, ``changed`` a version whose value differs from
    the one before it (or that is first).
    """

    rows: np.ndarray
    ms: np.ndarray
    first: np.ndarray
    changed: np.ndarray


def _check(tidy: pd.DataFrame, needed: Sequence[str] = _NEEDED) -> None:
    if not isinstance(tidy, pd.DataFrame):
        raise ArgumentTypeError(f"tidy must be a DataFrame, got {type(tidy).__name__}")
    missing = [c for c in needed if c not in tidy.columns]
    if missing:
        raise FlattenError(f"not a tidy ticket frame: missing column(s) {', '.join(missing)}")


def _epoch_ms(stamps: pd.Series) -> np.ndarray:
    """A datetime column as int64 epoch milliseconds (NaT as ``_NAT``); naive means UTC."""
    if not pd.api.types.is_datetime64_any_dtype(stamps.dtype):
        raise FlattenError(f"timestamp must be a datetime column, got {stamps.dtype}")
    if isinstance(stamps.dtype, pd.DatetimeTZDtype):
        stamps = stamps.dt.tz_convert(None)
    ms: np.ndarray = stamps.to_numpy(dtype="datetime64[ms]").view(np.int64)
    return ms


def _moment_ms(value: Any, name: str) -> int:
    """One moment as epoch milliseconds (naive means UTC)."""
    try:
        moment = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"{name} must be a moment in time, got {value!r}") from exc
    if moment is pd.NaT:
        raise ConfigurationError(f"{name} must be a moment in time, got {value!r}")
    moment = moment.tz_localize("UTC") if moment.tzinfo is None else moment.tz_convert("UTC")
    return int(np.datetime64(moment.tz_convert(None).to_datetime64(), "ms").view(np.int64))


def _moments(ms: np.ndarray) -> pd.arrays.DatetimeArray:
    """int64 epoch milliseconds as ``datetime64[ms, UTC]`` (``_NAT`` as NaT)."""
    moments: pd.arrays.DatetimeArray = pd.array(ms.view("datetime64[ms]")).tz_localize("UTC")
    return moments


def _property_codes(tidy: pd.DataFrame) -> np.ndarray:
    prop = tidy["property"]
    if isinstance(prop.dtype, pd.CategoricalDtype):
        codes: np.ndarray = prop.cat.codes.to_numpy()
        return codes
    return pd.factorize(prop)[0]


def _property_rows(tidy: pd.DataFrame, name: str) -> np.ndarray:
    """Positions of the versions of property ``name``; an error naming the others if none."""
    prop = tidy["property"]
    if isinstance(prop.dtype, pd.CategoricalDtype):
        categories = prop.cat.categories
        found = categories.get_indexer(pd.Index([name]))[0]
        mask = prop.cat.codes.to_numpy() == found if found >= 0 else np.zeros(len(prop), bool)
    else:
        mask = (prop == name).to_numpy(dtype=bool, na_value=False)
    rows = np.flatnonzero(mask)
    if not len(rows) and len(tidy):
        known = ", ".join(repr(str(p)) for p in pd.unique(prop.dropna())[:20])
        raise ConfigurationError(f"no property {name!r} in the tidy frame (it has {known})")
    return rows


def _versions(tidy: pd.DataFrame, rows: np.ndarray, until_ms: int | None = None) -> _Versions:
    """The timed versions at ``rows`` (up to ``until_ms``), by ticket, property, then time."""
    ms = _epoch_ms(tidy["timestamp"])[rows]
    keep = ms != _NAT
    if until_ms is not None:
        keep &= ms <= until_ms
    rows, ms = rows[keep], ms[keep]
    ticket = tidy["objectId"].to_numpy()[rows]
    prop = _property_codes(tidy)[rows]
    older = -tidy["version"].to_numpy()[rows]  # a higher version number is older
    order = np.lexsort((older, ms, prop, ticket))
    rows, ms, ticket, prop = rows[order], ms[order], ticket[order], prop[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (ticket[1:] != ticket[:-1]) | (prop[1:] != prop[:-1])
    codes = pd.factorize(tidy["value"].array.take(rows))[0]  # NA is a value of its own: -1
    changed = first.copy()
    changed[1:] |= codes[1:] != codes[:-1]
    return _Versions(rows, ms, first, changed)


def durations(
    tidy: pd.DataFrame, property: str = "hs_pipeline_stage", until: Any = None
) -> pd.DataFrame:
    """Every spell of each value of a property, ticket by ticket.

    A spell starts with a version whose value differs from the one before it
    (a re-sent identical value does not start a new one) and ends when the
    next spell starts.

    Parameters
    ----------
    tidy : pandas.DataFrame
        A tidy frame (:func:`~pandas_hubtickets.flatten`).
    property : str, default "hs_pipeline_stage"
        The property whose values are followed.
    until : timestamp, optional
        Ends the open spells (the current values) at this moment; versions
        after it are left out and a spell running past it is cut there.
        Without it, an open spell's ``end`` and ``duration`` are missing.

    Returns
    -------
    pandas.DataFrame
        One row per spell, by ticket then time: ``objectId`` (int64),
        ``value`` (the dtype of ``tidy["value"]``), ``start`` and ``end``
        (``datetime64[ms, UTC]``), ``duration`` (``timedelta64[ms]``) and
        ``source`` (the dtype of ``tidy["source"]``) of the change that
        started the spell.

    Examples
    --------
    >>> import pandas_hubtickets as ht
    >>> stage = {"versions": [
    ...     {"value": "3", "timestamp": 172_800_000, "source": "CRM_UI"},
    ...     {"value": "2", "timestamp": 7_200_000, "source": "WORKFLOWS"},
    ...     {"value": "2", "timestamp": 3_600_000, "source": "WORKFLOWS"},
    ...     {"value": "1", "timestamp": 0, "source": "API"},
    ... ]}
    >>> tidy = ht.flatten({"objectId": 1, "portalId": 7, "properties": {"stage": stage}})
    >>> durations(tidy, "stage")[["value", "duration", "source"]]
      value        duration     source
    0     1 0 days 01:00:00        API
    1     2 1 days 23:00:00  WORKFLOWS
    2     3             NaT     CRM_UI
    """
    _check(tidy)
    until_ms = None if until is None else _moment_ms(until, "until")
    v = _versions(tidy, _property_rows(tidy, property), until_ms)
    starts = np.flatnonzero(v.changed)
    rows = v.rows[starts]
    start = v.ms[starts]
    end = np.full(len(starts), _NAT if until_ms is None else until_ms, dtype=np.int64)
    closed = np.flatnonzero(~v.first[starts[1:]])  # spell i is followed by i + 1 of its ticket
    end[closed] = start[closed + 1]
    length = np.where(end == _NAT, _NAT, end - start)
    spells: pd.DataFrame = pd.DataFrame(
        {
            "objectId": tidy["objectId"].to_numpy()[rows],
            "value": tidy["value"].array.take(rows),
            "start": _moments(start),
            "end": _moments(end),
            "duration": pd.array(length.view("timedelta64[ms]")),
            "source": tidy["source"].array.take(rows),
        }
    )
    return spells


def transitions(tidy: pd.DataFrame, property: str = "hs_pipeline_stage") -> pd.DataFrame:
    """Every change of a property's value from one value to another.

    A ticket's first value is not a transition (it came from nothing), nor
    is a version that re-sent the value already there.
    ``transitions(tidy, p).value_counts(["from", "to"])`` counts them.

    Parameters
    ----------
    tidy : pandas.DataFrame
        A tidy frame (:func:`~pandas_hubtickets.flatten`).
    property : str, default "hs_pipeline_stage"

    Returns
    -------
    pandas.DataFrame
        One row per transition, by ticket then time: ``objectId`` (int64),
        ``from`` and ``to`` (the dtype of ``tidy["value"]``), ``at``
        (``datetime64[ms, UTC]``), ``source`` and ``sourceId`` of the change
        (the dtypes of the tidy frame).

    Examples
    --------
    >>> import pandas_hubtickets as ht
    >>> stage = {"versions": [
    ...     {"value": "3", "timestamp": 30, "source": "CRM_UI", "sourceId": "userId:7"},
    ...     {"value": "1", "timestamp": 20, "source": "WORKFLOWS"},
    ...     {"value": "1", "timestamp": 10, "source": "API"},
    ... ]}
    >>> tidy = ht.flatten({"objectId": 1, "portalId": 7, "properties": {"stage": stage}})
    >>> transitions(tidy, "stage")[["from", "to", "source", "sourceId"]]
      from to  source  sourceId
    0    1  3  CRM_UI  userId:7
    """
    _check(tidy)
    v = _versions(tidy, _property_rows(tidy, property))
    at = np.flatnonzero(v.changed & ~v.first)
    rows = v.rows[at]
    values = tidy["value"].array
    moves: pd.DataFrame = pd.DataFrame(
        {
            "objectId": tidy["objectId"].to_numpy()[rows],
            "from": values.take(v.rows[at - 1]),
            "to": values.take(rows),
            "at": _moments(v.ms[at]),
            "source": tidy["source"].array.take(rows),
            "sourceId": tidy["sourceId"].array.take(rows),
        }
    )
    return moves


def changes(tidy: pd.DataFrame, since: Any = None, until: Any = None) -> pd.DataFrame:
    """The audit trail: every change of every property, who or what made it, in time order.

    A property's first value is a change from nothing (``old`` missing); a
    version that re-sent the value already there is not a change.

    Parameters
    ----------
    tidy : pandas.DataFrame
        A tidy frame (:func:`~pandas_hubtickets.flatten`).
    since, until : timestamp, optional
        Keep the changes made at or after ``since`` and before ``until``.

    Returns
    -------
    pandas.DataFrame
        One row per change, oldest first (ties by ticket, then property):
        ``objectId`` (int64), ``property``, ``old`` and ``new`` (the dtype of
        ``tidy["value"]``), ``timestamp`` (``datetime64[ms, UTC]``),
        ``source`` and ``sourceId`` (who or what: ``CRM_UI`` and a user id,
        ``WORKFLOWS``, ``IMPORT``, an integration...), with the tidy frame's
        dtypes.

    Examples
    --------
    >>> import pandas_hubtickets as ht
    >>> status = {"versions": [
    ...     {"value": "CLOSED", "timestamp": 20, "source": "CRM_UI", "sourceId": "userId:7"},
    ...     {"value": "OPEN", "timestamp": 10, "source": "IMPORT", "sourceId": "import:3"},
    ... ]}
    >>> tidy = ht.flatten({"objectId": 1, "portalId": 7, "properties": {"status": status}})
    >>> changes(tidy)[["property", "old", "new", "source", "sourceId"]]
      property   old     new  source  sourceId
    0   status  <NA>    OPEN  IMPORT  import:3
    1   status  OPEN  CLOSED  CRM_UI  userId:7
    """
    _check(tidy)
    v = _versions(tidy, np.arange(len(tidy)))
    keep = v.changed.copy()
    if since is not None:
        keep &= v.ms >= _moment_ms(since, "since")
    if until is not None:
        keep &= v.ms < _moment_ms(until, "until")
    at = np.flatnonzero(keep)
    at = at[np.argsort(v.ms[at], kind="stable")]
    rows = v.rows[at]
    values = tidy["value"].array
    before = np.where(v.first[at], -1, v.rows[at - 1])
    trail: pd.DataFrame = pd.DataFrame(
        {
            "objectId": tidy["objectId"].to_numpy()[rows],
            "property": tidy["property"].array.take(rows),
            "old": values.take(before, allow_fill=True),
            "new": values.take(rows),
            "timestamp": _moments(v.ms[at]),
            "source": tidy["source"].array.take(rows),
            "sourceId": tidy["sourceId"].array.take(rows),
        }
    )
    return trail


def current(
    tidy: pd.DataFrame,
    as_of: Any = None,
    typed: bool = False,
    definitions: TicketsClient | Definitions | None = None,
) -> pd.DataFrame:
    """Every ticket's values now, or as they were at a moment, optionally typed.

    Parameters
    ----------
    tidy : pandas.DataFrame
        A tidy frame (:func:`~pandas_hubtickets.flatten`).
    as_of : timestamp or pandas.Series, optional
        The values as they were at this moment (the newest version at or
        before it), or per ticket: a Series of moments indexed by
        ``objectId`` (tickets it does not list, or lists as NaT, are left
        out). Tickets without any value by then are left out; every property
        of the frame is a column. Without it: the current values (version 0).
    typed : bool, default False
        Give each column the dtype of its property's definition (see Returns)
        instead of HubSpot's text. Needs ``definitions``.
    definitions : TicketsClient, list of dict or pandas.DataFrame, optional
        The ticket property definitions: a client (one read,
        ``client.properties()``), or what ``client.properties()`` returned.

    Returns
    -------
    pandas.DataFrame
        ``objectId`` (int64), then one column per property. Untyped, the
        values keep the dtype of ``tidy["value"]``. Typed (``""``, a cleared
        value, is missing in all but text):

        ====================  ============================================
        property type         column dtype
        ====================  ============================================
        date, datetime        ``datetime64[ms, UTC]``, from epoch
                              milliseconds (v1) or ISO 8601 with a zone
                              (the date-versioned API:
                              ``2024-01-31T12:00:00.000Z``; a date also
                              as ``2024-01-31``, midnight UTC)
        number                ``Int64`` when every value is written as a
                              whole number, else ``float64``
        bool                  ``boolean``
        enumeration           ``category``, the options in display order
                              (values no longer an option after them);
                              multiple checkboxes and external options
                              (pipeline stages) stay text
        string, unknown       ``string[pyarrow]``
        ====================  ============================================

    Raises
    ------
    FlattenError
        (a ``ValueError``) With ``typed=True``, listing every property whose
        values do not read as its type, with the tickets and values at fault.

    Examples
    --------
    >>> import pandas_hubtickets as ht
    >>> status = {"versions": [
    ...     {"value": "CLOSED", "timestamp": 1_700_000_000_000, "source": "CRM_UI"},
    ...     {"value": "OPEN", "timestamp": 1_690_000_000_000, "source": "API"},
    ... ]}
    >>> tidy = ht.flatten({"objectId": 1, "portalId": 7, "properties": {"status": status}})
    >>> current(tidy, as_of="2023-10-01")
       objectId status
    0         1   OPEN
    >>> current(tidy, typed=True, definitions=client)["status"].cat.categories.tolist()
    ['OPEN', 'IN_PROGRESS', 'WAITING', 'CLOSED']
    """
    _check(tidy, ("objectId", "property", "value", "version"))
    if typed and definitions is None:
        raise ConfigurationError(
            "typed=True needs the property definitions: definitions=client (a TicketsClient) "
            "or definitions=client.properties()"
        )
    if definitions is not None and not typed:
        raise ConfigurationError("definitions are used only with typed=True")
    wide = _current_values(tidy) if as_of is None else _as_of(tidy, as_of)
    return _typed(wide, definitions) if typed and definitions is not None else wide


def _as_of(tidy: pd.DataFrame, as_of: Any) -> pd.DataFrame:
    _check(tidy)
    ms = _epoch_ms(tidy["timestamp"])
    if isinstance(as_of, pd.Series):
        if not as_of.index.is_unique:
            raise ConfigurationError("as_of must list each objectId once")
        moments = pd.to_datetime(as_of)
        if moments.dt.tz is None:
            moments = moments.dt.tz_localize("UTC")
        cutoffs = np.append(_epoch_ms(moments), _NAT)  # position -1: not listed
        cutoff = cutoffs[as_of.index.get_indexer(pd.Index(tidy["objectId"]))]
        eligible = (cutoff != _NAT) & (ms <= cutoff)
    else:
        eligible = ms <= _moment_ms(as_of, "as_of")
    v = _versions(tidy, np.flatnonzero(eligible & (ms != _NAT)))
    last = np.ones(len(v.rows), dtype=bool)
    last[:-1] = v.first[1:]
    chosen = np.sort(v.rows[last])
    latest = pd.DataFrame(
        {
            "objectId": tidy["objectId"].to_numpy()[chosen],
            "property": tidy["property"].array.take(chosen),
            "value": tidy["value"].array.take(chosen),
            "version": np.zeros(len(chosen), dtype=np.int32),
        }
    )
    wide = _current_values(latest)
    names = [str(name) for name in pd.unique(tidy["property"].dropna())]
    unset = tidy["value"].array.take(np.full(len(wide), -1), allow_fill=True)
    absent = {name: unset for name in names if name not in wide.columns}
    every: pd.DataFrame = wide.assign(**absent)[["objectId", *names]]
    return every


def _typed(wide: pd.DataFrame, definitions: TicketsClient | Definitions) -> pd.DataFrame:
    from ._client import TicketsClient

    records = definitions.properties() if isinstance(definitions, TicketsClient) else definitions
    known = _parse(records)
    columns: dict[Any, Any] = {"objectId": wide["objectId"].to_numpy()}
    failures: list[str] = []
    for name in wide.columns[1:]:
        text = pa.array(wide[name].astype(_STRING).array)
        d = known.get(str(name))
        column, bad = _as_type(text, d) if d is not None else (pd.array(text, dtype=_STRING), None)
        if bad is not None and len(bad):
            ids = wide["objectId"].to_numpy()[bad][:_SHOWN].tolist()
            values = text.take(pa.array(bad[:_SHOWN])).to_pylist()
            assert d is not None
            failures.append(
                f"  - {name!r} ({d.type}): {len(bad)} value(s) that are not a {d.type}, "
                f"e.g. objectId {', '.join(map(str, ids))}: {', '.join(map(repr, values))}"
            )
        columns[name] = column
    if failures:
        raise FlattenError("cannot type the current values:\n" + "\n".join(failures))
    typed: pd.DataFrame = pd.DataFrame(columns)
    return typed


def _as_type(text: pa.Array, d: _Definition) -> tuple[Any, np.ndarray | None]:
    """A column of HubSpot text as the type ``d`` says, and the positions that do not read."""
    if d.type == "string":
        return pd.array(text, dtype=_STRING), None
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    present = pc.is_valid(text)
    nulls = pc.is_null(text).to_numpy(zero_copy_only=False)

    def bad(pattern: str) -> np.ndarray:
        fails = pc.and_(present, pc.invert(pc.match_substring_regex(text, pattern)))
        return np.flatnonzero(fails.to_numpy(zero_copy_only=False))

    def cleared(rows: np.ndarray) -> pa.Array:
        drop = np.zeros(len(text), dtype=bool)
        drop[rows] = True
        return pc.if_else(pa.array(drop), pa.scalar(None, pa.string()), text)

    if d.type in ("date", "datetime"):  # epoch ms (v1) or ISO 8601 (the date-versioned API)
        none = pa.scalar(None, pa.string())
        epoch = pc.match_substring_regex(text, r"^-?[0-9]{1,18}$")
        iso = pc.if_else(epoch, none, text)
        if d.type == "date":  # a date alone: midnight UTC
            day = pc.match_substring_regex(iso, r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
            iso = pc.if_else(day, pc.binary_join_element_wise(iso, "T00:00:00Z", ""), iso)
        ms = pc.coalesce(pc.cast(pc.if_else(epoch, text, none), pa.int64()), iso_ms(iso))
        wrong = np.flatnonzero(pc.and_(present, pc.is_null(ms)).to_numpy(zero_copy_only=False))
        return pc.cast(ms, pa.timestamp("ms", tz="UTC")).to_pandas().array, wrong
    if d.type == "number":
        wrong = bad(r"^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?$")
        valid = cleared(wrong)
        if pc.all(pc.match_substring_regex(valid, r"^-?[0-9]{1,18}$")).as_py() is not False:
            whole = pc.fill_null(pc.cast(valid, pa.int64()), 0).to_numpy(zero_copy_only=False)
            return pd.arrays.IntegerArray(whole, pc.is_null(valid).to_numpy(False)), wrong
        return pc.cast(valid, pa.float64()).to_numpy(zero_copy_only=False), wrong
    if d.type == "bool":
        wrong = bad(r"^(true|false)$")
        truth = pc.fill_null(pc.equal(text, "true"), False).to_numpy(zero_copy_only=False)
        return pd.arrays.BooleanArray(truth, nulls), wrong
    if d.type == "enumeration" and d.options is not None and not d.multiple:
        seen = pc.unique(text.filter(present)).to_pylist()
        extra = sorted(set(seen) - set(d.options))
        categories = pd.Index([*d.options, *extra], dtype=_STRING)
        codes = pc.index_in(text, value_set=pa.array(list(categories), pa.string()))
        dtype = pd.CategoricalDtype(categories)
        return pd.Categorical.from_codes(pc.fill_null(codes, -1).to_numpy(), dtype=dtype), None
    return pd.array(text, dtype=_STRING), None
