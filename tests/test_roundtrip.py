"""Round trip over sockets: frame -> to_json -> emulator -> batch_read -> flatten -> current().

The same test for every API: the body the accessor builds for that API is
sent as it is, the tickets are read back in that API's own shape, and every
value sent must be the current value read. An API is skipped while the
emulator does not serve its batch update and read, or while
``TicketsClient.batch_update`` does not send to that API's endpoint (the
reason says which); once they land, the test runs for it unchanged.
"""

from __future__ import annotations

import contextlib

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pandas_hubtickets as ht
from pandas_hubtickets._api import APIS, endpoints
from pandas_hubtickets.errors import HubSpotError
from pandas_hubtickets.testing import FakeHubSpot
from pandas_hubtickets.testing.api import ApiError, resolve

FIRST, N = 300_000, 40
PROPERTIES = ["subject", "content"]  # free-text ticket properties: any string is valid


def _batch_paths(api: str) -> tuple[str, str]:
    """The batch update and batch read endpoints of ``api``."""
    tickets = endpoints(api).tickets
    if api == "v1":
        return tickets + "/batch-update", tickets + "/batch-read"
    return tickets + "/batch/update", tickets + "/batch/read"


def _missing_route(api: str) -> str | None:
    """The first endpoint the round trip needs that the emulator does not serve for ``api``."""
    for path in _batch_paths(api):
        try:
            resolve("POST", path)
        except ApiError:
            return f"the emulator does not serve POST {path} yet"
    return None


def _api_param(api: str) -> object:
    missing = _missing_route(api)
    return pytest.param(api, marks=pytest.mark.skipif(missing is not None, reason=str(missing)))


@pytest.fixture(scope="module", params=[_api_param(api) for api in APIS])
def client(request):
    with FakeHubSpot(seed=9) as hub:
        hub.seed_tickets(N, start_id=FIRST)
        with ht.TicketsClient(
            hub.token, base_url=hub.base_url, requests_per_10s=10_000, api=request.param
        ) as c:
            _skip_unless_writes_go_through(c, hub)
            yield c


def _skip_unless_writes_go_through(client: ht.TicketsClient, hub: FakeHubSpot) -> None:
    """Skip unless ``client.batch_update`` sends a body of its API to that API's endpoint."""
    wanted = _batch_paths(client.api)[0]
    probe = pd.DataFrame({"objectId": [FIRST], "subject": ["probe"]})
    with contextlib.suppress(HubSpotError):  # sent to the wrong endpoint, it is refused
        client.batch_update(probe.hubtickets.to_json(api=client.api))
    sent_to = hub.requests[-1].path
    if sent_to != wanted:
        pytest.skip(
            f"TicketsClient(api={client.api!r}).batch_update sends to {sent_to}, not {wanted}"
        )


cell = st.one_of(st.none(), st.text(max_size=40))


@st.composite
def wide_frames(draw):
    ids = draw(st.lists(st.integers(FIRST, FIRST + N - 1), min_size=1, max_size=12, unique=True))
    columns = draw(st.lists(st.sampled_from(PROPERTIES), min_size=1, max_size=2, unique=True))
    data = {c: draw(st.lists(cell, min_size=len(ids), max_size=len(ids))) for c in columns}
    return pd.DataFrame({"objectId": ids, **data})


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(wide=wide_frames())
def test_what_is_sent_is_what_comes_back(client, wide):
    if next(wide.hubtickets.to_batches(api=client.api), None) is None:  # every cell missing
        return
    client.batch_update(wide.hubtickets.to_json(api=client.api))  # the body as built, byte for byte
    read = client.batch_read(wide["objectId"].tolist(), PROPERTIES)
    current = ht.flatten(read).hubtickets.current().set_index("objectId")
    for row in wide.itertuples(index=False):
        for column in wide.columns[1:]:
            sent = getattr(row, column)
            if not pd.isna(sent):
                assert current.loc[row.objectId, column] == sent
