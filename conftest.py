"""Shared by the doctests of pandas_hubtickets: ``client`` talks to a local emulator.

The emulator holds the seed's two tickets (176602 and 178218) and a few more,
so the docstrings' examples run for real, over a socket on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pandas_hubtickets import TicketsClient
from pandas_hubtickets.testing import FakeHubSpot


@pytest.fixture(autouse=True)
def _doctest_client(
    request: pytest.FixtureRequest, doctest_namespace: dict[str, Any]
) -> Iterator[None]:
    if type(request.node).__name__ != "DoctestItem":  # only the docstrings need it
        yield
        return
    with FakeHubSpot() as hub:
        for object_id in (176602, 178218):
            hub.create_ticket({"subject": f"ticket {object_id}"}, object_id=object_id)
        with TicketsClient(hub.token, base_url=hub.base_url) as client:
            doctest_namespace["client"] = client
            yield
