"""Every Python example of the README runs verbatim, against the local emulator.

The examples are taken from README.md as they are written; only the
environment is set up around them: ``HUBSPOT_ACCESS_TOKEN`` and
``HUBSPOT_BASE_URL`` point at a FakeHubSpot, and the working folder holds the
files an example reads (``fixed.csv``: a HubSpot export fixed by hand).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from pandas_hubtickets.testing import FakeHubSpot

README = Path(__file__).resolve().parents[1] / "README.md"
FIRST = 176_000


def python_examples() -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    assert blocks, "the README has no Python example"
    return blocks


@pytest.fixture
def hub(tmp_path, monkeypatch):
    with FakeHubSpot(seed=11) as hub:
        hub.seed_tickets(4, start_id=FIRST)
        monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", hub.token)
        monkeypatch.setenv("HUBSPOT_BASE_URL", hub.base_url)
        monkeypatch.chdir(tmp_path)
        (tmp_path / "fixed.csv").write_text(
            "Ticket ID,status,hs_ticket_priority,subject\n"
            f"{FIRST},CLOSED,HIGH,Printer on fire\n"
            f"{FIRST + 1},OPEN,LOW,\n"
            f"{FIRST + 2},WAITING,,Login loop\n"
        )
        yield hub


@pytest.mark.parametrize("number", range(len(python_examples())))
def test_readme_example_runs_verbatim(hub, number):
    namespace: dict[str, object] = {}
    exec(compile(python_examples()[number], f"README.md example {number}", "exec"), namespace)
    if "history" in namespace:  # the main example: what each of its comments promises
        check_main_example(namespace, hub)


def check_main_example(ns: dict[str, object], hub: FakeHubSpot) -> None:
    result = ns["result"]
    assert result.report["status"].tolist() == ["updated"] * 3  # type: ignore[attr-defined]
    assert result.failed_rows().empty  # type: ignore[attr-defined]
    assert hub.ticket(FIRST)["properties"]["status"]["value"] == "CLOSED"
    history = ns["history"]
    assert isinstance(history, pd.DataFrame)
    versions = history.groupby(["objectId", "property"], observed=True).size()
    # "one row per version": every edited property has its seeded value and the edit
    assert versions.loc[(FIRST, "status")] == 2
    assert versions.loc[(FIRST + 1, "hs_ticket_priority")] == 2
    assert (versions >= 1).all() and len(versions) > 3 * 3  # every property, not the edited only
    wide = history.hubtickets.current()  # "wide again: the current values"
    assert wide.set_index("objectId").loc[FIRST, "status"] == "CLOSED"
    assert Path("push.jsonl").exists()
