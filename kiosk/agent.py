"""The kiosk agent (kiosk deployable): scanner in, check-in over HTTP, ticket out to the printer.

    clinicq kiosk --server URL --token T --scanner SPEC --printer SPEC

One loop thread reads the scanner and handles each code; a second thread reports health.
The station server pushes every check-in answer to this kiosk's screen (`kiosk.result`), so
the agent shows nothing itself; it tells the server only what the server cannot know (a
printer failure, a code that is plainly not a booking). Over a Socket.IO link (kiosk/link.py)
the agent also gets the tickets issued on this kiosk's screen and staff reprints; the loop
thread prints them between scans, so one thread drives the printer.

When the station is unreachable, a scan is held for `--hold-seconds` and retried with backoff;
the kiosk screen, which has its own connection, already shows "cannot reach the station,
please ask at the desk". A held scan that outlives the window is dropped and logged. Retrying
is safe: a booking checks in once, and checking it in again returns the same ticket.
"""

from __future__ import annotations

import argparse
import logging
import queue
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from contracts.backoff import Backoff
from contracts.protocol import DeviceHealth, KioskNotice
from hardware.printer import Printer, PrinterError, open_printer
from hardware.scanner import Scanner, ScannerError, open_scanner
from kiosk.client import Answer, StationClient
from kiosk.codes import foreign_kind, masked
from kiosk.errors import KioskError, StationRefused, StationUnreachable
from kiosk.link import PrintJob, StationLink
from kiosk.pairing import PairingFailed, pair, read_token, save_token
from kiosk.ticket import ticket_content, ticket_layout

log = logging.getLogger("kiosk.agent")


def version() -> str:
    try:
        return metadata.version("clinicq")
    except metadata.PackageNotFoundError:
        return "dev"


def _now_iso() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


@dataclass(frozen=True)
class Outcome:
    """What became of one scan or pushed print job (kept for tests, the bench and the log)."""

    kind: str  # printed | print_failed | refused | not_a_booking | held | dropped | rejected_token
    text: str  # the scanned code; "" for a pushed print job
    status: int | None = None
    ticket: dict[str, Any] | None = None
    detail: str | None = None
    origin: str = "scan"  # scan | screen (issued on the kiosk screen) | reprint (asked by staff)


@dataclass
class _Held:
    text: str
    since: float  # time.monotonic()


class KioskAgent:
    """Scanner → station → printer, with held scans while the station is unreachable."""

    def __init__(self, client: StationClient, scanner: Scanner, printer: Printer, *,
                 hold_seconds: float = 20.0, health_interval: float = 10.0,
                 backoff: tuple[float, float] = (0.5, 5.0), paper_mm: int = 80,
                 feed: queue.Queue[str] | None = None, link: StationLink | None = None,
                 on_outcome: Callable[[Outcome], None] | None = None) -> None:
        self.client = client
        self.scanner = scanner
        self.printer = printer
        self.hold_seconds = hold_seconds
        self.health_interval = health_interval
        self.paper_mm = paper_mm
        self.feed = feed
        self.link = link
        self._jobs: queue.Queue[PrintJob] = queue.Queue()  # filled by the link's thread
        self.outcomes: deque[Outcome] = deque(maxlen=200)
        self._on_outcome = on_outcome
        # jitter: kiosks that lost the station together do not return in lockstep
        self._backoff = Backoff(*backoff, jitter=True)
        self._retry_at = 0.0
        self._held: deque[_Held] = deque()
        self._link_ok: bool | None = None
        self._station: dict[str, Any] | None = None
        self._scanner_state: str | None = None
        self._printer_lock = threading.Lock()  # the health thread asks status between prints
        self._stop = threading.Event()
        self._kick = threading.Event()
        self._health_thread: threading.Thread | None = None
        self._last_scan_at: str | None = None
        self._last_checkin_at: str | None = None
        self._print_failures = 0
        self.health_reports = 0

    # -- running -----------------------------------------------------------------------------

    def run(self) -> None:
        """Handle scans until `stop()`; closes the scanner on the way out."""
        log.info("kiosk agent %s: station %s, scanner %s", version(), self.client.base_url,
                 self.scanner.health().get("source"))
        self._health_thread = threading.Thread(target=self._health_loop, name="kiosk-health",
                                               daemon=True)
        self._health_thread.start()
        if self.link is not None:
            self.link.start(self._jobs.put)
        try:
            while not self._stop.is_set():
                self.step()
        finally:
            self.stop()  # also when leaving on an exception, so the health thread ends too
            if self.link is not None:
                self.link.close()
            self.scanner.close()
            self._health_thread.join(timeout=10)
            if self._held:
                log.error("stopping with %d held scan(s) not handled: %s", len(self._held),
                          ", ".join(masked(h.text) for h in self._held))

    def stop(self) -> None:
        self._stop.set()
        self._kick.set()

    def step(self, timeout: float = 0.25) -> None:
        """One turn of the loop: watch the scanner, retry held scans, print pushed jobs, handle
        the next code."""
        self._watch_scanner()
        self._retry_held()
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            self.handle_job(job)
        text = self._next_code(timeout)
        if text is not None:
            self.handle_scan(text)

    def _next_code(self, timeout: float) -> str | None:
        if self.feed is not None:
            try:
                return self.feed.get_nowait()
            except queue.Empty:
                pass
        if self._scanner_state in ("ended", "closed"):
            # stdin reached its end: nothing will come, so do not spin on an instant None
            self._stop.wait(timeout)
            return None
        try:
            event = self.scanner.read(timeout)
        except ScannerError as err:  # drivers report and reconnect; this is a last resort
            log.error("scanner failed: %s", err)
            self._stop.wait(timeout)
            return None
        return event.text if event is not None else None

    # -- one scan ----------------------------------------------------------------------------

    def handle_scan(self, text: str) -> Outcome:
        """Check `text` in and print its ticket; or refuse it; or hold it for a retry."""
        self._last_scan_at = _now_iso()
        kind = foreign_kind(text)
        if kind is not None:
            log.info("scan %s refused here: a %s, not a booking code", masked(text), kind)
            self._tell_screen(KioskNotice("not_a_booking", detail=kind))
            return self._record(Outcome("not_a_booking", text, detail=kind))
        if self._held:
            # keep arrival order; probe the station now rather than at the next backoff step
            return self._hold(text, "earlier scans are still waiting for the station")
        try:
            answer = self.client.check_in(text)
        except StationUnreachable as err:
            self._link_down(err)
            return self._hold(text, str(err))
        except StationRefused as err:
            return self._token_refused(text, err)
        self._link_up()
        return self._deliver(text, answer)

    def _deliver(self, text: str, answer: Answer) -> Outcome:
        if not answer.ok:
            # the server has already shown its reason on this kiosk's screen
            log.info("scan %s refused by the station: %s", masked(text), answer.error_code)
            return self._record(Outcome("refused", text, answer.status,
                                        detail=answer.error_code))
        ticket = answer.data
        self._last_checkin_at = _now_iso()
        again = " (checked in before: reprint)" if answer.status == 200 else ""
        log.info("scan %s -> ticket %s%s", masked(text), ticket.get("number"), again)
        return self._print_or_tell(text, answer.status, ticket, "scan")

    def handle_job(self, job: PrintJob) -> Outcome:
        """Print a ticket the station pushed: issued on this kiosk's screen, or a reprint."""
        why = f"reprint asked by {job.by or 'staff'}" if job.origin == "reprint" else \
            "issued on the kiosk screen" + (" (checked in before)" if job.status == 200 else "")
        log.info("ticket %s %s: printing", job.ticket.get("number"), why)
        return self._print_or_tell("", job.status, job.ticket, job.origin)

    def _print_or_tell(self, text: str, status: int | None, ticket: dict[str, Any],
                       origin: str) -> Outcome:
        problem = self._print(ticket)
        if problem is None:
            return self._record(Outcome("printed", text, status, ticket, origin=origin))
        self._print_failures += 1
        self._kick.set()
        # the ticket exists whatever the printer does: the screen shows the number again,
        # now with "printing failed, please note your number"
        log.error("ticket %s issued but NOT printed: %s", ticket.get("number"), problem)
        self._tell_screen(KioskNotice("print_failed", ticket_id=ticket.get("id"),
                                      detail=problem[:200]))
        return self._record(Outcome("print_failed", text, status, ticket, problem, origin))

    def _print(self, ticket: dict[str, Any]) -> str | None:
        """Print the ticket; the problem as text when it was not printed."""
        station = self._station_info()
        code = ticket.get("code")
        url = self.client.status_url(code, station.get("public_url") or "") \
            if isinstance(code, str) and code else ""
        try:
            content = ticket_content(ticket, station, status_url=url)
            layout = ticket_layout(content, paper_mm=self.paper_mm)
            with self._printer_lock:
                self.printer.print_ticket(layout)
        except PrinterError as err:
            return f"{err.__class__.__name__}: {err}"
        except Exception as err:  # noqa: BLE001 - whatever a driver does, the ticket stands
            log.exception("printer driver failed unexpectedly")
            return f"{err.__class__.__name__}: {err}"
        return None

    def _station_info(self) -> dict[str, Any]:
        if self._station is None:
            try:
                self._station = self.client.station_info()
            except KioskError as err:
                log.warning("station name not available for the ticket: %s", err)
                return {"name": "", "name_en": "", "services": {}}
        return self._station

    def _tell_screen(self, notice: KioskNotice) -> None:
        try:
            self.client.notify(notice)
        except KioskError as err:
            # the screen cannot be reached either; the log and the health report carry it
            log.warning("could not tell the kiosk screen %s: %s", notice.code, err)

    def _token_refused(self, text: str, err: StationRefused) -> Outcome:
        log.error("the station refused this kiosk's token (revoked? wrong --token?): %s; "
                  "scan %s not checked in", err, masked(text))
        return self._record(Outcome("rejected_token", text, detail=str(err)))

    def _record(self, outcome: Outcome) -> Outcome:
        self.outcomes.append(outcome)
        if self._on_outcome is not None:
            self._on_outcome(outcome)
        return outcome

    # -- station unreachable -----------------------------------------------------------------

    def _hold(self, text: str, why: str) -> Outcome:
        if all(h.text != text for h in self._held):
            self._held.append(_Held(text, time.monotonic()))
            log.warning("holding scan %s for up to %.0f s until the station answers; the kiosk "
                        "screen shows its offline notice meanwhile", masked(text),
                        self.hold_seconds)
        self._retry_at = 0.0
        self._kick.set()
        return self._record(Outcome("held", text, detail=why))

    def _retry_held(self) -> None:
        now = time.monotonic()
        while self._held and now - self._held[0].since > self.hold_seconds:
            h = self._held.popleft()
            log.error("scan %s DROPPED: the station stayed unreachable for %.0f s; the resident "
                      "was told by the kiosk screen to ask at the desk", masked(h.text),
                      now - h.since)
            self._record(Outcome("dropped", h.text, detail="station unreachable"))
        while self._held and time.monotonic() >= self._retry_at and not self._stop.is_set():
            h = self._held[0]
            try:
                answer = self.client.check_in(h.text)
            except StationUnreachable as err:
                self._link_down(err)
                return
            except StationRefused as err:
                self._held.popleft()
                self._token_refused(h.text, err)
                continue
            self._held.popleft()
            self._link_up()
            log.info("held scan %s sent after %.1f s", masked(h.text), time.monotonic() - h.since)
            self._deliver(h.text, answer)

    def _link_down(self, err: Exception) -> None:
        if self._link_ok is not False:
            log.warning("station unreachable: %s; retrying with backoff", err)
        self._link_ok = False
        self._retry_at = time.monotonic() + self._backoff.delay()

    def _link_up(self) -> None:
        if self._link_ok is False:
            log.info("station reachable again")
            self._kick.set()
        self._link_ok = True
        self._backoff.reset()

    # -- health ------------------------------------------------------------------------------

    def _watch_scanner(self) -> None:
        health = self.scanner.health()
        state = health.get("state")
        if state == self._scanner_state:
            return
        if state == "lost":
            log.error("scanner %s lost: %s; reconnecting", health.get("source"),
                      health.get("last_error"))
        elif state == "ok" and self._scanner_state == "lost":
            log.info("scanner %s is back", health.get("source"))
        elif state in ("ended", "closed"):
            log.warning("scanner %s %s: no more codes will come from it", health.get("source"),
                        state)
        self._scanner_state = state
        self._kick.set()

    def health(self) -> DeviceHealth:
        scanner = self.scanner.health()
        try:
            with self._printer_lock:
                status = self.printer.status()
            printer = {"state": status.state, "detail": status.detail}
        except PrinterError as err:
            printer = {"state": "offline", "detail": str(err)}
        return DeviceHealth(
            version=version(),
            scanner={"state": scanner.get("state"), "source": scanner.get("source"),
                     "last_error": scanner.get("last_error")},
            printer=printer, last_scan_at=self._last_scan_at,
            last_checkin_at=self._last_checkin_at, held_scans=len(self._held),
            print_failures=self._print_failures,
        )

    def report_health(self) -> bool:
        """Send one health report; False when the station did not take it."""
        try:
            self.client.report_health(self.health())
        except KioskError as err:
            log.debug("health report not sent: %s", err)
            return False
        self.health_reports += 1
        return True

    def _health_loop(self) -> None:
        while not self._stop.is_set():
            self._kick.clear()
            self.report_health()
            self._kick.wait(self.health_interval)


# -- command line ---------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="clinicq kiosk",
        description="The kiosk agent: reads booking codes from the scanner, checks them in at "
                    "the station server, prints the ticket; the kiosk screen shows the result.")
    p.add_argument("--server", required=True, help="the station server's URL, e.g. "
                   "http://127.0.0.1:5000")
    p.add_argument("--token", help="this kiosk's device token; without it, the token file's, "
                   "or the kiosk pairs itself: it prints a code an admin approves")
    p.add_argument("--token-file", default="var/kiosk.token",
                   help="where the token from pairing is kept (default var/kiosk.token)")
    p.add_argument("--scanner", required=True,
                   help="camera:N, hid:/dev/input/eventN, serial:DEV[:BAUD], stdin, images:DIR "
                        "(created if missing; drop QR photos into it) or fake")
    p.add_argument("--printer", required=True,
                   help="usb:VID:PID, network:HOST[:PORT], serial:DEV[@BAUD], file:PATH, "
                        "cups:NAME, preview:DIR (one PNG per ticket) or dummy")
    p.add_argument("--dedupe-seconds", type=float, default=3.0,
                   help="drop the same code seen again within this many seconds (default 3)")
    p.add_argument("--engine", default="zxing", choices=("zxing", "pyzbar"),
                   help="QR decoder for camera: and images: scanners (default zxing)")
    p.add_argument("--hold-seconds", type=float, default=20.0,
                   help="keep a scan this long while the station is unreachable, then drop it "
                        "(default 20)")
    p.add_argument("--health-interval", type=float, default=10.0,
                   help="seconds between health reports to the station (default 10)")
    p.add_argument("--paper-mm", type=int, default=80, choices=(58, 80),
                   help="ticket paper width (default 80)")
    p.add_argument("--feed-port", type=int, default=None,
                   help="also accept codes POSTed to http://127.0.0.1:PORT/scan (demo/testing; "
                        "localhost only)")
    p.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.scanner.startswith("images:"):
        Path(args.scanner.partition(":")[2]).mkdir(parents=True, exist_ok=True)
    try:
        scanner = open_scanner(args.scanner, dedupe_seconds=args.dedupe_seconds,
                               engine=args.engine)
        printer = open_printer(args.printer)
    except (ScannerError, PrinterError) as err:
        print(f"clinicq kiosk: {err}", file=sys.stderr)
        return 2
    codes: queue.Queue[str] | None = None
    feed_server = None
    if args.feed_port is not None:
        from kiosk.feed import FeedServer

        codes = queue.Queue()
        feed_server = FeedServer(codes, args.feed_port)
        log.info("feed scans at %s/scan (curl -d DEMO-V001 %s/scan)", feed_server.url,
                 feed_server.url)
    token = args.token or read_token(Path(args.token_file))
    if token is None:
        try:
            token = pair(args.server.rstrip("/"), printer=printer, paper_mm=args.paper_mm)
        except (PairingFailed, KeyboardInterrupt) as err:
            print(f"clinicq kiosk: not paired: {err}", file=sys.stderr)
            return 2
        save_token(Path(args.token_file), token)
    client = StationClient(args.server, token)
    link = StationLink(args.server, token)
    agent = KioskAgent(client, scanner, printer, hold_seconds=args.hold_seconds,
                       health_interval=args.health_interval, paper_mm=args.paper_mm, feed=codes,
                       link=link)
    signal.signal(signal.SIGTERM, lambda *_: agent.stop())
    try:
        agent.run()
    except KeyboardInterrupt:
        agent.stop()
    finally:
        if feed_server is not None:
            feed_server.close()
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
