"""TicketsClient's endpoints over real sockets, against FakeHubSpot on 127.0.0.1 (no patching).

The transport under them (construction, secrets, retries) is tested in test_transport.py.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlencode

import pandas as pd
import pytest
from helpers import TOKEN, canned_server, client_for, update_body

import pandas_hubtickets as ht
from pandas_hubtickets._client import (
    MAX_QUERY_CHARS,
    V1_TICKETS,
    Reply,
    TicketsClient,
    _split_names,
)
from pandas_hubtickets.errors import ConfigurationError, HubSpotError
from pandas_hubtickets.testing import FakeHubSpot

PROPERTIES_V2 = "/properties/v2/tickets/properties"


@pytest.fixture
def hub() -> Iterator[FakeHubSpot]:
    with FakeHubSpot(token=TOKEN, seed=3) as h:
        yield h


def edited(hub: FakeHubSpot, n: int) -> list[int]:
    """``n`` seeded tickets, three of whose properties get two more versions each."""
    ids = hub.seed_tickets(n)
    with client_for(hub) as client:
        for round_, start in itertools.product((1, 2), range(0, n, 100)):
            client.batch_update(
                [
                    {
                        "objectId": i,
                        "properties": [
                            {"name": "subject", "value": f"subject {i} v{round_}"},
                            {"name": "status", "value": ["IN_PROGRESS", "CLOSED"][round_ - 1]},
                            {"name": "hs_ticket_priority", "value": ["LOW", "HIGH"][round_ - 1]},
                        ],
                    }
                    for i in ids[start : start + 100]
                ]
            )
    hub.clear_log()
    return ids


def versions(ticket: dict[str, Any]) -> dict[str, list[Any]]:
    """Each property's versions as ``(value, timestamp)`` pairs."""
    return {
        name: [(v["value"], v["timestamp"]) for v in prop["versions"]]
        for name, prop in ticket["properties"].items()
    }


# ---------------------------------------------------------------------- calls
class TestCalls:
    def test_batch_update_list_and_bytes(self, hub: FakeHubSpot) -> None:
        a, b = hub.seed_tickets(2)
        with client_for(hub) as client:
            result = client.batch_update(update_body(a, status="CLOSED"))
            assert result[0]["objectId"] == a
            assert result[0]["properties"]["status"]["value"] == "CLOSED"
            raw = json.dumps(update_body(b, subject="ünïcode")).encode("utf-8")
            reply = client.batch_update_reply(raw)
            assert isinstance(reply, Reply)
            assert reply.attempts == 1 and reply.status == 200
            assert reply.data[0]["objectId"] == b
            assert reply.headers["content-type"].startswith("application/json")
            text = json.dumps(update_body(b, content="as str"))
            assert client.batch_update(text)[0]["objectId"] == b
            assert client.batch_update([]) == []
        assert hub.ticket(b)["properties"]["subject"]["value"] == "ünïcode"
        assert [r.objects for r in hub.requests] == [1, 1, 1]

    def test_batch_update_refuses_over_100_without_a_request(self, hub: FakeHubSpot) -> None:
        with client_for(hub) as client:
            objects = [update_body(i + 1, subject="x")[0] for i in range(101)]
            with pytest.raises(ConfigurationError, match="at most 100"):
                client.batch_update(objects)
            with pytest.raises(ConfigurationError, match="mapping"):
                client.batch_update(["not a mapping"])  # type: ignore[list-item]
            with pytest.raises(ConfigurationError):
                client.batch_update_reply([])
            with pytest.raises(ValueError, match="NaN"):
                client.batch_update(
                    [{"objectId": 1, "properties": [{"name": "x", "value": float("nan")}]}]
                )
        assert hub.requests == []

    def test_validation_error(self, hub: FakeHubSpot) -> None:
        (ticket_id,) = hub.seed_tickets(1)
        with client_for(hub) as client, pytest.raises(HubSpotError) as info:
            client.batch_update(update_body(ticket_id, no_such_property="x"))
        error = info.value
        assert error.status == 400
        assert error.error == "PROPERTY_DOESNT_EXIST"
        assert error.attempts == 1
        assert error.correlation_id
        assert error.body["validationResults"][0]["name"] == "no_such_property"
        assert len(hub.requests) == 1  # a 400 is never retried

    def test_wrong_token(self) -> None:
        with FakeHubSpot(token="pat-na1-right") as hub, client_for(hub, TOKEN) as client:
            with pytest.raises(HubSpotError) as info:
                client.get(1)
            assert len(hub.requests) == 1
        assert info.value.status == 401
        assert info.value.error == "INVALID_AUTHENTICATION"
        assert info.value.attempts == 1

    def test_get(self, hub: FakeHubSpot) -> None:
        (ticket_id,) = hub.seed_tickets(1)
        with client_for(hub) as client:
            ticket = client.get(ticket_id, ["subject", "status"])
            assert ticket["objectId"] == ticket_id
            assert set(ticket["properties"]) == {"subject", "status"}
            assert client.get(str(ticket_id), "subject", history=True)["properties"]["subject"][
                "versions"
            ]
            with pytest.raises(HubSpotError) as info:
                client.get(ticket_id + 1000)
            with pytest.raises(ValueError):
                client.get("1/../../x")
        assert info.value.status == 404
        assert info.value.error == "OBJECT_NOT_FOUND"
        assert [r.query for r in hub.requests[:2]] == [
            "properties=subject&properties=status",
            "propertiesWithHistory=subject",
        ]

    def test_batch_read_chunks_and_merges(self, hub: FakeHubSpot) -> None:
        ids = hub.seed_tickets(230)
        with client_for(hub) as client:
            found = client.batch_read([*ids, ids[0], str(ids[1]), 99_999_999], ["subject"])
        assert sorted(found) == sorted(str(i) for i in ids)
        assert all(found[str(i)]["objectId"] == i for i in ids)
        assert all("versions" in t["properties"]["subject"] for t in found.values())
        records = hub.requests
        assert [r.path for r in records] == [f"{V1_TICKETS}/batch-read"] * 3
        assert [r.objects for r in records] == [100, 100, 31]  # duplicates read once
        assert {r.query for r in records} == {"propertiesWithHistory=subject"}

    def test_batch_read_without_history(self, hub: FakeHubSpot) -> None:
        ids = hub.seed_tickets(3)
        with client_for(hub) as client:
            found = client.batch_read(ids, ["subject", "status"], history=False)
            assert client.batch_read([]) == {}
        assert len(found) == 3
        assert hub.requests[0].query == "properties=subject&properties=status"
        assert len(hub.requests) == 1

    def test_iter_tickets_follows_pages(self, hub: FakeHubSpot) -> None:
        ids = hub.seed_tickets(230)
        with client_for(hub) as client:
            tickets = list(client.iter_tickets(["subject"]))
            pages = list(client.iter_pages("subject"))
        assert [t["objectId"] for t in tickets] == ids
        assert all(set(t["properties"]) == {"subject"} for t in tickets)
        assert [len(p["objects"]) for p in pages] == [100, 100, 30]
        assert [p["hasMore"] for p in pages] == [True, True, False]
        queries = [r.query for r in hub.requests[:3]]
        assert queries[0] == "properties=subject"
        assert queries[1] == f"properties=subject&offset={pages[0]['offset']}"

    def test_iter_tickets_empty(self, hub: FakeHubSpot) -> None:
        with client_for(hub) as client:
            assert list(client.iter_tickets()) == []

    def test_properties_records(self, hub: FakeHubSpot) -> None:
        with client_for(hub) as client:
            records = client.properties()
        assert isinstance(records, list) and all(type(r) is dict for r in records)
        names = [r["name"] for r in records]
        assert len(names) == len(set(names))
        assert {"subject", "hs_pipeline_stage"} <= set(names)
        assert all({"name", "type", "fieldType"} <= set(r) for r in records)
        assert hub.requests[0].path == "/properties/v2/tickets/properties"

    @pytest.mark.parametrize("shape", ["bare list", "results"])
    def test_properties_accepts_both_shapes(self, shape: str) -> None:
        defs = [{"name": "subject", "type": "string"}, {"name": "status", "type": "enumeration"}]
        body: Any = defs if shape == "bare list" else {"results": defs}
        with canned_server(body) as (url, _), TicketsClient(TOKEN, base_url=url) as client:
            assert client.properties() == defs

    def test_properties_refuses_another_shape(self) -> None:
        with (
            canned_server({"objects": []}) as (url, _),
            TicketsClient(TOKEN, base_url=url) as c,
            pytest.raises(HubSpotError, match="property definitions") as info,
        ):
            c.properties()
        assert info.value.error == "INVALID_RESPONSE"


# -------------------------------------------------------------------- history
class TestHistory:
    def test_history_alone_returns_every_version_of_every_property(self, hub: FakeHubSpot) -> None:
        ids = edited(hub, 3)
        with client_for(hub) as client:
            read = client.batch_read(ids, history=True)
            one = client.get(ids[0], history=True)
            paged = {t["objectId"]: t for t in client.iter_tickets(history=True)}
        for i in ids:
            stored = versions(hub.ticket(i))  # every property, whole history
            assert any(len(v) == 3 for v in stored.values())
            assert versions(read[str(i)]) == stored
            assert versions(paged[i]) == stored
        assert versions(one) == versions(hub.ticket(ids[0]))
        paths = [r.path for r in hub.requests]
        assert paths.count(PROPERTIES_V2) == 1  # the names are read once per client

    def test_readme_example_gives_one_row_per_version(self, hub: FakeHubSpot) -> None:
        ids = edited(hub, 4)
        edits = pd.DataFrame(
            {"status": ["CLOSED"] * 4}, index=pd.Index([str(i) for i in ids], name="Ticket ID")
        )
        with client_for(hub) as client:
            history = ht.flatten(client.batch_read(edits.index, history=True))  # as in README
        expected = sum(
            len(prop["versions"]) for i in ids for prop in hub.ticket(i)["properties"].values()
        )
        assert len(history) == expected
        counts = history.groupby(["objectId", "property"], observed=True).size()
        assert counts.loc[(ids[0], "subject")] == 3
        assert counts.loc[(ids[0], "status")] == 3

    def test_without_history_nothing_extra_is_asked(self, hub: FakeHubSpot) -> None:
        ids = hub.seed_tickets(2)
        with client_for(hub) as client:
            client.batch_read(ids, history=False)
            client.get(ids[0])
            list(client.iter_tickets())
        assert [r.query for r in hub.requests] == ["", "", ""]

    def test_names_are_split_over_requests_and_merged(self, hub: FakeHubSpot) -> None:
        ids = edited(hub, 3)
        with client_for(hub) as whole:
            expected = whole.batch_read(ids, history=True)
        hub.clear_log()
        with client_for(hub) as client:
            client._max_query_chars = 150  # a few names a request
            read = client.batch_read(ids, history=True)
            one = client.get(ids[1], history=True)
        assert read == expected
        assert one == expected[str(ids[1])]
        reads = [r for r in hub.requests if r.path == f"{V1_TICKETS}/batch-read"]
        assert len(reads) > 2
        assert all(len(r.query) <= 150 for r in reads)
        asked = [name for r in reads for name in r.query.split("&")]
        assert len(asked) == len(set(asked))  # every name asked once

    def test_iter_pages_with_split_names_pages_once(self, hub: FakeHubSpot) -> None:
        edited(hub, 130)
        with client_for(hub) as whole:
            expected = {t["objectId"]: t for t in whole.iter_tickets(history=True)}
        hub.clear_log()
        with client_for(hub) as client:
            client._max_query_chars = 150
            pages = list(client.iter_pages(history=True))
        got = {t["objectId"]: t for page in pages for t in page["objects"]}
        assert got == expected
        assert [len(p["objects"]) for p in pages] == [100, 30]
        paged = [r for r in hub.requests if r.path == f"{V1_TICKETS}/paged"]
        reads = [r for r in hub.requests if r.path == f"{V1_TICKETS}/batch-read"]
        assert len(paged) == 2  # one pagination
        assert len(reads) % 2 == 0 and reads  # the other names, per page
        assert [r.objects for r in reads] == [100] * (len(reads) // 2) + [30] * (len(reads) // 2)

    def test_a_long_list_of_names_fits_the_servers_url_limit(self, hub: FakeHubSpot) -> None:
        ids = edited(hub, 2)
        many = [f"custom_property_{i:04d}" for i in range(400)] + ["status"]
        with client_for(hub) as client:
            with pytest.raises(HubSpotError) as info:  # unsplit, the emulator refuses it
                client.send(
                    "POST",
                    f"{V1_TICKETS}/batch-read",
                    params={"propertiesWithHistory": many},
                    body={"ids": ids},
                )
            read = client.batch_read(ids, many)
        assert info.value.status == 414
        assert {name for t in read.values() for name in t["properties"]} == {"status"}
        assert len(read[str(ids[0])]["properties"]["status"]["versions"]) == 3

    def test_definitions_are_read_once_across_threads(self, hub: FakeHubSpot) -> None:
        ids = edited(hub, 3)
        with client_for(hub) as client, ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda _: client.batch_read(ids, history=True), range(8)))
        assert all(a == answers[0] for a in answers)
        assert [r.path for r in hub.requests].count(PROPERTIES_V2) == 1

    def test_split_names_keeps_order_and_limit(self) -> None:
        names = [f"hs_custom_property_number_{i:05d}_{'x' * (i % 17)}" for i in range(1000)]
        key = "propertiesWithHistory"
        chunks = _split_names(key, names, MAX_QUERY_CHARS)
        assert [n for chunk in chunks for n in chunk] == names
        assert len(chunks) > 10
        for chunk, following in itertools.pairwise(chunks):
            query = urlencode([(key, n) for n in chunk])
            assert len(query) <= MAX_QUERY_CHARS
            longer = urlencode([(key, n) for n in [*chunk, following[0]]])
            assert len(longer) > MAX_QUERY_CHARS  # each request is as full as it may be
        assert _split_names(key, ["x" * 5000], MAX_QUERY_CHARS) == [["x" * 5000]]
