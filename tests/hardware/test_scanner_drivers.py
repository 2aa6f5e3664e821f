"""Tests of the Scanner policy (dedupe, health) and the fake, stdin, images and camera drivers."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import segno

from hardware.scanner import Scanner, ScannerConfigError, open_scanner
from hardware.scanner.base import Deduper
from hardware.scanner.fake import FakeScanner


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def drain(scanner: Scanner, timeout: float = 0.05) -> list[str]:
    texts = []
    while (event := scanner.read(timeout)) is not None:
        texts.append(event.text)
    return texts


@pytest.mark.parametrize(
    ("steps", "accepted"),
    [
        ([(0, "A"), (1, "A")], [True, False]),  # repeat inside the window
        ([(0, "A"), (3, "A")], [True, True]),  # exactly one window later
        ([(0, "A"), (0.1, "B"), (0.2, "A")], [True, True, False]),
        ([(0, "A"), (2, "A"), (4, "A")], [True, False, False]),  # held in view: window slides
        ([(0, "A"), (2, "A"), (5.5, "A")], [True, False, True]),
    ],
)
def test_deduper_table(steps: list[tuple[float, str]], accepted: list[bool]) -> None:
    clock = FakeClock()
    dedupe = Deduper(3.0, clock)
    got = []
    for t, text in steps:
        clock.now = 1000.0 + t
        got.append(dedupe.accept(text))
    assert got == accepted


def test_fake_scanner_records_and_dedupes_with_injected_clock() -> None:
    clock = FakeClock()
    scanner = open_scanner("fake", dedupe_seconds=3.0, clock=clock)
    assert isinstance(scanner, FakeScanner) and isinstance(scanner, Scanner)
    scanner.feed("BK1:A", "BK1:A", "VAC-1")
    assert drain(scanner) == ["BK1:A", "VAC-1"]
    clock.now += 1.0
    scanner.feed("BK1:A")
    assert scanner.read(0) is None
    clock.now += 5.0
    scanner.feed("BK1:A")
    event = scanner.read(0)
    assert event is not None and event.text == "BK1:A" and event.at == clock.now
    assert scanner.fed == ["BK1:A", "BK1:A", "VAC-1", "BK1:A", "BK1:A"]
    assert [e.text for e in scanner.emitted] == ["BK1:A", "VAC-1", "BK1:A"]
    health = scanner.health()
    assert health["ok"] and health["scans"] == 3 and health["repeats_dropped"] == 2
    assert health["last_scan_at"] == clock.now


def test_fake_unplug_is_reported_then_reconnects() -> None:
    scanner = FakeScanner()
    scanner.feed("X")
    assert scanner.read(0.1) is not None
    scanner.unplug()
    assert scanner.read(0.05) is None
    health = scanner.health()
    assert health["state"] == "lost" and not health["ok"]
    assert "unplugged" in health["last_error"]
    scanner.replug()
    scanner.feed("Y")
    assert scanner.read(0.2) is not None
    assert scanner.health()["state"] == "ok" and scanner.health()["reconnects"] == 1


def test_read_waits_for_a_code_fed_from_another_thread() -> None:
    scanner = FakeScanner()
    threading.Timer(0.05, scanner.feed, args=("LATE",)).start()
    start = time.monotonic()
    event = scanner.read(2.0)
    assert event is not None and event.text == "LATE"
    assert time.monotonic() - start < 1.0


def test_stdin_driver_reads_lines_until_eof() -> None:
    stream = io.StringIO("BK1:ONE\n\nBK1:ONE\r\nVAC-2\n")
    scanner = open_scanner("stdin", stdin=stream)
    assert drain(scanner, 0.5) == ["BK1:ONE", "VAC-2"]
    assert scanner.health()["state"] == "ended"
    assert scanner.read(0.01) is None
    scanner.close()
    assert scanner.health()["state"] == "closed"


def save_qr(path: Path, text: str) -> None:
    segno.make_qr(text, error="m").save(path, scale=6)


def test_images_driver_decodes_existing_then_new_files(tmp_path: Path) -> None:
    barcode = pytest.importorskip("barcode", reason="python-barcode is not installed")
    from barcode.writer import ImageWriter

    save_qr(tmp_path / "01-booking.png", "BK1:FIRST")
    barcode.Code128("84912345678901234567", writer=ImageWriter()).render(
        {"write_text": False}
    ).save(tmp_path / "02-vaccine.png")
    from PIL import Image

    Image.new("L", (640, 480), 255).save(tmp_path / "03-blank.png")
    (tmp_path / "04-corrupt.jpg").write_bytes(b"\xff\xd8\xff garbage")
    (tmp_path / "notes.txt").write_text("not an image")  # ignored, not reported

    scanner = open_scanner("images:" + str(tmp_path))
    assert drain(scanner, 0.3) == ["BK1:FIRST", "84912345678901234567"]
    health = scanner.health()
    assert health["ok"] and health["problems"] == 1
    assert "04-corrupt.jpg" in health["last_error"]

    save_qr(tmp_path / "10-later.png", "BK1:LATER")
    event = scanner.read(2.0)
    assert event is not None and event.text == "BK1:LATER"
    scanner.close()


def test_images_driver_reports_a_missing_folder(tmp_path: Path) -> None:
    scanner = open_scanner(f"images:{tmp_path / 'nope'}")
    assert scanner.read(0.05) is None
    assert scanner.health()["state"] == "lost"
    assert "cannot list" in scanner.health()["last_error"]


def test_camera_without_device_is_reported_not_raised() -> None:
    scanner = open_scanner("camera:63")
    assert scanner.read(0.05) is None
    health = scanner.health()
    assert health["state"] == "lost" and "camera:63" in health["last_error"]
    scanner.close()


def test_camera_driver_decodes_frames_of_a_video(tmp_path: Path) -> None:
    cv2 = pytest.importorskip("cv2")
    modules = np.pad(np.array(segno.make_qr("BK1:VIDEO", error="m").matrix, np.uint8), 4)
    qr = np.kron((1 - modules) * 255, np.ones((6, 6), np.uint8)).astype(np.uint8)
    frame = np.full((480, 640), 255, np.uint8)
    frame[40 : 40 + qr.shape[0], 100 : 100 + qr.shape[1]] = qr
    video = tmp_path / "cam.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (640, 480))
    if not writer.isOpened():
        pytest.skip("this OpenCV build cannot write MJPG video")
    for _ in range(5):
        writer.write(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
    writer.release()

    scanner = open_scanner(f"camera:{video}")
    event = scanner.read(1.0)
    assert event is not None and event.text == "BK1:VIDEO"
    assert scanner.read(0.3) is None  # the same code on the next frames is a repeat
    assert scanner.health()["repeats_dropped"] >= 1
    scanner.close()


@pytest.mark.parametrize("spec", ["", "camera", "scanner:1", "hid:", "images", "fake:1"])
def test_bad_specs_are_config_errors(spec: str) -> None:
    with pytest.raises(ScannerConfigError):
        open_scanner(spec)


def test_bad_engine_is_a_config_error() -> None:
    with pytest.raises(ScannerConfigError):
        open_scanner("fake", engine="nope")
