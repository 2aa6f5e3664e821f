"""Layering, enforced: the engine is pure; vendor libraries stay behind the drivers."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the package
                package = path.relative_to(ROOT).parent.parts
                base = package[: len(package) - node.level + 1]
                out.add(".".join(base + ((node.module,) if node.module else ())))
            elif node.module:
                out.add(node.module)
    return out


def modules(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def test_engine_imports_only_the_standard_library_and_itself() -> None:
    for path in modules("server/engine"):
        for name in imports(path):
            top = name.split(".")[0]
            assert top in sys.stdlib_module_names or name.startswith("server.engine") or \
                top == "__future__", f"{path.name} imports {name}"


def test_engine_reads_no_clock_and_does_no_io() -> None:
    banned = re.compile(r"\b(datetime\.now|date\.today|time\.time|open|print|random\.\w+)\(")
    for path in modules("server/engine"):
        found = banned.search(path.read_text(encoding="utf-8"))
        assert found is None, f"{path.name} uses {found.group(0) if found else ''}"


def test_server_never_imports_vendor_hardware_libraries() -> None:
    vendor = {"cv2", "escpos", "zxingcpp", "pyzbar", "serial", "evdev", "usb", "hardware"}
    for path in modules("server"):
        for name in imports(path):
            assert name.split(".")[0] not in vendor, f"{path} imports {name}"


def test_vendor_libraries_stay_inside_their_drivers() -> None:
    homes = {"escpos": "hardware/printer", "cv2": "hardware", "zxingcpp": "hardware",
             "pyzbar": "hardware", "serial": "hardware", "evdev": "hardware"}
    for folder in ("server", "kiosk", "display", "central"):
        for path in modules(folder):
            for name in imports(path):
                home = homes.get(name.split(".")[0])
                assert home is None, f"{path} imports {name} (belongs in {home})"


def test_kiosk_and_display_import_only_the_protocol_from_the_server() -> None:
    allowed = {"server.protocol"}
    for folder in ("kiosk", "display"):
        for path in modules(folder):
            for name in imports(path):
                if name.startswith("server"):
                    assert name in allowed, f"{path} imports {name}"


def test_protocol_module_imports_no_framework() -> None:
    for name in imports(ROOT / "server/protocol.py"):
        assert name.split(".")[0] in sys.stdlib_module_names or name == "__future__", name


def test_views_do_not_talk_sql() -> None:
    for path in modules("server/web"):
        text = path.read_text(encoding="utf-8")
        for word in ("SELECT ", "INSERT ", "UPDATE ", "execute("):
            assert word not in text, f"{path.name} contains {word.strip()}"


def test_modules_stay_small() -> None:
    for folder in ("server", "kiosk", "display", "hardware", "central"):
        for path in modules(folder):
            lines = len(path.read_text(encoding="utf-8").splitlines())
            assert lines <= 550, f"{path.relative_to(ROOT)} has {lines} lines"


def test_every_module_says_what_it_is() -> None:
    for folder in ("server", "kiosk", "display", "hardware", "central"):
        for path in modules(folder):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            assert ast.get_docstring(tree), f"{path.relative_to(ROOT)} has no docstring"
