"""`clinicq doctor`: the station's cameras, scanners, serial ports, printers and gaps (hardware).

Every probe is read-only and guarded: on a machine (or container) with none
of these devices the report says so instead of failing.
"""

from __future__ import annotations

import argparse
import ctypes.util
import glob
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

Finding = dict[str, Any]


class Report:
    """Sections of findings plus the problems, each with a hint for the person fixing it."""

    def __init__(self) -> None:
        self.sections: dict[str, list[Finding]] = {}
        self.problems: list[dict[str, str]] = []

    def problem(self, what: str, hint: str) -> None:
        self.problems.append({"problem": what, "hint": hint})

    def as_dict(self) -> dict[str, Any]:
        return {**self.sections, "problems": self.problems, "ok": not self.problems}


def _dist_version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "?"


def _readable(path: str) -> bool:
    return os.access(path, os.R_OK | os.W_OK)


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None


def check_libraries(report: Report) -> None:
    libs: list[Finding] = []

    def probe(name: str, load: Callable[[], str], hint: str) -> None:
        try:
            libs.append({"name": name, "ok": True, "version": load()})
        except Exception as err:  # noqa: BLE001 - a broken install must show up, not crash
            libs.append({"name": name, "ok": False, "error": f"{type(err).__name__}: {err}"})
            report.problem(f"{name} cannot be loaded", hint)

    def zxing() -> str:
        import zxingcpp  # noqa: F401

        return _dist_version("zxing-cpp")

    def zbar() -> str:
        if ctypes.util.find_library("zbar") is None:
            raise OSError("libzbar.so not found")
        from pyzbar import pyzbar  # noqa: F401

        return "libzbar found"

    def opencv() -> str:
        import cv2

        return str(cv2.__version__)

    def pyserial() -> str:
        import serial

        return str(serial.__version__)

    def evdev() -> str:
        import evdev as ev  # noqa: F401

        return "ok"

    def webp() -> str:
        from PIL import features

        if not features.check("webp"):
            raise OSError("Pillow was built without WebP")
        return "webp ok"

    probe("zxing-cpp", zxing, "pip install zxing-cpp (the default decoder)")
    probe("pyzbar", zbar, "apt install libzbar0 (only needed for --engine pyzbar)")
    probe("opencv", opencv, "pip install opencv-python-headless (camera scanner)")
    probe("pyserial", pyserial, "pip install pyserial (serial scanners)")
    if sys.platform == "linux":
        probe("evdev", evdev, "pip install evdev (keyboard-wedge scanners)")
    probe("pillow-webp", webp, "apt install libwebp-dev and reinstall Pillow")
    report.sections["libraries"] = libs


def check_cameras(report: Report, dev: Path, sysfs: Path, try_open: bool = True) -> None:
    cams: list[Finding] = []
    for node in sorted(glob.glob(str(dev / "video*"))):
        name = _read_text(sysfs / "class" / "video4linux" / Path(node).name / "name")
        entry: Finding = {"device": node, "name": name, "access": _readable(node)}
        if not entry["access"]:
            report.problem(
                f"no permission on {node}",
                "add the service user to the 'video' group (then log in again)",
            )
        elif try_open:
            entry["opencv_opens"] = _opencv_opens(node)
        cams.append(entry)
    if not cams:
        report.problem(
            "no camera (/dev/video*) found",
            "plug in a USB camera, or pass the device into the container "
            "(--device /dev/video0); a HID or serial scanner works without one",
        )
    report.sections["cameras"] = cams


def _opencv_opens(node: str) -> bool | str:
    try:
        import cv2

        cap = cv2.VideoCapture(node, cv2.CAP_V4L2)
        try:
            return bool(cap.isOpened() and cap.read()[0])
        finally:
            cap.release()
    except Exception as err:  # noqa: BLE001 - reported, never raised
        return f"error: {err}"


def check_input_devices(report: Report, dev: Path) -> None:
    found: list[Finding] = []
    denied: list[str] = []
    for node in sorted(glob.glob(str(dev / "input" / "event*"))):
        entry: Finding = {"device": node, "access": _readable(node)}
        if not entry["access"]:
            denied.append(node)
        else:
            try:
                import evdev

                d = evdev.InputDevice(node)
                try:
                    entry["name"] = d.name
                    entry["keys"] = evdev.ecodes.EV_KEY in d.capabilities()
                finally:
                    d.close()
            except Exception as err:  # noqa: BLE001 - reported, never raised
                entry["error"] = str(err)
        found.append(entry)
    if denied:
        report.problem(
            f"no permission on {len(denied)} input device(s), e.g. {denied[0]}",
            "add the service user to the 'input' group, or a udev rule such as "
            'SUBSYSTEM=="input", ATTRS{idVendor}=="XXXX", MODE="0660", GROUP="clinicq"',
        )
    report.sections["input_devices"] = found


def check_serial(report: Report) -> None:
    ports: list[Finding] = []
    try:
        from serial.tools import list_ports

        for p in list_ports.comports():
            entry = {
                "device": p.device,
                "description": p.description,
                "hwid": p.hwid,
                "access": _readable(p.device),
            }
            if not entry["access"]:
                report.problem(
                    f"no permission on {p.device}", "add the service user to the 'dialout' group"
                )
            ports.append(entry)
    except Exception as err:  # noqa: BLE001 - reported, never raised
        ports.append({"error": str(err)})
    report.sections["serial_ports"] = ports


def check_printers(report: Report, dev: Path, sysfs: Path) -> None:
    usb: list[Finding] = []
    for d in sorted((sysfs / "bus" / "usb" / "devices").glob("*")):
        vendor = _read_text(d / "idVendor")
        if vendor is None:
            continue  # interfaces and hubs' ports have no idVendor
        classes = {_read_text(i / "bInterfaceClass") for i in d.glob(f"{d.name}:*")}
        usb.append(
            {
                "usb_id": f"{vendor}:{_read_text(d / 'idProduct')}",
                "manufacturer": _read_text(d / "manufacturer"),
                "product": _read_text(d / "product"),
                "printer_class": "07" in classes,  # many ESC/POS printers say 07, some say ff
            }
        )
    lp = sorted(glob.glob(str(dev / "usb" / "lp*")))
    printers: list[Finding] = [{"usb_devices": usb}, {"usb_lp_nodes": lp}]
    for node in lp:
        if not _readable(node):
            report.problem(f"no permission on {node}", "add the service user to the 'lp' group")
    if shutil.which("lsusb"):
        printers.append({"lsusb": _run(["lsusb"])})
    if shutil.which("lpstat"):
        printers.append({"cups": _run(["lpstat", "-p"])})
    else:
        printers.append(
            {
                "cups": "lpstat not installed (apt install cups-client) - only needed "
                "for printers driven through CUPS"
            }
        )
    if not usb and not lp:
        report.problem(
            "no USB devices or /dev/usb/lp* visible",
            "plug the ticket printer in; in a container pass --device or /dev/bus/usb",
        )
    report.sections["printers"] = printers


def _run(cmd: list[str]) -> str:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"error: {err}"
    return (done.stdout or done.stderr).strip()


def collect(*, dev: str = "/dev", sysfs: str = "/sys", open_cameras: bool = True) -> dict[str, Any]:
    """Probe everything; `dev` and `sysfs` may point at a fake tree in tests."""
    report = Report()
    d, s = Path(dev), Path(sysfs)
    steps: list[tuple[str, Callable[[], None]]] = [
        ("libraries", lambda: check_libraries(report)),
        ("cameras", lambda: check_cameras(report, d, s, open_cameras)),
        ("input_devices", lambda: check_input_devices(report, d)),
        ("serial_ports", lambda: check_serial(report)),
        ("printers", lambda: check_printers(report, d, s)),
    ]
    for name, step in steps:
        try:
            step()
        except Exception as err:  # noqa: BLE001 - one broken probe must not hide the others
            report.sections[name] = [{"error": f"{type(err).__name__}: {err}"}]
    return report.as_dict()


def render_text(result: dict[str, Any]) -> str:
    lines: list[str] = []
    for section, findings in result.items():
        if section in ("problems", "ok"):
            continue
        lines.append(f"{section.replace('_', ' ')}:")
        if not findings:
            lines.append("  (none found)")
        for f in findings:
            lines.append("  " + ", ".join(f"{k}={_short(v)}" for k, v in f.items()))
    lines.append("")
    if result["problems"]:
        lines.append("what is missing:")
        for p in result["problems"]:
            lines.append(f"  - {p['problem']}\n      hint: {p['hint']}")
    else:
        lines.append("everything needed was found")
    return "\n".join(lines)


def _short(value: object) -> str:
    if isinstance(value, list):
        return f"[{len(value)} items]" if len(value) > 3 else json.dumps(value)
    text = str(value)
    return text if "\n" not in text else text.replace("\n", " | ")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="clinicq doctor",
        description="List cameras, input devices, serial ports and printers this station can "
        "see, and what is missing (libraries, permissions, packages).",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--no-open",
        action="store_true",
        help="do not open cameras with OpenCV (faster; the camera may be in use)",
    )
    args = parser.parse_args(argv)
    result = collect(open_cameras=not args.no_open)
    print(json.dumps(result, indent=2) if args.json else render_text(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
