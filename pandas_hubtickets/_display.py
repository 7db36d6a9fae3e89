"""How results show: a short text summary in a terminal, compact HTML in a notebook.

Pure functions of a report (one row per input row or cell, with a ``status``
column), the problems found before sending and, for an only-changed run, its
changes (the diff). Every value shown is HTML-escaped.
"""

from __future__ import annotations

import html

import pandas as pd

__all__ = ["changes_lines", "preview_line", "result_html", "result_text"]

#: Rows shown of each table (failed rows, changes, problem groups).
SHOWN = 10
#: Badge colours by status: green landed, grey nothing to do, blue a preview, orange
#: partly or maybe landed, red not landed.
COLOURS = {
    "updated": "#2e7d32",
    "restored": "#2e7d32",
    "already_updated": "#607d8b",
    "unchanged": "#607d8b",
    "skipped": "#9e9e9e",
    "dry_run": "#1565c0",
    "partly_updated": "#ef6c00",
    "unknown": "#ef6c00",
    "conflict": "#ef6c00",
    "failed": "#c62828",
    "not_sent": "#c62828",
}
_BAD = ("failed", "unknown", "not_sent", "partly_updated", "conflict")


def _counts(report: pd.DataFrame) -> pd.Series:
    counts = report["status"].value_counts(sort=False)
    return counts[counts > 0]


def _unit(kind: str) -> str:
    """What a report's rows are: input rows, or (undo) cells."""
    return "cell" if kind == "UndoResult" else "row"


def _summary(kind: str, report: pd.DataFrame, elapsed: float) -> str:
    parts = [f"{n:,} {status}" for status, n in _counts(report).items()]
    return f"{_plural(len(report), _unit(kind))}: {', '.join(parts) or 'none'} in {elapsed:.1f} s"


def preview_line(report: pd.DataFrame, changes: pd.DataFrame) -> str:
    """``3 rows change (5 cells), 1 unchanged, 2 refused`` for an only-changed run.

    Refused rows are the ``failed`` ones: refused before sending, a ticket
    that does not exist, or (after a real run) refused by HubSpot.
    """
    cells = changes[changes["problem"].isna()]
    status = report["status"]
    refused = int((status == "failed").sum())
    unchanged = int((status == "unchanged").sum())
    rows = cells.index.nunique()
    verb = "would change" if (status == "dry_run").any() else "changed"
    return (
        f"{_plural(rows, 'row')} {verb} ({_plural(len(cells), 'cell')}), "
        f"{unchanged:,} unchanged, {refused:,} refused"
    )


def _plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def changes_lines(changes: pd.DataFrame, limit: int = SHOWN) -> list[str]:
    """One line per changed cell: ``objectId property: 'old' -> 'new'``, at most ``limit``.

    Examples
    --------
    >>> changes = pd.DataFrame({"objectId": [7], "property": ["status"], "old": ["OPEN"],
    ...                         "new": ["CLOSED"], "problem": [None]})
    >>> changes_lines(changes)
    ["  7 status: 'OPEN' -> 'CLOSED'"]
    """
    lines = []
    shown = changes[["objectId", "property", "old", "new", "problem"]].head(limit)
    for oid, prop, old, new, problem in shown.itertuples(index=False):
        if pd.isna(problem):
            before = "(no value)" if pd.isna(old) else repr(str(old))
            lines.append(f"  {oid} {prop}: {before} -> {str(new)!r}")
        else:
            lines.append(f"  {oid}: {problem}")
    if len(changes) > limit:
        lines.append(f"  ... and {len(changes) - limit:,} more")
    return lines


def _problem_groups(problems: pd.DataFrame) -> pd.DataFrame:
    """Problems counted by (column, code), largest first, with the first message of each."""
    frame = problems.assign(column=problems["column"].map(lambda c: "(frame)" if c is None else c))
    groups = frame.groupby(["column", "code"], sort=False)
    table = pd.DataFrame({"rows": groups.size(), "problem": groups["problem"].first()})
    ordered: pd.DataFrame = table.sort_values("rows", ascending=False, kind="stable").reset_index()
    return ordered


def _failed(report: pd.DataFrame) -> pd.DataFrame:
    shown = [c for c in ("objectId", "property", "status", "error", "message") if c in report]
    failed: pd.DataFrame = report.loc[report["status"].isin(_BAD), shown]
    return failed


def result_text(
    kind: str,
    report: pd.DataFrame,
    elapsed: float,
    problems: pd.DataFrame,
    changes: pd.DataFrame | None,
) -> str:
    """The terminal summary: counts by status, the preview, the first failed rows, problems."""
    lines = [f"{kind}({_summary(kind, report, elapsed)})"]
    if changes is not None:
        lines.append(preview_line(report, changes) + ":")
        lines.extend(changes_lines(changes))
    failed = _failed(report)
    if len(failed):
        shown = failed.drop(columns="status").head(5).to_string()
        lines.append("failed rows:\n" + shown + ("\n..." if len(failed) > 5 else ""))
    if len(problems):
        lines.append(f"{_plural(len(problems), 'problem')} found before sending: see .problems")
        for _, g in _problem_groups(problems).head(5).iterrows():
            lines.append(f"  {g['column']}: {g['rows']:,} x {g['code']}: {g['problem']}")
    return "\n".join(lines)


def _badges(report: pd.DataFrame) -> str:
    style = "color:white;padding:1px 7px;border-radius:9px;margin-right:4px;background:"
    return "".join(
        f'<span style="{style}{COLOURS.get(str(status), "#555")}">'
        f"{n:,} {html.escape(str(status))}</span>"
        for status, n in _counts(report).items()
    )


def _table(title: str, frame: pd.DataFrame, total: int) -> str:
    more = f" (first {len(frame):,} of {total:,})" if total > len(frame) else ""
    # na_rep does not reach pd.NA in string columns: blank every missing value first
    shown: pd.DataFrame = frame.astype(object).where(frame.notna(), "")
    return f"<p>{html.escape(title)}{more}:</p>" + shown.to_html(max_cols=8)


def result_html(
    kind: str,
    report: pd.DataFrame,
    elapsed: float,
    problems: pd.DataFrame,
    changes: pd.DataFrame | None,
) -> str:
    """The notebook view: coloured counts, the preview, the first failed rows, problem groups."""
    size = _plural(len(report), _unit(kind))
    parts = [
        f"<p><b>{html.escape(kind)}</b>: {size} in {elapsed:.1f} s</p>",
        f"<p>{_badges(report)}</p>",
    ]
    if changes is not None:
        parts.append(_table(preview_line(report, changes), changes.head(SHOWN), len(changes)))
    failed = _failed(report)
    if len(failed):
        parts.append(_table("Rows not landed, with the reasons", failed.head(SHOWN), len(failed)))
    if len(problems):
        groups = _problem_groups(problems)
        title = f"{_plural(len(problems), 'problem')} found before sending, by column and code"
        parts.append(_table(title, groups.head(SHOWN), len(groups)))
    return '<div class="hubtickets-result">' + "".join(parts) + "</div>"
