"""The command line's files: edits as typed, date problems per row, id files, tidy output."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

import pandas_hubtickets as ht
from pandas_hubtickets._files import read_edits, read_ids, write_tidy_file
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
