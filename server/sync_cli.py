"""`clinicq sync`: the station's link with the platform from the command line.

    clinicq sync status [--json]          what is pending, settled, refused; last pull and push
    clinicq sync reconcile --day D        compare the day's events with the platform's copy

Both read the station's database (safe while the server runs: SQLite WAL); `reconcile` also
asks the platform. Exit status: 0 fine, 1 the two sides differ or the platform cannot be
asked, 2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date

from . import config
from .platform import PlatformError
from .reconcile import compare, station_reconciliation
from .store import Store
from .sync import LAST_PULL_AT, platform_client


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clinicq sync", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", help="station configuration file (default: config.toml)")
    parser.add_argument("--database", help="the station's SQLite file (default: from config)")
    parser.add_argument("--central-url", help="the platform's URL (default: [central] url)")
    parser.add_argument("--demo", action="store_true",
                        help="the demo station (`make run`): the demo token when none is set")
    sub = parser.add_subparsers(dest="action", required=True)
    status = sub.add_parser("status", help="events pending, conflicts, rejections, last pull "
                                           "and push")
    status.add_argument("--json", action="store_true", help="one JSON object")
    rec = sub.add_parser("reconcile", help="compare a day's events with the platform's")
    rec.add_argument("--day", required=True, type=date.fromisoformat,
                     help="the station's local date, YYYY-MM-DD")
    return parser


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    overrides: dict[str, object] = {"database": args.database} if args.database else {}
    if args.central_url:
        overrides["central_url"] = args.central_url.rstrip("/")
    if args.demo:
        overrides["demo"] = True
    try:
        settings = config.load(args.config, **overrides)
    except config.ConfigError as err:
        print(f"clinicq sync: {err}", file=sys.stderr)
        return 2
    store = Store(settings.database)
    try:
        if args.action == "status":
            return _status(store, as_json=args.json)
        return _reconcile(settings, store, args.day.isoformat())
    finally:
        store.close()


def _status(store: Store, *, as_json: bool) -> int:
    doc = {**store.outbox_status(), "last_pull_at": store.get_meta(LAST_PULL_AT),
           "problems": store.sync_problems(20)}
    if as_json:
        print(json.dumps(doc, ensure_ascii=False))
        return 0
    print(f"events: {doc['last_seq']} committed, {doc['pending']} pending, "
          f"{doc['conflicts']} conflicts, {doc['rejected']} rejected")
    print(f"last push: {doc['last_push_at'] or 'never'}; "
          f"last pull: {doc['last_pull_at'] or 'never'}")
    for p in doc["problems"]:
        print(f"  seq {p['seq']} {p['result']}: {p['reason'] or ''} ({p['answered_at']})")
    return 0


def _reconcile(settings: config.Settings, store: Store, day: str) -> int:
    client = platform_client(settings)
    if client is None:
        print("clinicq sync: no platform configured ([central] url)", file=sys.stderr)
        return 2
    ours = station_reconciliation(store, day, with_items=True)
    try:
        theirs = client.reconciliation(day)
    except PlatformError as err:
        print(f"clinicq sync: cannot ask the platform: {err}", file=sys.stderr)
        return 1
    diff = compare(day, ours, theirs)
    print("\n".join(diff.lines()))
    return 0 if diff.match else 1
