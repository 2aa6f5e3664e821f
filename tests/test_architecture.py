"""Layering, enforced: the import contracts in .importlinter hold; the engine does no I/O."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def lint_imports(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "scripts"), str(cwd)])}
    return subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--no-cache",
                           "--no-logo", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def test_import_contracts_hold() -> None:
    run = lint_imports(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr


def test_standard_library_contract_catches_a_third_party_import(tmp_path: Path) -> None:
    pkg = tmp_path / "pure"
    pkg.mkdir()
    (pkg / "__init__.py").write_text('"""a package"""\n')
    (pkg / "ok.py").write_text("import json\nfrom . import __name__ as _n\n")
    (pkg / "bad.py").write_text("import requests\n")
    (tmp_path / ".importlinter").write_text(textwrap.dedent("""
        [importlinter]
        root_packages =
            pure
        include_external_packages = True
        contract_types =
            standard_library_only: stdlib_contract.StandardLibraryOnly
        [importlinter:contract:pure]
        name = pure is pure
        type = standard_library_only
        source_modules =
            pure
    """))
    run = lint_imports(tmp_path)
    assert run.returncode == 1
    assert "pure.bad imports requests" in run.stdout
    assert "pure.ok" not in run.stdout


def modules(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def test_engine_reads_no_clock_and_does_no_io() -> None:
    banned = re.compile(r"\b(datetime\.now|date\.today|time\.time|open|print|random\.\w+)\(")
    for path in modules("server/engine"):
        found = banned.search(path.read_text(encoding="utf-8"))
        assert found is None, f"{path.name} uses {found.group(0) if found else ''}"


def test_views_do_not_talk_sql() -> None:
    for path in modules("server/web"):
        text = path.read_text(encoding="utf-8")
        for word in ("SELECT ", "INSERT ", "UPDATE ", "execute("):
            assert word not in text, f"{path.name} contains {word.strip()}"


def test_modules_stay_small() -> None:
    for folder in ("contracts", "server", "kiosk", "display", "hardware", "central"):
        for path in modules(folder):
            lines = len(path.read_text(encoding="utf-8").splitlines())
            assert lines <= 550, f"{path.relative_to(ROOT)} has {lines} lines"


def test_every_module_says_what_it_is() -> None:
    for folder in ("contracts", "server", "kiosk", "display", "hardware", "central"):
        for path in modules(folder):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            assert ast.get_docstring(tree), f"{path.relative_to(ROOT)} has no docstring"
