"""Tests of the serial scanner driver on a real pseudo-terminal (the test writes the master)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from hardware.scanner import SourceScanner, open_scanner


class Pty:
    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        self.name = os.ttyname(self.slave)

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    def unplug(self) -> None:
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass


@pytest.fixture
def pty() -> Iterator[Pty]:
    p = Pty()
    yield p
    p.unplug()


def read_texts(scanner: SourceScanner, timeout: float = 0.3) -> list[str]:
    texts = []
    while (event := scanner.read(timeout)) is not None:
        texts.append(event.text)
    return texts


def test_codes_garbage_repeats_and_device_loss(pty: Pty) -> None:
    scanner = open_scanner(f"serial:{pty.name}:115200", dedupe_seconds=3.0)
    assert isinstance(scanner, SourceScanner)
    assert scanner.read(0.05) is None  # opens the port; nothing sent yet
    assert scanner.health()["state"] == "ok"

    pty.write(b"BK1:ALPHA\r\n849123456789\r")
    pty.write(b"\xff\xfe\x80garbage\r\n")  # not UTF-8: dropped and reported
    pty.write(b"\x00\x01\x02\n")  # control bytes: dropped and reported
    pty.write(b"BK1:ALPHA\r\n")  # repeat inside the window: dropped
    pty.write(b"BK1:BRAVO\n")  # a different code: kept
    pty.write(b"BK1:SPL")  # a code split across two writes
    assert read_texts(scanner) == ["BK1:ALPHA", "849123456789", "BK1:BRAVO"]
    pty.write(b"IT\r\n")
    assert read_texts(scanner) == ["BK1:SPLIT"]

    health = scanner.health()
    assert health["ok"] and health["scans"] == 4
    assert health["repeats_dropped"] == 1 and health["problems"] == 2

    pty.unplug()
    assert scanner.read(0.3) is None
    health = scanner.health()
    assert health["state"] == "lost" and not health["ok"]
    assert health["last_error"].startswith(f"serial:{pty.name}")
    scanner.close()


def test_missing_port_is_reported_and_retried(tmp_path: os.PathLike[str]) -> None:
    scanner = open_scanner(f"serial:{tmp_path}/ttyNOPE")
    assert scanner.read(0.6) is None
    health = scanner.health()
    assert health["state"] == "lost" and "cannot open" in health["last_error"]
    scanner.close()
