"""The command line's files: edits as typed, date problems per row, id files, tidy output."""

from __future__ import annotations

import json
import sys

import pandas as pd
import pyarrow.parquet as pq
import pytest

import pandas_hubtickets as ht
from pandas_hubtickets._files import EditsFile, read_edits, read_ids, write_tidy_file
from pandas_hubtickets.errors import InputFileError


def test_read_edits_keeps_what_was_typed_and_parses_only_named_dates(tmp_path):
    csv = tmp_path / "e.csv"
    csv.write_text("Ticket ID,close_date,note,zip,candidate\n1,2026-01-02,n/a,01234,1.10\n2,,,,\n")
    edits, problems = read_edits(csv, "Ticket ID", ["close_date"])
    assert len(problems) == 0
    assert str(edits["close_date"].dtype).startswith("datetime64")
    assert edits.loc["1", ["note", "zip", "candidate"]].tolist() == ["n/a", "01234", "1.10"]
    assert edits.loc["2", ["note", "zip", "candidate"]].isna().all()
    assert json.loads(edits.hubtickets.to_json(id_column="Ticket ID"))[0]["properties"][0] == {
        "name": "close_date",
        "value": "1767312000000",
    }


def test_read_edits_reads_offsets_and_times_as_utc(tmp_path):
    csv = tmp_path / "e.csv"
    csv.write_text("Ticket ID,at\n1,2026-01-02T10:00\n2,2026-01-02T10:00:30+02:00\n")
    edits, problems = read_edits(csv, "Ticket ID", ["at"])
    assert len(problems) == 0
    assert edits["at"].tolist() == [
        pd.Timestamp("2026-01-02 10:00", tz="UTC"),
        pd.Timestamp("2026-01-02 08:00:30", tz="UTC"),
    ]


def test_read_edits_records_every_bad_date_of_every_row(tmp_path):
    csv = tmp_path / "e.csv"
    csv.write_text(
        "Ticket ID,due,start\n"
        "1,05/03/2024,2024-01-01\n"
        "2,2024-02-30,soon\n"
        "3,2024-03-01,\n"
        "4,05/03/2024,2024-01-02\n"
    )
    edits, problems = read_edits(csv, "Ticket ID", ["due", "start"])
    found = problems.frame()
    assert found[["row", "column", "code", "value"]].values.tolist() == [
        ["1", "due", "NOT_ISO_8601", "05/03/2024"],
        ["2", "due", "NOT_ISO_8601", "2024-02-30"],
        ["2", "start", "NOT_ISO_8601", "soon"],
        ["4", "due", "NOT_ISO_8601", "05/03/2024"],
    ]
    assert found["problem"].iloc[0] == (
        "'05/03/2024' is not an ISO 8601 date (YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+HH:MM])"
    )
    assert edits["due"].isna().tolist() == [True, True, False, True]  # not sent as text


def test_read_edits_refuses_a_date_column_the_file_does_not_have(tmp_path):
    csv = tmp_path / "e.csv"
    csv.write_text("Ticket ID,due_date\n1,2024-01-01\n")
    with pytest.raises(InputFileError, match=r"'due'.*not a column of .*e\.csv.*'due_date'"):
        read_edits(csv, "Ticket ID", ["due"])


@pytest.mark.parametrize(
    ("content", "match"),
    [(None, "No such file"), (b"", "the file is empty"), (b"Ticket ID\n\xff\xfe\n", "UTF-8")],
)
def test_unreadable_files_are_input_errors_naming_the_file(tmp_path, content, match):
    path = tmp_path / "edits.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputFileError, match=rf"cannot read .*edits\.csv.*{match}"):
        read_edits(path, "Ticket ID")
    with pytest.raises(InputFileError, match=r"cannot read .*edits\.csv"):
        read_ids(path, "Ticket ID")


def test_read_ids_from_lines_with_or_without_header_and_from_a_csv_column(tmp_path):
    path = tmp_path / "ids.txt"
    path.write_text("176000\n\n176002\n176000\n")
    assert read_ids(path, "Ticket ID") == [176000, 176002]
    path.write_text("objectId\n 5 \n6\n")
    assert read_ids(path, "Ticket ID") == [5, 6]
    path.write_text("subject,Ticket ID\nhello,9\nworld,8\n")
    assert read_ids(path, "Ticket ID") == [9, 8]


def test_read_ids_names_every_bad_line_and_the_file(tmp_path):
    path = tmp_path / "ids.txt"
    path.write_text("1\nabc\n2\n1.5\n0\n")
    with pytest.raises(InputFileError) as caught:
        read_ids(path, "Ticket ID")
    assert str(caught.value) == (
        f"{path}: 3 values are not ticket ids: line 2 'abc', line 4 '1.5', line 5 '0'"
    )


def test_read_ids_refuses_a_csv_without_the_id_column_and_an_empty_list(tmp_path):
    path = tmp_path / "ids.csv"
    path.write_text("id,subject\n1,a\n")
    with pytest.raises(InputFileError, match=r"2 columns and none is named 'Ticket ID'.*--id-col"):
        read_ids(path, "Ticket ID")
    path.write_text("Ticket ID\n\n")
    with pytest.raises(InputFileError, match="holds no ticket ids"):
        read_ids(path, "Ticket ID")


@pytest.fixture
def tidy():
    version = {"value": "OPEN", "timestamp": 1522870759430, "source": "API", "sourceVid": [3, 4]}
    ticket = {
        "objectId": 7,
        "portalId": 62515,
        "properties": {
            "status": {"value": "OPEN", "versions": [version]},
            "subject": {"value": "x"},
        },
    }
    return ht.flatten([ticket])


def test_parquet_opens_with_plain_read_parquet_and_read_tidy_gives_the_exact_frame(tmp_path, tidy):
    path = tmp_path / "history.parquet"
    write_tidy_file(tidy, path)
    plain = pd.read_parquet(path)
    assert plain["sourceVid"].map(list).tolist() == [[3, 4], []]
    assert plain["value"].tolist() == ["OPEN", "x"]
    assert pq.read_schema(path).metadata is None  # nothing pandas-specific left to misread
    pd.testing.assert_frame_equal(ht.read_tidy(path), tidy)


def test_csv_output_is_csv_text(tmp_path, tidy):
    path = tmp_path / "history.csv"
    write_tidy_file(tidy, path)
    assert path.read_text().splitlines()[0].startswith("objectId,objectType,portalId")
    back = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert back[["property", "value", "sourceVid"]].values.tolist() == [
        ["status", "OPEN", "3;4"],
        ["subject", "x", ""],
    ]


def test_other_extensions_are_refused_naming_the_accepted_ones(tmp_path, tidy):
    with pytest.raises(InputFileError, match=r"history\.xlsx.*\.parquet, \.csv"):
        write_tidy_file(tidy, tmp_path / "history.xlsx")
    assert not (tmp_path / "history.xlsx").exists()


# -- every file people have: separators, encodings, Excel, Parquet, JSON Lines -------------


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("e.csv", "Ticket ID,subject,zip\n1,a; b,01234\n2,,1.10\n"),
        ("e.csv", "Ticket ID;subject;zip\n1;a, b;01234\n2;;1.10\n"),
        ("e.tsv", "Ticket ID\tsubject\tzip\n1\ta, b\t01234\n2\t\t1.10\n"),
        ("e.txt", "Ticket ID|subject|zip\n1|a; b|01234\n2||1.10\n"),
    ],
)
def test_the_separator_is_sniffed_from_the_header(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    edits, _ = read_edits(path, "Ticket ID")
    assert edits.columns.tolist() == ["subject", "zip"]
    assert edits.index.tolist() == ["1", "2"]
    assert edits["zip"].tolist() == ["01234", "1.10"]
    assert edits["subject"].iloc[0] in ("a; b", "a, b")
    assert edits["subject"].isna().tolist() == [False, True]


def test_sep_overrides_the_sniffed_separator(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("Ticket ID;a,b;c,d\n1;x,y;z\n")
    assert read_edits(path, "Ticket ID")[0].shape == (1, 3)  # sniffed: the comma
    edits, _ = read_edits(path, "Ticket ID", sep=";")
    assert edits.loc["1"].tolist() == ["x,y", "z"]


def test_a_utf8_bom_is_not_part_of_the_first_header(tmp_path):
    path = tmp_path / "e.csv"
    path.write_bytes("Ticket ID;subject\n1;café\n".encode("utf-8-sig"))
    edits, _ = read_edits(path, "Ticket ID")
    assert edits.index.name == "Ticket ID"
    assert edits.loc["1", "subject"] == "café"


def test_cp1252_is_read_on_request_and_its_failure_as_utf8_says_where_and_what_to_try(tmp_path):
    path = tmp_path / "e.csv"
    path.write_bytes("Ticket ID,subject\n1,ok\n2,caf\u00e9 \u20ac5\n".encode("cp1252"))
    at = path.read_bytes().index(b"\xe9")  # 0-based, as the message counts
    with pytest.raises(InputFileError) as caught:
        read_edits(path, "Ticket ID")
    assert str(caught.value) == (
        f"cannot read {path}: byte 0xe9 at position {at} (line 3) is not UTF-8 text; "
        "try --encoding cp1252 (Excel on Windows) or --encoding latin-1"
    )
    edits, _ = read_edits(path, "Ticket ID", encoding="cp1252")
    assert edits.loc["2", "subject"] == "café €5"
    assert read_edits(path, "Ticket ID", encoding="latin-1")[0].loc["2", "subject"] == "café \x805"


def test_a_byte_cp1252_lacks_suggests_latin1_and_an_unknown_encoding_is_named(tmp_path):
    path = tmp_path / "e.csv"
    path.write_bytes(b"Ticket ID,subject\n1,\x81\n")
    hole = r"byte 0x81 at position 20 \(line 2\) is not cp1252 text; try --encoding latin-1"
    with pytest.raises(InputFileError, match=hole):
        read_edits(path, "Ticket ID", encoding="cp1252")
    with pytest.raises(InputFileError, match="--encoding 'klingon' is not an encoding"):
        read_edits(path, "Ticket ID", encoding="klingon")


@pytest.mark.parametrize("name", ["edits.xls", "edits.numbers", "edits"])
def test_unsupported_formats_get_one_line_naming_the_file_and_the_formats(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"\x00\x01")
    with pytest.raises(InputFileError) as caught:
        read_edits(path, "Ticket ID")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"cannot read {path}: ")
    assert "not supported; push reads .csv, .tsv, .txt" in message
    assert all(ext in message for ext in (".xlsx", ".parquet", ".jsonl", ".ndjson"))


def _workbook(path):
    openpyxl = pytest.importorskip("openpyxl")
    import datetime as dt

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Ticket ID", "due", "serial", "zip", "amount", "flag", "at", "note"])
    sheet.append([176001, dt.date(2024, 3, 5), 45356, "01234", 1.5, True, None, "n/a"])
    sheet.append([None] * 8)  # a blank line
    sheet.append([176002, None, 45357.25, 1234, 3, False, dt.datetime(2024, 3, 5, 10, 30), ""])
    sheet["B2"].number_format = "yyyy-mm-dd"
    book.save(path)


def test_xlsx_keeps_text_as_typed_dates_as_dates_and_numbers_as_their_text(tmp_path):
    pytest.importorskip("python_calamine")
    path = tmp_path / "edits.xlsx"
    _workbook(path)
    edits, problems = read_edits(path, "Ticket ID", ["due", "at"])
    assert len(problems) == 0
    assert edits.index.tolist() == ["176001", "176002"]
    assert edits["due"].tolist()[0] == pd.Timestamp("2024-03-05", tz="UTC")  # a date cell
    assert edits["due"].isna().tolist() == [False, True]
    assert edits["at"].tolist()[1] == pd.Timestamp("2024-03-05 10:30", tz="UTC")
    assert edits["serial"].tolist() == ["45356", "45357.25"]  # a serial number is a number
    assert edits["zip"].tolist() == ["01234", "1234"]
    assert edits[["amount", "flag"]].values.tolist() == [["1.5", "true"], ["3", "false"]]
    assert edits["note"].tolist() == ["n/a", None]
    payload = json.loads(edits.hubtickets.to_json(id_column="Ticket ID"))
    sent = {p["name"]: p["value"] for p in payload[0]["properties"]}
    assert sent["due"] == "1709596800000"  # midnight UTC, as HubSpot's date properties want


def test_a_date_cell_column_needs_no_date_columns_flag(tmp_path):
    pytest.importorskip("python_calamine")
    path = tmp_path / "edits.xlsx"
    _workbook(path)
    edits, _ = read_edits(path, "Ticket ID")
    assert str(edits["due"].dtype).startswith("datetime64")
    assert edits["serial"].tolist() == ["45356", "45357.25"]


def test_without_the_excel_extra_one_line_says_what_to_install(tmp_path, monkeypatch):
    path = tmp_path / "edits.xlsx"
    path.write_bytes(b"PK")
    monkeypatch.setitem(sys.modules, "python_calamine", None)  # as if not installed
    with pytest.raises(InputFileError) as caught:
        read_edits(path, "Ticket ID")
    assert str(caught.value) == (
        f"cannot read {path}: reading Excel files needs the excel extra: "
        "pip install 'pandas-hubtickets[excel]'"
    )


def test_a_damaged_workbook_is_an_input_error_naming_it(tmp_path):
    pytest.importorskip("python_calamine")
    path = tmp_path / "edits.xlsx"
    path.write_bytes(b"not a zip file")
    with pytest.raises(InputFileError, match=r"cannot read .*edits\.xlsx: "):
        read_edits(path, "Ticket ID")


def test_parquet_keeps_its_types_and_parses_text_date_columns(tmp_path):
    path = tmp_path / "edits.parquet"
    frame = pd.DataFrame(
        {
            "objectId": [176001, 176002],
            "zip": ["01234", None],
            "amount": [1.5, 3.0],
            "due": ["2024-03-05", "soon"],
            "closed": pd.to_datetime(["2024-01-01", None]),
        }
    )
    frame.to_parquet(path)
    edits, problems = read_edits(path, "objectId", ["due", "closed"])
    assert edits.index.tolist() == [176001, 176002]
    assert edits["zip"].tolist()[0] == "01234" and pd.isna(edits["zip"].tolist()[1])
    assert edits["amount"].tolist() == [1.5, 3.0]
    assert edits["due"].tolist()[0] == pd.Timestamp("2024-03-05", tz="UTC")
    assert edits["closed"].tolist()[0] == pd.Timestamp("2024-01-01")  # a timestamp already
    assert problems.frame()[["row", "column", "value"]].values.tolist() == [[176002, "due", "soon"]]


@pytest.mark.parametrize("name", ["edits.jsonl", "edits.ndjson"])
def test_json_lines_keep_their_types_and_guess_no_dates(tmp_path, name):
    path = tmp_path / name
    path.write_text(
        '{"objectId": 176001, "zip": "01234", "modified": 1700000000000, "due": "2024-03-05"}\n'
        '{"objectId": 176002, "zip": null, "modified": 1, "due": "05/03/2024"}\n'
    )
    edits, problems = read_edits(path, "objectId", ["due"])
    assert edits.index.tolist() == [176001, 176002]
    assert edits["zip"].tolist()[0] == "01234"
    assert edits["modified"].tolist() == [1700000000000, 1]  # not read as a date by its name
    assert edits["due"].tolist()[0] == pd.Timestamp("2024-03-05", tz="UTC")
    assert problems.frame()["value"].tolist() == ["05/03/2024"]


@pytest.mark.parametrize(
    ("name", "write"),
    [
        ("e.csv", lambda f, p: f.to_csv(p, index=False)),
        ("e.tsv", lambda f, p: f.to_csv(p, index=False, sep="\t")),
        ("e.parquet", lambda f, p: f.to_parquet(p, index=False)),
        ("e.jsonl", lambda f, p: f.to_json(p, orient="records", lines=True)),
    ],
)
def test_files_are_read_a_chunk_at_a_time_and_columns_alone(tmp_path, name, write):
    path = tmp_path / name
    frame = pd.DataFrame({"objectId": range(1, 8), "subject": list("abcdefg")})
    write(frame, path)
    source = EditsFile(path)
    chunks = list(source.frames(chunk_rows=3))
    assert [len(c) for c in chunks] == [3, 3, 1]
    assert [str(v) for c in chunks for v in c["objectId"]] == [str(i) for i in range(1, 8)]
    (ids,) = source.frames(columns=["objectId", "not there"])
    assert ids.columns.tolist() == ["objectId"]


def test_an_excel_column_mixing_date_cells_and_text_keeps_each_and_parses_the_text(tmp_path):
    pytest.importorskip("python_calamine")
    openpyxl = pytest.importorskip("openpyxl")
    import datetime as dt

    book = openpyxl.Workbook()
    for row in (["Ticket ID", "due"], [1, dt.date(2024, 3, 5)], [2, "2024-03-06"], [3, "soon"]):
        book.active.append(row)
    path = tmp_path / "edits.xlsx"
    book.save(path)
    edits, _ = read_edits(path, "Ticket ID")
    assert edits["due"].tolist() == [pd.Timestamp("2024-03-05", tz="UTC"), "2024-03-06", "soon"]
    edits, problems = read_edits(path, "Ticket ID", ["due"])
    assert edits["due"].tolist()[:2] == [
        pd.Timestamp("2024-03-05", tz="UTC"),
        pd.Timestamp("2024-03-06", tz="UTC"),
    ]
    assert problems.frame()[["row", "value"]].values.tolist() == [["3", "soon"]]


@pytest.mark.parametrize(("name", "text"), [("e.csv", "Ticket ID,status\n"), ("e.jsonl", "")])
def test_a_file_without_rows_is_one_empty_frame_in_chunks_too(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    source = EditsFile(path)
    chunked, (whole,) = list(source.frames(chunk_rows=2)), list(source.frames())
    assert [len(f) for f in chunked] == [0]
    assert chunked[0].columns.tolist() == whole.columns.tolist()
