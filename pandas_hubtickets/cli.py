"""The ``hubtickets`` command: ``demo``, ``serve``, ``push`` and ``pull``.

``demo`` is the main job end to end on the local emulator (no account, no
network); ``serve`` runs the emulator in the foreground for your own
experiments; ``push`` and ``pull`` are the library's two directions for a CSV
file and a Parquet file, against HubSpot or any ``--base-url``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import pandas as pd

from .client import TicketsClient
from .errors import HubTicketsError, PayloadError, UpdateInterrupted, UpdateStopped
from .flatten import flatten
from .update import update

__all__ = ["main"]

DEMO_FIRST_ID = 176_000
DEMO_TICKETS = 1000


def read_edits(path: str | Path, id_column: str, date_columns: Sequence[str] = ()) -> pd.DataFrame:
    """Read a CSV of ticket edits exactly as typed: every cell is text, ids as the index.

    Only empty cells are missing (the text ``NA`` or ``n/a`` is a value), and
    nothing is guessed: ``01234`` stays ``"01234"`` and ``1.10`` stays
    ``"1.10"``. The ``date_columns`` are parsed as ISO 8601 dates or
    datetimes (naive taken as UTC) and sent as epoch milliseconds.
    """
    edits: pd.DataFrame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    if id_column not in edits.columns:
        raise ValueError(f"{path} has no id column {id_column!r} (see --id-column)")
    edits = edits.set_index(id_column)  # not index_col=: pandas 2.2 would parse the ids
    for column in date_columns:
        if column not in edits.columns:
            raise ValueError(f"--date-columns names {column!r}, which is not a column of {path}")
        try:
            edits[column] = pd.to_datetime(edits[column], format="ISO8601")
        except ValueError as exc:
            message = f"column {column!r} holds a value that is not an ISO 8601 date: {exc}"
            raise ValueError(message) from None
    return edits


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
            edits = read_edits(path, "Ticket ID", date_columns=["due_date"])
        print(edits.head().to_string())
        print(f"... {len(edits):,} rows, {edits.shape[1]} properties")

        _title("2. Dry run: what would be sent (nothing is)")
        preview = update(edits, client, id_column="Ticket ID", dry_run=True, on_invalid="skip")
        for obj in preview.payload[:3]:
            print(json.dumps(obj))
        print(preview)

        _title("3. Checked against HubSpot's property definitions before sending")
        try:
            update(edits, client, id_column="Ticket ID", progress=False)
        except PayloadError as refused:
            print(refused.problems.to_string(index=False))
            print("Nothing was sent. Now the other rows, with on_invalid='skip':")

        _title("4. Push through the rate limiter (100 requests / 10 s, 4 in flight)")
        result = update(
            edits,
            client,
            id_column="Ticket ID",
            journal=journal,
            progress=args.progress,
            on_invalid="skip",
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
        tidy.to_parquet(path)
        _title("7. Saved")
        print(f"{len(tidy):,} version rows of {tidy['objectId'].nunique():,} tickets -> {path}")
        print(f"  (read it back with pandas_hubtickets.read_tidy({str(path)!r}))")
        print(f"journal of every batch -> {journal}")
    print(f"\nDone in {time.monotonic() - started:.1f} s.")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from .testing import FakeHubSpot

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
    return 0


def _client(args: argparse.Namespace) -> TicketsClient:
    return TicketsClient(base_url=args.base_url, requests_per_10s=args.requests_per_10s)


def _push(args: argparse.Namespace) -> int:
    edits = read_edits(args.csv, args.id_column, args.date_columns)
    with _client(args) as client:
        try:
            result = update(
                edits,
                client,
                id_column=args.id_column,
                na=args.na,
                journal=args.journal,
                dry_run=args.dry_run,
                on_invalid="skip" if args.skip_invalid else "raise",
            )
        except (UpdateStopped, UpdateInterrupted) as stop:
            result = stop.result
            print(f"stopped early: {stop}", file=sys.stderr)
    print(result)
    if args.report:
        result.report.to_csv(args.report)
    return 0 if result.ok else 1


def _pull(args: argparse.Namespace) -> int:
    with _client(args) as client:
        tidy = flatten(client.iter_tickets(properties=args.properties or None))
    tidy.to_parquet(args.out)
    print(f"{len(tidy):,} version rows of {tidy['objectId'].nunique():,} tickets -> {args.out}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hubtickets", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="the main job on the local emulator (no network)")
    demo.add_argument("--out", default="hubtickets-demo", help="folder for the outputs")
    demo.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)
    demo.set_defaults(run=_demo)

    serve = sub.add_parser("serve", help="run the local HubSpot emulator in the foreground")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--tickets", type=int, default=DEMO_TICKETS)
    serve.add_argument("--token", default=None)
    serve.add_argument("--requests-per-10s", type=int, default=100)
    serve.add_argument("--latency", type=float, default=0.0)
    serve.add_argument("--seed", type=int, default=0)
    serve.set_defaults(run=_serve)

    for name, help_text in (("push", "send a CSV of edits"), ("pull", "save all tickets")):
        cmd = sub.add_parser(name, help=help_text + " (token from HUBSPOT_ACCESS_TOKEN)")
        cmd.add_argument("--base-url", default="https://api.hubapi.com")
        cmd.add_argument("--requests-per-10s", type=int, default=100)
        if name == "push":
            cmd.add_argument("csv")
            cmd.add_argument("--id-column", default="Ticket ID")
            cmd.add_argument(
                "--date-columns",
                nargs="*",
                default=[],
                help="columns of ISO 8601 dates to send as epoch milliseconds",
            )
            cmd.add_argument("--na", choices=["skip", "clear", "error"], default="skip")
            cmd.add_argument("--journal", default=None, help="JSON Lines file, for resuming")
            cmd.add_argument("--report", default=None, help="write the report to this CSV")
            cmd.add_argument("--dry-run", action="store_true")
            cmd.add_argument(
                "--skip-invalid",
                action="store_true",
                help="send the valid rows and report the ones HubSpot's definitions refuse",
            )
            cmd.set_defaults(run=_push)
        else:
            cmd.add_argument("out", help="Parquet file for the tidy history")
            cmd.add_argument("--properties", nargs="*", default=[])
            cmd.set_defaults(run=_pull)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hubtickets`` command."""
    args = _parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (HubTicketsError, ValueError, OSError) as exc:  # bad input: say so, no traceback
        print(f"hubtickets {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
