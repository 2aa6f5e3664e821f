"""`clinicq backup` and `clinicq migrate`: the station database's backups and migrations from
the command line.

    clinicq backup now                     a copy now (SQLite's backup API; safe while serving)
    clinicq backup list                    the restore points: copies, and Litestream's span
    clinicq backup restore [--at TIME | --copy COPY] [--to FILE]
                                           the newest backup at or before TIME (default: the
                                           newest), or that copy, into the database or FILE
    clinicq migrate [--check]              run the pending migrations (--check: list them)

`restore` refuses the database a running server holds (stop the service first); the file it
replaces is moved aside (`<database>.replaced-N`), never deleted. TIME is ISO 8601; without
a zone it is the station's time zone. Exit status: 0 done, 1 nothing to do or refused
(`migrate --check`: migrations are pending), 2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from . import backup, config
from .store import StoreError, files


def _settings(args: argparse.Namespace, prog: str) -> config.Settings | None:
    overrides = {"database": args.database} if args.database else {}
    try:
        return config.load(args.config, **overrides)
    except config.ConfigError as err:
        print(f"{prog}: {err}", file=sys.stderr)
        return None


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="station configuration file (default: config.toml)")
    parser.add_argument("--database", help="the station's SQLite file (default: from config)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clinicq backup", description=__doc__.split("\n\n")[0])
    _common(parser)
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("now", help="copy the database now (into the backup target's snapshots/)")
    sub.add_parser("list", help="the restore points")
    restore = sub.add_parser("restore", help="restore the newest backup at or before --at")
    restore.add_argument("--at", metavar="TIME",
                         help="ISO 8601 time, e.g. 2026-12-03T09:30 (station time zone)")
    restore.add_argument("--copy", metavar="FILE",
                         help="restore this copy (from `list`), e.g. the one taken before an "
                              "upgrade, instead of choosing by time")
    restore.add_argument("--to", metavar="FILE",
                         help="write the restored database here instead of over the database")
    return parser


def _time(text: str, settings: config.Settings) -> datetime:
    at = datetime.fromisoformat(text)
    if at.tzinfo is None:
        at = at.replace(tzinfo=settings.timezone)
    return at.astimezone(UTC)


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    settings = _settings(args, "clinicq backup")
    if settings is None:
        return 2
    if settings.database == ":memory:":
        print("clinicq backup: the database is \":memory:\": nothing to back up",
              file=sys.stderr)
        return 2
    try:
        if args.action == "now":
            print(backup.snapshot_now(settings))
            return 0
        if args.action == "list":
            return _list(settings)
        at = _time(args.at, settings) if args.at else None
        if at is not None and args.copy:
            print("clinicq backup: --at or --copy, not both", file=sys.stderr)
            return 2
        done = backup.restore(settings, at, args.to, args.copy)
    except ValueError as err:
        print(f"clinicq backup: --at: {err}", file=sys.stderr)
        return 2
    except (backup.BackupError, StoreError, OSError) as err:
        print(f"clinicq backup: {err}", file=sys.stderr)
        return 1
    print(f"restored {done.database} from {done.point} (events up to seq {done.events})"
          + (f"; the file it replaced is at {done.aside}" if done.aside else ""))
    return 0


def _list(settings: config.Settings) -> int:
    copies, span = backup.points(settings)
    kind = backup.engine(settings.backup) if settings.backup.target else None
    print(f"database {settings.database}; continuous backup: {kind or 'off'}"
          + (f" to {settings.backup.target}" if kind else ""))
    if span is not None:
        start, end = (t.strftime("%Y-%m-%d %H:%M:%S UTC") for t in span)
        print(f"litestream: any time from {start} to {end}")
    for point in copies:
        print(point.line())
    if span is None and not copies:
        print("no restore points")
        return 1
    return 0


def migrate_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="clinicq migrate",
        description="Run the database migrations this version has and the database lacks "
                    "(the server runs them on start too). A copy is taken first.")
    _common(parser)
    parser.add_argument("--check", action="store_true",
                        help="only list what would run: exit 0 if nothing, 1 if some")
    args = parser.parse_args(argv)
    settings = _settings(args, "clinicq migrate")
    if settings is None:
        return 2
    path = settings.database
    status = files.migration_status(path)
    if status.unknown:
        print(f"clinicq migrate: {files.DatabaseTooNew(path, status.unknown, status.latest)}",
              file=sys.stderr)
        return 2
    if args.check:
        for name in status.pending:
            print(name)
        print(f"{path}: {len(status.applied)} applied, {len(status.pending)} to run",
              file=sys.stderr)
        return 1 if status.pending else 0
    if not status.pending:
        print(f"{path}: up to date ({status.latest})")
        return 0
    pid = files.holder(path)
    if pid is not None:
        print(f"clinicq migrate: {path} is held by a running server (pid {pid}); it ran "
              "its migrations on start", file=sys.stderr)
        return 1
    copy = backup.before_migrations(settings)
    from .store import Store

    Store(path).close()  # opening the store runs the migrations, each in its transaction
    print(f"{path}: ran {', '.join(status.pending)}" + (f" (copy first: {copy})" if copy else ""))
    return 0
