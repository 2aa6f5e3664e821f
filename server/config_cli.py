"""`clinicq config export`: the station's settings as TOML — config.toml with the services and
counters set on the admin pages (the database's), every other table and comment kept."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import config, layout
from .store import Store


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="clinicq config",
                                     description="The station's settings.")
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    export = sub.add_parser("export", help="write the current settings as TOML",
                            description="Write config.toml with the services and counters "
                                        "as the admin pages set them (from the database).")
    export.add_argument("--config", help="station configuration file (default: config.toml)")
    export.add_argument("--database", help="SQLite file (default: the configured one)")
    export.add_argument("--output", "-o", help="file to write (default: standard output)")
    args = parser.parse_args(argv)
    path = Path(args.config) if args.config else config.DEFAULT_CONFIG
    try:
        settings = config.load(path)
    except config.ConfigError as err:
        print(f"clinicq config: {err}", file=sys.stderr)
        return 2
    database = args.database or settings.database
    if database != ":memory:" and not Path(database).exists():
        print(f"clinicq config: no database at {database}; config.toml is all there is",
              file=sys.stderr)
        return 2
    store = Store(database)
    try:
        text = layout.export_file(store, path)
    finally:
        store.close()
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0
