"""Command line of the reference central platform (`clinicq central ...`); entry layer."""

from __future__ import annotations

import argparse
import sys
import time

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5100
DEFAULT_WORKERS = 2
DEFAULT_THREADS = 8
_URL_HELP = ("SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db "
             "(default: SQLite file var/central.sqlite3)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clinicq central",
        description="The reference central platform: bookings, signed booking QR codes, "
                    "public keys, the vaccine catalog, the stations' booking feed, their "
                    "events, heartbeats and tokens.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser(
        "serve", help="run the platform's HTTP server",
        description="Run the reference platform's HTTP server: gunicorn with several worker "
                    "processes (use PostgreSQL for more than a demo), or Flask's development "
                    "server with --dev.")
    serve.add_argument("--host", default=DEFAULT_HOST,
                       help=f"address to listen on (default {DEFAULT_HOST})")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT,
                       help=f"port to listen on (default {DEFAULT_PORT})")
    serve.add_argument("--demo", action="store_true",
                       help="seed the demo stations, services, vaccines, signing key and "
                            "today's bookings; admin token demo-central-admin-token")
    serve.add_argument("--database-url", metavar="URL", default=None, help=_URL_HELP)
    serve.add_argument("--admin-token", metavar="TOKEN", default=None,
                       help="the administrators' bearer token (default with --demo: "
                            "demo-central-admin-token; otherwise admin calls are refused)")
    serve.add_argument("--timezone", metavar="TZ", default=None,
                       help="IANA time zone of the stations, e.g. Asia/Shanghai "
                            "(default: this machine's)")
    serve.add_argument("--workers", type=int, default=DEFAULT_WORKERS, metavar="N",
                       help=f"gunicorn worker processes (default {DEFAULT_WORKERS})")
    serve.add_argument("--threads", type=int, default=DEFAULT_THREADS, metavar="N",
                       help=f"threads per worker (default {DEFAULT_THREADS})")
    serve.add_argument("--access-log", action="store_true",
                       help="log every request to standard output")
    serve.add_argument("--no-banner", action="store_true",
                       help="do not print where the platform is (`clinicq demo` prints it once)")
    serve.add_argument("--dev", action="store_true",
                       help="Flask's development server in this one process instead")

    token = commands.add_parser(
        "token", help="issue or revoke a station's token",
        description="Issue a station token (printed once: put it in the station's "
                    "config.toml, [central] station_token) or revoke one by its id.")
    token.add_argument("--database-url", metavar="URL", default=None, help=_URL_HELP)
    actions = token.add_subparsers(dest="action", required=True, metavar="ACTION",
                                   help="issue or revoke")
    issue = actions.add_parser("issue", help="issue a new token for a station",
                               description="Issue a new token for a station; prints its id "
                                           "and the token, shown this once.")
    issue.add_argument("station", help="the station's id, e.g. demo-station")
    revoke = actions.add_parser("revoke", help="revoke a station's token",
                                description="Revoke a station's token by its id: the platform "
                                            "refuses it from now on (401).")
    revoke.add_argument("station", help="the station's id, e.g. demo-station")
    revoke.add_argument("token_id", help="the token's id, as `token issue` printed it")
    return parser


def _serve(args: argparse.Namespace) -> int:
    config = {"DATABASE_URL": args.database_url, "DEMO": args.demo,
              "ADMIN_TOKEN": args.admin_token, "TIMEZONE": args.timezone}
    base = f"http://{args.host}:{args.port}"
    how = "development server" if args.dev else f"gunicorn, {args.workers} workers"
    if not args.no_banner:
        print(f"central platform on {base} ({how})  keys: {base}/api/v1/keys", flush=True)
    if args.demo and not args.no_banner:
        print(f"  demo bookings page: {base}/stations/demo-station/bookings\n"
              f"  nearby stations:    {base}/stations/nearby\n"
              "  admin token: demo-central-admin-token  "
              "station token: demo-station-token", flush=True)
    if args.dev:
        from central.app import create_app

        create_app(config).run(host=args.host, port=args.port, threaded=True)
        return 0
    from central.serving import serve

    return serve(config, host=args.host, port=args.port, workers=args.workers,
                 threads=args.threads, access_log=args.access_log)


def _token(args: argparse.Namespace) -> int:
    from central.app import database_url
    from central.errors import CentralError
    from central.store import Store

    store = Store(database_url(args.database_url))
    now = int(time.time())
    try:
        with store.startup_lock():
            store.migrate(now)
        if args.action == "issue":
            issued = store.issue_token(args.station, now)
            print(f"station:  {issued['station']}\ntoken_id: {issued['token_id']}\n"
                  f"token:    {issued['token']}\n"
                  "(shown once: put it in the station's config.toml, [platform] "
                  "station_token)")
        else:
            revoked = store.revoke_token(args.station, args.token_id, now)
            print(f"revoked {revoked['token_id']} of {revoked['station']}")
    except CentralError as err:
        print(f"clinicq central token: {err.message}", file=sys.stderr)
        return 1
    finally:
        store.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "serve":
        return _serve(args)
    return _token(args)


if __name__ == "__main__":
    raise SystemExit(main())
