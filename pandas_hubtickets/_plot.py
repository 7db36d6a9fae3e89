"""Pictures of a tidy frame's history: timelines, time in each value, transition counts.

matplotlib is the optional ``plot`` extra (``pip install 'pandas-hubtickets[plot]'``),
imported only when a picture is drawn. Each function draws on ``ax`` (or a new
figure sized for what it shows) and returns the ``Axes``.

Values are shown in one order throughout: a categorical's categories (an
ordered categorical, such as pipeline stages by label, reads left to right
through the pipeline), else the order in which values were first reached.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from ._history import _epoch_ms, durations, transitions
from .errors import ConfigurationError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_durations", "plot_flow", "plot_timeline"]

TimeUnit = Literal["minutes", "hours", "days"]
_MS_PER = {"minutes": 60_000, "hours": 3_600_000, "days": 86_400_000}
_MAX_TICKETS = 50


def _pyplot() -> Any:
    """``matplotlib.pyplot``, or an ImportError that says how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "the plot_* methods need matplotlib: pip install 'pandas-hubtickets[plot]'"
        ) from exc
    return plt


def _axes(ax: Axes | None, width: float, height: float) -> Axes:
    if ax is not None:
        return ax
    _, new = _pyplot().subplots(figsize=(width, height), layout="constrained")
    made: Axes = new
    return made


def _order(values: pd.Series) -> list[Any]:
    """The values present, in the categories' order, else in order of first appearance."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        present = set(values.dropna())
        return [c for c in values.cat.categories if c in present]
    return list(pd.unique(values.dropna()))


def _codes(values: pd.Series, order: list[Any]) -> np.ndarray:
    """The position of each value in ``order`` (-1 for NA and values not in it)."""
    codes: np.ndarray = pd.Index(order, dtype=object).get_indexer(values.astype(object))
    return codes


def _label(value: Any) -> str:
    return "<NA>" if value is pd.NA else str(value)


def plot_timeline(
    tidy: pd.DataFrame,
    property: str = "hs_pipeline_stage",
    tickets: Sequence[int] | None = None,
    *,
    until: Any = None,
    ax: Axes | None = None,
) -> Axes:
    """Each ticket's values of ``property`` over time, as coloured spans (a row a ticket).

    Parameters
    ----------
    tidy : pandas.DataFrame
        A tidy frame (:func:`~pandas_hubtickets.flatten`).
    property : str, default "hs_pipeline_stage"
    tickets : list of int, optional
        The ``objectId`` s to show, top to bottom; by default the first 50
        tickets of the frame that have the property.
    until : timestamp, optional
        Where the current values' spans end; by default the newest timestamp
        in the frame.
    ax : matplotlib.axes.Axes, optional
        Where to draw; by default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        One bar per spell, one legend entry per value, dates on the x axis.

    Examples
    --------
    >>> import pandas_hubtickets as ht
    >>> versions = [{"value": "2", "timestamp": 86_400_000}, {"value": "1", "timestamp": 0}]
    >>> prop = {"hs_pipeline_stage": {"versions": versions}}
    >>> tidy = ht.flatten({"objectId": 5, "portalId": 1, "properties": prop})
    >>> ax = plot_timeline(tidy, until="1970-01-03")
    >>> len(ax.patches), ax.get_title()
    (2, 'hs_pipeline_stage over time (1 ticket)')
    """
    plt = _pyplot()
    import matplotlib.dates as mdates

    if until is None:
        stamps = _epoch_ms(tidy["timestamp"])
        until = pd.Timestamp(int(stamps.max(initial=0)), unit="ms", tz="UTC")
    spells = durations(tidy, property, until=until)
    known = pd.unique(spells["objectId"])
    if tickets is None:
        shown = known[:_MAX_TICKETS]
        what = f"first {len(shown)} of {len(known)}" if len(known) > len(shown) else len(shown)
    else:
        shown = np.asarray(list(tickets), dtype=np.int64)
        absent = sorted(set(shown.tolist()) - set(known.tolist()))
        if absent:
            raise ConfigurationError(f"no {property!r} history for ticket(s) {absent[:10]}")
        what = len(shown)
    row = pd.Index(shown).get_indexer(spells["objectId"])
    spells = spells[row >= 0].assign(row=row[row >= 0])
    ax = _axes(ax, 10, max(3.0, 0.25 * len(shown) + 1.5))
    colors = plt.get_cmap("tab10" if len(_order(spells["value"])) <= 10 else "tab20")
    left = mdates.date2num(spells["start"].dt.tz_convert(None).to_numpy())  # type: ignore[no-untyped-call]
    width = spells["duration"].to_numpy(dtype="timedelta64[ms]").astype(np.int64) / _MS_PER["days"]
    values = spells["value"]
    for k, value in enumerate(_order(values)):
        on = (values == value).to_numpy(dtype=bool, na_value=False)
        color = colors(k % colors.N)
        ax.barh(spells["row"][on], width[on], left=left[on], height=0.8, color=color, label=value)
    ax.set_yticks(range(len(shown)), [str(t) for t in shown], fontsize=8 if len(shown) > 20 else 10)
    ax.set_ylim(len(shown) - 0.5, -0.5)  # the first ticket on top
    ax.xaxis_date()
    locator = mdates.AutoDateLocator()  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    ax.set_xlabel("time (UTC)")
    ax.set_ylabel("ticket (objectId)")
    ax.set_title(f"{property} over time ({what} ticket{'' if what == 1 else 's'})")
    ax.legend(title=property, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    return ax


def plot_durations(
    tidy: pd.DataFrame,
    property: str = "hs_pipeline_stage",
    *,
    unit: TimeUnit | None = None,
    ax: Axes | None = None,
) -> Axes:
    """How long tickets stayed in each value of ``property``: a box per value.

    Only finished spells count (the current values have not ended yet).

    Parameters
    ----------
    tidy : pandas.DataFrame
        A tidy frame (:func:`~pandas_hubtickets.flatten`).
    property : str, default "hs_pipeline_stage"
    unit : {"minutes", "hours", "days"}, optional
        The unit of the y axis; by default days when the median spell lasts
        a day or more, else hours.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        One box per value (its tick label gives the number of spells), the
        unit in the y label.

    Examples
    --------
    >>> import pandas_hubtickets as ht
    >>> versions = [{"value": "2", "timestamp": 7_200_000}, {"value": "1", "timestamp": 0}]
    >>> prop = {"hs_pipeline_stage": {"versions": versions}}
    >>> tidy = ht.flatten({"objectId": 5, "portalId": 1, "properties": prop})
    >>> ax = plot_durations(tidy)
    >>> ax.get_ylabel(), [t.get_text() for t in ax.get_xticklabels()]
    ('time in hs_pipeline_stage (hours)', ['1\\n(n=1)'])
    """
    spells = durations(tidy, property)
    spells = spells[spells["duration"].notna()]
    ms = spells["duration"].to_numpy(dtype="timedelta64[ms]").astype(np.int64)
    if unit is None:
        unit = "days" if len(ms) and np.median(ms) >= _MS_PER["days"] else "hours"
    elif unit not in _MS_PER:
        raise ConfigurationError(f"unit must be one of {', '.join(_MS_PER)}, got {unit!r}")
    order = _order(spells["value"])
    codes = _codes(spells["value"], order)
    groups = [ms[codes == k] / _MS_PER[unit] for k in range(len(order))]
    ax = _axes(ax, max(5.0, 0.9 * len(order) + 2), 4.5)
    positions = list(range(1, len(order) + 1))
    if groups:
        boxes = ax.boxplot(groups, positions=positions, widths=0.6)
        for line in boxes["medians"]:
            line.set_gid("median")
    labels = [f"{_label(v)}\n(n={len(g)})" for v, g in zip(order, groups, strict=True)]
    ax.set_xticks(positions, labels, rotation=30 if len(order) > 6 else 0)
    ax.set_xlabel(property)
    ax.set_ylabel(f"time in {property} ({unit})")
    ax.set_title(f"Time in each {property} value ({len(ms)} finished spells)")
    ax.grid(axis="y", alpha=0.3)
    return ax


def plot_flow(
    tidy: pd.DataFrame, property: str = "hs_pipeline_stage", *, ax: Axes | None = None
) -> Axes:
    """The transitions between values of ``property``: a heatmap of counts (from x to).

    Parameters
    ----------
    tidy : pandas.DataFrame
        A tidy frame (:func:`~pandas_hubtickets.flatten`).
    property : str, default "hs_pipeline_stage"
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        The image holds the counts (rows: from, columns: to), each non-zero
        cell is written on it, values in the same order on both axes.

    Examples
    --------
    >>> import pandas_hubtickets as ht
    >>> versions = [{"value": "2", "timestamp": 2}, {"value": "1", "timestamp": 1}]
    >>> prop = {"hs_pipeline_stage": {"versions": versions}}
    >>> tidy = ht.flatten({"objectId": 5, "portalId": 1, "properties": prop})
    >>> ax = plot_flow(tidy)
    >>> ax.images[0].get_array().tolist()
    [[0, 1], [0, 0]]
    """
    moves = transitions(tidy, property)
    order = _order(durations(tidy, property)["value"])
    n = len(order)
    start, end = _codes(moves["from"], order), _codes(moves["to"], order)
    known = (start >= 0) & (end >= 0)  # a move from or to a missing value has no cell
    start, end = start[known], end[known]
    counts = np.bincount(start * n + end, minlength=n * n).reshape(n, n)
    ax = _axes(ax, max(4.0, 0.7 * n + 2.5), max(3.5, 0.6 * n + 1.5))
    image = ax.imshow(counts, cmap="Blues", vmin=0)
    for i, j in zip(*np.nonzero(counts), strict=True):
        dark = counts[i, j] > counts.max() / 2
        ax.text(j, i, str(counts[i, j]), ha="center", va="center", color="w" if dark else "k")
    labels = [_label(v) for v in order]
    ax.set_xticks(range(n), labels, rotation=30 if n > 6 else 0)
    ax.set_yticks(range(n), labels)
    ax.set_xlabel(f"to ({property})")
    ax.set_ylabel(f"from ({property})")
    ax.set_title(f"{property}: {len(moves)} transitions")
    ax.figure.colorbar(image, ax=ax, label="transitions")
    return ax
