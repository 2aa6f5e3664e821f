"""Tests of the network ESC/POS driver against a small TCP server playing the printer."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from support import wait_until

from hardware.printer import (
    PrinterConfigError,
    PrinterCoverOpen,
    PrinterPaperOut,
    PrinterUnavailable,
    TicketLayout,
    open_printer,
)
from hardware.printer.escpos_bytes import encode_ticket
from hardware.printer.layout import BigText, Line, QrCode
from hardware.printer.readback import parse

URL = "http://127.0.0.1:5000/t/AbC123xyz"
# DLE EOT replies per query n; every valid reply has 0x12 set.
SCENARIOS: dict[str, dict[int, int]] = {
    "ready": {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12},
    "paper_near_end": {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x1E},
    "paper_out": {1: 0x1A, 2: 0x32, 3: 0x12, 4: 0x72},
    "cover_open": {1: 0x1A, 2: 0x16, 3: 0x12, 4: 0x12},
    "error": {1: 0x1A, 2: 0x52, 3: 0x1A, 4: 0x12},
    "silent": {},
    "garbage": {1: 0xFF, 2: 0xFF, 3: 0xFF, 4: 0xFF},
}


class FakeNetworkPrinter:
    """Accepts connections on 127.0.0.1, records bytes, answers DLE EOT as the scenario says."""

    def __init__(self, replies: dict[int, int]) -> None:
        self.replies = replies
        self.received = bytearray()
        self.connections = 0
        self._stop = threading.Event()
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.05)
        self.port = self._server.getsockname()[1]
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            self.connections += 1
            with conn:
                conn.settimeout(0.05)
                while not self._stop.is_set():
                    try:
                        chunk = conn.recv(65536)
                    except TimeoutError:
                        continue
                    if not chunk:
                        break
                    if len(chunk) == 3 and chunk[:2] == b"\x10\x04":
                        if chunk[2] in self.replies:
                            conn.sendall(bytes((self.replies[chunk[2]],)))
                        continue
                    self.received += chunk

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._server.close()


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[FakeNetworkPrinter]:
    fake = FakeNetworkPrinter(SCENARIOS[request.param])
    yield fake
    fake.stop()


def layout() -> TicketLayout:
    items = [Line("幸福社区卫生服务站", "center", bold=True), Line("接种", "center", scale=2),
             Line("Vaccination", "center"), BigText("V012"), QrCode(URL)]
    return TicketLayout.build(items, label="V012")


@pytest.mark.parametrize(
    ("server", "state"),
    [
        ("ready", "ready"),
        ("paper_near_end", "paper_near_end"),
        ("paper_out", "paper_out"),
        ("cover_open", "cover_open"),
        ("error", "offline"),
        ("garbage", "unknown"),
    ],
    indirect=["server"],
)
def test_status_is_read_from_the_printer(server: FakeNetworkPrinter, state: str) -> None:
    printer = open_printer(f"network:127.0.0.1:{server.port}", timeout=1.0)
    assert printer.status().state == state


@pytest.mark.parametrize("server", ["silent"], indirect=True)
def test_silent_printer_is_unknown_within_the_timeout(server: FakeNetworkPrinter) -> None:
    printer = open_printer(f"network:127.0.0.1:{server.port}")  # default timeout 2 s
    started = time.monotonic()
    status = printer.status()
    assert time.monotonic() - started < 3
    assert status.state == "unknown" and "no status reply" in status.detail


@pytest.mark.parametrize("server", ["ready"], indirect=True)
def test_ticket_bytes_arrive_unchanged(server: FakeNetworkPrinter) -> None:
    printer = open_printer(f"network:127.0.0.1:{server.port}")
    printer.print_ticket(layout())
    expected = encode_ticket(layout())
    wait_until(lambda: len(server.received) >= len(expected), 2, what="the whole ticket")
    assert bytes(server.received) == expected
    assert parse(bytes(server.received)).qr_payloads == [URL]


@pytest.mark.parametrize("server", ["silent"], indirect=True)
def test_silent_printer_still_gets_the_ticket(server: FakeNetworkPrinter) -> None:
    printer = open_printer(f"network:127.0.0.1:{server.port}", chinese_mode="raster")
    printer.print_ticket(layout())
    printer.print_ticket(layout())  # learnt that it never answers: no second wait
    wait_until(lambda: parse_cuts(server.received) >= 2, 2, what="two cuts")
    assert parse_cuts(server.received) == 2


def parse_cuts(data: bytearray) -> int:
    return bytes(data).count(b"\x1dV\x00")


@pytest.mark.parametrize(
    ("server", "error"),
    [("paper_out", PrinterPaperOut), ("cover_open", PrinterCoverOpen)],
    indirect=["server"],
)
def test_printer_that_cannot_print_raises_our_error(
    server: FakeNetworkPrinter, error: type[Exception]
) -> None:
    printer = open_printer(f"network:127.0.0.1:{server.port}")
    with pytest.raises(error):
        printer.print_ticket(layout())
    assert not server.received


def test_refused_connection_is_unavailable_and_offline() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # closed again at once: nothing listens there
    printer = open_printer(f"network:127.0.0.1:{port}", timeout=0.5)
    with pytest.raises(PrinterUnavailable) as info:
        printer.print_ticket(layout())
    assert info.value.__cause__ is not None
    assert printer.status().state == "offline"


@pytest.mark.parametrize(
    "spec",
    ["bogus:1", "network:", "usb:12", "usb:zz:01", "network:host:99999", "serial:/dev/x@fast"],
)
def test_bad_specs(spec: str) -> None:
    with pytest.raises(PrinterConfigError):
        open_printer(spec)


def test_unknown_profile_and_mode() -> None:
    with pytest.raises(PrinterConfigError):
        open_printer("dummy", profile="no-such-printer")
    with pytest.raises(PrinterConfigError):
        open_printer("dummy", chinese_mode="braille")


def test_file_printer_writes_bytes_and_cannot_read_status(tmp_path: object) -> None:
    from pathlib import Path

    target = Path(str(tmp_path)) / "lp0"
    printer = open_printer(f"file:{target}", profile="TM-T88V")
    printer.print_ticket(layout())
    assert parse(target.read_bytes()).qr_payloads == [URL]
    assert printer.status().state == "unknown"


def test_missing_usb_library_is_unavailable() -> None:
    printer = open_printer("usb:0x0416:0x5011")
    try:
        import usb  # noqa: F401
    except ImportError:
        with pytest.raises(PrinterUnavailable):
            printer.print_ticket(layout())
        assert printer.status().state == "offline"
