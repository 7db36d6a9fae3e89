"""Parsing JSON text: the collector paused and restored, orjson optional, texts streamed."""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pandas_hubtickets import FlattenError, TicketsClient, flatten
from pandas_hubtickets import _flatten as flatten_module
from pandas_hubtickets import _json as json_module
from pandas_hubtickets._json import NotStreamable, Reader, gc_paused, loads
from pandas_hubtickets.testing import FakeHubSpot


@pytest.fixture(params=[True, False], ids=["caller's gc on", "caller's gc off"])
def caller_gc(request: pytest.FixtureRequest) -> Iterator[bool]:
    """The collector as the caller set it; set back as pytest had it afterwards."""
    was = gc.isenabled()
    (gc.enable if request.param else gc.disable)()
    try:
        yield bool(request.param)
    finally:
        (gc.enable if was else gc.disable)()


TICKET = {"objectId": 1, "portalId": 2, "properties": {"a": {"value": "x"}}}


def test_gc_is_paused_while_parsing_and_left_as_the_caller_had_it(caller_gc, parser):
    seen: list[bool] = []

    def spy(*args: object, **kwargs: object) -> Iterator[object]:
        seen.append(gc.isenabled())
        yield from original(*args, **kwargs)

    original = flatten_module._gather
    pytest.MonkeyPatch.setattr(pytest.MonkeyPatch(), flatten_module, "_gather", spy)
    try:
        flatten(json.dumps([TICKET]).encode())
    finally:
        flatten_module._gather = original
    assert seen == [False]
    assert gc.isenabled() is caller_gc


@pytest.mark.parametrize("bad", [b"[{]", b'[{"objectId": "x", "portalId": 2, "properties": {}}]'])
def test_gc_is_left_as_the_caller_had_it_when_flatten_raises(caller_gc, parser, bad):
    with pytest.raises(FlattenError):
        flatten(bad)
    assert gc.isenabled() is caller_gc


def test_nested_pauses_restore_the_state_found_by_the_first(caller_gc):
    with gc_paused():
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled() is caller_gc
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("boom")
    assert gc.isenabled() is caller_gc


@pytest.mark.parametrize(
    "text",
    [
        b'{"objectId": 18446744073709551616}',  # orjson would make it a float
        b"[-9223372036854775809, -9999999999999999999]",  # below int64, 19 digits: a float too
        b'{"a": 12345678901234567890123, "b": [1.5, -0, "\\u00e9", null, true]}',
        '{"a": "é"}'.encode("utf-16"),
        b'\xef\xbb\xbf{"a": 1}',
        b'{"a": 1, "a": 2}',
        b"[NaN, Infinity]",
    ],
)
def test_loads_gives_what_json_loads_gives(parser, text):
    got, expected = loads(text), json.loads(text)
    assert repr(got) == repr(expected)


@pytest.mark.parametrize("text", [b"[{]", b"", b"\xff", b"[1,]"])
def test_loads_raises_json_loads_own_error(parser, text):
    with pytest.raises(ValueError) as expected:
        json.loads(text)
    with pytest.raises(type(expected.value)) as got:
        loads(text)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("scan", [1, 19, 20, 37, 1 << 20])
@given(st.binary(max_size=120).map(lambda b: bytes(b"0123456789,-."[c % 13] for c in b)))
@example(text=b"1" * 19)
@example(text=b"1" * 18)
@example(text=b"")
@settings(max_examples=300, deadline=None)
def test_long_digit_runs_are_found_across_every_scan_window(scan, text):
    """19 digits in a row, wherever the windows of the vectorised scan cut them: as a regex says."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(json_module, "_SCAN_BYTES", scan)
        assert json_module._long_digits(text) is (re.search(rb"[0-9]{19}", text) is not None)
        assert json_module._long_digits(bytearray(text)) is json_module._long_digits(text)


@pytest.mark.parametrize("text", [b"1" * 18, b"1" * 19, b"x" + b"1" * 19, b"1" * 18 + b"x" + b"1"])
def test_a_text_with_19_digits_in_a_row_is_left_to_the_standard_library(monkeypatch, text):
    pytest.importorskip("orjson")
    parsed: list[bytes] = []
    monkeypatch.setattr(json_module, "orjson", _Spy(json_module.orjson, parsed))
    json_module._orjson_loads(b"[" + text + b"]")
    assert bool(parsed) is (re.search(rb"[0-9]{19}", text) is None)


class _Spy:
    """orjson, recording what it is asked to parse."""

    def __init__(self, real: Any, parsed: list[bytes]) -> None:
        self.JSONDecodeError = real.JSONDecodeError
        self._real, self._parsed = real, parsed

    def loads(self, data: bytes) -> Any:
        self._parsed.append(data)
        return self._real.loads(data)


@pytest.mark.parametrize("block", [1, 2, 3, 7, 1000])
def test_the_reader_reads_values_cut_by_any_block_boundary(block):
    text = '[12345, -0.5e3, "é€😀", {"k": [true, null]}, "\\ud800", 7]'
    reader = Reader(text.encode(), block=block)
    assert list(reader.elements()) == json.loads(text)
    reader.end()


def test_the_reader_refuses_what_is_not_json():
    reader = Reader(b"[1, 2", block=2)
    with pytest.raises(NotStreamable):
        list(reader.elements())
    with pytest.raises(NotStreamable):
        Reader(b"[1] x").end()
    with pytest.raises(NotStreamable):
        Reader("\ufeff[1]")


def big_text(tickets: int) -> str:
    """A batch answer of ``tickets`` tickets, three versions per property."""
    answer = []
    for i in range(tickets):
        versions = [{"value": f"v{i}.{k}", "timestamp": k, "source": "API"} for k in range(3)]
        props = {name: {"value": "x", "versions": versions} for name in ("a", "b")}
        answer.append({"objectId": i + 1, "portalId": 2, "properties": props})
    return json.dumps(answer)


@pytest.mark.parametrize(
    "shape",
    [
        lambda t: t,
        lambda t: '{"objects": ' + t + ', "hasMore": false, "offset": 9}',
        lambda t: json.dumps({str(o["objectId"]): o for o in json.loads(t)}),
    ],
    ids=["list", "page", "batch-read map"],
)
def test_a_long_text_is_streamed_not_parsed_whole(monkeypatch, shape):
    """Above _STREAM_MIN the text is read a ticket at a time, in chunks: never loaded whole."""
    text = shape(big_text(40))
    expected = flatten(json.loads(text))
    monkeypatch.setattr(flatten_module, "_STREAM_MIN", len(text) // 2)
    monkeypatch.setattr(flatten_module, "_STREAM_BLOCK", 97)
    monkeypatch.setattr(flatten_module, "_CHUNK_ROWS", 50)

    def whole(_: object) -> None:
        raise AssertionError("parsed whole")

    monkeypatch.setattr(flatten_module, "loads", whole)
    for data in (text, text.encode()):
        assert flatten(data).equals(expected)


@pytest.mark.parametrize(
    "text",
    [
        json.dumps(TICKET),  # a single ticket
        '{"objects": [], "objectId": 5, "portalId": 2, "properties": {}}',  # a ticket after all
        '{"objects": [], "objects": [' + json.dumps(TICKET) + "]}",  # the last key wins
        '{"1": ' + json.dumps(TICKET) + ', "objects": []}',  # a page after all
    ],
)
def test_what_the_stream_cannot_decide_is_parsed_whole(monkeypatch, text):
    expected = flatten(json.loads(text))
    monkeypatch.setattr(flatten_module, "_STREAM_MIN", 0)
    assert flatten(text).equals(expected)


def _tricky_tickets(n: int) -> list[dict[str, object]]:
    """Ticket objects whose text holds what could be taken for a cut between two of them."""
    out: list[dict[str, object]] = []
    for i in range(n):
        props: dict[str, object] = {
            "a": {"value": f'{{"objectId": {i}}}, {{"objectId"', "versions": []},
            "é€😀": {"value": "\u2028", "timestamp": i},
            "nested": {"value": [{"objectId": i, "portalId": 2}]},  # a key like a ticket's first
        }
        out.append({"objectId": i + 1, "portalId": 2, "properties": props})
    return out


@pytest.mark.parametrize("indent", [None, 2])
@pytest.mark.parametrize("batch", [1, 50, 300, 1 << 20])
def test_the_reader_parses_an_array_of_objects_in_batches_as_json_would(monkeypatch, indent, batch):
    pytest.importorskip("orjson")
    monkeypatch.setattr(json_module, "_BATCH_BYTES", batch)
    text = json.dumps({"objects": _tricky_tickets(30), "hasMore": False}, indent=indent).encode()
    parsed: list[bytes] = []
    original = json_module._orjson_loads

    def spy(data: bytes) -> object:
        parsed.append(data)
        return original(data)

    monkeypatch.setattr(json_module, "_orjson_loads", spy)
    reader = Reader(text, block=7)
    members = reader.members()
    assert next(members) == "objects"
    got = list(reader.elements())
    assert next(members) == "hasMore"
    assert reader.value() is False
    assert list(members) == []
    reader.end()
    assert repr(got) == repr(json.loads(text)["objects"])
    if batch < len(text) // 4:
        assert len(parsed) >= 3  # the elements were parsed in batches
    else:
        assert parsed == []  # less than two batches: the standard library reads it


@pytest.mark.parametrize(
    "odd",
    [float("nan"), 2**64, -(2**63) - 1, "\ud800", 1e308],
    ids=["NaN", "beyond 64 bits", "below int64", "lone surrogate", "huge float"],
)
def test_a_batch_orjson_would_read_differently_is_left_to_the_standard_library(monkeypatch, odd):
    pytest.importorskip("orjson")
    monkeypatch.setattr(json_module, "_BATCH_BYTES", 40)
    tickets = _tricky_tickets(12)
    tickets[7]["properties"] = {"x": {"value": odd}}
    text = json.dumps(tickets).replace("1e+308", "1e999").encode()  # 1e999: inf for json.loads
    assert repr(list(Reader(text).elements())) == repr(json.loads(text))


def test_a_text_that_breaks_after_the_batches_is_not_streamable(monkeypatch):
    pytest.importorskip("orjson")
    monkeypatch.setattr(json_module, "_BATCH_BYTES", 40)
    text = json.dumps(_tricky_tickets(12)).encode()[:-30]
    with pytest.raises(NotStreamable):
        list(Reader(text).elements())


def test_update_pauses_the_collector_from_each_request_to_its_answers_conversion(caller_gc):
    """Each answer is parsed, converted and dropped unseen by the collector; then as it was."""
    seen: list[bool] = []

    class Spying(TicketsClient):
        def batch_update_reply(self, objects: Any) -> Any:
            reply = super().batch_update_reply(objects)
            seen.append(gc.isenabled())
            return reply

    with FakeHubSpot() as hub:
        ids = hub.seed_tickets(30)
        edits = pd.DataFrame({"objectId": ids, "subject": [f"s{i}" for i in range(30)]})
        with Spying(hub.token, base_url=hub.base_url, max_workers=3) as client:
            result = edits.hubtickets.update(client, batch_size=7, progress=False)
    assert result.ok and len(result.tickets) >= 30
    assert seen == [False] * 5
    assert gc.isenabled() is caller_gc
