"""The `clinicq` command: serve the station, and the subcommands of the other deployables."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence

# `clinicq serve` defaults (server/serving.py), here so that `clinicq --help` and the other
# subcommands do not import gunicorn
DEFAULT_THREADS = 400  # the bench's 200 displays, kiosks and consoles, and room for HTTP
DEFAULT_GRACEFUL_TIMEOUT = 10  # seconds (gunicorn takes whole seconds)


def _serve(args: argparse.Namespace) -> int:
    # sqlite-utils imports numpy when it is installed (to map numpy column types); the station
    # stores no numpy values, and numpy would be an eighth of the server's memory. Only this
    # process, the station server, goes without it (the kiosk agent and tools need it).
    sys.modules.setdefault("numpy", None)  # type: ignore[assignment]
    from . import config, serving, startup

    overrides = {"demo": args.demo}
    if args.database:
        overrides["database"] = args.database
    if args.central_url:
        overrides["central_url"] = args.central_url.rstrip("/")
    try:
        settings = config.load(args.config, **overrides)
    except config.ConfigError as err:
        print(f"clinicq serve: {err}", file=sys.stderr)
        return 2
    options = serving.Options(
        host=args.host or settings.host,
        port=args.port or int(os.environ.get("PORT") or settings.port),
        threads=args.threads, graceful_timeout=args.graceful_timeout,
        access_log=args.verbose)
    try:
        _lock = startup.preflight(settings)  # held while this frame lives: the process's life
    except startup.Refused as err:
        print(f"clinicq serve: {err}", file=sys.stderr)
        return 2
    if args.demo and not args.no_banner:
        print(demo_banner(f"http://{options.host}:{options.port}"), flush=True)
    if args.dev:
        return serving.serve_dev(settings, options)
    return serving.serve(settings, options)


def demo_banner(base: str) -> str:
    from .demo import DEMO_DEVICES, DEMO_USERS

    kiosk_token = next(t for _i, kind, _n, t in DEMO_DEVICES if kind == "kiosk")
    display_token = next(t for _i, kind, _n, t in DEMO_DEVICES if kind == "display")
    logins = "\n".join(f"    {role:<6} {user} / {password}"
                       for user, password, role, _ in DEMO_USERS)
    return (
        "\nclinicq demo station\n"
        f"  kiosk screen   {base}/kiosk#token={kiosk_token}\n"
        f"  nurse console  {base}/console\n"
        f"  display        {base}/display#token={display_token}\n"
        f"  administration {base}/admin (log in as demo-admin: services and counters, staff,\n"
        "                 notices, devices and pairing, change history, reports)\n"
        f"  health         {base}/healthz\n"
        "  staff logins\n" + logins + "\n"
        f"  device tokens  kiosk {kiosk_token}, display {display_token}\n"
        "  demo booking codes  DEMO-V001, DEMO-A002, DEMO-B003, ... (type them at the kiosk)\n"
        "  English: add ?lang=en to any page\n"
    )


def _delegate(target: str) -> Callable[[list[str]], int]:
    """A subcommand implemented in another deployable, imported only when used."""

    def run(argv: list[str]) -> int:
        module_name, func = target.split(":")
        module = __import__(module_name, fromlist=[func])
        return int(getattr(module, func)(argv) or 0)

    return run


def _printer_main(argv: list[str]) -> int:
    """`clinicq printer`: hardware/'s printer CLI, printing the kiosk's sample ticket for `test`."""
    # hardware/ decides no ticket content (and may not import kiosk/), so the sample is wired here
    from hardware.printer.cli import main
    from kiosk.ticket import sample_layout

    return main(argv, sample=sample_layout)


DELEGATED = {
    "demo": ("run the whole demo: platform, station and kiosk agent (what `make run` does)",
             "server.launcher:main"),
    "central": ("the reference central platform (`clinicq central serve --help`)",
                "central.cli:main"),
    "kiosk": ("the kiosk agent: scanner in, printer out", "kiosk.agent:main"),
    "scan": ("decode codes in image files, one JSON line per file",
             "hardware.scanner.cli:scan_main"),
    "printer": ("print a sample ticket or show a printer's status", "server.cli:_printer_main"),
    "sync": ("the link with the platform: `status`, `reconcile --day D`",
             "server.sync_cli:main"),
    "config": ("the station's settings: `export` writes them out as TOML",
               "server.config_cli:main"),
    "doctor": ("list cameras, input devices, serial ports and printers, and what is missing",
               "hardware.doctor:main"),
    "backup": ("back up the station database, list the restore points, restore one "
               "(`now`, `list`, `restore [--at TIME] [--to FILE]`)", "server.backup_cli:main"),
    "migrate": ("run the database migrations this version has (--check: list them, exit 1 "
                "if any)", "server.backup_cli:migrate_main"),
    "install": ("install this PC as a station: service user, systemd units, udev rules, "
                "kiosk-mode screens (--dry-run prints them)", "server.install:install_main"),
    "uninstall": ("stop and remove what `clinicq install` wrote (the data stays)",
                  "server.install:uninstall_main"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clinicq", description="clinicq: the station side of a community health platform.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = sub.add_parser(
        "serve", help="run the station server",
        description="Run the station server (HTTP + Socket.IO) under gunicorn: one worker "
                    "process (the station is its database's single writer) with a thread per "
                    "open connection, HTTP keep-alive, and a graceful stop on SIGTERM "
                    "(requests in flight finish, Socket.IO clients are told to reconnect). "
                    "SIGINT stops at once. --dev runs Flask's development server instead.")
    serve.add_argument("--config", help="station configuration file (default: config.toml)")
    serve.add_argument("--port", type=int, help="port to listen on (default: PORT or config)")
    serve.add_argument("--host", help="address to listen on (default: from config)")
    serve.add_argument("--database", help="SQLite file to use instead of the configured one")
    serve.add_argument("--demo", action="store_true",
                       help="seed demo logins, devices and today's demo bookings")
    serve.add_argument("--central-url",
                       help="the central platform's URL: pull its keys and booking feed "
                            "(default: [central] url in the config)")
    serve.add_argument("--no-banner", action="store_true",
                       help="with --demo, do not print the URLs and logins (the demo "
                            "launcher prints them once everything is up)")
    serve.add_argument("--threads", type=int, default=DEFAULT_THREADS, metavar="N",
                       help="most connections served at once; every open Socket.IO "
                            f"connection holds one (default: {DEFAULT_THREADS})")
    serve.add_argument("--graceful-timeout", type=int, default=DEFAULT_GRACEFUL_TIMEOUT,
                       metavar="SECONDS",
                       help="on SIGTERM, how long requests in flight may take to finish "
                            f"(default: {DEFAULT_GRACEFUL_TIMEOUT})")
    serve.add_argument("--dev", action="store_true",
                       help="Flask's development server (Werkzeug) in this process, for "
                            "development only")
    serve.add_argument("-v", "--verbose", action="store_true", help="log every request")
    serve.set_defaults(func=_serve)
    for name, (text, _target) in DELEGATED.items():
        sub.add_parser(name, help=text, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if argv and argv[0] in DELEGATED:
        try:
            return _delegate(DELEGATED[argv[0]][1])(argv[1:])
        except ModuleNotFoundError as err:
            print(f"clinicq {argv[0]}: not available in this installation ({err})",
                  file=sys.stderr)
            return 2
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
