"""Round trip over sockets: frame -> to_json -> emulator -> batch_read -> flatten -> current().

The same test for every API: the body the accessor builds for that API is
sent as it is, the tickets are read back in that API's own shape, and every
value sent must be the current value read.
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pandas_hubtickets as ht
from pandas_hubtickets._api import APIS
from pandas_hubtickets.testing import FakeHubSpot

FIRST, N = 300_000, 40
PROPERTIES = ["subject", "content"]  # free-text ticket properties: any string is valid


@pytest.fixture(scope="module", params=APIS)
def client(request):
    with FakeHubSpot(seed=9) as hub:
        hub.seed_tickets(N, start_id=FIRST)
        with ht.TicketsClient(
            hub.token, base_url=hub.base_url, requests_per_10s=10_000, api=request.param
        ) as c:
            yield c


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
