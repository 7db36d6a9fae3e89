"""The ``hubtickets`` command: ``demo``, ``serve``, ``push`` and ``pull``.

``demo`` is the main job end to end on the local emulator (no account, no
network); ``serve`` runs the emulator in the foreground for your own
experiments; ``push`` and ``pull`` are the library's two directions for a CSV
file of edits and a file of ticket history, against HubSpot or any ``--base-url``.

Messages speak the command line: they name flags and files, never the Python
arguments and attributes behind them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from ._client import BASE_URL_ENV_VAR, DEFAULT_BASE_URL, Changes, TicketsClient, epoch_ms
from ._files import ISO_HINT, check_tidy_path, read_edits, read_ids, write_tidy_file
from ._flatten import flatten, read_tidy
from ._payload import ProblemList
from ._pull import (
    DEFAULT_PAGES_PER_FILE,
    append_tidy,
    changed_among,
    changes_since,
    check_dataset_folder,
    pull,
    pull_dataset,
)
from ._transport import _is_loopback
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
  1    some rows failed, are unknown (may have landed) or were not sent (push);
       some --ids were not found (pull)
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
    (re.compile(r"\bpass id_column="), "use --id-column"),
    (re.compile(r" nor the index name \(the frame has "), " (the file has "),
    (re.compile(r"\bid_column="), "--id-column"),
    (re.compile(r"\bpass check_properties=False"), "use --no-check-properties"),
    (re.compile(r"\bcheck_properties=False"), "--no-check-properties"),
    (re.compile(r"\bon_invalid=['\"]skip['\"]"), "--skip-invalid"),
    (re.compile(r"\bna=['\"](\w+)['\"]"), r"--na \1"),
    (re.compile(r"\bthe journal '"), "--journal '"),
    (
        re.compile(r"\bsend a date or datetime column"),
        "read the column as dates with --date-columns",
    ),
    (re.compile(r", or a datetime column"), ", or read the column as dates with --date-columns"),
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
        client = TicketsClient(hub.token, base_url=hub.base_url, requests_per_10s=100)

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
        for obj in preview.payload[:3]:
            print(json.dumps(obj))
        print(preview)

        _title("3. Checked against HubSpot's property definitions before sending")
        try:
            update(edits, client, id_column="Ticket ID", progress=False, problems=problems())
        except PayloadError as refused:
            print(refused.problems.to_string(index=False))
            print("Nothing was sent. Now the other rows, with on_invalid='skip' (--skip-invalid):")

        _title("4. Push through the rate limiter (100 requests / 10 s, 4 in flight)")
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
        print("(the unknown ticket id was only found by HubSpot: its batch was split to find it)")
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
    print("Its throwaway token (the emulator's own, not a HubSpot secret):")
    print(f"  export HUBSPOT_ACCESS_TOKEN={hub.token}")
    print("Ctrl-C to stop.", flush=True)
    hub.serve_forever()
    return EXIT_OK


def _client(args: argparse.Namespace) -> TicketsClient:
    return TicketsClient(base_url=args.base_url, requests_per_10s=args.requests_per_10s)


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
        result.report.to_csv(args.report)
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
    if args.report:
        print(f"report of every row -> {args.report}")
    return EXIT_OK if result.ok else EXIT_NOT_LANDED


def _push(args: argparse.Namespace) -> int:
    for flag, path in (("--report", args.report), ("--problems", args.problems)):
        _check_folder(flag, path)
    _check_folder("--journal", args.journal)
    edits, date_problems = read_edits(args.csv, args.id_column, args.date_columns)
    with _client(args) as client:
        try:
            result = update(
                edits,
                client,
                id_column=args.id_column,
                na=args.na,
                journal=args.journal,
                dry_run=args.dry_run,
                progress=args.progress,
                check_properties=args.check_properties,
                on_invalid="skip" if args.skip_invalid else "raise",
                problems=date_problems,
                tickets=False,  # push keeps no answers: memory stays with the file's size
            )
        except PayloadError as refused:
            _write_problems(args.problems, refused.problems)
            raise
        except (UpdateStopped, UpdateInterrupted) as stop:
            _conclude(args, stop.result)
            raise
    return _conclude(args, result)


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


def _say_changes(changes: Changes) -> None:
    when = f"--since {changes.since:%Y-%m-%d %H:%M:%S} UTC"
    how = changes.reason
    if changes.method != "change-log":
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
            _say_changes(changes)
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
    serve.add_argument("--tickets", type=int, default=DEMO_TICKETS, help="tickets to seed")
    serve.add_argument(
        "--token", default=None, help="the token it accepts (default: a random one, printed)"
    )
    serve.add_argument("--requests-per-10s", type=int, default=100, help="its rate limit")
    serve.add_argument("--latency", type=float, default=0.0, help="seconds added to each answer")
    serve.add_argument("--seed", type=int, default=0, help="seed of the generated tickets")
    serve.set_defaults(run=_serve)

    push = command("push", "send a CSV of edits (token from HUBSPOT_ACCESS_TOKEN)")
    push.add_argument("csv", help="CSV file: the id column and one column per ticket property")
    push.add_argument("--id-column", default="Ticket ID", help="header of the ticket ids")
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
    _add_service_options(push)
    push.set_defaults(run=_push)

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
        "--id-column", default="Ticket ID", help="header of the ids in a CSV --ids file"
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
        if args.command == "push" and code in (EXIT_STOPPED, EXIT_INTERRUPTED):
            print(_resume_hint(args), file=sys.stderr)
        return code


if __name__ == "__main__":
    raise SystemExit(main())
