"""The command line's files: the CSV of edits, a file of ticket ids, the tidy output.

Reading keeps what was typed (every cell is text, only empty cells are
missing) and reports every problem of a file at once, naming the file, the
column and the values; nothing here touches the network.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ._columns import find_id_column, is_id_header
from ._flatten import write_tidy
from ._payload import ProblemList
from .errors import InputFileError

__all__ = [
    "TIDY_FORMATS",
    "check_tidy_path",
    "read_edits",
    "read_ids",
    "write_tidy_file",
]

#: Output formats of :func:`write_tidy_file`, by file extension.
TIDY_FORMATS = (".parquet", ".csv")
ISO_HINT = "YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+HH:MM]"
_SHOWN = 5


def _read_text(path: str | os.PathLike[str], *, header: int | None = 0) -> pd.DataFrame:
    """A CSV file as typed: every cell text, only empty cells missing.

    Without a header (``header=None``) blank lines are kept, so that row
    positions are line numbers.
    """
    try:
        table: pd.DataFrame = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            header=header,
            skip_blank_lines=header is not None,
        )
    except UnicodeDecodeError:
        raise InputFileError(f"cannot read {path}: it is not UTF-8 text") from None
    except pd.errors.EmptyDataError:
        raise InputFileError(f"cannot read {path}: the file is empty") from None
    except (OSError, pd.errors.ParserError) as exc:
        raise InputFileError(f"cannot read {path}: {exc}") from None
    return table


def read_edits(
    path: str | os.PathLike[str], id_column: str | None, date_columns: Sequence[str] = ()
) -> tuple[pd.DataFrame, ProblemList]:
    """Read a CSV of ticket edits exactly as typed, and the problems of its date columns.

    Every cell is text and only empty cells are missing (the text ``NA`` or
    ``n/a`` is a value), and nothing is guessed: ``01234`` stays ``"01234"``
    and ``1.10`` stays ``"1.10"``. The ids become the index when the file has
    ``id_column`` (else the update names the columns it has). The
    ``date_columns`` are parsed as ISO 8601 dates or datetimes (naive taken
    as UTC, offsets converted), to be sent as epoch milliseconds; a cell that
    is not such a date becomes missing and is recorded as a problem, every
    row of every date column, to be reported with all the others.

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file.
    id_column : str or None
        The header of the column of ticket ids; ``None``: the one header
        named as :data:`~pandas_hubtickets._columns.ID_COLUMNS` says.
    date_columns : sequence of str
        Headers of the columns holding dates.

    Returns
    -------
    edits : pandas.DataFrame
        The edits, indexed by the id column.
    problems : ProblemList
        The date cells that are not ISO 8601 (code ``NOT_ISO_8601``).

    Raises
    ------
    InputFileError
        The file cannot be read, or a date column is not one of its columns.

    Examples
    --------
    >>> import io
    >>> text = io.StringIO("Ticket ID,due_date,zip\\n1,2026-01-02,01234\\n2,05/03/2024,\\n")
    >>> edits, problems = read_edits(text, "Ticket ID", ["due_date"])
    >>> edits.loc["1", "zip"], edits.loc["1", "due_date"]
    ('01234', Timestamp('2026-01-02 00:00:00+0000', tz='UTC'))
    >>> problems.frame().loc[0, ["row", "column", "code"]].tolist()
    ['2', 'due_date', 'NOT_ISO_8601']
    """
    edits = _read_text(path)
    missing = [c for c in date_columns if c not in edits.columns]
    if missing:
        names = ", ".join(repr(c) for c in missing)
        columns = ", ".join(repr(c) for c in edits.columns)
        raise InputFileError(
            f"--date-columns names {names}, not a column of {path} (its columns: {columns})"
        )
    id_column = find_id_column(edits, id_column)
    if id_column in edits.columns:
        edits = edits.set_index(id_column)  # not index_col=: pandas 2.2 would parse the ids
    problems = ProblemList(edits.index)
    for column in dict.fromkeys(date_columns):
        edits[column] = _parse_dates(edits[column], column, problems)
    return edits, problems


def _parse_dates(text: pd.Series, column: str, problems: ProblemList) -> pd.Series:
    """ISO 8601 text to UTC datetimes; each other non-empty cell is a problem (and missing)."""
    dates = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
    bad = (text.notna() & dates.isna()).to_numpy()
    if bad.any():
        rows = np.flatnonzero(bad)
        values = text.iloc[rows]
        codes, distinct = pd.factorize(values)
        for i, value in enumerate(distinct):
            message = f"{value!r} is not an ISO 8601 date ({ISO_HINT})"
            same = rows[codes == i]
            problems.add(same, column, "NOT_ISO_8601", message, [value] * len(same))
    return dates


def read_ids(path: str | os.PathLike[str], id_column: str | None) -> list[int]:
    """Ticket ids from a text file (one a line) or a CSV file with a column ``id_column``.

    A one-column file whose first line is not a number has a header; blank
    lines are skipped; duplicates are kept once, in order of first appearance.

    Raises
    ------
    InputFileError
        Unreadable, no ids, several columns none of which is ``id_column``,
        or values that are not ticket ids (every one of them, by line).

    Examples
    --------
    >>> import io
    >>> read_ids(io.StringIO("Ticket ID,subject\\n12,a\\n7,b\\n12,c\\n"), "Ticket ID")
    [12, 7]
    >>> read_ids(io.StringIO("objectId\\n5\\n\\n6\\n"), "Ticket ID")
    [5, 6]
    """
    table = _read_text(path, header=None)
    first = table.iloc[0].tolist()
    if id_column is None:  # the header ID_COLUMNS names, if the file has one
        id_column = next((str(h) for h in first if is_id_header(h)), None)
    lines = pd.RangeIndex(1, len(table) + 1)
    if id_column is not None and id_column in first:
        cells = table.iloc[1:, first.index(id_column)]
    elif table.shape[1] == 1:
        cells = table.iloc[:, 0]
        if not str(first[0]).strip().isdigit():  # a header line
            cells = cells.iloc[1:]
    else:
        named = repr(id_column) if id_column else "objectId, hs_object_id, Ticket ID or id"
        raise InputFileError(
            f"{path} has {table.shape[1]} columns and none is named {named}: give one "
            "ticket id a line, or name the column of ids with --id-column"
        )
    cells = cells.set_axis(lines[len(lines) - len(cells) :]).dropna().str.strip()
    valid = cells.str.fullmatch(r"[0-9]{1,18}") & (cells.str.lstrip("0") != "")
    bad = cells[~valid]
    if len(bad):
        shown = ", ".join(f"line {line} {value!r}" for line, value in bad.head(_SHOWN).items())
        more = f" and {len(bad) - _SHOWN:,} more" if len(bad) > _SHOWN else ""
        noun = "value is not a ticket id" if len(bad) == 1 else "values are not ticket ids"
        raise InputFileError(f"{path}: {len(bad):,} {noun}: {shown}{more}")
    if cells.empty:
        raise InputFileError(f"{path} holds no ticket ids")
    return list(dict.fromkeys(int(v) for v in cells))


def check_tidy_path(path: str | os.PathLike[str]) -> str:
    """The format (``".parquet"`` or ``".csv"``) that ``path``'s extension names, or raise."""
    suffix = Path(path).suffix.lower()
    if suffix not in TIDY_FORMATS:
        raise InputFileError(
            f"cannot tell the format of {path}: name it *.parquet or *.csv "
            f"(accepted extensions: {', '.join(TIDY_FORMATS)})"
        )
    return suffix


def write_tidy_file(tidy: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write a tidy frame in the format its file name's extension names.

    ``.parquet``: :func:`pandas_hubtickets.write_tidy` (any reader opens it;
    :func:`pandas_hubtickets.read_tidy` gives back the exact dtypes).
    ``.csv``: one line per version, ``sourceVid`` as ``;``-separated numbers.

    Examples
    --------
    >>> import os, tempfile
    >>> import pandas_hubtickets as ht
    >>> tidy = ht.flatten({"objectId": 1, "portalId": 7, "properties": {"a": {"value": "x"}}})
    >>> path = os.path.join(tempfile.mkdtemp(), "history.csv")
    >>> write_tidy_file(tidy, path)
    >>> pd.read_csv(path)[["objectId", "property", "value"]]
       objectId property value
    0         1        a     x
    """
    if check_tidy_path(path) == ".parquet":
        write_tidy(tidy, path)
        return
    vids = pa.array(tidy["sourceVid"], pa.list_(pa.int64())).cast(pa.list_(pa.string()))
    text = tidy.assign(sourceVid=pd.arrays.ArrowExtensionArray(pc.binary_join(vids, ";")))
    text.to_csv(path, index=False)
