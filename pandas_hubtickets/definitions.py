"""Checking an encoded frame against HubSpot's ticket property definitions (pure, no network).

HubSpot rejects a whole v1 batch for one bad value, so every value it would
refuse costs the updater about log2(batch size) extra requests to isolate,
and a column that is wrong throughout (dates at local midnight, labels instead
of option values, a misspelt property) costs two requests a row. Checking the
encoded strings against the definitions first (``TicketsClient.properties()``)
finds all of that before anything is sent, with HubSpot's own error codes:

=====================  ==================================================
code                   what is checked
=====================  ==================================================
PROPERTY_DOESNT_EXIST  the column names a ticket property
READ_ONLY_VALUE        the property is writable
INVALID_OPTION         enumeration values are option values (not labels);
                       multiple checkboxes: each ``;``-separated value
INVALID_BOOLEAN        ``"true"`` or ``"false"``
INVALID_LONG           numbers, dates and datetimes are numbers (v1 takes
                       no ISO 8601 text for dates)
INVALID_DATE           a date is an epoch millisecond at midnight UTC
INVALID_WHITESPACE     no leading or trailing spaces on non-text values
=====================  ==================================================

An empty string always passes: it clears the property.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .encode import MS_PER_DAY
from .payload import EncodedFrame, Problem

__all__ = ["check_values"]

Definitions = pd.DataFrame | Sequence[Mapping[str, Any]]
"""Property definitions: ``TicketsClient.properties()``'s records, or a frame of them."""

_NUMBER = r"^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$"
_INTEGER = r"^-?\d+$"


@dataclass(frozen=True)
class _Definition:
    type: str
    field_type: str
    options: tuple[str, ...] | None  # None: any value (external options, or not an enumeration)
    labels: Mapping[str, str]
    read_only: bool


def _parse(definitions: Definitions) -> dict[str, _Definition]:
    """Definitions by name, from the v2 shape or the date-versioned one."""
    records = (
        definitions.to_dict("records") if isinstance(definitions, pd.DataFrame) else definitions
    )
    out = {}
    for record in records:
        meta = record.get("modificationMetadata")
        read_only = bool(record.get("readOnlyValue") is True) or (
            isinstance(meta, Mapping) and meta.get("readOnlyValue") is True
        )
        options = record.get("options")
        choices = (
            [o for o in options if isinstance(o, Mapping)] if isinstance(options, list) else []
        )
        enumerated = record.get("type") == "enumeration" and len(choices) > 0
        enumerated = enumerated and record.get("externalOptions") is not True
        out[str(record["name"])] = _Definition(
            type=str(record.get("type") or "string"),
            field_type=str(record.get("fieldType") or ""),
            options=tuple(str(o.get("value")) for o in choices) if enumerated else None,
            labels={str(o.get("label")).lower(): str(o.get("value")) for o in choices},
            read_only=read_only,
        )
    return out


def _found(
    rows: np.ndarray | None, name: str, code: str, message: str, values: pa.Array | None = None
) -> Problem:
    """A problem of ``rows`` (the offending values taken from ``values``)."""
    taken = None
    if rows is not None and values is not None:
        taken = values.take(pa.array(rows, pa.int64())).to_pylist()
    return Problem(rows, name, code, message, taken)


def _rows(mask: pa.Array) -> np.ndarray:
    return np.flatnonzero(pc.fill_null(mask, False).to_numpy(zero_copy_only=False))


def _bad_options(values: pa.StringArray, d: _Definition, name: str) -> list[Problem]:
    assert d.options is not None
    allowed = set(d.options)
    multiple = d.field_type == "checkbox"
    bad: dict[str, str] = {}
    for value in pc.unique(values.drop_null()).to_pylist():
        parts = value.split(";") if multiple else [value]
        wrong = [p for p in parts if p not in allowed]
        if value and wrong:
            hints = [d.labels[w.lower()] for w in wrong if w.lower() in d.labels]
            hint = f" (did you mean {';'.join(hints)!r}?)" if len(hints) == len(wrong) else ""
            bad[value] = f"{';'.join(wrong)!r} is not an option of {name!r}{hint}"
    findings = []
    for value, message in bad.items():
        rows = _rows(pc.equal(values, value))
        findings.append(_found(rows, name, "INVALID_OPTION", message, values))
    return findings


def _column_findings(values: pa.StringArray, d: _Definition, name: str) -> list[Problem]:
    present = pc.and_(pc.is_valid(values), pc.not_equal(values, ""))
    findings = []
    if d.type != "string":
        spaced = pc.and_(present, pc.not_equal(values, pc.utf8_trim_whitespace(values)))
        rows = _rows(spaced)
        if len(rows):
            message = f"{name!r} is not text: no leading or trailing spaces allowed"
            findings.append(_found(rows, name, "INVALID_WHITESPACE", message, values))
            # the spaces are the fault: do not also report " LOW" as no option
            values = pc.if_else(spaced, pa.scalar(None, pa.string()), values)
            present = pc.and_(present, pc.invert(spaced))
    if d.options is not None:
        findings += _bad_options(values, d, name)
    elif d.type == "bool":
        rows = _rows(pc.and_(present, pc.invert(pc.is_in(values, pa.array(["true", "false"])))))
        if len(rows):
            message = f"{name!r} takes true or false"
            findings.append(_found(rows, name, "INVALID_BOOLEAN", message, values))
    elif d.type in ("number", "date", "datetime"):
        pattern = _NUMBER if d.type == "number" else _INTEGER
        numeric = pc.match_substring_regex(values, pattern)
        rows = _rows(pc.and_(present, pc.invert(numeric)))
        if len(rows):
            what = "a number" if d.type == "number" else "epoch milliseconds (send a date column)"
            findings.append(_found(rows, name, "INVALID_LONG", f"{name!r} takes {what}", values))
        if d.type == "date":
            ints = pc.cast(pc.if_else(numeric, values, None), pa.int64()).fill_null(0)
            off = np.asarray(ints.to_numpy(zero_copy_only=False)) % MS_PER_DAY != 0
            rows = np.flatnonzero(off)
            if len(rows):
                message = f"{name!r} is a date: epoch milliseconds at midnight UTC"
                findings.append(_found(rows, name, "INVALID_DATE", message, values))
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
    >>> from pandas_hubtickets.payload import encode_frame
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
    "'Closed' is not an option of 'status' (did you mean 'CLOSED'?)"
    """
    known = _parse(definitions)
    findings: list[Problem] = []
    for name, values in zip(encoded.names, encoded.values, strict=True):
        d = known.get(name)
        if d is None:
            message = f"HubSpot has no ticket property named {name!r}"
            findings.append(_found(None, name, "PROPERTY_DOESNT_EXIST", message))
        elif d.read_only:
            message = f"property {name!r} is read-only in HubSpot"
            findings.append(_found(None, name, "READ_ONLY_VALUE", message))
        else:
            findings += _column_findings(values, d, name)
    return findings
