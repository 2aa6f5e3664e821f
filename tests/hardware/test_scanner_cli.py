"""Tests of `clinicq scan` (hardware.scanner.cli.scan_main)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import segno

from hardware.scanner.cli import scan_main


def lines(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines()]


def test_scan_prints_one_json_line_per_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    qr = tmp_path / "qr.png"
    segno.make_qr("BK1:CLI", error="m").save(qr, scale=5)
    blank = tmp_path / "blank.png"
    segno.make_qr("x").save(blank, scale=1, dark="white")  # all white: no code
    assert scan_main([str(qr), str(blank)]) == 0
    got = lines(capsys.readouterr().out)
    assert [g["file"] for g in got] == [str(qr), str(blank)]
    assert got[0]["codes"] == ["BK1:CLI"] and got[1]["codes"] == []
    assert all(isinstance(g["ms"], float) for g in got)


def test_unreadable_file_gives_error_line_and_nonzero_exit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.webp"
    bad.write_bytes(b"RIFF....WEBPjunk")
    good = tmp_path / "good.png"
    segno.make_qr("BK1:OK", error="m").save(good, scale=5)
    assert scan_main([str(bad), str(good), "--engine", "pyzbar"]) == 1
    first, second = lines(capsys.readouterr().out)
    assert "error" in first and "codes" not in first
    assert second["codes"] == ["BK1:OK"]


def test_help_and_bad_engine(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        scan_main(["--help"])
    assert done.value.code == 0
    assert "--engine" in capsys.readouterr().out
    with pytest.raises(SystemExit) as done:
        scan_main(["--engine", "nope", "x.png"])
    assert done.value.code == 2
