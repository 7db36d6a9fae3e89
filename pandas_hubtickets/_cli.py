"""The ``hubtickets`` command: ``demo``, ``serve``, ``push``, ``pull`` and ``undo``.

``demo`` is the main job end to end on the local emulator (no account, no
network); ``serve`` runs the emulator in the foreground for your own
experiments; ``push`` and ``pull`` are the library's two directions for a CSV
file of edits and a file of ticket history, against HubSpot or any ``--base-url``.

Messages speak the command line: they name flags and files, never the Python
arguments and attributes behind them.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from ._accessor import definitions_of
from ._api import APIS, DEFAULT_API
from ._client import (
    BASE_URL_ENV_VAR,
    DEFAULT_BASE_URL,
    LAST_MODIFIED,
    Changes,
    TicketsClient,
    epoch_ms,
)
from ._coerce import CoerceOptions, coerce_frame
from ._columns import map_columns
from ._definitions import Definitions
from ._display import changes_lines, preview_line
from ._files import ISO_HINT, EditsFile, check_tidy_path, read_edits, read_ids, write_tidy_file
from ._flatten import flatten, read_tidy
from ._payload import Problem, ProblemList
from ._pull import (
    DEFAULT_PAGES_PER_FILE,
    append_tidy,
    changed_among,
    changes_since,
    check_dataset_folder,
    pull,
    pull_dataset,
)
from ._stream import CHUNK_ROWS, KEEP, push_file
from ._transport import _is_loopback
from ._undo import undo
from ._update import UpdateResult, update
from ._version import __version__
from .errors import (
    ConfigurationError,
    DefinitionsUnavailable,
    FlattenError,
    HubSpotError,
    HubTicketsError,
    InputFileError,
    PayloadError,
    TransportError,
    UpdateInterrupted,
    UpdateStopped,
)

__all__ = ["main"]

DEMO_FIRST_ID = 176_000
DEMO_TICKETS = 1000

EXIT_OK = 0
EXIT_NOT_LANDED = 1
EXIT_BAD_INPUT = 2
EXIT_STOPPED = 3
EXIT_INTERRUPTED = 130

EXIT_CODES = """\
exit status:
  0    everything landed, or was unchanged, skipped or already updated (journal)
  1    some rows failed, are unknown (may have landed), were not sent or had
       cells refused (push); some --ids were not found (pull); a conflict (undo)
  2    bad input or arguments: nothing was sent
  3    stopped: authentication refused (401/403), HubSpot unreachable, the DAILY
       limit reached, or the property definitions could not be read
  130  interrupted (Ctrl-C)
After a stop (3 or 130) during push, the last line says how to resume."""

#: How many (column, code) groups of problems the console shows.
SHOWN_GROUPS = 10
_SAMPLE_VALUES = 3

# Library messages name Python arguments; the command line has flags for them.
_CLI_WORDS = (
    (re.compile(r"\s*[;(]?\s*see (?:exc)?\.(?:result|problems)\)?"), ""),
    (re.compile(r"\bsee problems$"), "see --problems FILE"),
    (re.compile(r"\bpass id_column="), "use --id-column"),
    (re.compile(r" nor the index name \(the frame has "), " (the file has "),
    (re.compile(r"\bid_column="), "--id-column"),
    (re.compile(r"\bpass check_properties=False"), "use --no-check-properties"),
    (re.compile(r"\bcheck_properties=False"), "--no-check-properties"),
    (re.compile(r"\bon_invalid=['\"]skip['\"]"), "--skip-invalid"),
    (re.compile(r"\bonly_changed=True"), "--only-changed"),
    (re.compile(r"\bundo= "), "--undo "),
    (re.compile(r"\bna=['\"](\w+)['\"]"), r"--na \1"),
    (re.compile(r"\bbase_url\b"), "--base-url"),
    (re.compile(r"\bthe journal '"), "--journal '"),
    (
        re.compile(r"\bsend a date or datetime column"),
        "read the column as dates with --date-columns",
    ),
    (re.compile(r", or a datetime column"), ", or read the column as dates with --date-columns"),
    (re.compile(r"keep one row per ticket$"), "keep one row per ticket, or use --keep first|last"),
    # coercion (--coerce and its options)
    (re.compile(r"\bpass dayfirst=True or dayfirst=False"), "use --dayfirst or --monthfirst"),
    (re.compile(r"\bpass dayfirst=True"), "use --dayfirst"),
    (re.compile(r"\bpass dayfirst=False"), "use --monthfirst"),
    (re.compile(r"\bdayfirst=True"), "--dayfirst"),
    (re.compile(r"\bdayfirst=False"), "--monthfirst"),
    (re.compile(r"\bwith dayfirst="), "with --dayfirst or --monthfirst"),
    (re.compile(r"\bpass thousands= and decimal="), "use --thousands and --decimal"),
    (re.compile(r"\bpass thousands="), "use --thousands "),
    (re.compile(r"\bthousands="), "--thousands "),
    (re.compile(r"\bdecimal="), "--decimal "),
    (re.compile(r"\bpass tz= \(e\.g\. tz='UTC'\)"), "use --tz (e.g. --tz UTC)"),
    (re.compile(r"\btz="), "--tz "),
    (re.compile(r"\bexcel_epoch="), "--excel-epoch "),
    (re.compile(r"\b(thousands|decimal) must be"), r"--\1 must be"),
    (re.compile(r"\bcoerce=True"), "--coerce"),
    (re.compile(r"\brename="), "--rename"),
    # update by a unique property (--id-property)
    (
        re.compile(r"\bid_property=(\S+) needs api='2026-03' or 'v3'"),
        r"--id-property \1 needs --api 2026-03 or --api v3",
    ),
    (re.compile(r"\(id_property\)"), "(--id-property)"),
    (re.compile(r"\ban id_property value\b"), "an --id-property value"),
    (
        re.compile(r"convert the column with \.astype\(str\) or read the file as text"),
        "write the column as text",
    ),
)


def speak_cli(text: str, column: str | None = None) -> str:
    """A library message in command-line words: flags instead of Python arguments.

    Examples
    --------
    >>> speak_cli("no such column; pass id_column= to name the column holding the ids")
    'no such column; use --id-column to name the column holding the ids'
    >>> speak_cli("missing value (na='error'): fill it, or use na='skip' to leave it unchanged")
    'missing value (--na error): fill it, or use --na skip to leave it unchanged'
    >>> speak_cli("update interrupted; see .result")
    'update interrupted'
    >>> speak_cli("'2024-01-01' is not epoch milliseconds: send a date or datetime column")
    "'2024-01-01' is not epoch milliseconds: read the column as dates with --date-columns"
    >>> speak_cli("'x' is not epoch milliseconds: send 0, or a datetime column", column="due")
    "'x' is not epoch milliseconds: send 0, or read the column as dates with --date-columns due"
    """
    for pattern, words in _CLI_WORDS:
        text = pattern.sub(words, text)
    if column is not None:
        text = text.replace("--date-columns", f"--date-columns {column}")
    return text


def grouped_problems(problems: pd.DataFrame, limit: int = SHOWN_GROUPS) -> list[str]:
    """One line per (column, code) of ``problems``, with counts, largest first.

    Problems about a whole column or the file (they refuse every row) come
    first; each line has the message of the group's first problem and, when
    the group holds several values, the most frequent ones.

    Examples
    --------
    >>> problems = pd.DataFrame({
    ...     "row": [1, 2, 3], "objectId": [1, 2, 3], "column": ["is_escalated"] * 3,
    ...     "code": ["INVALID_BOOLEAN"] * 3, "value": ["yes", "yes", "Y"],
    ...     "problem": ["'is_escalated' takes true or false"] * 3,
    ... })
    >>> grouped_problems(problems)
    ["  is_escalated: 3 x INVALID_BOOLEAN: 'is_escalated' takes true or false (values: 'yes', 'Y')"]
    """
    frame = problems.assign(
        column=problems["column"].map(lambda c: "(file)" if c is None else str(c)),
        whole=problems["row"].isna(),
    )
    groups = frame.groupby(["column", "code"], sort=False)
    sizes = pd.DataFrame({"n": groups.size(), "whole": groups["whole"].any()})
    sizes = sizes.sort_values(["whole", "n"], ascending=False, kind="stable")
    lines = []
    for column, code in sizes.index[:limit]:
        group = groups.get_group((column, code))
        message = speak_cli(str(group["problem"].iloc[0]), column)
        line = f"  {column}: {len(group):,} x {code}: {message}"
        values = group["value"].dropna().map(repr).value_counts(sort=True)
        if len(values) > 1:
            more = f", and {len(values) - _SAMPLE_VALUES:,} more" if len(values) > 3 else ""
            line += f" (values: {', '.join(values.index[:_SAMPLE_VALUES])}{more})"
        lines.append(line)
    if len(sizes) > limit:
        lines.append(f"  ... and {len(sizes) - limit:,} more kinds of problem")
    return lines


def _title(text: str) -> None:
    print(f"\n== {text} " + "=" * max(0, 70 - len(text)))


def _demo(args: argparse.Namespace) -> int:
    from .testing import FakeHubSpot, Faults

    started = time.monotonic()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    journal = out / "push-journal.jsonl"
    journal.unlink(missing_ok=True)
    pd.set_option("display.width", 120)
    pd.set_option("display.max_colwidth", 90)
    pd.set_option("display.max_columns", 20)
    faults = Faults(rate_503=0.05, rate_429=0.02)
    with FakeHubSpot(requests_per_10s=100, latency=0.05, faults=faults, seed=7) as hub:
        hub.seed_tickets(DEMO_TICKETS, start_id=DEMO_FIRST_ID)
        print(f"Local HubSpot emulator at {hub.base_url} with {DEMO_TICKETS:,} tickets")
        print("(5% of answers are injected 503s and 2% 429s, to show retries at work)")
        client = TicketsClient(hub.token, base_url=hub.base_url, requests_per_10s=100, api=args.api)
        print(f"Talking to it through the {args.api} API (--api v1, v3 or 2026-03)")

        _title("1. The spreadsheet (shipped with the package: data/demo_edits.csv)")
        source = resources.files("pandas_hubtickets") / "data" / "demo_edits.csv"
        with resources.as_file(source) as path:
            edits, date_problems = read_edits(path, "Ticket ID", date_columns=["due_date"])
        print(edits.head().to_string())
        print(f"... {len(edits):,} rows, {edits.shape[1]} properties")

        _title("2. Dry run: what would be sent (nothing is)")

        def problems() -> ProblemList:  # the date problems; a run adds its own to the list
            found = ProblemList(edits.index)
            found.extend(date_problems.items)
            return found

        preview = update(
            edits,
            client,
            id_column="Ticket ID",
            dry_run=True,
            on_invalid="skip",
            problems=problems(),
        )
        body = preview.payload  # v1: a list of objects; the newer APIs: {"inputs": [...]}
        for obj in (body["inputs"] if isinstance(body, dict) else body)[:3]:
            print(json.dumps(obj))
        print(preview)

        _title("3. Checked against HubSpot's property definitions before sending")
        try:
            update(edits, client, id_column="Ticket ID", progress=False, problems=problems())
        except PayloadError as refused:
            print(refused.problems.to_string(index=False))
            print("Nothing was sent. Now the other rows, with on_invalid='skip' (--skip-invalid):")

        _title(
            f"4. Push through the rate limiter (100 requests / 10 s, "
            f"{client.max_workers} in flight)"
        )
        result = update(
            edits,
            client,
            id_column="Ticket ID",
            journal=journal,
            progress=args.progress,
            on_invalid="skip",
            problems=problems(),
        )
        print(result.counts[result.counts > 0].to_string())
        retried = int((result.report["attempts"] > 1).sum())
        print(f"{retried:,} rows needed more than one request (retries and batch splits)")

        _title("5. Rows that did not land, with the reasons")
        failed = result.report[result.report["status"] == "failed"]
        print(failed[["error", "message"]].to_string())
        if client.api == "v1":
            print("(the unknown ticket id was only found by HubSpot: its batch was split)")
        else:
            print("(HubSpot's 207 answer named the unknown ticket id: its batch needed no split)")
        print(f"Fix them in result.failed_rows() ({len(result.failed_rows())} rows) and resend.")

        _title("6. Property history of two edited tickets (tidy: one row per version)")
        sample = [int(i) for i in result.report.query("status == 'updated'")["objectId"][:2]]
        history = flatten(client.batch_read(sample, properties=["status", "hs_ticket_priority"]))
        print(history[["objectId", "property", "value", "timestamp", "source", "version"]])

        tidy = result.tickets
        path = out / "history.parquet"
        write_tidy_file(tidy, path)
        _title("7. Saved")
        print(f"{len(tidy):,} version rows of {tidy['objectId'].nunique():,} tickets -> {path}")
        print(f"  (pd.read_parquet({str(path)!r}) opens it; pandas_hubtickets.read_tidy too,")
        print("   with the exact dtypes of ht.flatten)")
        print(f"journal of every batch -> {journal}")
    print(f"\nDone in {time.monotonic() - started:.1f} s.")
    return EXIT_OK


def _serve_warning(host: str, allow_remote: bool) -> str | None:
    """Check ``serve --host``: the warning to print for a remote address, or ``None``.

    The emulator speaks plain http: from another machine its token travels in
    clear, and whoever has it reads and writes the tickets. A host that is not
    loopback is refused unless ``--allow-remote`` is given, and then warned of.

    Raises
    ------
    ConfigurationError
        ``host`` is not loopback and ``allow_remote`` is false.

    Examples
    --------
    >>> _serve_warning("127.0.0.1", allow_remote=False) is None
    True
    >>> _serve_warning("0.0.0.0", allow_remote=True).split(":")[0]
    'warning'
    """
    if _is_loopback(host):
        return None
    reach = (
        f"listening on {host or 'every interface'!r} makes the emulator reachable from the "
        "network, over plain http: its token travels in clear, and whoever has it can read "
        "and change the tickets"
    )
    if not allow_remote:
        raise ConfigurationError(
            f"--host {host!r} is not a loopback address: {reach}. Use --host 127.0.0.1 "
            "(the default), or add --allow-remote if that is what you want"
        )
    return f"warning: {reach}"


def _count(text: str) -> int:
    """An argparse type: a whole number of tickets, 0 or more.

    Examples
    --------
    >>> _count("50")
    50
    >>> _count("-1")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: must be a whole number, 0 or more, not '-1'
    """
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"must be a whole number, 0 or more, not {text!r}")
    return int(text)


def _serve(args: argparse.Namespace) -> int:
    from .testing import FakeHubSpot

    warning = _serve_warning(args.host, args.allow_remote)
    if warning is not None:
        print(f"hubtickets serve: {warning}", file=sys.stderr, flush=True)
    hub = FakeHubSpot(
        token=args.token,
        requests_per_10s=args.requests_per_10s,
        latency=args.latency,
        seed=args.seed,
        host=args.host,
        port=args.port,
    ).start()
    hub.seed_tickets(args.tickets, start_id=DEMO_FIRST_ID)
    print(f"FakeHubSpot with {args.tickets:,} tickets at {hub.base_url}")
    if args.history:
        first = DEMO_FIRST_ID + args.tickets
        hub.generate_history(args.history, start_id=first)
        print(
            f"  and {args.history:,} generated ticket histories, ids {first} to "
            f"{first + args.history - 1} (weeks of a support team's work; one of them deleted)"
        )
    print("Its throwaway token (the emulator's own, not a HubSpot secret):")
    print(f"  export HUBSPOT_ACCESS_TOKEN={hub.token}")
    print("Ctrl-C to stop.", flush=True)
    hub.serve_forever()
    return EXIT_OK


def _client(args: argparse.Namespace) -> TicketsClient:
    return TicketsClient(
        base_url=args.base_url, requests_per_10s=args.requests_per_10s, api=args.api
    )


def _check_folder(flag: str, path: str | None) -> None:
    """Refuse, before anything is sent, an output file whose folder does not exist."""
    if path is not None and not Path(path).resolve().parent.is_dir():
        folder = Path(path).resolve().parent
        raise InputFileError(f"cannot write {flag} {path}: there is no folder {folder}")


def _write_problems(path: str | None, problems: pd.DataFrame) -> None:
    if path is not None:
        problems.assign(problem=problems["problem"].map(speak_cli)).to_csv(path, index=False)


def _say_problems(problems: pd.DataFrame, written_to: str | None, *, file: Any) -> None:
    """The grouped problems, and where to find all of them."""
    for line in grouped_problems(problems):
        print(line, file=file)
    where = f" -> {written_to}" if written_to is not None else ": --problems FILE"
    noun = "problem" if len(problems) == 1 else "problems"
    print(f"all {len(problems):,} {noun}{where}", file=file)


def _summary(result: UpdateResult) -> str:
    counts = result.counts
    parts = [f"{n:,} {status}" for status, n in counts.items() if n]
    rows = "1 row" if len(result.report) == 1 else f"{len(result.report):,} rows"
    return f"{rows}: {', '.join(parts) or 'none'} in {result.elapsed:.1f} s"


def _conclude(args: argparse.Namespace, result: UpdateResult) -> int:
    """Print what the run did, write --report and --problems; the exit status it means."""
    if args.report:
        report = result.report.rename_axis("row")  # the file's ids; objectId is a column too
        report.assign(message=report["message"].map(speak_cli, na_action="ignore")).to_csv(
            args.report
        )
    _write_problems(args.problems, result.problems)
    print(_summary(result) + (" (dry run: nothing was sent)" if args.dry_run else ""))
    if len(result.problems):
        print("refused before sending:")
        _say_problems(result.problems, args.problems, file=sys.stdout)
    report = result.report
    for status, title in (
        ("failed", "failed when sent:"),
        ("unknown", "unknown (may have been applied; check them, or send them again):"),
    ):
        sent = report[(report["status"] == status) & (report["attempts"] > 0)]
        if len(sent):
            print(title)
            for error, group in sent.groupby("error", sort=False):
                print(f"  {len(group):,} x {error}: {speak_cli(str(group['message'].iloc[0]))}")
    _say_changes(args, result)
    if args.report:
        print(f"report of every row -> {args.report}")
    return EXIT_OK if result.ok else EXIT_NOT_LANDED


# -- only what changed, preview and undo -------------------------------------------------------
#: Changed cells the console shows (all of them go to --changes FILE).
SHOWN_CHANGES = 20


def _say_changes(args: argparse.Namespace, result: UpdateResult) -> None:
    """With --only-changed: the changes (the preview of a dry run), --changes and --undo files."""
    if result.changes is None:
        return
    changes = result.changes
    if args.changes:
        changes.rename_axis("row").to_csv(args.changes)
    print(preview_line(result.report, changes) + (":" if len(changes) else ""))
    for line in changes_lines(changes, SHOWN_CHANGES):
        print(line)
    if args.changes:
        print(f"every change -> {args.changes}")
    if args.undo and not args.dry_run:
        print(f"previous values -> {args.undo} (hubtickets undo {args.undo} restores them)")


def _undo(args: argparse.Namespace) -> int:
    _check_folder("--report", args.report)
    with _client(args) as client:
        result = undo(client, args.file, progress=args.progress, dry_run=args.dry_run)
    if args.report:
        result.report.to_csv(args.report, index=False)
    parts = [f"{n:,} {status}" for status, n in result.counts.items() if n]
    cells = "1 cell" if len(result.report) == 1 else f"{len(result.report):,} cells"
    dry = " (dry run: nothing was sent)" if args.dry_run else ""
    print(f"{cells}: {', '.join(parts) or 'none'} in {result.elapsed:.1f} s{dry}")
    left = result.report[~result.report["status"].isin(("restored", "unchanged", "dry_run"))]
    for row in left.head(SHOWN_CHANGES).itertuples(index=False):
        print(f"  {row.objectId} {row.property}: {row.status}: {speak_cli(str(row.message))}")
    if args.report:
        print(f"report of every cell -> {args.report}")
    return EXIT_OK if result.ok else EXIT_NOT_LANDED


def _push(args: argparse.Namespace) -> int:
    for flag, path in (
        ("--report", args.report),
        ("--problems", args.problems),
        ("--changes", args.changes),
    ):
        _check_folder(flag, path)
    if args.changes and not args.only_changed:
        raise ConfigurationError("--changes needs --only-changed: only then are changes found")
    if args.skip_invalid and args.skip_invalid_cells:
        raise ConfigurationError(
            "--skip-invalid and --skip-invalid-cells: give one of them (whole rows, or cells)"
        )
    _check_folder("--journal", args.journal)
    options = _coerce_options(args)
    source = EditsFile(args.csv, sep=args.sep, encoding=args.encoding)
    with _client(args) as client:
        definitions = None
        if options is not None:
            definitions = definitions_of(client, fresh=True)
        preparer = _Preparer(args, options, definitions)
        try:
            result = push_file(  # a chunk at a time: memory stays with the chunk's size
                source,
                client,
                id_column=args.id_column,
                date_columns=args.date_columns,
                keep=args.keep,
                chunk_rows=args.chunk_size,
                na=args.na,
                journal=args.journal,
                dry_run=args.dry_run,
                progress=args.progress,
                check_properties=args.check_properties,
                on_invalid=_on_invalid(args),
                tickets=False,  # push keeps no answers: memory stays with the chunk's size
                only_changed=args.only_changed,
                undo=args.undo,
                definitions=definitions,
                prepare=preparer,
                id_property=args.id_property,
            )
        except PayloadError as refused:
            preparer.say(refused=True)
            _write_problems(args.problems, refused.problems)
            raise
        except (UpdateStopped, UpdateInterrupted) as stop:
            preparer.say()
            _conclude(args, stop.result)
            raise
    preparer.say()
    return _conclude(args, result)


def _on_invalid(args: argparse.Namespace) -> Literal["raise", "skip", "skip_cells"]:
    if args.skip_invalid_cells:
        return "skip_cells"
    return "skip" if args.skip_invalid else "raise"


# --- push: column selection, renames and coercion (--coerce and its options) ---------------


def _renames(pairs: Sequence[str]) -> dict[str, str]:
    """``--rename "Ticket status=hs_pipeline_stage"`` (repeatable) as a dict."""
    renames = {}
    for pair in pairs:
        header, _, name = pair.rpartition("=")
        if not header or not name.strip():
            raise ConfigurationError(
                f"--rename {pair!r}: write HEADER=NAME, "
                "e.g. --rename 'Ticket status=hs_pipeline_stage'"
            )
        renames[header] = name.strip()
    return renames


def _coerce_options(args: argparse.Namespace) -> CoerceOptions | None:
    """The coercion the flags ask for (``None`` without --coerce), or refuse a stray option."""
    given = [
        flag
        for flag, value in (
            ("--dayfirst", args.dayfirst is True),
            ("--monthfirst", args.dayfirst is False),
            ("--thousands", args.thousands is not None),
            ("--decimal", args.decimal is not None),
            ("--tz", args.tz is not None),
            ("--excel-epoch", args.excel_epoch is not None),
        )
        if value
    ]
    if not args.coerce:
        if given:
            works = "works" if len(given) == 1 else "work"
            raise ConfigurationError(f"{', '.join(given)} {works} only with --coerce: add --coerce")
        return None
    return CoerceOptions(
        dayfirst=args.dayfirst,
        thousands=args.thousands,
        decimal=args.decimal or ".",
        tz=args.tz,
        excel_epoch=args.excel_epoch or 1900,
        rename=_renames(args.rename),
    )


def _select_columns(edits: pd.DataFrame, args: argparse.Namespace) -> pd.DataFrame:
    """Keep the --columns (all by default) but the --exclude ones, named as in the file."""
    present = [str(c) for c in edits.columns]
    ids = [str(n) for n in edits.index.names if n is not None]
    for flag, names in (("--columns", args.columns), ("--exclude", args.exclude)):
        for name in names or []:
            if name not in present and not (flag == "--columns" and name in ids):
                close = difflib.get_close_matches(name, present, n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                columns = ", ".join(repr(c) for c in present)
                raise InputFileError(
                    f"{flag} names {name!r}, not a column of {args.csv} (its columns: "
                    f"{columns}){hint}"
                )
    keep = [c for c in present if (not args.columns or c in args.columns)]
    keep = [c for c in keep if c not in (args.exclude or [])]
    return edits[keep] if len(keep) < len(present) else edits


class _Preparer:
    """What push does to each chunk of the file before it is checked: pick, rename, coerce.

    It tells what it did once for the whole file (``say``): each header read as a name, the
    read-only columns left out, the changes as counts per column and rule, never per cell.
    """

    def __init__(
        self,
        args: argparse.Namespace,
        options: CoerceOptions | None,
        definitions: Definitions | None,
    ) -> None:
        self.args, self.options, self.definitions = args, options, definitions
        self.renames = _renames(args.rename) if options is None and args.rename else None
        self.summaries: dict[int, pd.DataFrame] = {}  # per chunk: a chunk is checked, then sent
        self.unconverted: dict[int, int] = {}
        self.rows: dict[int, int] = {}
        self.mapping: list[str] | None = None
        self.dropped: dict[Any, str] = {}

    def __call__(self, start: int, edits: pd.DataFrame) -> tuple[pd.DataFrame, Sequence[Problem]]:
        edits = _select_columns(edits, self.args)
        if self.renames is not None:
            mapped = map_columns(list(edits.columns), {}, id_column="", rename=self.renames)
            return edits.rename(columns=mapped.renames), ()
        if self.options is None or self.definitions is None:
            return edits, ()
        coerced = coerce_frame(edits, self.definitions, self.options, id_column=self.args.id_column)
        if self.mapping is None:
            self.mapping, self.dropped = coerced.columns.lines(), dict(coerced.columns.dropped)
        self.summaries[start] = coerced.summary()
        self.unconverted[start] = len(coerced.problems)
        self.rows[start] = len(edits)
        return coerced.frame, coerced.found

    def say(self, *, refused: bool = False) -> None:
        """Print what was done; ``refused``: the file was refused, maybe before every chunk."""
        for line in self.mapping or []:
            print(f"column {line}")
        if self.dropped:
            shown = ", ".join(f"{h!r} ({n})" for h, n in self.dropped.items())
            print(
                f"warning: read-only columns of {self.args.csv} left out: {shown}", file=sys.stderr
            )
        parts = [part for part in self.summaries.values() if len(part)]
        if parts:
            summary = pd.concat(parts).groupby(["column", "rule"], sort=False, observed=True)
            table = summary.agg(cells=("cells", "sum"), examples=("examples", "first"))
            cells = int(table["cells"].sum())
            rows = sum(self.rows.values())
            read = f" in the {rows:,} rows read before the refusal" if refused else ""
            print(f"coerced {cells:,} {'cell' if cells == 1 else 'cells'}{read}:")
            for row in table.reset_index().itertuples(index=False):
                print(f"  {row.column}: {row.cells:,} x {row.rule} ({row.examples})")
        unconverted = sum(self.unconverted.values())
        if unconverted:
            print(f"{unconverted:,} values could not be coerced (listed with the problems)")


_SPAN = re.compile(r"(\d+(?:\.\d+)?)\s*([mhd])", re.IGNORECASE)
_SPAN_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def since_moment(text: str) -> datetime:
    """``--since``: ISO 8601 (naive: UTC), or a span back from now (``90m``, ``36h``, ``7d``).

    Examples
    --------
    >>> since_moment("2026-11-27T08:00Z").isoformat()
    '2026-11-27T08:00:00+00:00'
    >>> since_moment("36h") <= datetime.now(timezone.utc) - timedelta(hours=36)
    True
    """
    span = _SPAN.fullmatch(text.strip())
    if span is not None:
        ago = timedelta(**{_SPAN_UNITS[span[2].lower()]: float(span[1])})
        return datetime.now(timezone.utc) - ago
    try:
        return datetime.fromtimestamp(epoch_ms(text) / 1000, timezone.utc)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither ISO 8601 ({ISO_HINT}) nor a span back from now "
            "such as 90m, 36h or 7d"
        ) from None


def _say_changed_tickets(changes: Changes) -> None:
    when = f"--since {changes.since:%Y-%m-%d %H:%M:%S} UTC"
    how = changes.reason
    if changes.method == LAST_MODIFIED:  # a scan: say how many were read
        how = f"read {changes.method} of {changes.scanned:,} tickets, as {changes.reason}"
    n = len(changes.ids)
    print(f"{when}: {n:,} changed {'ticket' if n == 1 else 'tickets'} ({how})")


def _pull(args: argparse.Namespace) -> int:
    dataset = args.dataset or args.out.endswith(("/", os.sep)) or Path(args.out).is_dir()
    if dataset:
        check_dataset_folder(args.out)
    else:
        if check_tidy_path(args.out) == ".csv" and args.append:
            raise InputFileError(
                f"--append adds to a *.parquet file or a dataset folder, not to CSV ({args.out})"
            )
        _check_folder("OUT", args.out)
    ids = read_ids(args.ids, args.id_column) if args.ids else None
    what = "every version" if args.history else "current values"
    properties = args.properties or None
    with _client(args) as client:
        changes = None
        if args.since is not None:
            changes = changes_since(client, args.since, args.progress)
            _say_changed_tickets(changes)
            ids = changed_among(changes, ids)
        note = None
        if dataset:
            done = pull_dataset(
                client,
                args.out,
                properties,
                history=args.history,
                ids=ids,
                append=args.append,
                pages_per_file=args.pages_per_file,
                progress=args.progress,
            )
            found, rows = done.tickets, done.rows
            files = "1 file" if len(done.files) == 1 else f"{len(done.files):,} files"
            where = f"{files} in {done.path}"
            if args.append:
                note = f"--append: {done.removed:,} earlier rows of these tickets replaced"
        else:
            tidy = pull(client, properties, history=args.history, ids=ids, progress=args.progress)
            found, rows, where = tidy["objectId"].nunique(), len(tidy), args.out
            if args.append and Path(args.out).exists():
                earlier = read_tidy(args.out)
                merged = append_tidy(earlier, tidy, ids)
                replaced = len(earlier) + len(tidy) - len(merged)
                note = (
                    f"--append: {replaced:,} earlier rows of these tickets replaced; "
                    f"{len(merged):,} rows in {args.out}"
                )
                tidy = merged
            write_tidy_file(tidy, args.out)
    print(f"{rows:,} rows ({what}) of {found:,} tickets -> {where}")
    if note is not None:
        print(note)
    if changes is None and ids is not None and found < len(ids):
        print(f"{len(ids) - found:,} of the {len(ids):,} ids in {args.ids} are not tickets")
        return EXIT_NOT_LANDED
    return EXIT_OK


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults in every option's help; options without a value say what they do when absent."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        unset = action.default is None or action.default is False or action.default == []
        if "default" in text or unset or action.default == argparse.SUPPRESS:
            return text
        return super()._get_help_string(action) or text


def _add_service_options(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument(
        "--base-url",
        default=os.environ.get(BASE_URL_ENV_VAR) or DEFAULT_BASE_URL,
        help=f"HubSpot, or the emulator's URL (also set by the {BASE_URL_ENV_VAR} variable)",
    )
    cmd.add_argument(
        "--api",
        choices=APIS,
        default=DEFAULT_API,
        help="the HubSpot API to use: v1 (CRM Objects v1), v3, or the date-versioned 2026-03 "
        "(v1 and v3 are unsupported from September 2027)",
    )
    cmd.add_argument(
        "--requests-per-10s",
        type=int,
        default=100,
        help="your HubSpot tier's limit: 100 (Free/Starter), 190 (Professional/Enterprise)",
    )
    cmd.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar (default: only on a terminal)",
    )


def _add_coerce_options(push: argparse.ArgumentParser) -> None:
    group = push.add_argument_group(
        "columns and coercion",
        "Pick and rename columns; with --coerce, read an export's headers (property labels) and "
        "convert values to what each property expects (option labels, yes/no, dates, numbers), "
        "never guessing: what cannot be read is reported.",
    )
    group.add_argument(
        "--columns",
        nargs="+",
        metavar="COLUMN",
        help="send only these columns and the ids (default: every column)",
    )
    group.add_argument(
        "--exclude", nargs="+", metavar="COLUMN", help="leave these columns out (default: none)"
    )
    group.add_argument(
        "--rename",
        action="append",
        default=[],
        metavar="HEADER=NAME",
        help="read a column as a property, e.g. 'Ticket status=hs_pipeline_stage' "
        "(repeatable; default: headers as in the file)",
    )
    group.add_argument(
        "--coerce",
        action="store_true",
        help="read export headers and convert values by HubSpot's property definitions "
        "(default: send what the file holds, refused when HubSpot would refuse it)",
    )
    order = group.add_mutually_exclusive_group()
    order.add_argument(
        "--dayfirst",
        dest="dayfirst",
        action="store_const",
        const=True,
        help="with --coerce: 05/03/2024 is 5 March (default: such dates are reported)",
    )
    order.add_argument(
        "--monthfirst",
        dest="dayfirst",
        action="store_const",
        const=False,
        help="with --coerce: 05/03/2024 is May 3 (default: such dates are reported)",
    )
    group.add_argument(
        "--thousands",
        metavar="SEP",
        help="with --coerce: the thousands separator of numbers, e.g. ',' (default: none; "
        "1,234 is reported)",
    )
    group.add_argument(
        "--decimal", choices=[".", ","], help="with --coerce: the decimal mark (default: '.')"
    )
    group.add_argument(
        "--tz",
        metavar="ZONE",
        help="with --coerce: the time zone of datetimes written without an offset, e.g. "
        "Europe/Paris (default: such datetimes are reported)",
    )
    group.add_argument(
        "--excel-epoch",
        type=int,
        choices=[1900, 1904],
        help="with --coerce: the date system of Excel serial numbers (default: 1900)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hubtickets",
        description="HubSpot tickets from and to files: push a CSV of edits, pull ticket history.",
        epilog=EXIT_CODES,
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"hubtickets {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name, help=help_text, description=help_text, formatter_class=_HelpFormatter
        )

    demo = command("demo", "the main job on the local emulator (no network)")
    demo.add_argument("--out", default="hubtickets-demo", help="folder for the outputs")
    demo.add_argument(
        "--api",
        choices=APIS,
        default=DEFAULT_API,
        help="the HubSpot API the demo's client speaks to the emulator (default: %(default)s)",
    )
    demo.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar (default: only on a terminal)",
    )
    demo.set_defaults(run=_demo)

    serve = command("serve", "run the local HubSpot emulator in the foreground")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (loopback unless --allow-remote)"
    )
    serve.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host reachable from the network, with a warning: the token then "
        "travels in clear (default: refuse any host but loopback)",
    )
    serve.add_argument("--port", type=int, default=8765, help="port to listen on")
    serve.add_argument("--tickets", type=_count, default=DEMO_TICKETS, help="tickets to seed")
    serve.add_argument(
        "--token", default=None, help="the token it accepts (default: a random one, printed)"
    )
    serve.add_argument("--requests-per-10s", type=int, default=100, help="its rate limit")
    serve.add_argument("--latency", type=float, default=0.0, help="seconds added to each answer")
    serve.add_argument("--seed", type=int, default=0, help="seed of the generated tickets")
    serve.add_argument(
        "--history",
        type=_count,
        default=0,
        metavar="N",
        help="also seed N tickets with weeks of realistic history (versions by users, "
        "workflows, imports and integrations), after the --tickets ones",
    )
    serve.set_defaults(run=_serve)

    push = command("push", "send a file of edits (token from HUBSPOT_ACCESS_TOKEN)")
    push.add_argument(
        "csv",
        metavar="FILE",
        help="the id column and one column per ticket property: .csv, .tsv, .txt, .xlsx, "
        ".xlsm (first sheet; the excel extra), .parquet, .jsonl or .ndjson",
    )
    push.add_argument(
        "--id-column",
        default=None,
        help="header of the ticket ids (default: the column named objectId, hs_object_id, "
        "Ticket ID or id, case and spaces aside)",
    )
    push.add_argument(
        "--id-property",
        default=None,
        metavar="NAME",
        help="the id column holds this unique ticket property's values (e.g. "
        "external_ticket_ref) instead of HubSpot's ids; needs --api 2026-03 or v3 "
        "(default: update by HubSpot's ticket id)",
    )
    push.add_argument(
        "--date-columns",
        nargs="*",
        default=[],
        metavar="COLUMN",
        help="columns of ISO 8601 dates (YYYY-MM-DD[THH:MM[:SS][+HH:MM]]), sent as epoch "
        "milliseconds (default: none; every cell is sent as typed)",
    )
    push.add_argument(
        "--na",
        choices=["skip", "clear", "error"],
        default="skip",
        help="empty cells: skip leaves the property unchanged, clear empties it, error refuses",
    )
    push.add_argument(
        "--journal",
        default=None,
        metavar="FILE",
        help="JSON Lines record of every batch; the same command with the same journal "
        "sends only what is left (default: no journal)",
    )
    push.add_argument(
        "--report",
        default=None,
        metavar="FILE",
        help="write every row's outcome to this CSV (default: not written)",
    )
    push.add_argument(
        "--problems",
        default=None,
        metavar="FILE",
        help="write every problem found before sending to this CSV (default: not written)",
    )
    push.add_argument(
        "--dry-run",
        action="store_true",
        help="check everything (one read of HubSpot's property definitions) and send nothing "
        "(default: send)",
    )
    push.add_argument(
        "--skip-invalid",
        action="store_true",
        help="send the valid rows and report the others as failed (default: refuse the whole "
        "file when a row has a problem)",
    )
    push.add_argument(
        "--check-properties",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="check the values against HubSpot's property definitions before sending "
        "(--no-check-properties: for a token without the schema scope)",
    )
    push.add_argument(
        "--only-changed",
        action="store_true",
        help="read the tickets first (one request per 100) and send only the cells that "
        "differ from HubSpot's values; rows with nothing to change are unchanged "
        "(default: send every cell)",
    )
    push.add_argument(
        "--undo",
        default=None,
        metavar="FILE",
        help="with --only-changed: write each changed cell's previous value to this new "
        "Parquet file before sending; hubtickets undo FILE restores them (default: none)",
    )
    push.add_argument(
        "--changes",
        default=None,
        metavar="FILE",
        help="with --only-changed: write every changed cell (old and new value) to this CSV; "
        "with --dry-run, the whole preview (default: not written)",
    )
    push.add_argument(
        "--skip-invalid-cells",
        action="store_true",
        help="send each row's valid cells and report the refused ones (default: refuse the "
        "whole file when a row has a problem)",
    )
    # the file: how it is read, and its duplicate rows
    push.add_argument(
        "--sep",
        default=None,
        help="separator of a text file (default: the one of , ; tab | that splits the header "
        "line into the most columns)",
    )
    push.add_argument(
        "--encoding",
        default=None,
        help="encoding of a text file, e.g. cp1252 or latin-1 (default: UTF-8, with or "
        "without BOM)",
    )
    push.add_argument(
        "--keep",
        choices=KEEP,
        default="error",
        help="rows of the same ticket: error refuses them, first or last sends that row of "
        "each ticket and reports the others skipped",
    )
    push.add_argument(
        "--chunk-size",
        type=int,
        default=CHUNK_ROWS,
        metavar="ROWS",
        help="rows read, checked and sent at a time; memory is bounded by it",
    )
    _add_coerce_options(push)
    _add_service_options(push)
    push.set_defaults(run=_push)

    undo_cmd = command("undo", "restore the values a push --only-changed --undo FILE replaced")
    undo_cmd.add_argument("file", help="the --undo FILE of the push")
    undo_cmd.add_argument(
        "--report",
        default=None,
        metavar="FILE",
        help="write every cell's outcome to this CSV (default: not written)",
    )
    undo_cmd.add_argument(
        "--dry-run",
        action="store_true",
        help="read and compare, send nothing (default: restore)",
    )
    _add_service_options(undo_cmd)
    undo_cmd.set_defaults(run=_undo)

    pull = command("pull", "save tickets as a tidy file (token from HUBSPOT_ACCESS_TOKEN)")
    pull.add_argument(
        "out",
        help="output file, *.parquet or *.csv: one row per ticket, property and version; or a "
        "folder (ending in /, or existing): a Parquet dataset, a file per --pages-per-file pages",
    )
    pull.add_argument(
        "--properties",
        nargs="*",
        default=[],
        metavar="NAME",
        help="properties to read (default: all of them with --history, else HubSpot's default)",
    )
    pull.add_argument(
        "--history",
        action="store_true",
        help="every version of every property (default: the current values only)",
    )
    pull.add_argument(
        "--ids",
        default=None,
        metavar="FILE",
        help="ticket ids, one a line or a CSV column named by --id-column (default: every "
        "ticket of the account)",
    )
    pull.add_argument(
        "--id-column",
        default=None,
        help="header of the ids in a CSV --ids file (default: objectId, hs_object_id, Ticket ID "
        "or id)",
    )
    pull.add_argument(
        "--since",
        type=since_moment,
        default=None,
        metavar="WHEN",
        help="only the tickets changed since WHEN: ISO 8601 (naive: UTC) or a span back from "
        "now (90m, 36h, 7d); from HubSpot's change log when it can answer, else every "
        "ticket's hs_lastmodifieddate (default: every ticket)",
    )
    pull.add_argument(
        "--append",
        action="store_true",
        help="add the pulled tickets to OUT (a *.parquet file or a dataset folder), their "
        "earlier rows replaced (default: OUT is written anew)",
    )
    pull.add_argument(
        "--dataset",
        action="store_true",
        help="write OUT as a Parquet dataset folder even without a trailing / (default: a "
        "folder only when OUT ends in / or is one)",
    )
    pull.add_argument(
        "--pages-per-file",
        type=int,
        default=DEFAULT_PAGES_PER_FILE,
        metavar="N",
        help="pages of up to 100 tickets per dataset file, and held in memory at once",
    )
    _add_service_options(pull)
    pull.set_defaults(run=_pull)
    return parser


def _resume_hint(args: argparse.Namespace) -> str:
    if args.journal is not None:
        return "to resume, run the same command again: the journal sends only what is left"
    landed = (
        f"{args.report} lists what landed" if args.report else "--report FILE lists what landed"
    )
    return (
        "to resume, run the same command again; it resends every row (safe: the same values). "
        f"Add --journal FILE to send only what is left next time; {landed}"
    )


def _stop_reason(exc: BaseException) -> str:
    """Why the run stopped, in the user's words (the cause of an UpdateStopped)."""
    cause: BaseException | None = exc
    if isinstance(exc, UpdateStopped) and exc.__cause__ is not None:
        cause = exc.__cause__
    reason = speak_cli(str(cause))
    while cause is not None and not isinstance(cause, HubSpotError):
        cause = cause.__cause__  # e.g. the 401 behind unreadable property definitions
    if isinstance(cause, HubSpotError) and cause.status in (401, 403):
        reason += " (check the token in HUBSPOT_ACCESS_TOKEN and its scopes)"
    return reason


# The service, the connection or HubSpot's answers, not the input: exit 3.
_STOPS = (UpdateStopped, DefinitionsUnavailable, HubSpotError, TransportError, FlattenError)


def _failure(exc: BaseException) -> tuple[int, str]:
    """The exit status and the message for an exception that ended a command."""
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED, "interrupted"
    if isinstance(exc, PayloadError):
        n = len(exc.problems)
        noun = "problem" if n == 1 else "problems"
        return EXIT_BAD_INPUT, f"{n:,} {noun} found before sending; nothing was sent:"
    if isinstance(exc, _STOPS):
        return EXIT_STOPPED, f"stopped: {_stop_reason(exc)}"
    return EXIT_BAD_INPUT, speak_cli(str(exc))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hubtickets`` command; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (HubTicketsError, OSError, KeyboardInterrupt) as exc:  # else a bug: the traceback
        code, message = _failure(exc)
        print(f"hubtickets {args.command}: {message}", file=sys.stderr)
        if isinstance(exc, PayloadError):
            _say_problems(exc.problems, getattr(args, "problems", None), file=sys.stderr)
        if args.command == "push" and not args.dry_run and code in (EXIT_STOPPED, EXIT_INTERRUPTED):
            print(_resume_hint(args), file=sys.stderr)
        return code


if __name__ == "__main__":
    raise SystemExit(main())
