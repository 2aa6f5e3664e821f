"""Demo launcher (`clinicq demo`, used by `make run`): platform, station and kiosk agent.

Starts each as its own process, as they would run on their own machines (the station the
production way, under gunicorn, as `clinicq serve` does by default), prints where to find them,
and stops them all on Ctrl-C or when one of them dies.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from . import config
from .cli import demo_banner

ROOT = Path(__file__).resolve().parent.parent


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{url} exited with code {proc.returncode}; see the log above")
        try:
            if requests.get(f"{url}/healthz", timeout=1).status_code < 500:
                return
        except requests.ConnectionError:
            time.sleep(0.1)
        except requests.Timeout:
            pass  # the station's gunicorn listens before its worker has loaded the app
    raise SystemExit(f"{url} did not answer within {seconds:.0f} s")


def _port_setting(flag: str, variable: str, default: int) -> int:
    """The port of `variable` (PORT=, CENTRAL_PORT=, FEED_PORT=) or `default`; a value that is
    not a port number stops the demo, naming the variable."""
    text = os.environ.get(variable) or str(default)
    if not (text.isascii() and text.isdigit() and 1 <= int(text) <= 65535):
        raise SystemExit(f"clinicq demo: {variable}={text} is not a port number (1-65535); "
                         f"set {variable}=N or use {flag} N")
    return int(text)


def _port_or_free(port: int, what: str) -> int:
    """`port` when 127.0.0.1 can listen on it, else a free one, saying so (`what`: the
    variable that chooses it)."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            pass
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = int(s.getsockname()[1])
    print(f"port {port} ({what}) is taken; using {free} instead (set {what}=N to choose)",
          flush=True)
    return free


def _wait_page(url: str, proc: subprocess.Popen[bytes], seconds: float = 30) -> None:
    """Until `url` answers (the kiosk agent's feed page): the banner comes once all is up."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the kiosk agent exited with code {proc.returncode}; see above")
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer within {seconds:.0f} s")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="clinicq demo",
        description="Run the whole demo: reference platform, station server and kiosk agent.")
    parser.add_argument("--port", type=int, default=None,
                        help="station server port (default: PORT or 5000; a free one, named, "
                             "when it is taken)")
    parser.add_argument("--central-port", type=int, default=None,
                        help="reference platform port (default: CENTRAL_PORT or 5100; a free "
                             "one, named, when it is taken)")
    parser.add_argument("--feed-port", type=int, default=None,
                        help="the kiosk agent's local page for feeding it a code "
                             "(default: FEED_PORT or 5301; a free one, named, when it is taken)")
    parser.add_argument("--no-kiosk", action="store_true", help="do not start the kiosk agent")
    parser.add_argument("--var", type=Path, default=None, metavar="DIR",
                        help="keep the demo's databases, scans and printed tickets in DIR "
                             "(default: var/, with the station's database where config.toml "
                             "says)")
    args = parser.parse_args(argv)
    # Taken ports are common (another demo, another program): each is replaced by a free one,
    # and the line says which and how to choose, before anything starts.
    for attribute, flag, variable, default in (
            ("port", "--port", "PORT", 5000), ("central_port", "--central-port",
                                               "CENTRAL_PORT", 5100),
            ("feed_port", "--feed-port", "FEED_PORT", 5301)):
        port = getattr(args, attribute)
        if port is None:
            port = _port_setting(flag, variable, default)
        elif not 1 <= port <= 65535:
            raise SystemExit(f"clinicq demo: {flag} {port} is not a port number (1-65535)")
        setattr(args, attribute, _port_or_free(port, variable))

    settings = config.load()
    var = args.var.resolve() if args.var else ROOT / "var"
    scans = var / "scans"
    scans.mkdir(parents=True, exist_ok=True)
    # the images: scanner reads every file in its folder when it starts: yesterday's demo
    # scans would be checked in (and printed) again
    for old in scans.iterdir():
        if old.is_file():
            old.unlink()
    (var / "tickets").mkdir(parents=True, exist_ok=True)
    station_url = f"http://127.0.0.1:{args.port}"
    central_url = f"http://127.0.0.1:{args.central_port}"
    me = [sys.executable, "-m", "server.cli"]
    databases: tuple[list[str], list[str]] = ([], [])
    if args.var:
        databases = (["--database-url", f"sqlite:///{var / 'central.sqlite3'}"],
                     ["--database", str(var / "station.db")])
    commands = [
        ("platform", central_url, me + ["central", "serve", "--demo", "--no-banner",
                                        "--port", str(args.central_port), "--timezone",
                                        settings.timezone.key, *databases[0]]),
        ("station", station_url, me + ["serve", "--demo", "--no-banner", "--port",
                                       str(args.port), "--central-url", central_url,
                                       *databases[1]]),
    ]
    if not args.no_kiosk:
        commands.append(("kiosk agent", None, me + [
            "kiosk", "--server", station_url, "--token", "demo-kiosk-token",
            "--scanner", f"images:{var / 'scans'}", "--printer", f"preview:{var / 'tickets'}",
            "--feed-port", str(args.feed_port)]))
    procs: list[subprocess.Popen[bytes]] = []

    def stop(*_: object) -> None:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()

    signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
    try:
        for name, url, command in commands:
            print(f"starting the {name}…", flush=True)
            procs.append(subprocess.Popen(command, cwd=ROOT))
            if url:
                _wait_healthy(url, procs[-1])
            else:
                _wait_page(f"http://127.0.0.1:{args.feed_port}/", procs[-1])
        print(demo_banner(station_url) +
              f"  platform       {central_url}/stations/{settings.station_id}/bookings"
              f"\n                 today's bookings with their QR codes (scan or paste them at "
              f"the kiosk); admin token demo-central-admin-token\n"
              f"  kiosk agent    feed it a code at http://127.0.0.1:{args.feed_port}/ or "
              f"`curl -d DEMO-V001 http://127.0.0.1:{args.feed_port}/scan`, or drop a photo of "
              f"a booking QR into {scans};\n"
              f"                 printed tickets appear as PNG in {var / 'tickets'}\n"
              "  Ctrl-C stops everything.\n", flush=True)
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        print("a demo process stopped; stopping the rest", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop()
