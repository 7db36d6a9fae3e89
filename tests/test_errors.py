"""The exception hierarchy: every error survives pickling (multiprocessing, joblib)."""

from __future__ import annotations

import pickle

import pandas as pd
import pytest

import pandas_hubtickets as ht
from pandas_hubtickets import errors
from pandas_hubtickets._payload import ProblemList
from pandas_hubtickets._update import UpdateResult


def _result() -> UpdateResult:
    report = pd.DataFrame({"objectId": [1], "status": ["updated"]})
    return UpdateResult(report=report, tickets=ht.flatten([]), frame=pd.DataFrame({"a": [1]}))


def _problems() -> errors.PayloadError:
    found = ProblemList(pd.Index(["r1"]), pd.Series([7]))
    found.add([0], "status", "INVALID_OPTION", "'High' is not an option", ["High"])
    error = found.error()
    assert error is not None
    return error


EXAMPLES = [
    lambda: _problems(),
    lambda: errors.FlattenError("not a ticket"),
    lambda: errors.InputFileError("cannot read edits.csv: the file is empty"),
    lambda: errors.ArgumentTypeError("client must be a TicketsClient, got str"),
    lambda: errors.DefinitionsUnavailable("cannot read the property definitions"),
    lambda: errors.JournalError("the journal 'x' is in use", path="x"),
    lambda: errors.ConfigurationError("no token"),
    lambda: errors.TransportError("refused", attempts=3),
    lambda: errors.UnreachableError("cannot connect", attempts=2, url="http://127.0.0.1:9"),
    lambda: errors.HubSpotError(400, "bad", error="INVALID_DATE", body={"a": 1}, attempts=2),
    lambda: errors.RateLimitError(429, "daily", policy="DAILY", error="RATE_LIMIT"),
    lambda: errors.UpdateStopped("stopped", _result()),
    lambda: errors.UpdateInterrupted("interrupted", _result()),
]


@pytest.mark.parametrize("make", EXAMPLES)
def test_every_error_survives_pickling(make):
    exc = make()
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is type(exc)
    assert str(back) == str(exc)
    assert back.args == exc.args
    for name, value in vars(exc).items():
        got = getattr(back, name)
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(got, value)
        elif isinstance(value, UpdateResult):
            pd.testing.assert_frame_equal(got.report, value.report)
        else:
            assert got == value, name


def test_payload_error_lists_code_and_value():
    error = _problems()
    assert error.problems.to_dict("records") == [
        {
            "row": "r1",
            "objectId": 7,
            "column": "status",
            "code": "INVALID_OPTION",
            "value": "High",
            "problem": "'High' is not an option",
        }
    ]
    assert "row 'r1', objectId 7, column 'status': INVALID_OPTION: 'High'" in str(error)


def test_every_public_error_is_a_hubtickets_error():
    for name in ht.__all__:
        obj = getattr(ht, name)
        if isinstance(obj, type) and issubclass(obj, BaseException):
            assert issubclass(obj, ht.HubTicketsError) or obj is ht.UpdateInterrupted, name


def test_the_package_shows_its_api_not_its_layout():
    public = {name for name in dir(ht) if not name.startswith("_")} - {"testing"}
    api = {name for name in ht.__all__ if not name.startswith("_")}
    assert public == {*api, "errors"}  # errors: the exceptions' module, like pandas.errors
