"""The `clinicq` command: every subcommand answers --help with a description."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from server.cli import DELEGATED, build_parser, demo_banner, main

SUBCOMMANDS = ["serve", *DELEGATED]


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_every_subcommand_has_help(command: str) -> None:
    out = subprocess.run([sys.executable, "-m", "server.cli", command, "--help"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "usage:" in out.stdout and len(out.stdout.splitlines()) >= 3, out.stdout


def test_top_level_help_lists_the_subcommands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    text = capsys.readouterr().out
    for command in SUBCOMMANDS:
        assert command in text


def test_no_subcommand_prints_help_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage:" in capsys.readouterr().out


def test_demo_banner_names_urls_and_logins() -> None:
    text = demo_banner("http://127.0.0.1:5000")
    for expected in ["/kiosk#token=demo-kiosk-token", "/console",
                     "/display#token=demo-display-token",
                     "demo-nurse / demo-nurse", "demo-admin / demo-admin"]:
        assert expected in text


def test_printer_test_prints_the_kiosks_sample_ticket(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # hardware/ decides no ticket content: the sample comes from kiosk/ticket.py through here
    assert main(["printer", "test", "--printer", f"preview:{tmp_path}"]) == 0
    assert [p.name for p in tmp_path.glob("*.png")] == ["0001-V012.png"]
    assert "printed sample ticket V012" in capsys.readouterr().out
