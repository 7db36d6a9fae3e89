"""Coercion and column mapping: the messy export, from refusal to landed.

The expected values are worked out here from the fixture's text and the emulator's own
definitions and rules (``testing.schema``), never copied from what the library printed.
"""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import pandas_hubtickets as ht
from pandas_hubtickets import CoerceOptions, ConfigurationError, PayloadError
from pandas_hubtickets._cli import main
from pandas_hubtickets._coerce import coerce_frame
from pandas_hubtickets._columns import find_id_column
from pandas_hubtickets._files import read_ids
from pandas_hubtickets.testing import FakeHubSpot
from pandas_hubtickets.testing.schema import PROPERTIES, check_value, v2_definitions

MESSY = Path(__file__).parent / "data" / "messy-export.csv"
FIRST = 176_000
DAY_MS = 86_400_000
CHOICES = {"dayfirst": True, "thousands": ",", "tz": "Europe/Paris"}
pytestmark = pytest.mark.filterwarnings("ignore:read-only columns of the export:UserWarning")


def read_messy() -> pd.DataFrame:
    return pd.read_csv(MESSY, dtype=str, keep_default_na=False, na_values=[""])


def label_of() -> dict[str, str]:
    """Each export header's property, from the emulator's labels (case aside)."""
    return {d.label.casefold(): d.name for d in PROPERTIES.values()}


def ms(day: dt.date) -> str:
    return str((day - dt.date(1970, 1, 1)).days * DAY_MS)


@pytest.fixture
def hub():
    with FakeHubSpot(seed=3) as hub:
        hub.seed_tickets(1980, start_id=FIRST)
        yield hub


@pytest.fixture
def client(hub):
    return ht.TicketsClient(hub.token, base_url=hub.base_url, requests_per_10s=1000)


# -- column mapping and the id column -------------------------------------------------------


def test_export_headers_are_read_as_names_when_exact_and_the_read_only_ones_are_left_out():
    sheet = read_messy()
    coerced = coerce_frame(sheet, v2_definitions())
    labels = label_of()
    expected = {
        h: labels[h.casefold()]
        for h in sheet.columns
        if h.casefold() in labels and not PROPERTIES[labels[h.casefold()]].read_only
    }
    assert dict(coerced.columns.renames) == expected
    assert "Souce" in coerced.frame.columns  # a near miss is never renamed
    dropped = {h for h in sheet.columns if "date" in h.lower() and h.startswith("Create")}
    assert set(coerced.columns.dropped) == dropped | {"Number of notes"}
    assert not set(coerced.columns.dropped) & set(coerced.frame.columns)
    assert "'Priority' read as hs_ticket_priority" in coerced.columns.lines()


def test_coerce_warns_once_about_the_read_only_columns_it_leaves_out(client):
    with pytest.warns(UserWarning, match="read-only columns of the export left out") as caught:
        read_messy().hubtickets.coerce(client)
    assert len(caught) == 1
    assert "'Create date' (createdate)" in str(caught[0].message)


def test_a_read_only_column_without_export_headers_is_still_refused(client):
    df = pd.DataFrame({"objectId": [FIRST], "status": ["Open"], "createdate": ["0"]})
    problems = df.hubtickets.validate(client, coerce=True)
    assert problems[["column", "code"]].values.tolist() == [["createdate", "READ_ONLY_VALUE"]]


def test_near_misses_get_a_did_you_mean_on_names_and_labels(client):
    df = pd.DataFrame({"objectId": [FIRST], "hs_ticket_categroy": ["x"], "Priorty": ["High"]})
    problems = df.hubtickets.validate(client, coerce=True).set_index("column")["problem"]
    assert problems["hs_ticket_categroy"].endswith("did you mean 'hs_ticket_category'?")
    assert problems["Priorty"].endswith("did you mean 'hs_ticket_priority' (label 'Priority')?")


@pytest.mark.parametrize("name", ["objectId", "hs_object_id", "Ticket ID", "id", "ticket  ID"])
def test_the_id_column_is_found_as_a_column_or_as_the_index(name):
    df = pd.DataFrame({name: [FIRST], "subject": ["a"]})
    assert find_id_column(df, None) == name
    assert find_id_column(df.set_index(name), None) == name
    body = df.set_index(name).hubtickets.to_payload()
    assert body == [{"objectId": FIRST, "properties": [{"name": "subject", "value": "a"}]}]


def test_a_file_of_ids_finds_its_id_column_by_the_same_rule(tmp_path):
    path = tmp_path / "ids.csv"
    path.write_text("subject,hs_object_id\na,12\nb,7\n")
    assert read_ids(path, None) == [12, 7]
    path.write_text("subject,owner\na,12\n")
    with pytest.raises(ht.InputFileError, match="objectId, hs_object_id, Ticket ID or id"):
        read_ids(path, None)


def test_two_id_columns_are_refused_and_an_explicit_one_still_wins():
    df = pd.DataFrame({"id": [1], "objectId": [FIRST], "subject": ["a"]})
    with pytest.raises(PayloadError, match="several columns could hold the ticket ids"):
        df.hubtickets.to_payload()
    body = df.drop(columns="id").hubtickets.to_payload(id_column="objectId")
    assert body[0]["objectId"] == FIRST


# -- validate: every problem, without raising -----------------------------------------------


def test_validate_on_the_raw_export_names_every_header_and_the_duplicates(client):
    sheet = read_messy()
    problems = sheet.hubtickets.validate(client)
    columns = problems[problems["code"] == "PROPERTY_DOESNT_EXIST"].set_index("column")
    assert set(columns.index) == set(sheet.columns) - {"Ticket ID"}
    assert columns.loc["Priority", "problem"].endswith(
        "it is the label of 'hs_ticket_priority': name the column so, or coerce=True reads "
        "export headers"
    )
    duplicated = sheet["Ticket ID"].duplicated(keep=False)
    dups = problems[problems["code"] == "DUPLICATE_ID"]
    assert sorted(dups["row"]) == sorted(sheet.index[duplicated])


def test_validate_with_coerce_reports_what_needs_a_choice_and_nothing_it_can_fix(client):
    sheet = read_messy()
    problems = sheet.hubtickets.validate(client, coerce=True)
    count = problems.groupby(["column", "code"]).size()
    slashed = sheet["Due date"].str.fullmatch(r"\d\d/\d\d/\d{4}", na=False)
    assert count["due_date", "AMBIGUOUS_DATE"] == slashed.sum()
    naive = sheet["Close date"].str.fullmatch(r"[\d-]+ [\d:]+", na=False)
    assert count["closed_date", "NAIVE_DATETIME"] == naive.sum()
    assert count["hubspot_owner_id", "INVALID_INTEGER"] == sheet["Ticket owner"].notna().sum()
    options = problems[problems["code"] == "INVALID_OPTION"]
    assert set(options["value"]) == {"Hgh"}  # the labels were read; the typo was not
    assert set(problems["code"]) == {
        "AMBIGUOUS_DATE",
        "NAIVE_DATETIME",
        "INVALID_INTEGER",
        "INVALID_OPTION",
        "INVALID_BOOLEAN",
        "NOT_A_DATE",
        "DUPLICATE_ID",
        "PROPERTY_DOESNT_EXIST",
    }
    assert not problems.duplicated(["row", "column"]).loc[problems["column"] != "Ticket ID"].any()


def test_validate_refuses_coercion_options_without_coerce(client):
    with pytest.raises(ConfigurationError, match="pass coerce=True"):
        read_messy().hubtickets.validate(client, dayfirst=True)


# -- coerce: what it fixes, what it reports, what it records --------------------------------


def test_coerce_with_the_choices_fixes_every_value_the_emulator_would_refuse(client):
    sheet = read_messy()
    coerced = sheet.hubtickets.coerce(client, **CHOICES)
    assert set(coerced.problems["value"]) == {"Hgh", "maybe", "soon", "n/a"}
    bad = set(zip(coerced.problems["row"], coerced.problems["column"], strict=True))
    frame = coerced.frame
    for name in frame.columns:
        if name not in PROPERTIES:
            continue
        for row, value in frame[name].dropna().items():
            if (row, name) not in bad:
                assert check_value(PROPERTIES[name], value) is None, (row, name, value)


def test_dates_are_read_in_each_form_to_midnight_utc(client):
    sheet = read_messy()
    due = sheet.hubtickets.coerce(client, **CHOICES).frame["due_date"]
    for row, text in sheet["Due date"].dropna().items():
        if text == "soon":
            continue
        if "/" in text:
            day = dt.datetime.strptime(text, "%d/%m/%Y").date()
        elif text.isdigit():
            day = dt.date(1899, 12, 30) + dt.timedelta(days=int(text))
        else:
            day = dt.date.fromisoformat(text[:10])
        assert due[row] == ms(day), (row, text)


def test_changes_record_each_changed_cell_once_with_its_rule(client):
    sheet = read_messy()
    coerced = sheet.hubtickets.coerce(client, **CHOICES)
    before = sheet.rename(columns=coerced.columns.renames)[coerced.frame.columns]
    differs = (before != coerced.frame) & ~(before.isna() & coerced.frame.isna())
    assert len(coerced.changes) == int(differs.to_numpy().sum())
    assert not coerced.changes.duplicated(["row", "column"]).any()
    for change in coerced.changes.sample(200, random_state=1).itertuples():
        assert before.at[change.row, change.column] == change.old
        assert coerced.frame.at[change.row, change.column] == change.new
    rules = coerced.changes.groupby("column", observed=True)["rule"].unique()
    assert set(rules["due_date"]) == {
        "iso_date",
        "dayfirst_date",
        "excel_serial",
        "midnight_datetime",
    }
    assert set(rules["hs_pipeline_stage"]) == {"whitespace"}
    assert "subject" not in rules  # text as typed, stray spaces and all
    summary = coerced.summary().set_index(["column", "rule"])["cells"]
    assert summary.sum() == len(coerced.changes)


def test_day_and_month_order_is_used_only_when_stated():
    defs = [{"name": "due", "type": "date"}]
    df = pd.DataFrame({"objectId": [1, 2, 3], "due": ["05/03/2024", "25/03/2024", "05/05/2024"]})
    unstated = coerce_frame(df, defs).problems
    assert unstated["code"].tolist() == ["AMBIGUOUS_DATE"] * 3
    assert "reads day-first only: pass dayfirst=True" in unstated["problem"][1]
    day_first = coerce_frame(df, defs, CoerceOptions(dayfirst=True)).frame["due"]
    days = [dt.date(2024, 3, 5), dt.date(2024, 3, 25), dt.date(2024, 5, 5)]
    assert day_first.tolist() == [ms(day) for day in days]
    month_first = coerce_frame(df, defs, CoerceOptions(dayfirst=False))
    assert month_first.frame["due"][0] == ms(dt.date(2024, 5, 3))
    assert month_first.problems[["row", "code"]].values.tolist() == [[1, "NOT_A_DATE"]]


def test_excel_serials_in_both_date_systems_and_the_day_that_never_was():
    defs = [{"name": "due", "type": "date"}]
    df = pd.DataFrame({"objectId": [1, 2, 3], "due": ["45356", "60", "61"]})
    coerced = coerce_frame(df, defs)
    assert coerced.frame["due"][0] == ms(dt.date(2024, 3, 5))
    assert coerced.frame["due"][2] == ms(dt.date(1900, 3, 1))
    assert coerced.problems[["row", "code"]].values.tolist() == [[1, "NOT_A_DATE"]]
    mac = coerce_frame(df, defs, CoerceOptions(excel_epoch=1904)).frame["due"]
    assert mac[0] == ms(dt.date(1904, 1, 1) + dt.timedelta(days=45356))
    numbers = pd.DataFrame({"objectId": [1], "due": [45356.0]})  # an xlsx reader's float
    assert coerce_frame(numbers, defs).frame["due"][0] == ms(dt.date(2024, 3, 5))


def test_datetimes_need_an_offset_or_a_stated_time_zone():
    defs = [{"name": "at", "type": "datetime"}]
    df = pd.DataFrame({"objectId": [1, 2], "at": ["2024-03-05T10:00+01:00", "2024-07-05 10:00"]})
    assert coerce_frame(df, defs).problems["code"].tolist() == ["NAIVE_DATETIME"]
    placed = coerce_frame(df, defs, CoerceOptions(tz="Europe/Paris")).frame["at"]
    summer = dt.datetime(2024, 7, 5, 8, tzinfo=dt.timezone.utc)  # 10:00 at +02:00
    assert placed.tolist() == ["1709629200000", str(int(summer.timestamp() * 1000))]


def test_numbers_take_the_separators_given_and_only_those():
    defs = [{"name": "n", "type": "number"}]
    df = pd.DataFrame({"objectId": [1, 2, 3], "n": ["1,234", "12", "1.234,5"]})
    plain = coerce_frame(df, defs).problems
    assert plain["code"].tolist() == ["INVALID_INTEGER"] * 2
    assert "pass thousands=',' (a thousands separator) or decimal=','" in plain["problem"][0]
    european = coerce_frame(df, defs, CoerceOptions(thousands=".", decimal=","))
    assert european.frame["n"].tolist() == ["1.234", "12", "1234.5"]  # as the caller says
    assert european.problems.empty
    assert coerce_frame(df, defs, CoerceOptions(thousands=",")).frame["n"][0] == "1234"


def test_options_booleans_and_checkboxes_by_label_value_case_and_spaces():
    defs = v2_definitions()
    df = pd.DataFrame(
        {
            "objectId": [1, 2, 3],
            "hs_ticket_category": ["Product issue; billing ISSUE", "GENERAL_INQUIRY", "Nope;"],
            "is_escalated": ["Yes", " n ", "FALSE"],
            "status": ["in   progress", "WAITING", "In Progres"],
        }
    )
    coerced = coerce_frame(df, defs)
    assert coerced.frame["hs_ticket_category"][0] == "PRODUCT_ISSUE;BILLING_ISSUE"
    assert coerced.frame["is_escalated"].tolist() == ["true", "false", "false"]
    assert coerced.frame["status"][:2].tolist() == ["IN_PROGRESS", "WAITING"]
    refused = coerced.problems.set_index("column")
    assert refused.loc["status", "problem"].startswith(
        "'In Progres' is not an option of 'status': did you mean 'IN_PROGRESS'"
    )
    assert refused.loc["hs_ticket_category", "value"] == "Nope;"
    assert coerced.frame["status"][2] == "In Progres"  # never applied


def test_an_already_correct_frame_is_left_alone_and_encodes_the_same(client):
    df = pd.DataFrame(
        {
            "objectId": [FIRST, FIRST + 1],
            "status": ["OPEN", None],
            "is_escalated": [True, False],
            "due_date": pd.to_datetime(["2024-03-05", "2024-03-06"], utc=True),
            "hubspot_owner_id": ["1234", "-0.5"],
            "hs_ticket_category": ["PRODUCT_ISSUE;BILLING_ISSUE", ""],
            "subject": ["  spaces kept  ", "x"],
        }
    )
    coerced = df.hubtickets.coerce(client)
    assert coerced.changes.empty and coerced.problems.empty
    assert coerced.frame.hubtickets.to_json() == df.hubtickets.to_json()


def test_coerce_options_are_checked():
    with pytest.raises(ConfigurationError, match="same mark"):
        CoerceOptions(thousands=".", decimal=".")
    with pytest.raises(ConfigurationError, match="not a time zone"):
        CoerceOptions(tz="Mars/Olympus")
    with pytest.raises(ConfigurationError, match="coerce options are"):
        CoerceOptions.of({"dayfirts": True})


# -- update(coerce=...): against the emulator -----------------------------------------------


def test_update_with_coerce_lands_the_sheet_with_one_read_of_the_definitions(hub, client):
    sheet = read_messy().drop(columns="Souce")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        result = sheet.hubtickets.update(
            client, coerce=CHOICES, on_invalid="skip", progress=False, tickets=False
        )
        expected = sheet.hubtickets.coerce(client, **CHOICES)
    reads = [r for r in hub.requests if r.method == "GET" and "properties" in r.path]
    assert len(reads) == 1  # the run's one read; coerce() above used the client's copy
    refused = set(expected.problems["row"]) | set(
        sheet.index[sheet["Ticket ID"].duplicated(keep=False)]
    )
    status = result.report["status"]
    assert set(status[status == "failed"].index) == refused
    assert (status.drop(index=list(refused)) == "updated").all()
    landed = expected.frame.drop(index=list(refused))
    for row in landed.sample(50, random_state=2).itertuples():
        ticket = hub.ticket(int(row[1]))["properties"]
        assert ticket["hs_ticket_priority"]["value"] == row.hs_ticket_priority or pd.isna(
            row.hs_ticket_priority
        )
        if pd.notna(row.due_date):
            assert ticket["due_date"]["value"] == row.due_date


def test_update_without_coerce_refuses_the_export_before_sending(hub, client):
    with pytest.raises(PayloadError) as refused:
        read_messy().hubtickets.update(client, progress=False)
    assert "PROPERTY_DOESNT_EXIST" in set(refused.value.problems["code"])
    assert hub.writes == []


# -- the command line -----------------------------------------------------------------------


def push(hub, *args):
    return main(["push", str(MESSY), "--base-url", hub.base_url, *args])


def test_push_without_coerce_says_to_coerce_and_sends_nothing(hub, monkeypatch, capsys):
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", hub.token)
    assert push(hub, "--dry-run") == 2
    err = capsys.readouterr().err
    assert "or --coerce reads export headers" in err and "coerce=True" not in err
    assert hub.writes == []


def test_push_coerce_prints_counts_per_rule_and_asks_for_the_choices(hub, monkeypatch, capsys):
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", hub.token)
    assert push(hub, "--coerce", "--dry-run") == 2
    out, err = capsys.readouterr()
    assert out.count("column 'Priority' read as hs_ticket_priority") == 1
    assert err.count("warning: read-only columns of") == 1
    labels = read_messy()["Status"].dropna()
    relabelled = (labels.str.strip() != labels.str.strip().str.upper().str.replace(" ", "_")).sum()
    assert f"  status: {relabelled:,} x option_label (" in out
    assert f"in the {len(read_messy()):,} rows read before the refusal" in out
    assert "reads day-first only: use --dayfirst" in err  # every slashed date of the sheet
    assert "use --thousands ','" in err and "use --tz (e.g. --tz UTC)" in err
    assert "dayfirst=" not in err and "thousands=" not in err
    assert err.count("did you mean 'HIGH'") == 1  # once per column and value, not per row
    assert hub.writes == []


@pytest.mark.parametrize("chunks", [[], ["--chunk-size", "300"]], ids=["whole", "in-chunks"])
def test_push_coerce_with_the_choices_lands_and_reports_the_rest(hub, monkeypatch, capsys, chunks):
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", hub.token)
    args = ["--coerce", "--dayfirst", "--thousands", ",", "--tz", "Europe/Paris", *chunks]
    assert push(hub, *args, "--exclude", "Souce", "--skip-invalid") == 1  # some rows failed
    out = capsys.readouterr().out
    assert "refused before sending:" in out
    names = {w["name"] for w in hub.writes}
    assert "Ticket name" not in names and {"subject", "due_date", "status"} <= names
    assert all(w["value"].isdigit() for w in hub.writes if w["name"] == "due_date")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--dayfirst"], "--dayfirst works only with --coerce: add --coerce"),
        (["--tz", "UTC", "--thousands", ","], "--thousands, --tz work only with --coerce"),
        (["--columns", "Priorty"], "--columns names 'Priorty', not a column of"),
        (["--coerce", "--rename", "Nope=status"], "--rename names 'Nope', which is not a column"),
        (["--coerce", "--tz", "Mars/Olympus"], "--tz 'Mars/Olympus' is not a time zone"),
    ],
)
def test_push_refuses_bad_coercion_arguments(hub, monkeypatch, capsys, argv, message):
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", hub.token)
    assert push(hub, "--dry-run", *argv) == 2
    assert message in capsys.readouterr().err
    assert hub.writes == []


def test_push_columns_and_rename_without_coerce(hub, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", hub.token)
    csv = tmp_path / "stages.csv"
    csv.write_text(f"objectId,Ticket status,note\n{FIRST},3,x\n{FIRST + 1},4,y\n")
    argv = ["push", str(csv), "--base-url", hub.base_url, "--columns", "Ticket status"]
    assert main([*argv, "--rename", "Ticket status=hs_pipeline_stage"]) == 0
    written = {(w["objectId"], w["name"], w["value"]) for w in hub.writes}
    assert written == {(FIRST, "hs_pipeline_stage", "3"), (FIRST + 1, "hs_pipeline_stage", "4")}
    assert np.all([w["name"] != "note" for w in hub.writes])


def test_push_in_chunks_refused_early_says_how_many_rows_its_counts_cover(hub, monkeypatch, capsys):
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", hub.token)
    # the misspelt column refuses the file in its first chunk: the counts are of that chunk
    assert push(hub, "--coerce", "--dry-run", "--chunk-size", "300") == 2
    out, err = capsys.readouterr()
    assert out.count("column 'Priority' read as hs_ticket_priority") == 1
    assert "in the 300 rows read before the refusal:" in out
    assert "'Souce'" in err and hub.writes == []


@pytest.mark.parametrize("chunks", [[], ["--chunk-size", "300"]], ids=["whole", "in-chunks"])
def test_the_messy_export_from_preview_to_undo_on_the_command_line(
    hub, monkeypatch, tmp_path, capsys, chunks
):
    """The acceptance story: preview, push only what changed, re-run, conflict, undo."""
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", hub.token)
    args = ["--coerce", "--dayfirst", "--thousands", ",", "--tz", "UTC", "--keep", "last"]
    args += ["--exclude", "Souce", "--skip-invalid", "--only-changed", *chunks]
    ids = range(FIRST, FIRST + 1980)
    before = {i: {k: p["value"] for k, p in hub.ticket(i)["properties"].items()} for i in ids}
    preview = tmp_path / "preview.csv"
    assert push(hub, *args, "--dry-run", "--changes", str(preview)) == 1  # 12 rows refused
    assert hub.writes == []
    planned = pd.read_csv(preview, dtype=str, keep_default_na=False)
    assert list(planned.columns) == ["row", "objectId", "property", "old", "new", "problem"]
    undo = tmp_path / "undo.parquet"
    assert push(hub, *args, "--undo", str(undo)) == 1
    sent = {(str(w["objectId"]), w["name"], w["value"]) for w in hub.writes}
    assert sent == set(planned[["objectId", "property", "new"]].itertuples(index=False, name=None))
    assert len(hub.writes) == len(planned)  # only the changed cells, each once
    hub.clear_log()
    assert push(hub, *args) == 1  # again: every sendable row is unchanged
    assert hub.writes == []
    assert "0 rows changed (0 cells), 1,968 unchanged, 12 refused" in capsys.readouterr().out
    edited = planned[planned["property"] == "subject"].iloc[0]  # text: any value is valid
    oid, name = int(edited["objectId"]), edited["property"]
    ht.TicketsClient(hub.token, base_url=hub.base_url).batch_update(
        [{"objectId": oid, "properties": [{"name": name, "value": "someone else's"}]}]
    )
    assert main(["undo", str(undo), "--base-url", hub.base_url]) == 1  # the conflict
    assert f"{oid} {name}: conflict" in capsys.readouterr().out
    after = {i: {k: p["value"] for k, p in hub.ticket(i)["properties"].items()} for i in ids}
    after[oid][name] = before[oid].get(name, "")
    for i in ids:  # a property that had no value is cleared
        restored = {k: v for k, v in after[i].items() if v != "" and k != "hs_lastmodifieddate"}
        was = {k: v for k, v in before[i].items() if v != "" and k != "hs_lastmodifieddate"}
        assert restored == was, i


@pytest.mark.parametrize(
    "kind",
    [pd.StringDtype(), pd.ArrowDtype(pa.string()), pd.ArrowDtype(pa.large_string())],
    ids=["string", "arrow-string", "arrow-large-string"],
)
def test_text_columns_of_any_string_dtype_are_coerced_as_object_ones_are(client, kind):
    """``current()``, ``read_tidy`` and pyarrow-backed readers give ``ArrowDtype`` text."""
    sheet = read_messy()
    typed = sheet.astype({c: kind for c in sheet.columns if c != "Ticket ID"})
    assert (typed.dtypes == kind).sum() == len(sheet.columns) - 1
    expected = sheet.hubtickets.coerce(client, **CHOICES)
    coerced = typed.hubtickets.coerce(client, **CHOICES)
    pd.testing.assert_frame_equal(coerced.changes, expected.changes)
    pd.testing.assert_frame_equal(coerced.problems, expected.problems)
    got, want = (c.frame.astype(object).where(c.frame.notna(), None) for c in (coerced, expected))
    pd.testing.assert_frame_equal(got, want)


@pytest.mark.parametrize("api", ["v1", "2026-03", "v3"])
def test_values_read_through_either_api_push_back_unchanged_with_coerce(hub, api):
    """Read, edit, push back: the versioned APIs answer dates as ISO text, which coerce reads."""
    ids = [FIRST, FIRST + 1, FIRST + 2]
    edits = pd.DataFrame(
        {"objectId": ids, "closed_date": ["1706702400500", "0", None], "due_date": None}
    )
    edits.loc[0, "due_date"] = str(19_700 * DAY_MS)
    with ht.TicketsClient(hub.token, base_url=hub.base_url, api=api) as client:
        assert edits.hubtickets.update(client).ok
        names = ["status", "due_date", "closed_date", "is_escalated"]
        wide = ht.flatten(client.batch_read(ids, names, history=False)).hubtickets.current()
        sheet = wide[["objectId", *names]]
        iso = "2024-01-31T12:00:00.500Z" if api != "v1" else "1706702400500"
        assert sheet.loc[0, "closed_date"] == iso  # as HubSpot answers it
        plan = sheet.hubtickets.update(client, coerce=True, only_changed=True, dry_run=True)
    assert plan.report["status"].tolist() == ["unchanged"] * 3, plan.problems
    assert plan.problems.empty
