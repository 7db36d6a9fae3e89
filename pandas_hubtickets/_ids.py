"""What a ticket id may look like: one rule for the payload check and the client.

No pandas here (the client does not import it). An id is a whole number from 1
to 2**63 - 1: an int (numpy ints too), a float or Decimal holding a whole
number (a float only where it holds every whole number, below 2**53 for
float64), or text of plain ASCII digits ``0-9`` (a CSV cell), with spaces or
tabs around it and an optional ``.0`` (``"176602.0"``: a whole number written by
a spreadsheet). Anything else (``"1_000"``, ``"2e3"``, ``"+5"``, ``"1,000"``,
Arabic-Indic or full-width digits, booleans) is refused: an edited sheet must
never silently address another ticket.
"""

from __future__ import annotations

import decimal
import re
from numbers import Integral

import numpy as np

__all__ = ["ID_FORM", "ticket_id"]

#: What an id must look like, for messages.
ID_FORM = (
    "an id is a whole number such as 176602: digits 0-9 only (spaces around them and "
    "a trailing .0 are allowed), no sign, exponent, separator or other digits"
)
_INT64_MAX = int(np.iinfo(np.int64).max)
_DIGITS = re.compile(r"([0-9]+)(?:\.0+)?")
_SPACES = " \t"


def ticket_id(value: object) -> int | str:
    """The ticket id ``value`` stands for, or why it is not one.

    Parameters
    ----------
    value : object
        One cell of an id column, or one id given to the client. Missing
        markers (None, NaN) are the caller's business: here they are "not a
        number".

    Returns
    -------
    int or str
        The id (1 to 2**63 - 1), or the reason it is refused.

    Examples
    --------
    >>> ticket_id(" 176602 "), ticket_id("176602.0"), ticket_id(176602.0)
    (176602, 176602, 176602)
    >>> ticket_id("1_000")  # doctest: +ELLIPSIS
    'id must be written in plain digits: an id is a whole number such as 176602: ...'
    """
    if isinstance(value, bool | np.bool_):
        return "id is a boolean, not a ticket id"
    if isinstance(value, str):
        match = _DIGITS.fullmatch(value.strip(_SPACES))
        if match is None:
            return f"id must be written in plain digits: {ID_FORM}"
        n = int(match.group(1))
    elif isinstance(value, Integral) and not isinstance(value, np.timedelta64):
        n = int(value)
    elif isinstance(value, float | np.floating):
        if not np.isfinite(value):
            return f"id is not a number: {ID_FORM}"
        if value != np.trunc(value):
            return "id is not a whole number"
        if abs(value) >= 2.0 ** (np.finfo(type(value)).nmant + 1):
            return "id is too large to be held exactly in a float"
        n = int(value)
    elif isinstance(value, decimal.Decimal):
        if not value.is_finite():  # also sNaN, which pandas.isna cannot even test
            return f"id is not a number: {ID_FORM}"
        if value != value.to_integral_value():
            return "id is not a whole number"
        if value.adjusted() > 18:  # before int(): Decimal("1E+999999999") is cheap, its int not
            return "id is too large for a ticket id"
        n = int(value)
    else:
        return f"id is not a number: {ID_FORM}"
    if n <= 0:
        return "id is not positive"
    if n > _INT64_MAX:
        return "id is too large for a ticket id"
    return n
