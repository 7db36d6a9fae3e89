"""Checking an encoded frame against HubSpot's ticket property definitions (pure, no network).

HubSpot rejects a whole v1 batch for one bad value, so every value it would
refuse costs the updater about log2(batch size) extra requests to isolate,
and a column that is wrong throughout (dates at local midnight, labels instead
of option values, a misspelt property) costs two requests a row. Checking the
encoded strings against the definitions first (``TicketsClient.properties()``)
finds all of that before anything is sent, with HubSpot's own error codes.

The rules, checked in this order; a value gets the code of the first it breaks
(the emulator, ``pandas_hubtickets.testing``, applies the same rules in its own
per-value code, and a property-based test holds the two to the same answers):

===========================  ==================================================
code                         what is checked
===========================  ==================================================
PROPERTY_DOESNT_EXIST        the column names a ticket property
READ_ONLY_VALUE              the property is writable
(accepted)                   ``""``: it clears the property
TOO_LONG                     at most 65,536 characters, any type (found by the
                             encoder, :mod:`pandas_hubtickets._encode`)
LEADING_TRAILING_WHITESPACE  non-``string`` types: no whitespace (what
                             ``str.isspace`` calls so, U+00A0 and U+001C-U+001F
                             included) or invisible character (U+180E,
                             U+200B-U+200D, U+2060, U+FEFF) at the start or
                             end; multiple checkboxes: nor around any
                             ``;``-separated value
INVALID_INTEGER              ``number``: ``-?[0-9]+(\\.[0-9]+)?`` (ASCII digits;
                             no ``+``, exponent, ``1.``, ``.5`` or separators;
                             ``-0``, leading zeros and any length pass)
INVALID_LONG                 ``date``, ``datetime``: ``-?[0-9]+`` within the
                             signed 64-bit range (epoch milliseconds; v1 takes
                             no ISO 8601 text)
INVALID_DATE                 ``date``: a multiple of 86,400,000 (midnight UTC)
INVALID_OPTION               ``enumeration``: an option's value, exactly (not
                             its label); multiple checkboxes: each
                             ``;``-separated value. Any value with
                             ``externalOptions``; none when there are no options
INVALID_BOOLEAN              ``bool``: ``true`` or ``false``, lower case
===========================  ==================================================

A ``string`` property takes any text within the length limit. Each message
quotes the offending value and says the fix; values are described once per
distinct value (never per row): the first 100 distinct values of a column and
code one by one, any further ones together.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ._columns import unknown_column_hint
from ._encode import MS_PER_DAY
from ._payload import EncodedFrame, Problem

__all__ = ["check_values"]

Definitions = pd.DataFrame | Sequence[Mapping[str, Any]]
"""Property definitions: ``TicketsClient.properties()``'s records (any API), or a frame of them."""

_SPACE = (
    r"[\t-\r\x1c- \x{85}\x{a0}\x{1680}\x{180e}\x{2000}-\x{200d}\x{2028}\x{2029}"
    r"\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]"
)
_PADDED = f"^{_SPACE}|{_SPACE}$"
_PADDED_OPTION = f"(^|;){_SPACE}|{_SPACE}(;|$)"
_NUMBER = r"^-?[0-9]+(\.[0-9]+)?$"
_LONG = r"^-?[0-9]+$"
_INT64_DIGITS = 18  # a text of at most this many digits always fits in int64
_QUOTED = 100  # distinct values described one by one, per column and code
_SHOWN_OPTIONS = 10
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class _Definition:
    type: str
    field_type: str
    options: tuple[str, ...] | None  # None: any value (external options, or not an enumeration)
    labels: Mapping[str, str]
    read_only: bool
    label: str = ""  # the property's label, an export's header ("Priority")
    choices: tuple[tuple[str, str], ...] = ()  # (value, label) of every option, in order

    @property
    def multiple(self) -> bool:
        """Whether a value is several options joined with ``;`` (multiple checkboxes)."""
        return self.type == "enumeration" and self.field_type == "checkbox"


def _read_only(record: Mapping[Any, Any]) -> bool:
    """Whether a definition's value is read-only, in any shape HubSpot or pandas gives it.

    v2: ``readOnlyValue``; v3 and the date-versioned API:
    ``modificationMetadata.readOnlyValue``, nested, or a column of that name in
    a frame made by ``pd.json_normalize``.

    Examples
    --------
    >>> [_read_only(r) for r in ({"readOnlyValue": True},
    ...                          {"modificationMetadata": {"readOnlyValue": True}},
    ...                          {"modificationMetadata.readOnlyValue": True},
    ...                          {"modificationMetadata": {"readOnlyValue": False}})]
    [True, True, True, False]
    """
    meta = record.get("modificationMetadata")
    nested = meta.get("readOnlyValue") if isinstance(meta, Mapping) else None
    flat = record.get("modificationMetadata.readOnlyValue")
    return any(v is True for v in (record.get("readOnlyValue"), nested, flat))


def _parse(definitions: Definitions) -> dict[str, _Definition]:
    """Definitions by name, from the v2 shape or that of v3 and the date-versioned API."""
    records = (
        definitions.to_dict("records") if isinstance(definitions, pd.DataFrame) else definitions
    )
    out = {}
    for record in records:
        read_only = _read_only(record)
        options = record.get("options")
        choices = (
            [o for o in options if isinstance(o, Mapping)] if isinstance(options, list) else []
        )
        choices.sort(key=_display_order)  # stable: options without an order keep their place
        enumerated = record.get("type") == "enumeration" and isinstance(options, list)
        enumerated = enumerated and record.get("externalOptions") is not True
        out[str(record["name"])] = _Definition(
            type=str(record.get("type") or "string"),
            field_type=str(record.get("fieldType") or ""),
            options=tuple(str(o.get("value")) for o in choices) if enumerated else None,
            labels={str(o.get("label")).lower(): str(o.get("value")) for o in choices},
            read_only=read_only,
            label=str(record.get("label") or ""),
            choices=tuple((str(o.get("value")), str(o.get("label"))) for o in choices),
        )
    return out


def _display_order(option: Mapping[str, Any]) -> float:
    """An option's ``displayOrder``; HubSpot's -1 (or none) sorts after the ordered ones."""
    order = option.get("displayOrder")
    return order if isinstance(order, int) and order >= 0 else float("inf")


def _rows(mask: pa.Array) -> np.ndarray:
    return np.flatnonzero(pc.fill_null(mask, False).to_numpy(zero_copy_only=False))


def _per_value(
    values: pa.StringArray,
    bad: pa.Array,
    name: str,
    code: str,
    describe: Callable[[str], str],
    general: str,
) -> list[Problem]:
    """One Problem per distinct value at ``bad`` (the first ``_QUOTED``), then one for the rest."""
    rows = _rows(bad)
    if not len(rows):
        return []
    taken = values.take(pa.array(rows, pa.int64()))
    distinct = pc.unique(taken)
    which = pc.index_in(taken, distinct).to_numpy(zero_copy_only=False)
    quoted = distinct.slice(0, _QUOTED).to_pylist()
    order = np.argsort(which, kind="stable")  # the rows of the first distinct value first
    counts = np.bincount(which, minlength=len(quoted))[: len(quoted)].tolist()
    starts = np.cumsum([0, *counts[:-1]]).tolist()
    found = [
        Problem(rows[order[start : start + count]], name, code, describe(value), [value] * count)
        for value, start, count in zip(quoted, starts, counts, strict=True)
    ]
    rest = rows[which >= _QUOTED]  # ascending, as rows are
    if len(rest):
        found.append(_found(rest, name, code, general, values))
    return found


def _found(
    rows: np.ndarray | None, name: str, code: str, message: str, values: pa.Array | None = None
) -> Problem:
    """A problem of ``rows`` (the offending values taken from ``values``)."""
    taken = None
    if rows is not None and values is not None:
        taken = values.take(pa.array(rows, pa.int64())).to_pylist()
    return Problem(rows, name, code, message, taken)


def _spaced(multiple: bool) -> Callable[[str], str]:
    where = "around an option" if multiple else "around it"
    return lambda value: f"{value!r} has spaces {where}: strip them"


def _options_of(d: _Definition, value: str) -> list[str]:
    return value.split(";") if d.multiple else [value]


def _not_an_option(d: _Definition, name: str) -> Callable[[str], str]:
    assert d.options is not None
    allowed = set(d.options)
    known = {o.lower(): o for o in d.options} | dict(d.labels)
    shown = ", ".join(repr(o) for o in d.options[:_SHOWN_OPTIONS])
    shown += ", ..." if len(d.options) > _SHOWN_OPTIONS else ""

    def describe(value: str) -> str:
        parts = _options_of(d, value)
        wrong = [p for p in parts if p not in allowed]
        what = f"{';'.join(wrong)!r} is not an option of {name!r}"
        if len(wrong) < len(parts):
            what = f"{value!r}: {what}"
        if all(w.lower() in known for w in wrong):
            fixed = ";".join(p if p in allowed else known[p.lower()] for p in parts)
            return f"{what}: use the option value {fixed!r}"
        if not d.options:
            return f"{what}, which has no options"
        return f"{what}: use one of {shown}"

    return describe


def _not_a_number(value: str) -> str:
    try:
        number = decimal.Decimal(value)
    except decimal.InvalidOperation:
        number = None
    if number is not None and number.is_finite() and abs(number.adjusted()) < 100:
        return f"{value!r} is not a plain decimal number: send {number:f}"
    return f"{value!r} is not a number: send digits with an optional '-' and '.', e.g. -1234.5"


def _not_epoch_ms(value: str) -> str:
    if re.fullmatch(_LONG, value):
        return f"{value!r} is beyond the range of epoch milliseconds: send a date or datetime"
    if re.match(r"\d{4}-\d\d-\d\d", value):
        try:
            ts = pd.Timestamp(value)
            ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
            example = f"{ts.value // 1_000_000} ({ts:%Y-%m-%d %H:%M} UTC)"
            return f"{value!r} is not epoch milliseconds: send {example}, or a datetime column"
        except (ValueError, OverflowError):
            pass
    return f"{value!r} is not epoch milliseconds: send a date or datetime column"


def _not_midnight(value: str) -> str:
    ms = int(value)
    nearest = (ms + MS_PER_DAY // 2 - 1) // MS_PER_DAY * MS_PER_DAY  # ties: the day before
    try:
        when = _EPOCH + dt.timedelta(milliseconds=ms)
        at = f" ({when:%Y-%m-%d %H:%M}{':%S' if when.second or when.microsecond else ''} UTC)"
    except OverflowError:
        at = ""
    return f"{value} is not midnight UTC{at}: convert to UTC midnight, e.g. {nearest}"


def _not_boolean(value: str) -> str:
    return f"{value!r} is not a boolean: send true or false"


def _is_long(values: pa.StringArray) -> pa.Array:
    """Which values are ``-?[0-9]+`` within int64 (Python checks only the longest, rare)."""
    digits = pc.fill_null(pc.match_substring_regex(values, _LONG), False)
    long_text = pc.and_(digits, pc.greater(pc.utf8_length(values), _INT64_DIGITS))
    if not pc.any(long_text).as_py():
        return digits
    distinct = pc.unique(values.filter(long_text)).to_pylist()
    too_big = [v for v in distinct if not -(2**63) <= int(v) < 2**63]
    return pc.and_(digits, pc.invert(pc.is_in(values, pa.array(too_big, pa.string()))))


def _column_findings(values: pa.StringArray, d: _Definition, name: str) -> list[Problem]:
    """The value problems of one column, each value with the first rule it breaks."""
    pending = pc.and_(pc.is_valid(values), pc.not_equal(values, ""))
    findings: list[Problem] = []

    def refuse(bad: pa.Array, code: str, describe: Callable[[str], str], general: str) -> None:
        nonlocal pending
        hit = pc.and_(pending, pc.fill_null(bad, False))
        findings.extend(_per_value(values, hit, name, code, describe, general))
        pending = pc.and_(pending, pc.invert(hit))

    if d.type != "string":
        padded = pc.match_substring_regex(values, _PADDED_OPTION if d.multiple else _PADDED)
        refuse(padded, "LEADING_TRAILING_WHITESPACE", _spaced(d.multiple), "has spaces: strip them")
    if d.options is not None:
        allowed = set(d.options)
        checked = pc.unique(values.filter(pc.fill_null(pending, False))).to_pylist()
        wrong = [v for v in checked if not allowed.issuperset(_options_of(d, v))]
        refuse(
            pc.is_in(values, pa.array(wrong, pa.string())),
            "INVALID_OPTION",
            _not_an_option(d, name),
            f"not an option of {name!r}: use an option's value, not its label",
        )
    elif d.type == "bool":
        refuse(
            pc.invert(pc.is_in(values, pa.array(["true", "false"]))),
            "INVALID_BOOLEAN",
            _not_boolean,
            "not a boolean: send true or false",
        )
    elif d.type == "number":
        refuse(
            pc.invert(pc.match_substring_regex(values, _NUMBER)),
            "INVALID_INTEGER",
            _not_a_number,
            "not a plain decimal number: send digits with an optional '-' and '.'",
        )
    elif d.type in ("date", "datetime"):
        is_long = _is_long(values)
        refuse(
            pc.invert(is_long),
            "INVALID_LONG",
            _not_epoch_ms,
            "not epoch milliseconds: send a date or datetime column",
        )
        if d.type == "date":
            ints = pc.cast(pc.if_else(is_long, values, "0"), pa.int64())
            off = ints.to_numpy(zero_copy_only=False) % MS_PER_DAY != 0
            refuse(
                pa.array(off),
                "INVALID_DATE",
                _not_midnight,
                "not midnight UTC: convert to UTC midnight (dates, not datetimes)",
            )
    return findings


def check_values(encoded: EncodedFrame, definitions: Definitions) -> list[Problem]:
    """Every column and value of ``encoded`` that HubSpot would refuse.

    Parameters
    ----------
    encoded : EncodedFrame
        The frame as it would be sent.
    definitions : list of dict or pandas.DataFrame
        HubSpot's ticket property definitions, as ``TicketsClient.properties()``
        returns them (or a frame with one row per property).

    Returns
    -------
    list of Problem
        Empty when everything would be accepted (as far as the definitions
        tell: HubSpot may still refuse, e.g. an unknown ticket id).

    Examples
    --------
    >>> import pandas as pd
    >>> from pandas_hubtickets._payload import encode_frame
    >>> defs = pd.DataFrame({
    ...     "name": ["status", "createdate"],
    ...     "type": ["enumeration", "datetime"],
    ...     "options": [[{"label": "Closed", "value": "CLOSED"}], []],
    ...     "readOnlyValue": [False, True],
    ... })
    >>> frame = encode_frame(pd.DataFrame({"objectId": [1, 2], "status": ["CLOSED", "Closed"]}))
    >>> [(p.rows.tolist(), p.code, p.values) for p in check_values(frame, defs)]
    [([1], 'INVALID_OPTION', ['Closed'])]
    >>> check_values(frame, defs)[0].message
    "'Closed' is not an option of 'status': use the option value 'CLOSED'"
    """
    known = _parse(definitions)
    findings: list[Problem] = []
    for name, values in zip(encoded.names, encoded.values, strict=True):
        d = known.get(name)
        if d is None:
            message = (
                f"HubSpot has no ticket property named {name!r}{unknown_column_hint(name, known)}"
            )
            findings.append(_found(None, name, "PROPERTY_DOESNT_EXIST", message))
        elif d.read_only:
            message = f"property {name!r} is read-only in HubSpot"
            findings.append(_found(None, name, "READ_ONLY_VALUE", message))
        else:
            findings += _column_findings(values, d, name)
    return findings
