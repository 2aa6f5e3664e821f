"""Tests of `clinicq doctor` (hardware.doctor) on this machine and on a fake /dev and /sys tree."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hardware import doctor


def test_text_report_runs_here(capsys: pytest.CaptureFixture[str]) -> None:
    assert doctor.main(["--no-open"]) == 0
    out = capsys.readouterr().out
    for heading in ("libraries:", "cameras:", "input devices:", "serial ports:", "printers:"):
        assert heading in out
    assert "zxing-cpp" in out
    assert "what is missing:" in out or "everything needed was found" in out


def test_json_report_has_every_section(capsys: pytest.CaptureFixture[str]) -> None:
    assert doctor.main(["--json", "--no-open"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) >= {
        "libraries",
        "cameras",
        "input_devices",
        "serial_ports",
        "printers",
        "problems",
        "ok",
    }
    assert all({"problem", "hint"} <= set(p) for p in report["problems"])


def test_fake_tree_finds_devices_and_permission_problems(tmp_path: Path) -> None:
    dev, sysfs = tmp_path / "dev", tmp_path / "sys"
    (dev / "input").mkdir(parents=True)
    (dev / "usb").mkdir()
    (dev / "video0").touch()
    (dev / "input" / "event3").touch()
    (dev / "usb" / "lp0").touch()
    v4l = sysfs / "class" / "video4linux" / "video0"
    v4l.mkdir(parents=True)
    (v4l / "name").write_text("USB Camera\n")
    usb = sysfs / "bus" / "usb" / "devices" / "1-1"
    (usb / "1-1:1.0").mkdir(parents=True)
    (usb / "idVendor").write_text("0416\n")
    (usb / "idProduct").write_text("5011\n")
    (usb / "product").write_text("POS58 Printer\n")
    (usb / "1-1:1.0" / "bInterfaceClass").write_text("07\n")
    os.chmod(dev / "input" / "event3", 0)
    os.chmod(dev / "video0", 0)
    as_root = os.access(dev / "video0", os.R_OK)  # root ignores the mode bits

    report = doctor.collect(dev=str(dev), sysfs=str(sysfs), open_cameras=False)
    assert [(c["device"], c["name"]) for c in report["cameras"]] == [
        (str(dev / "video0"), "USB Camera")
    ]
    assert [d["device"] for d in report["input_devices"]] == [str(dev / "input" / "event3")]
    usb_found = report["printers"][0]["usb_devices"]
    assert usb_found[0]["usb_id"] == "0416:5011" and usb_found[0]["printer_class"] is True
    assert report["printers"][1]["usb_lp_nodes"] == [str(dev / "usb" / "lp0")]
    problems = " ".join(p["problem"] + p["hint"] for p in report["problems"])
    assert "no camera" not in problems and "no USB devices" not in problems
    if not as_root:
        assert report["cameras"][0]["access"] is False
        assert "video" in problems and "'input' group" in problems
