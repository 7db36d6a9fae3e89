"""The command line's files: the edits (CSV, Excel, Parquet, JSON Lines), ids, tidy output.

Reading keeps what was typed (every cell is text, only empty cells are
missing) and reports every problem of a file at once, naming the file, the
column and the values; nothing here touches the network.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ._columns import find_id_column, is_id_header
from ._encode import encode_column
from ._flatten import write_tidy
from ._payload import ProblemList
from .errors import InputFileError

__all__ = [
    "EDIT_FORMATS",
    "TIDY_FORMATS",
    "EditsFile",
    "check_tidy_path",
    "read_edits",
    "read_ids",
    "write_tidy_file",
]

#: Output formats of :func:`write_tidy_file`, by file extension.
TIDY_FORMATS = (".parquet", ".csv")
#: Formats of the files of edits :func:`read_edits` reads, by file extension.
EDIT_FORMATS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".parquet": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
_FORMAT_NAMES = {
    "text with a separator": (".csv", ".tsv", ".txt"),
    "Excel": (".xlsx", ".xlsm"),
    "Parquet": (".parquet",),
    "JSON Lines": (".jsonl", ".ndjson"),
}
#: Separators a text file's header line is tried with, preferred in this order on a tie.
SEPARATORS = (",", ";", "\t", "|")
#: UTF-8, with or without a byte order mark.
DEFAULT_ENCODING = "utf-8-sig"
# JSON values as they are: pandas 2.x would turn columns with date-like names into dates
_JSON_AS_TYPED: dict[str, Any] = {"dtype": False}
if int(pd.__version__.split(".")[0]) < 3:
    _JSON_AS_TYPED["convert_dates"] = False  # deprecated in pandas 3, where dtype=False does it
Source = str | os.PathLike[str] | IO[str]
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


def _kind(path: Source) -> str:
    """The kind of file ``path`` names (``csv``, ``excel``, ``parquet``, ``jsonl``), or raise."""
    if not isinstance(path, str | os.PathLike):
        return "csv"  # an open text file
    suffix = Path(path).suffix.lower()
    if suffix not in EDIT_FORMATS:
        named = f"{suffix} files are" if suffix else "a file without an extension is"
        raise InputFileError(
            f"cannot read {path}: {named} not supported; push reads "
            + ", ".join(f"{', '.join(exts)} ({what})" for what, exts in _FORMAT_NAMES.items())
        )
    return EDIT_FORMATS[suffix]


def _check_encoding(encoding: str | None) -> str:
    """The codec to read text with: ``utf-8-sig`` (UTF-8 with or without BOM) by default."""
    if encoding is None:
        return DEFAULT_ENCODING
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InputFileError(
            f"--encoding {encoding!r} is not an encoding Python knows (e.g. utf-8, cp1252, latin-1)"
        ) from None
    return encoding


def _decoding_error(path: Source, encoding: str) -> InputFileError:
    """Where ``path`` stops being ``encoding`` text: byte position and line, and what to try.

    Called once reading failed, so its pass over the file costs nothing in a
    run that works; it reads a block at a time.
    """
    name = "UTF-8" if codecs.lookup(encoding).name.startswith("utf-8") else encoding
    hint = "try --encoding cp1252 (Excel on Windows) or --encoding latin-1"
    if codecs.lookup(encoding).name == "cp1252":
        hint = "try --encoding latin-1"
    if not isinstance(path, str | os.PathLike):
        return InputFileError(f"cannot read {path}: it is not {name} text; {hint}")
    decoder = codecs.getincrementaldecoder(encoding)()
    offset, lines = 0, 0
    with open(path, "rb") as fh:
        while True:
            block = fh.read(1 << 20)
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                # the decoder may hold back the first bytes of a character (never a newline)
                at = offset + len(block) - len(exc.object) + exc.start
                line = lines + exc.object[: exc.start].count(b"\n") + 1
                byte = exc.object[exc.start : exc.start + 1].hex()
                return InputFileError(
                    f"cannot read {path}: byte 0x{byte} at position {at:,} (line {line:,}) "
                    f"is not {name} text; {hint}"
                )
            if not block:
                break
            offset += len(block)
            lines += block.count(b"\n")
    return InputFileError(f"cannot read {path}: it is not {name} text; {hint}")


def _sniff(path: Source, encoding: str, tab_first: bool) -> str:
    """The separator that splits the header line into the most columns (``,`` on a tie)."""
    if isinstance(path, str | os.PathLike):
        try:
            with open(path, encoding=encoding, errors="replace", newline="") as fh:
                first = next((line for line in fh if line.strip()), "")
        except OSError as exc:
            raise InputFileError(f"cannot read {path}: {exc}") from None
    else:
        first = next((line for line in path if line.strip()), "")
        path.seek(0)
    order = ("\t", *SEPARATORS) if tab_first else SEPARATORS
    counts = {sep: len(next(csv.reader([first], delimiter=sep), [])) for sep in order}
    return max(order, key=lambda sep: counts[sep])  # the first of the best, in order


class EditsFile:
    """A file of ticket edits in any supported format, read whole or a chunk at a time.

    The format comes from the extension (see :data:`EDIT_FORMATS`); text files
    have their separator (``sep``, else sniffed from the header line) and
    encoding (``encoding``, else UTF-8 with or without a BOM) settled once.
    Text and Excel cells arrive as typed (see :func:`read_edits`); Parquet
    and JSON Lines keep the types they carry.

    Parameters
    ----------
    path : str, os.PathLike or text file
        The file; an open text file is read as CSV.
    sep : str, optional
        Separator of a text file (default: sniffed among ``, ; tab |``).
    encoding : str, optional
        Encoding of a text file (default: UTF-8 with or without BOM).

    Examples
    --------
    >>> import io
    >>> source = EditsFile(io.StringIO("Ticket ID;status\\n1;OPEN\\n2;CLOSED\\n3;OPEN\\n"))
    >>> source.sep
    ';'
    >>> [len(frame) for frame in source.frames(chunk_rows=2)]
    [2, 1]
    """

    def __init__(self, path: Source, *, sep: str | None = None, encoding: str | None = None):
        self.path = path
        self.kind = _kind(path)
        self.encoding = _check_encoding(encoding)
        self.sep = sep
        if self.kind == "csv" and sep is None:
            tab_first = isinstance(path, str | os.PathLike) and str(path).lower().endswith(".tsv")
            self.sep = _sniff(path, self.encoding, tab_first)

    def frames(
        self, chunk_rows: int | None = None, columns: Sequence[str] | None = None
    ) -> Iterator[pd.DataFrame]:
        """The file's rows as frames of at most ``chunk_rows`` rows (``None``: one frame).

        ``columns`` reads only those of them the file has (all when ``None``).
        Excel sheets are read whole whatever ``chunk_rows`` says.
        """
        if not isinstance(self.path, str | os.PathLike):
            self.path.seek(0)  # an open file is read from its start each time
        try:
            if self.kind == "excel":
                yield _pick(_read_excel(self.path), columns)
            elif self.kind == "parquet":
                yield from _parquet_frames(self.path, chunk_rows, columns)
            elif self.kind == "jsonl":
                yield from self._jsonl_frames(chunk_rows, columns)
            else:
                yield from self._csv_frames(chunk_rows, columns)
        except UnicodeDecodeError:
            raise _decoding_error(self.path, self.encoding) from None
        except pd.errors.EmptyDataError:
            raise InputFileError(f"cannot read {self.path}: the file is empty") from None
        except (OSError, ValueError, pa.ArrowException) as exc:  # ParserError is a ValueError
            if isinstance(exc, InputFileError):
                raise
            raise InputFileError(f"cannot read {self.path}: {exc}") from None

    def _csv_frames(
        self, chunk_rows: int | None, columns: Sequence[str] | None
    ) -> Iterator[pd.DataFrame]:
        usecols = None if columns is None else (lambda c: c in columns)
        options: dict[str, Any] = {
            "sep": self.sep,
            "encoding": self.encoding,
            "dtype": str,
            "keep_default_na": False,
            "na_values": [""],
            "usecols": usecols,
        }
        if chunk_rows is None:
            yield pd.read_csv(self.path, **options)
            return
        with pd.read_csv(self.path, chunksize=chunk_rows, **options) as reader:
            yield from reader

    def _jsonl_frames(
        self, chunk_rows: int | None, columns: Sequence[str] | None
    ) -> Iterator[pd.DataFrame]:
        options = {"lines": True, "encoding": self.encoding, **_JSON_AS_TYPED}
        pieces = (
            [pd.read_json(self.path, **options)]
            if chunk_rows is None
            else pd.read_json(self.path, chunksize=chunk_rows, **options)
        )
        empty = True
        for frame in pieces:
            empty = False
            yield _pick(cast(pd.DataFrame, frame), columns)
        if empty:  # an empty file read in chunks: still one (empty) frame
            yield pd.DataFrame()

    def prepare(
        self, frame: pd.DataFrame, id_column: str | None, date_columns: Sequence[str] = ()
    ) -> tuple[pd.DataFrame, ProblemList]:
        """Rows of this file as edits: indexed by ``id_column``, ``date_columns`` parsed.

        Raises
        ------
        InputFileError
            A date column is not one of the file's columns.
        """
        missing = [c for c in date_columns if c not in frame.columns]
        if missing:
            names = ", ".join(repr(c) for c in missing)
            columns = ", ".join(repr(c) for c in frame.columns)
            raise InputFileError(
                f"--date-columns names {names}, not a column of {self.path} (its columns: "
                f"{columns})"
            )
        id_column = find_id_column(frame, id_column)
        if id_column in frame.columns:
            frame = frame.set_index(id_column)  # not index_col=: pandas 2.2 would parse the ids
        problems = ProblemList(frame.index)
        for column in dict.fromkeys(date_columns):
            frame[column] = _parse_dates(frame[column], column, problems)
        return frame, problems


def read_edits(
    path: Source,
    id_column: str | None,
    date_columns: Sequence[str] = (),
    *,
    sep: str | None = None,
    encoding: str | None = None,
) -> tuple[pd.DataFrame, ProblemList]:
    """Read a file of ticket edits exactly as typed, and the problems of its date columns.

    CSV and other text (``.csv``, ``.tsv``, ``.txt``), Excel (``.xlsx``,
    ``.xlsm``, with the ``excel`` extra), Parquet and JSON Lines (``.jsonl``,
    ``.ndjson``), by extension. In a text file every cell is text and only
    empty cells are missing (the text ``NA`` or ``n/a`` is a value), and
    nothing is guessed: ``01234`` stays ``"01234"`` and ``1.10`` stays
    ``"1.10"``. An Excel sheet's text is kept as typed, its date cells become
    dates (midnight UTC) and its numbers and booleans the text HubSpot takes
    (``1234``, ``1.5``, ``true``). Parquet and JSON Lines keep their types.
    The ids become the index when the file has ``id_column`` (else the update
    names the columns it has). The ``date_columns`` are parsed as ISO 8601
    dates or datetimes (naive taken as UTC, offsets converted), to be sent as
    epoch milliseconds; cells that are dates already stay so; a cell that is
    not such a date becomes missing and is recorded as a problem, every row
    of every date column, to be reported with all the others.

    Parameters
    ----------
    path : str, os.PathLike or text file
        The file (an open text file is read as CSV).
    id_column : str
        The header of the column of ticket ids.
    date_columns : sequence of str
        Headers of the columns holding dates.
    sep : str, optional
        A text file's separator; by default the one of ``, ; tab |`` that
        splits the header line into the most columns.
    encoding : str, optional
        A text file's encoding; by default UTF-8, with or without a BOM.
        ``"cp1252"`` and ``"latin-1"`` read what Excel on Windows saves.

    Returns
    -------
    edits : pandas.DataFrame
        The edits, indexed by the id column.
    problems : ProblemList
        The date cells that are not ISO 8601 (code ``NOT_ISO_8601``).

    Raises
    ------
    InputFileError
        The file cannot be read (the message says why: an unsupported
        extension, the byte and line where decoding failed, the missing
        ``excel`` extra), or a date column is not one of its columns.

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
    source = EditsFile(path, sep=sep, encoding=encoding)
    return source.prepare(next(source.frames()), id_column, date_columns)


def _pick(frame: pd.DataFrame, columns: Sequence[str] | None) -> pd.DataFrame:
    """The ``columns`` of ``frame`` that it has (all of them when ``None``)."""
    return frame if columns is None else frame[[c for c in columns if c in frame.columns]]


def _parquet_frames(
    path: Source, chunk_rows: int | None, columns: Sequence[str] | None
) -> Iterator[pd.DataFrame]:
    parquet = pq.ParquetFile(path)
    if columns is not None:
        columns = [c for c in columns if c in parquet.schema_arrow.names]
    if chunk_rows is None:
        yield parquet.read(columns=columns).to_pandas()
        return
    batches = parquet.iter_batches(batch_size=chunk_rows, columns=columns)
    empty = True
    for batch in batches:
        empty = False
        yield batch.to_pandas()
    if empty:
        yield parquet.schema_arrow.empty_table().to_pandas()


def _read_excel(path: Source) -> pd.DataFrame:
    """The first sheet of a workbook: text as typed, date cells as UTC dates, numbers as text."""
    try:
        from python_calamine import CalamineWorkbook
    except ImportError:
        raise InputFileError(
            f"cannot read {path}: reading Excel files needs the excel extra: "
            "pip install 'pandas-hubtickets[excel]'"
        ) from None
    try:
        rows = CalamineWorkbook.from_path(os.fspath(cast(str, path))).get_sheet_by_index(0)
        cells = rows.to_python()
    except Exception as exc:  # calamine's own errors (a damaged or encrypted workbook)
        raise InputFileError(f"cannot read {path}: {exc}") from None
    if not cells:
        raise InputFileError(f"cannot read {path}: the first sheet is empty")
    header, *body = cells
    body = [row for row in body if any(v != "" for v in row)]  # blank lines, as in a CSV
    names = [_cell_text(v) or f"Unnamed: {i}" for i, v in enumerate(header)]
    columns = [_sheet_column([row[i] for row in body]) for i in range(len(names))]
    frame = pd.concat(columns, axis=1) if columns else pd.DataFrame(index=range(len(body)))
    named: pd.DataFrame = cast(pd.DataFrame, frame).set_axis(names, axis=1)
    return named


def _cell_text(v: Any) -> str | None:
    """A header cell as text; ``None`` for an empty one."""
    if isinstance(v, str):
        return v if v != "" else None
    return _sheet_column([v]).astype(str).iloc[0]


def _sheet_column(values: list[Any]) -> pd.Series:
    """A column of a sheet: dates where Excel holds dates, the text HubSpot takes elsewhere.

    Text is kept as typed (``""`` is an empty cell); numbers are written as the
    encoder writes them (``45356.0`` -> ``"45356"``), booleans ``true``/``false``,
    times of day ``HH:MM:SS``; date cells at midnight are dates (midnight UTC,
    as a ``date`` property wants) and a column of them only is a UTC datetime
    column; date cells with a time of day are naive ISO text
    (``2024-03-05T14:30:00``): Excel keeps no time zone, so none is guessed
    (``--coerce --tz`` reads them, and without it they are refused). Each kind
    of cell is converted in one vectorised call.
    """
    cells = np.empty(len(values), dtype=object)
    cells[:] = values
    kinds = np.array([_CELL_KINDS.get(type(v), "other") for v in values], dtype=object)
    out = np.full(len(values), None, dtype=object)
    text = (kinds == "text") & (cells != "")
    out[text] = cells[text]
    numbers = kinds == "number"
    if numbers.any():
        encoded, _ = encode_column(pd.Series(cells[numbers].astype(np.float64)))
        out[numbers] = encoded.to_numpy(zero_copy_only=False)
    flags = kinds == "bool"
    out[flags] = np.where(cells[flags].astype(bool), "true", "false")
    times = kinds == "time"
    out[times] = [v.isoformat() for v in cells[times]]
    other = kinds == "other"  # durations: the encoder refuses them (UNSENDABLE_TYPE)
    out[other] = cells[other]
    dates = kinds == "date"
    if dates.any():  # a time of day: Excel holds no time zone, so it stays naive text
        naive = pd.Series(pd.to_datetime(pd.Series(cells[dates])).to_numpy())
        timed = (naive != naive.dt.normalize()).to_numpy()
        at = np.flatnonzero(dates)[timed]
        out[at] = [stamp.isoformat() for stamp in naive[timed]]
        text[at], dates[at] = True, False
    column: pd.Series = pd.Series(out, dtype=object)
    if not dates.any():
        return column
    stamps = pd.to_datetime(pd.Series(cells[dates]), utc=True)
    if not (text | numbers | flags | times | other).any():  # only dates (and empty cells)
        column = pd.Series(pd.NaT, index=range(len(values)), dtype=stamps.dtype)
        column[dates] = stamps.to_numpy()
        return column
    column[dates] = list(stamps)  # dates and text mixed: each cell as it is
    return column


_CELL_KINDS = {
    str: "text",
    float: "number",
    int: "number",
    bool: "bool",
    dt.date: "date",
    dt.datetime: "date",
    dt.time: "time",
}


def _parse_dates(cells: pd.Series, column: str, problems: ProblemList) -> pd.Series:
    """ISO 8601 text to UTC datetimes; each other non-empty cell is a problem (and missing).

    Cells that are dates already (Excel date cells, a Parquet timestamp column)
    are kept, in UTC.
    """
    if pd.api.types.is_datetime64_any_dtype(cells.dtype):
        return cells
    stamps = None
    text = cells
    if pd.api.types.infer_dtype(cells, skipna=True) not in ("string", "empty"):
        is_date = (isinstance(v, dt.date | np.datetime64) for v in cells.array)
        stamps = np.fromiter(is_date, dtype=bool, count=len(cells))
        text = cells.where(~stamps).map(str, na_action="ignore")  # numbers: their text
    dates = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
    bad = (text.notna() & dates.isna()).to_numpy()
    if stamps is not None and stamps.any():
        dates[stamps] = pd.to_datetime(cells[stamps], utc=True)
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
    lines = pd.RangeIndex(1, len(table) + 1)
    if id_column is None:  # the header ID_COLUMNS names, if the file has one
        id_column = next((str(h) for h in first if is_id_header(h)), None)
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
