"""The pictures: what was drawn (spans, labels, units, counts), rendered with Agg."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from histories import DAY, ticket

import pandas_hubtickets as ht

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
plt = pytest.importorskip("matplotlib.pyplot")

STAGES = ["1", "2", "3", "4"]


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


@pytest.fixture
def pipeline() -> pd.DataFrame:
    """60 tickets walking through stages 1..4 at different paces, some re-sent, some stopping."""
    tickets = []
    for i in range(60):
        steps = 1 + i % 4  # how far the ticket got
        history = [(STAGES[k], (i + 3 * k * (1 + i % 3)) * DAY, "API", None) for k in range(steps)]
        if i % 5 == 0:  # a workflow re-sends the stage the ticket is in
            value, at, _, _ = history[-1]
            history.append((value, at + DAY // 2, "WORKFLOWS", "workflow:1"))
        tickets.append(ticket(1000 + i, hs_pipeline_stage=history))
    return ht.flatten(tickets)


def test_timeline_draws_one_span_per_spell_of_the_first_50_tickets(pipeline):
    ax = pipeline.hubtickets.plot_timeline("hs_pipeline_stage")
    spells = pipeline.hubtickets.durations()
    shown = spells[spells["objectId"] < 1050]
    assert len(ax.patches) == len(shown)  # re-sent values did not add spans
    assert ax.get_title() == "hs_pipeline_stage over time (first 50 of 60 tickets)"
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [str(1000 + i) for i in range(50)]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == STAGES
    assert ax.get_xlabel() == "time (UTC)"
    assert isinstance(ax.xaxis.get_major_formatter(), matplotlib.dates.ConciseDateFormatter)
    # a span covers its spell: the first ticket's first spell starts at day 0, lasts 3 days
    first = min(ax.patches, key=lambda p: (p.get_y(), p.get_x()))
    assert first.get_x() == pytest.approx(matplotlib.dates.date2num(np.datetime64(0, "ms")))
    assert ax.figure.canvas.get_renderer() is not None
    ax.figure.canvas.draw()


def test_timeline_of_chosen_tickets_and_unknown_ones(pipeline):
    ax = pipeline.hubtickets.plot_timeline(tickets=[1003, 1001])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["1003", "1001"]
    assert len(ax.patches) == 4 + 2  # 1003 reached stage 4, 1001 stage 2
    assert ax.get_title() == "hs_pipeline_stage over time (2 tickets)"
    with pytest.raises(ht.ConfigurationError, match=r"no 'hs_pipeline_stage' history.*\[7\]"):
        pipeline.hubtickets.plot_timeline(tickets=[1003, 7])


def test_ordered_categorical_values_keep_their_order(pipeline):
    labelled = pipeline.assign(
        value=pd.Categorical(pipeline["value"], categories=["4", "3", "2", "1"], ordered=True)
    )
    ax = labelled.hubtickets.plot_timeline()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["4", "3", "2", "1"]
    ax = labelled.hubtickets.plot_durations()
    assert [t.get_text().split("\n")[0] for t in ax.get_xticklabels()] == ["3", "2", "1"]
    ax = labelled.hubtickets.plot_flow()
    assert [t.get_text() for t in ax.get_yticklabels()] == ["4", "3", "2", "1"]


def test_durations_boxes_per_value_with_the_unit_on_the_axis(pipeline):
    ax = pipeline.hubtickets.plot_durations()
    spells = pipeline.hubtickets.durations().dropna(subset=["duration"])
    per_value = spells.groupby("value", observed=True)["duration"]
    assert ax.get_ylabel() == "time in hs_pipeline_stage (days)"
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks == [f"{v}\n(n={n})" for v, n in per_value.size().items()]
    assert ticks[0].startswith("1\n")  # stage 4 is never left: no box
    medians = [line.get_ydata()[0] for line in ax.lines if line.get_gid() == "median"]
    assert medians == pytest.approx((per_value.median() / pd.Timedelta(days=1)).tolist())
    hours = pipeline.hubtickets.plot_durations(unit="hours")
    assert hours.get_ylabel() == "time in hs_pipeline_stage (hours)"
    assert max(hours.get_ylim()) == pytest.approx(max(ax.get_ylim()) * 24)
    with pytest.raises(ht.ConfigurationError, match="unit must be one of minutes, hours, days"):
        pipeline.hubtickets.plot_durations(unit="weeks")  # type: ignore[arg-type]


def test_flow_heatmap_holds_the_transition_counts(pipeline):
    ax = pipeline.hubtickets.plot_flow()
    counts = pipeline.hubtickets.transitions().value_counts(["from", "to"])
    drawn = ax.images[0].get_array()
    assert drawn.shape == (4, 4)
    for (frm, to), n in counts.items():
        assert drawn[STAGES.index(frm), STAGES.index(to)] == n
    assert drawn.sum() == counts.sum() == len(pipeline.hubtickets.transitions())
    written = sorted(int(t.get_text()) for t in ax.texts)
    assert written == sorted(counts.tolist())
    assert ax.get_title() == f"hs_pipeline_stage: {counts.sum()} transitions"
    assert (ax.get_xlabel(), ax.get_ylabel()) == (
        "to (hs_pipeline_stage)",
        "from (hs_pipeline_stage)",
    )


def test_plots_draw_on_a_given_axes(pipeline):
    _, axes = plt.subplots(1, 3)
    assert pipeline.hubtickets.plot_timeline(ax=axes[0]) is axes[0]
    assert pipeline.hubtickets.plot_durations(ax=axes[1]) is axes[1]
    assert pipeline.hubtickets.plot_flow(ax=axes[2]) is axes[2]
    assert len(plt.get_fignums()) == 1


def test_without_matplotlib_the_error_says_how_to_install_it(pipeline, monkeypatch):
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError, match=r"pip install 'pandas-hubtickets\[plot\]'"):
        pipeline.hubtickets.plot_flow()
    with pytest.raises(ImportError, match=r"pandas-hubtickets\[plot\]"):
        pipeline.hubtickets.plot_timeline()
