"""Coercing a wide frame to what HubSpot's property definitions accept (pure, no I/O).

A spreadsheet holds what people type: option labels (``"In Progress"``),
``Yes``/``No``, dates as ``2024-03-05``, ``05/03/2024`` or Excel serial
numbers, ``1,234``, stray spaces. :func:`coerce_frame` converts each value to
what its property expects, records every change (row, column, old, new,
rule) and reports every value it cannot convert, never guessing:

=================  ===========================================================
property type      read (after stripping whitespace; text properties untouched)
=================  ===========================================================
``enumeration``    an option's value or label, case and spaces aside
                   (``option_label``, ``option_case``); each ``;`` part of a
                   multiple checkbox. A near miss gets a did-you-mean, never
                   applied (``INVALID_OPTION``)
``bool``           true/false, yes/no, y/n, 1/0 in any case, and the labels
                   of the property's own options (``boolean``)
``date``           ISO dates (``iso_date``), ISO datetimes at midnight, the
                   date as written (``midnight_datetime``), Excel serial
                   numbers, 1900 system or 1904 on request (``excel_serial``),
                   ``dd/mm/yyyy`` or ``mm/dd/yyyy`` text only with
                   ``dayfirst=`` (``dayfirst_date``, ``monthfirst_date``;
                   without it ``AMBIGUOUS_DATE``)
``datetime``       ISO text with an offset (``iso_datetime``); naive text,
                   Excel serials and day/month text only with ``tz=``
                   (``local_datetime``; without it ``NAIVE_DATETIME``)
``number``         text with the ``thousands=`` separator or ``decimal=``
                   comma the caller names (``number_text``)
any but text       surrounding whitespace (``whitespace``); a blank cell is
                   missing (``blank``)
=================  ===========================================================

Dates and datetimes become epoch milliseconds as text, as HubSpot stores
them; every converted value is text. A value that is already what HubSpot
accepts is left alone, so an already-correct frame encodes to the very same
payload. Each column is worked out on its distinct values only (pyarrow and
pandas kernels for numbers and dates), then mapped back to the rows.
"""

from __future__ import annotations

import difflib
import html
import re
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ._columns import ColumnMap, _key, find_id_column, map_columns
from ._definitions import (
    _LONG,
    _NUMBER,
    _SPACE,
    Definitions,
    _Definition,
    _not_a_number,
    _not_midnight,
    _parse,
    check_values,
)
from ._encode import MS_PER_DAY
from ._payload import NaMode, Problem, ProblemList, _id_series, encode_frame
from .errors import PROBLEM_COLUMNS, ArgumentTypeError, ConfigurationError

__all__ = [
    "CHANGE_COLUMNS",
    "CoerceOptions",
    "Coerced",
    "coerce_frame",
    "unreported",
    "validate_frame",
]

#: Columns of :attr:`Coerced.changes`.
CHANGE_COLUMNS = ["row", "column", "old", "new", "rule"]
_THOUSANDS = (",", ".", " ", "'", "\u00a0", "\u202f", "_")
_EXCEL_LAST = 2_958_465  # 9999-12-31 in the 1900 system
_EXCEL_1900 = 25_569  # serial of 1970-01-01 (from 1900-03-01 on; Excel counts 1900-02-29)
_EXCEL_1904 = 24_107  # days from 1904-01-01 to 1970-01-01
_ISO = (
    r"^(?P<date>\d{4}-\d\d-\d\d)(?:[T ](?P<time>\d\d:\d\d(?::\d\d(?:\.\d+)?)?))?"
    r"(?P<offset>Z|[+-]\d\d(?::?\d\d)?)?$"
)
_DMY = (
    r"^(?P<first>\d{1,2})[/.-](?P<second>\d{1,2})[/.-](?P<year>\d{4})"
    r"(?:[ T](?P<time>\d{1,2}:\d\d(?::\d\d)?))?$"
)
_AWARE = r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d(:?\d\d)?)$"
_SERIAL = r"^[0-9]{1,7}(?:\.[0-9]+)?$"  # up to 2,958,465: 9999-12-31
_MIDNIGHT = r"^0?0:00(?::00(?:\.0+)?)?$"
_TRUE = ("true", "yes", "y", "1")
_FALSE = ("false", "no", "n", "0")
_QUOTED_OPTIONS = 10


@dataclass(frozen=True)
class CoerceOptions:
    """How text that could be read several ways is read; nothing is guessed without it.

    Parameters
    ----------
    dayfirst : bool, optional
        ``True``: ``05/03/2024`` is 5 March; ``False``: May 3. ``None``
        (default): such dates are reported (``AMBIGUOUS_DATE``), not read.
    thousands : str, optional
        The thousands separator of number text (``","``, ``"."``, ``" "``,
        ``"'"``...); ``None`` (default): ``1,234`` is reported.
    decimal : {".", ","}, default "."
        The decimal mark of number text.
    tz : str, optional
        The time zone of naive datetimes (``"Europe/Paris"``, ``"UTC"``);
        ``None`` (default): a datetime property takes ISO text with an offset only.
    excel_epoch : {1900, 1904}, default 1900
        The date system of Excel serial numbers (1904: old Mac workbooks).
    rename : mapping, optional
        Header -> property name, before export headers are read.

    Examples
    --------
    >>> CoerceOptions.of({"dayfirst": True, "thousands": ","}).dayfirst
    True
    >>> CoerceOptions(decimal=",", thousands=",")
    Traceback (most recent call last):
    ...
    pandas_hubtickets.errors.ConfigurationError: thousands=',' and decimal=',' are the same mark
    """

    dayfirst: bool | None = None
    thousands: str | None = None
    decimal: str = "."
    tz: str | None = None
    excel_epoch: int = 1900
    rename: Mapping[str, str] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.dayfirst is not None and not isinstance(self.dayfirst, bool):
            raise ArgumentTypeError(
                f"dayfirst must be True, False or None, got {type(self.dayfirst).__name__}"
            )
        if self.decimal not in (".", ","):
            raise ConfigurationError(f"decimal must be '.' or ',', not {self.decimal!r}")
        if self.thousands is not None and self.thousands not in _THOUSANDS:
            shown = ", ".join(repr(t) for t in _THOUSANDS)
            raise ConfigurationError(f"thousands must be one of {shown}, not {self.thousands!r}")
        if self.thousands == self.decimal:
            raise ConfigurationError(
                f"thousands={self.thousands!r} and decimal={self.decimal!r} are the same mark"
            )
        if self.excel_epoch not in (1900, 1904):
            raise ConfigurationError(f"excel_epoch must be 1900 or 1904, not {self.excel_epoch!r}")
        if self.tz is not None:
            try:
                pd.Timestamp("2000-01-01").tz_localize(self.tz)
            except Exception:  # pytz, zoneinfo and dateutil raise different errors
                raise ConfigurationError(
                    f"tz={self.tz!r} is not a time zone (e.g. 'UTC', 'Europe/Paris')"
                ) from None
        if self.rename is not None and not isinstance(self.rename, Mapping):
            got = type(self.rename).__name__
            raise ArgumentTypeError(f"rename must be a mapping of header to name, got {got}")

    @classmethod
    def of(cls, value: bool | CoerceOptions | Mapping[str, Any]) -> CoerceOptions:
        """Options from ``update(coerce=...)``: ``True``, options, or a dict of them."""
        if isinstance(value, CoerceOptions):
            return value
        if value is True:
            return cls()
        if isinstance(value, Mapping):
            allowed = {f.name for f in fields(cls)}
            unknown = sorted(set(value) - allowed)
            if unknown:
                raise ConfigurationError(
                    f"coerce options are {', '.join(sorted(allowed))}; not {', '.join(unknown)}"
                )
            return cls(**value)
        got = type(value).__name__
        raise ArgumentTypeError(f"coerce must be True, False, a dict or CoerceOptions, got {got}")


@dataclass(frozen=True, repr=False)
class Coerced:
    """A frame converted to what HubSpot's property definitions accept, and what it took.

    Attributes
    ----------
    frame : pandas.DataFrame
        The converted frame: export headers read as property names,
        read-only columns of an export left out, values converted (as text).
    changes : pandas.DataFrame
        One row per changed cell: ``row`` (the index label), ``column`` (the
        property), ``old``, ``new`` (``None``: a blank cell made missing), ``rule``.
    problems : pandas.DataFrame
        Every value that could not be converted, with the columns of
        :attr:`PayloadError.problems <pandas_hubtickets.PayloadError>`
        (``row``, ``objectId``, ``column``, ``code``, ``value``, ``problem``).
    mapping : pandas.DataFrame
        Each header read as another name: ``header``, ``property``, ``how``
        (``label``, ``name``, ``rename``, or ``dropped: read-only``).
    columns : ColumnMap
        The same mapping as dicts (``renames``, ``how``, ``dropped``).
    found : tuple of Problem
        The problems by row position, for an update's one list of problems.
    groups : pandas.DataFrame
        One row per distinct change (``column``, ``rule``, ``old``, ``new``,
        ``cells``): what :meth:`summary` counts.
    """

    frame: pd.DataFrame
    changes: pd.DataFrame
    problems: pd.DataFrame
    mapping: pd.DataFrame
    columns: ColumnMap = field(compare=False)
    found: tuple[Problem, ...] = field(compare=False)
    groups: pd.DataFrame = field(compare=False)  # one row per distinct change, with its cells

    def summary(self) -> pd.DataFrame:
        """Changed cells per column and rule, with up to three examples (``old -> new``).

        Examples
        --------
        >>> import pandas as pd
        >>> defs = [{"name": "is_escalated", "type": "bool", "options": []}]
        >>> df = pd.DataFrame({"objectId": [1, 2, 3], "is_escalated": ["Yes", "no", "Yes"]})
        >>> coerce_frame(df, defs).summary()
                 column     rule  cells                          examples
        0  is_escalated  boolean      3  'Yes' -> 'true', 'no' -> 'false'
        """
        rows = []
        for (column, rule), group in self.groups.groupby(["column", "rule"], sort=False):
            top = group.sort_values("cells", ascending=False, kind="stable").head(3)
            shown = [f"{o!r} -> {n!r}" for o, n in zip(top["old"], top["new"], strict=True)]
            rows.append((column, rule, int(group["cells"].sum()), ", ".join(shown)))
        table: pd.DataFrame = pd.DataFrame(rows, columns=["column", "rule", "cells", "examples"])
        return table

    def _headline(self) -> str:
        what = [f"{len(self.changes):,} cells changed", f"{len(self.problems):,} problems"]
        if len(self.mapping):
            what.insert(0, f"{len(self.mapping):,} headers mapped")
        return f"Coerced({len(self.frame):,} rows: {', '.join(what)})"

    def __repr__(self) -> str:
        lines = [self._headline()]
        lines += [f"  {line}" for line in self.columns.lines()]
        if self.columns.dropped:
            lines.append(
                f"  read-only columns left out: {', '.join(map(repr, self.columns.dropped))}"
            )
        summary = self.summary()
        if len(summary):
            lines.append(summary.to_string(index=False))
        if len(self.problems):
            lines.append("see .problems for the values that could not be converted")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        parts = [f"<p><b>{html.escape(self._headline())}</b></p>"]
        if len(self.mapping):
            parts.append(self.mapping.to_html(index=False))
        summary = self.summary()
        if len(summary):
            parts.append(summary.to_html(index=False))
        if len(self.problems):
            parts.append("<p>First problems (see <code>.problems</code>):</p>")
            parts.append(self.problems.head(10).to_html(index=False))
        return "".join(parts)


# --- one converter per type: distinct stripped texts -> verdicts -----------------------------


@dataclass
class _Verdicts:
    """What becomes of each distinct value of a column (aligned arrays)."""

    new: np.ndarray  # object: the text to send, None for a blank, unused where rule is None
    rule: np.ndarray  # object: the rule of a change, or None (unchanged or a problem)
    code: np.ndarray  # object: the problem's code, or None
    message: np.ndarray  # object: the problem's message

    @classmethod
    def empty(cls, n: int) -> _Verdicts:
        return cls(*(np.full(n, None, dtype=object) for _ in range(4)))

    def change(self, where: np.ndarray | int, new: Any, rule: Any) -> None:
        self.new[where] = new
        self.rule[where] = rule

    def refuse(self, where: np.ndarray | int, code: str, message: Any) -> None:
        self.code[where] = code
        self.message[where] = message


Converter = Callable[[pd.Series, _Definition, str, CoerceOptions, _Verdicts], None]


def _extract(values: pd.Series, pattern: str) -> pd.DataFrame:
    """The named groups of ``pattern`` in each value (pyarrow's regex engine, RE2).

    Rows that do not match, and groups that took no part, are ``None``.
    """
    array = pa.array(values.to_numpy(dtype=object), pa.string())
    found = pc.extract_regex(array, pattern)
    matched = found.is_valid()
    columns = {}
    for i, group in enumerate(found.type):
        part = pc.struct_field(found, [i])
        part = pc.if_else(pc.and_(matched, pc.not_equal(part, "")), part, None)
        columns[group.name] = part.to_numpy(zero_copy_only=False)
    table: pd.DataFrame = pd.DataFrame(columns, index=values.index, dtype=object)
    return table


def _matches(values: pd.Series | pa.Array, pattern: str) -> np.ndarray:
    """Which values match ``pattern`` (RE2), as a numpy mask."""
    array = values
    if isinstance(values, pd.Series):
        array = pa.array(values.to_numpy(dtype=object), pa.string())
    return cast(np.ndarray, pc.match_substring_regex(array, pattern).to_numpy(zero_copy_only=False))


def _enumeration(
    values: pd.Series, d: _Definition, name: str, o: CoerceOptions, v: _Verdicts
) -> None:
    assert d.options is not None
    allowed = set(d.options)
    lookup: dict[str, dict[str, str]] = {}  # key -> option value -> rule
    for value, label in d.choices:
        lookup.setdefault(_key(value), {}).setdefault(value, "option_case")
        lookup.setdefault(_key(label), {})[value] = "option_label"
    for pos, text in zip(values.index, values.tolist(), strict=True):
        parts = text.split(";") if d.multiple else [text]
        out: list[str] = []
        rules: list[str] = []
        for part in parts:
            if part in allowed:
                out.append(part)
                continue
            found = lookup.get(_key(part), {})
            if len(found) != 1:
                v.refuse(pos, "INVALID_OPTION", _no_option(d, name, text, part, found))
                break
            ((value, rule),) = found.items()
            out.append(value)
            rules.append(rule)
        else:
            if rules:
                v.change(
                    pos, ";".join(out), "option_label" if "option_label" in rules else rules[0]
                )


def _no_option(d: _Definition, name: str, text: str, part: str, found: Mapping[str, str]) -> str:
    what = f"{part!r} is not an option of {name!r}"
    if part != text:
        what = f"{text!r}: {what}"
    if found:
        return f"{what}: it matches several options ({', '.join(map(repr, found))}): use the value"
    if not d.choices:
        return f"{what}, which has no options"
    keys = {_key(value): value for value, _ in d.choices}
    keys.update({_key(label): value for value, label in d.choices})
    close = difflib.get_close_matches(_key(part), list(keys), n=1, cutoff=0.6)
    if close:
        value = keys[close[0]]
        label = dict(d.choices)[value]
        return f"{what}: did you mean {value!r} (label {label!r})? Not applied: fix the value"
    shown = ", ".join(repr(value) for value, _ in d.choices[:_QUOTED_OPTIONS])
    return f"{what}: use one of {shown}{', ...' if len(d.choices) > _QUOTED_OPTIONS else ''}"


def _boolean(values: pd.Series, d: _Definition, name: str, o: CoerceOptions, v: _Verdicts) -> None:
    words: dict[str, set[str]] = {w: {"true"} for w in _TRUE} | {w: {"false"} for w in _FALSE}
    for value, label in d.choices:
        if value in ("true", "false"):
            words.setdefault(_key(label), set()).add(value)
    for pos, text in zip(values.index, values.tolist(), strict=True):
        if text in ("true", "false"):
            continue
        found = words.get(_key(text), set())
        if len(found) == 1:
            v.change(pos, next(iter(found)), "boolean")
        else:
            v.refuse(
                pos,
                "INVALID_BOOLEAN",
                f"{text!r} is not a boolean: use true or false (yes/no, y/n and 1/0 are read too)",
            )


def _number(values: pd.Series, d: _Definition, name: str, o: CoerceOptions, v: _Verdicts) -> None:
    bad = values[~_matches(values, _NUMBER)]
    if bad.empty:
        return
    dec = re.escape(o.decimal)
    if o.thousands is not None:
        grouped = rf"^-?[0-9]{{1,3}}({re.escape(o.thousands)}[0-9]{{3}})+({dec}[0-9]+)?$"
        readable = _matches(bad, grouped) | _matches(bad, rf"^-?[0-9]+({dec}[0-9]+)?$")
    else:
        readable = _matches(bad, rf"^-?[0-9]+({dec}[0-9]+)?$")
    read = bad[readable]
    if o.thousands is not None:
        read = read.str.replace(o.thousands, "", regex=False)
    v.change(
        read.index.to_numpy(),
        read.str.replace(o.decimal, ".", regex=False).to_numpy(),
        "number_text",
    )
    for pos, text in bad[~readable].items():
        v.refuse(pos, "INVALID_INTEGER", _not_a_plain_number(text, o))


def _not_a_plain_number(text: str, o: CoerceOptions) -> str:
    marks = sorted(set(re.sub(r"[0-9-]", "", text)))
    if not (marks and set(marks) <= set(_THOUSANDS) and re.search(r"[0-9]", text)):
        return _not_a_number(text)
    if o.thousands is None and marks != ["."]:
        mark = next(m for m in marks if m != ".")
        comma = f" or decimal={mark!r} (a decimal comma)" if mark == "," else ""
        return (
            f"{text!r} is written with {mark!r}: pass thousands={mark!r} (a thousands "
            f"separator){comma}, whichever this column uses"
        )
    return (
        f"{text!r} does not read as a number with thousands={o.thousands!r}, decimal={o.decimal!r}"
    )


def _days(stamps: pd.Series) -> np.ndarray:
    """Naive datetimes -> whole days since 1970-01-01 (int64)."""
    return cast(np.ndarray, stamps.astype("datetime64[s]").astype("int64").to_numpy() // 86_400)


def _excel_days(serial: pd.Series, epoch: int) -> pd.Series:
    """Whole Excel serials -> days since 1970-01-01; NaN where the day does not exist."""
    days: pd.Series = serial - _EXCEL_1904
    if epoch == 1900:  # serial 60 is 1900-02-29, which did not exist (Lotus 1-2-3's leap year)
        days = (serial.where(serial >= 61, serial + 1) - _EXCEL_1900).where(serial != 60)
    return days


def _refuse_each(
    v: _Verdicts, values: pd.Series, mask: Any, code: str, describe: str | Callable[[str], str]
) -> None:
    """Refuse ``values[mask]``; a str ``describe`` follows each value's repr."""
    where = values.index[np.asarray(mask, dtype=bool)]
    if not len(where):
        return
    texts = values[where].tolist()
    if isinstance(describe, str):
        messages = [f"{t!r}{describe}" for t in texts]
    else:
        messages = [describe(t) for t in texts]
    v.refuse(where.to_numpy(), code, np.array(messages, dtype=object))


class _DateReader:
    """The distinct texts of a ``date`` or ``datetime`` column, read form by form.

    Each form is parsed with one vectorised call over the texts of that form;
    only the values that cannot be read are described one by one. A date is
    kept as its day, a datetime without an offset as its wall-clock time
    until ``tz=`` places it.
    """

    def __init__(
        self, values: pd.Series, d: _Definition, name: str, o: CoerceOptions, v: _Verdicts
    ):
        self.values, self.options, self.verdicts = values, o, v
        self.is_date = d.type == "date"
        self.dates_only = f": {name!r} takes dates only, not a time of day"
        self.days = pd.Series(np.nan, index=values.index)
        self.wall = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
        self.rule = pd.Series(None, index=values.index, dtype=object)

    def read(self) -> None:
        values, v = self.values, self.verdicts
        array = pa.array(values.to_numpy(dtype=object), pa.string())
        serial_like = _matches(array, _SERIAL)
        number = pd.to_numeric(values[serial_like], errors="coerce").reindex(values.index)
        serial = serial_like & ((number >= 1) & (number < _EXCEL_LAST + 1)).to_numpy()
        longs = _matches(array, _LONG) & ~serial  # epoch milliseconds already
        if self.is_date:  # at midnight UTC, or refused as they are
            off = values[longs].map(lambda t: int(t) % MS_PER_DAY != 0).to_numpy(dtype=bool)
            _refuse_each(v, values[longs], off, "INVALID_DATE", _not_midnight)
        self.serials(number[serial])
        text = values[~longs & ~serial]
        if not self.is_date:  # the bulk of a datetime column: ISO text with an offset, one parse
            text = text[~self.aware(text)]
        iso = _extract(text, _ISO)
        is_iso = iso["date"].notna().to_numpy()
        self.iso(text[is_iso], iso[is_iso])
        other = text[~is_iso]
        dmy = _extract(other, _DMY)
        is_dmy = dmy["year"].notna().to_numpy()
        self.day_month(other[is_dmy], dmy[is_dmy])
        _refuse_each(v, other, ~is_dmy, "NOT_A_DATE", lambda t: _not_a_date(t, self.is_date))
        self.finish()

    def aware(self, text: pd.Series) -> np.ndarray:
        """Read the ISO datetimes with an offset in one parse; which ones were read."""
        candidates = _matches(text, _AWARE)
        stamps = pd.to_datetime(text[candidates], format="ISO8601", errors="coerce", utc=True)
        stamps = stamps.dropna()
        if len(stamps):
            ms = stamps.astype("datetime64[ms, UTC]").astype("int64").astype(str)
            self.verdicts.change(stamps.index.to_numpy(), ms.to_numpy(dtype=object), "iso_datetime")
        return cast(np.ndarray, text.index.isin(stamps.index))

    def serials(self, n: pd.Series) -> None:
        """Excel serial numbers (1900 or 1904 system); a fraction is the time of day."""
        texts = self.values[n.index]
        whole = (n == np.floor(n)).to_numpy()
        base = _excel_days(np.floor(n), self.options.excel_epoch)
        gone = base.isna().to_numpy()
        bug = " is Excel's 1900-02-29, a day that did not exist"
        _refuse_each(self.verdicts, texts, gone, "NOT_A_DATE", bug)
        if self.is_date:
            _refuse_each(self.verdicts, texts, ~gone & ~whole, "INVALID_DATE", self.dates_only)
            self.days[n.index[~gone & whole]] = base[~gone & whole]
        else:
            fraction = (n - np.floor(n))[~gone].to_numpy()
            ms = base[~gone].to_numpy() * MS_PER_DAY + np.round(fraction * MS_PER_DAY)
            self.wall[n.index[~gone]] = pd.to_datetime(ms, unit="ms").to_numpy()
        self.rule[n.index] = "excel_serial"

    def iso(self, text: pd.Series, parts: pd.DataFrame) -> None:
        """ISO 8601: a date keeps the day written; a datetime needs an offset or ``tz=``."""
        v = self.verdicts
        timed = parts["time"].notna().to_numpy()
        real = np.ones(len(text), dtype=bool)  # a datetime's day is checked as it is parsed
        if self.is_date:
            calendar = pd.to_datetime(parts["date"], format="%Y-%m-%d", errors="coerce")
            real = calendar.notna().to_numpy()
            _refuse_each(v, text, ~real, "NOT_A_DATE", " is not a day of the calendar")
            midnight = _matches(parts["time"].fillna(""), _MIDNIGHT)
            late = real & timed & ~midnight
            _refuse_each(v, text, late, "INVALID_DATE", self.dates_only)
            good = real & ~late
            self.days[text.index[good]] = _days(calendar[good])
            self.rule[text.index[good & ~timed]] = "iso_date"
            self.rule[text.index[good & timed]] = "midnight_datetime"
            return
        offset = parts["offset"].notna().to_numpy()
        stamps = pd.to_datetime(text[real & offset], format="ISO8601", errors="coerce", utc=True)
        _refuse_each(
            v,
            text[stamps.index],
            stamps.isna(),
            "NOT_A_DATE",
            " is not a date and time of the calendar",
        )
        stamps = stamps.dropna()
        if len(stamps):
            ms = stamps.astype("datetime64[ms, UTC]").astype("int64").astype(str)
            v.change(stamps.index.to_numpy(), ms.to_numpy(dtype=object), "iso_datetime")
        local = pd.to_datetime(text[real & ~offset], format="ISO8601", errors="coerce")
        _refuse_each(
            v,
            text[local.index],
            local.isna(),
            "NOT_A_DATE",
            " is not a date and time of the calendar",
        )
        local = local.dropna()
        self.wall[local.index] = local
        self.rule[local.index] = "local_datetime"

    def day_month(self, text: pd.Series, parts: pd.DataFrame) -> None:
        """dd/mm/yyyy or mm/dd/yyyy, only in the order ``dayfirst=`` states."""
        v, dayfirst = self.verdicts, self.options.dayfirst
        if text.empty:
            return
        if dayfirst is None:
            firsts = parts["first"].astype(int).tolist()
            seconds = parts["second"].astype(int).tolist()
            for pos, t, a, b in zip(text.index.to_numpy(), text, firsts, seconds, strict=True):
                v.refuse(pos, "AMBIGUOUS_DATE", _ambiguous(t, a, b))
            return
        day, month = parts["first"], parts["second"]
        if not dayfirst:
            day, month = month, day
        fields = pd.DataFrame({"year": parts["year"], "month": month, "day": day}).astype("int64")
        calendar = pd.to_datetime(fields, errors="coerce")
        how = " is not a day-first date" if dayfirst else " is not a month-first date"
        _refuse_each(v, text, calendar.isna(), "NOT_A_DATE", how + f" (dayfirst={dayfirst})")
        clock = parts["time"].fillna("0:00")
        good = calendar.notna().to_numpy()
        if self.is_date:
            late = good & ~_matches(clock, _MIDNIGHT)
            _refuse_each(v, text, late, "INVALID_DATE", self.dates_only)
            good = good & ~late
            self.days[text.index[good]] = _days(calendar[good])
        else:
            seconds = clock.where(clock.str.count(":") == 2, clock + ":00")
            self.wall[text.index[good]] = (calendar + pd.to_timedelta(seconds))[good]
        self.rule[text.index[good]] = "dayfirst_date" if dayfirst else "monthfirst_date"

    def finish(self) -> None:
        """Days at midnight UTC; wall-clock datetimes placed in ``tz=`` (or refused)."""
        v, tz = self.verdicts, self.options.tz
        found = self.days.dropna()
        if len(found):
            ms = (found.astype("int64") * MS_PER_DAY).astype(str)
            v.change(found.index.to_numpy(), ms.to_numpy(dtype=object), self.rule[found.index])
        placed = self.wall.dropna()
        if not len(placed):
            return
        texts = self.values[placed.index]
        if tz is None:
            _refuse_each(v, texts, np.ones(len(placed), bool), "NAIVE_DATETIME", _naive)
            return
        zoned = placed.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
        clock = f" is skipped or repeated by a clock change in {tz}: write it with an offset"
        _refuse_each(v, texts, zoned.isna(), "NAIVE_DATETIME", clock)
        zoned = zoned.dropna()
        ms = zoned.astype("datetime64[ms, UTC]").astype("int64").astype(str)
        v.change(zoned.index.to_numpy(), ms.to_numpy(dtype=object), self.rule[zoned.index])


def _dates(values: pd.Series, d: _Definition, name: str, o: CoerceOptions, v: _Verdicts) -> None:
    """``date`` and ``datetime`` properties: each value as epoch milliseconds."""
    _DateReader(values, d, name, o, v).read()


def _naive(text: str) -> str:
    return (
        f"{text!r} has no time zone: pass tz= (e.g. tz='UTC') to say which, "
        "or write it with an offset (2024-03-05T14:00+01:00)"
    )


def _ambiguous(text: str, a: int, b: int) -> str:
    if a > 12 and b <= 12:
        return f"{text!r} reads day-first only: pass dayfirst=True to read this column's dates"
    if b > 12 and a <= 12:
        return f"{text!r} reads month-first only: pass dayfirst=False to read this column's dates"
    return (
        f"{text!r} could be day-first or month-first: pass dayfirst=True or dayfirst=False "
        "(dates in this form are never guessed)"
    )


def _not_a_date(text: str, is_date: bool) -> str:
    forms = "an ISO date (2024-03-05)" if is_date else "ISO text with an offset"
    return (
        f"{text!r} is not a date this can read: write {forms}, an Excel serial number, "
        "or dd/mm/yyyy or mm/dd/yyyy text with dayfirst="
    )


_CONVERTERS: dict[str, Converter] = {
    "bool": _boolean,
    "number": _number,
    "date": _dates,
    "datetime": _dates,
}


def _stripped(values: pd.Series, d: _Definition, name: str, o: CoerceOptions, v: _Verdicts) -> None:
    """Any value goes (external options, a type without rules of its own): only stripped."""


def _converter(d: _Definition) -> Converter | None:
    if d.read_only or d.type == "string":
        return None
    if d.type == "enumeration":
        return _enumeration if d.options is not None else _stripped
    convert: Converter = _CONVERTERS.get(d.type, _stripped)
    return convert


# --- a column: distinct values, verdicts, back to the rows -----------------------------------


def _strip(texts: pd.Series, multiple: bool) -> tuple[pd.Series, np.ndarray]:
    """Whitespace (and invisible characters) off both ends and around each ``;`` part.

    Returns the stripped texts and which of them changed.
    """
    original = pa.array(texts.to_numpy(dtype=object), pa.string())
    array = pc.replace_substring_regex(original, f"^{_SPACE}+|{_SPACE}+$", "")
    if multiple:
        array = pc.replace_substring_regex(array, f"{_SPACE}*;{_SPACE}*", ";")
    differs = pc.not_equal(array, original).to_numpy(zero_copy_only=False)
    out: pd.Series = pd.Series(
        array.to_numpy(zero_copy_only=False), index=texts.index, dtype=object
    )
    return out, np.asarray(differs, dtype=bool)


def _distinct(
    column: pd.Series, d: _Definition
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None] | None:
    """Row codes (-1: missing) into the column's distinct values, and those values.

    ``None`` when the column is not something coercion reads (numbers are
    read only for dates and booleans: Excel serials, 1/0).
    """
    kind = column.dtype
    if pd.api.types.is_bool_dtype(kind):
        return None
    if pd.api.types.is_numeric_dtype(kind):
        if d.type not in ("date", "datetime", "bool"):
            return None
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
        texts = np.array([_number_text(u) for u in np.asarray(uniques)], dtype=object)
        return codes, texts, pd.notna(texts)
    if not (pd.api.types.is_object_dtype(kind) or _is_text(kind)):
        return None
    try:  # text only: pyarrow's hash kernel (a mix of types goes through pandas)
        array = pa.array(column, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
        values = np.asarray(uniques, dtype=object)
        return codes, values, np.array([isinstance(u, str) for u in values], dtype=bool)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    encoded = pc.dictionary_encode(array)
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, encoded.dictionary.to_numpy(zero_copy_only=False).astype(object), None


def _is_text(kind: Any) -> bool:
    """A string dtype: pandas' ``string`` or an Arrow string (``current()``, ``read_tidy``).

    Examples
    --------
    >>> [_is_text(k) for k in (pd.StringDtype(), pd.ArrowDtype(pa.large_string()), "int64")]
    [True, True, False]
    """
    if isinstance(kind, pd.ArrowDtype):
        return bool(
            pa.types.is_string(kind.pyarrow_dtype) or pa.types.is_large_string(kind.pyarrow_dtype)
        )
    return isinstance(kind, pd.StringDtype)


def _number_text(value: Any) -> str | None:
    """A number as Excel or a reader gave it: ``45356.0`` -> ``"45356"``."""
    number = float(value)
    if not np.isfinite(number):
        return None
    return str(int(number)) if number == int(number) else repr(number)


@dataclass
class _ColumnResult:
    """One column's part of a :class:`Coerced`."""

    column: pd.Series | None = None  # None: unchanged
    rows: np.ndarray = field(default_factory=lambda: np.array([], np.int64))  # changed, positions
    old: np.ndarray | None = None  # object, per changed row
    new: np.ndarray | None = None
    # the rule of each distinct change, and per changed row which distinct change it is
    rules: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))
    local: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int64))
    groups: pd.DataFrame | None = None  # one row per distinct change: rule, old, new, cells
    problems: list[Problem] = field(default_factory=list)


def _rebuilt(column: pd.Series, values: np.ndarray, codes: np.ndarray) -> pd.Series:
    """The column again from its distinct ``values`` and row ``codes`` (-1: missing).

    A pyarrow-backed string column is taken in Arrow (no Python object per row).
    """
    kind = column.dtype
    arrow = isinstance(kind, pd.ArrowDtype) and _is_text(kind)
    if arrow or (isinstance(kind, pd.StringDtype) and str(kind.storage).startswith("pyarrow")):
        taken = pa.array(values, pa.string()).take(pa.array(codes, mask=codes < 0))
        cells: Any = pd.array(taken, dtype=kind)
    else:
        cells = np.concatenate([values, np.array([None], dtype=object)])[codes]
        kind = kind if isinstance(kind, pd.StringDtype) else np.dtype(object)
    out: pd.Series = pd.Series(cells, index=column.index, name=column.name, dtype=kind)
    return out


def _coerce_column(
    column: pd.Series, d: _Definition, name: str, o: CoerceOptions, convert: Converter
) -> _ColumnResult:
    """A column converted, its changes and its problems, worked out on its distinct values."""
    distinct = _distinct(column, d)
    if distinct is None:
        return _ColumnResult()
    codes, uniques, is_text = distinct
    verdicts = _Verdicts.empty(len(uniques))
    if is_text is None:  # every distinct value is text
        texts = pd.Series(uniques, dtype=object)
    else:
        texts = pd.Series(uniques[is_text], index=np.flatnonzero(is_text), dtype=object)
    stripped, spaced = _strip(texts, d.multiple)
    blank = (stripped == "").to_numpy()
    verdicts.change(stripped.index[blank & spaced].to_numpy(), None, "blank")
    kept = stripped[~blank]
    convert(kept, d, name, o, verdicts)
    padded = kept.index[spaced[~blank]].to_numpy()
    padded = padded[pd.isna(verdicts.rule[padded]) & pd.isna(verdicts.code[padded])]
    verdicts.change(padded, kept[padded].to_numpy(), "whitespace")
    result = _ColumnResult()
    changed_u = np.flatnonzero(pd.notna(verdicts.rule))
    if len(changed_u):
        values = uniques.copy()
        values[changed_u] = verdicts.new[changed_u]
        result.column = _rebuilt(column, values, codes)
        remap = np.full(len(uniques) + 1, -1)  # the last for code -1: a missing cell
        remap[changed_u] = np.arange(len(changed_u))
        result.rows = np.flatnonzero(remap[codes] >= 0)
        local = remap[codes[result.rows]]
        which = changed_u[local]
        result.old = uniques[which]
        result.new = verdicts.new[which]
        result.rules, result.local = verdicts.rule[changed_u], local
        counts = np.bincount(local, minlength=len(changed_u))
        result.groups = pd.DataFrame(
            {
                "column": name,
                "rule": verdicts.rule[changed_u],
                "old": uniques[changed_u],
                "new": verdicts.new[changed_u],
                "cells": counts,
            }
        )
    refused_u = np.append(pd.notna(verdicts.code), False)
    rows = np.flatnonzero(refused_u[codes])
    if len(rows):
        which = codes[rows]
        order = np.argsort(which, kind="stable")
        rows, which = rows[order], which[order]
        starts = np.flatnonzero(np.r_[True, which[1:] != which[:-1]])
        for at in np.split(rows, starts[1:]):
            u = codes[at[0]]
            problem = Problem(
                np.sort(at), name, verdicts.code[u], verdicts.message[u], [uniques[u]] * len(at)
            )
            result.problems.append(problem)
    return result


def coerce_frame(
    df: pd.DataFrame,
    definitions: Definitions,
    options: CoerceOptions | None = None,
    *,
    id_column: str | None = None,
) -> Coerced:
    """Convert ``df`` to what HubSpot's property definitions accept; see the module docstring.

    Parameters
    ----------
    df : pandas.DataFrame
        A wide frame: the ticket ids and one column per property (or per
        export header).
    definitions : list of dict or pandas.DataFrame
        ``TicketsClient.properties()``'s records.
    options : CoerceOptions, optional
        How ambiguous text is read (by default, it is reported).
    id_column : str, optional
        The column of ticket ids; by default found (see ``find_id_column``).

    Returns
    -------
    Coerced

    Examples
    --------
    >>> import pandas as pd
    >>> defs = [
    ...     {"name": "hs_ticket_priority", "label": "Priority", "type": "enumeration",
    ...      "fieldType": "select", "options": [{"label": "High", "value": "HIGH"}]},
    ...     {"name": "due_date", "label": "Due date", "type": "date"},
    ... ]
    >>> sheet = pd.DataFrame({
    ...     "Ticket ID": [1, 2],
    ...     "Priority": ["High", " HIGH"],
    ...     "Due date": ["2024-03-05", "05/03/2024"],
    ... })
    >>> fixed = coerce_frame(sheet, defs)
    >>> fixed.frame.to_dict("list")  # doctest: +NORMALIZE_WHITESPACE
    {'Ticket ID': [1, 2], 'hs_ticket_priority': ['HIGH', 'HIGH'],
     'due_date': ['1709596800000', '05/03/2024']}
    >>> changes = fixed.changes[["row", "column", "old", "rule"]]
    >>> changes.values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [[0, 'hs_ticket_priority', 'High', 'option_label'],
     [1, 'hs_ticket_priority', ' HIGH', 'whitespace'],
     [0, 'due_date', '2024-03-05', 'iso_date']]
    >>> fixed.problems[["row", "code", "value"]].values.tolist()
    [[1, 'AMBIGUOUS_DATE', '05/03/2024']]
    >>> coerce_frame(sheet, defs, CoerceOptions(dayfirst=True)).frame.loc[1, "due_date"]
    '1709596800000'
    """
    if not isinstance(df, pd.DataFrame):
        raise ArgumentTypeError(f"expected a pandas DataFrame, got {type(df).__name__}")
    options = options or CoerceOptions()
    known = _parse(definitions)
    id_name = find_id_column(df, id_column)
    columns = map_columns(list(df.columns), known, id_column=id_name, rename=options.rename)
    frame = df.drop(columns=list(columns.dropped)) if columns.dropped else df
    frame = frame.rename(columns=columns.renames) if columns.renames else frame.copy(deep=False)
    parts: list[_ColumnResult] = []
    for position, label in enumerate(frame.columns):
        d = known.get(label) if isinstance(label, str) and label != id_name else None
        convert = None if d is None else _converter(d)
        if d is None or convert is None:
            continue
        part = _coerce_column(frame.iloc[:, position], d, str(label), options, convert)
        if part.column is not None:
            frame.isetitem(position, part.column)
        parts.append(part)
    found = [p for part in parts for p in part.problems]
    listed = ProblemList(frame.index, _id_series(frame, id_name))
    listed.extend(found)
    return Coerced(
        frame=frame,
        changes=_changes(frame.index, [p for p in parts if p.column is not None]),
        problems=listed.frame()[PROBLEM_COLUMNS],
        mapping=columns.frame(),
        columns=columns,
        found=tuple(found),
        groups=pd.concat([p.groups for p in parts if p.groups is not None], ignore_index=True)
        if any(p.groups is not None for p in parts)
        else _GROUPS_EMPTY,
    )


_GROUPS_EMPTY = pd.DataFrame({c: [] for c in ("column", "rule", "old", "new", "cells")})


def _changes(index: pd.Index, parts: list[_ColumnResult]) -> pd.DataFrame:
    """Every changed cell, column by column (``column`` and ``rule`` categoricals)."""
    if not parts:
        empty: pd.DataFrame = pd.DataFrame({c: [] for c in CHANGE_COLUMNS}, dtype=object)
        return empty
    rows = np.concatenate([p.rows for p in parts])
    names = [str(p.column.name) if p.column is not None else "" for p in parts]
    distinct = list(dict.fromkeys(names))
    codes = np.repeat([distinct.index(n) for n in names], [len(p.rows) for p in parts])
    column = pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(distinct))
    # the rules of every distinct change, factorised once, then taken per changed row
    rule_of, rules = pd.factorize(np.concatenate([p.rules for p in parts]))
    starts = np.cumsum([0] + [len(p.rules) for p in parts[:-1]])
    rule_codes = np.concatenate(
        [rule_of[start + p.local] for start, p in zip(starts, parts, strict=True)]
    )

    def joined(which: str) -> pd.Series:
        out: pd.Series = pd.Series(np.concatenate([getattr(p, which) for p in parts]), dtype=object)
        return out

    table: pd.DataFrame = pd.DataFrame(
        {
            "row": index[rows],
            "column": column,
            "old": joined("old"),
            "new": joined("new"),
            "rule": pd.Categorical.from_codes(rule_codes, dtype=pd.CategoricalDtype(list(rules))),
        }
    )
    return table


def unreported(reported: Sequence[Problem], findings: Sequence[Problem]) -> list[Problem]:
    """``findings`` without the cells ``reported`` already (each cell is reported once).

    Coercion reports a value it cannot convert; the pre-check, run on the
    coerced frame, would find the same cell again under HubSpot's code.
    """
    seen: dict[Hashable, np.ndarray] = {}
    for p in reported:
        if p.rows is not None:
            seen[p.column] = np.union1d(seen.get(p.column, np.array([], np.int64)), p.rows)
    kept = []
    for p in findings:
        if p.rows is None or p.column not in seen:
            kept.append(p)
            continue
        keep = ~np.isin(p.rows, seen[p.column])
        if keep.any():
            values = (
                None if p.values is None else [v for v, k in zip(p.values, keep, strict=True) if k]
            )
            kept.append(Problem(p.rows[keep], p.column, p.code, p.message, values))
    return kept


def validate_frame(
    df: pd.DataFrame,
    definitions: Definitions,
    options: CoerceOptions | None = None,
    *,
    id_column: str | None = None,
    na: NaMode = "skip",
) -> pd.DataFrame:
    """Every problem an update would refuse ``df`` for, without raising.

    Parameters
    ----------
    df : pandas.DataFrame
        The wide frame.
    definitions : list of dict or pandas.DataFrame
        ``TicketsClient.properties()``'s records.
    options : CoerceOptions, optional
        Coerce first with these options (what ``update(coerce=...)`` would
        refuse); ``None``: the frame as it is.
    id_column, na
        As in ``update``.

    Returns
    -------
    pandas.DataFrame
        The problems (columns of ``PayloadError.problems``): the values
        coercion could not convert, then everything the pre-check refuses
        (ids, duplicates, unknown or read-only columns, values), each cell
        once.

    Examples
    --------
    >>> import pandas as pd
    >>> defs = [{"name": "is_escalated", "type": "bool"}]
    >>> df = pd.DataFrame({"objectId": [1, 1], "is_escalated": ["Yes", "maybe"]})
    >>> problems = validate_frame(df, defs)[["row", "code", "value"]]
    >>> problems.values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [[0, 'DUPLICATE_ID', 1], [0, 'INVALID_BOOLEAN', 'Yes'],
     [1, 'DUPLICATE_ID', 1], [1, 'INVALID_BOOLEAN', 'maybe']]
    >>> validate_frame(df, defs, CoerceOptions())[["row", "code", "value"]].values.tolist()
    [[0, 'DUPLICATE_ID', 1], [1, 'INVALID_BOOLEAN', 'maybe'], [1, 'DUPLICATE_ID', 1]]
    """
    frame = df
    found: list[Problem] = []
    if options is not None:
        coerced = coerce_frame(df, definitions, options, id_column=id_column)
        frame, found = coerced.frame, list(coerced.found)
    listed = ProblemList(frame.index)
    listed.extend(found)
    name = find_id_column(frame, id_column)
    encoded = encode_frame(frame, id_column=name, na=na, problems=listed)
    listed.extend(unreported(found, check_values(encoded, definitions)))
    return listed.frame()
