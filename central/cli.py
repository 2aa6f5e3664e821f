"""Command line of the reference central platform (`clinicq central ...`); entry layer."""

from __future__ import annotations

import argparse
import sys

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5100


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clinicq central",
        description="The reference central platform: bookings, signed booking QR codes, "
                    "public keys, the vaccine catalog and the stations' booking feed.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser(
        "serve", help="run the platform's HTTP server",
        description="Run the reference platform's HTTP server (Flask's server; for "
                    "development and demos).")
    serve.add_argument("--host", default=DEFAULT_HOST,
                       help=f"address to listen on (default {DEFAULT_HOST})")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT,
                       help=f"port to listen on (default {DEFAULT_PORT})")
    serve.add_argument("--demo", action="store_true",
                       help="seed the demo station, services, vaccines, signing key and "
                            "today's bookings; admin token demo-central-admin-token")
    serve.add_argument("--database-url", metavar="URL", default=None,
                       help="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db "
                            "(default: SQLite file var/central.sqlite3)")
    serve.add_argument("--admin-token", metavar="TOKEN", default=None,
                       help="the administrators' bearer token (default with --demo: "
                            "demo-central-admin-token; otherwise admin calls are refused)")
    serve.add_argument("--timezone", metavar="TZ", default=None,
                       help="IANA time zone of the stations, e.g. Asia/Shanghai "
                            "(default: this machine's)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "serve":
        from central.app import create_app

        app = create_app({
            "DATABASE_URL": args.database_url, "DEMO": args.demo,
            "ADMIN_TOKEN": args.admin_token, "TIMEZONE": args.timezone,
        })
        base = f"http://{args.host}:{args.port}"
        print(f"central platform on {base}  keys: {base}/api/v1/keys", flush=True)
        if args.demo:
            print(f"  demo bookings page: {base}/stations/demo-station/bookings\n"
                  "  admin token: demo-central-admin-token  "
                  "station token: demo-station-token", flush=True)
        app.run(host=args.host, port=args.port, threaded=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
