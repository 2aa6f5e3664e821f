"""Tests of `clinicq printer` (hardware.printer.cli), with a sample ticket made here."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from hardware.printer import cli
from hardware.printer.cli import build_parser
from hardware.printer.layout import Barcode, BigText, Item, Line, QrCode, TicketLayout

asked: list[tuple[int, bool]] = []


def sample(paper_mm: int, barcode: bool) -> TicketLayout:
    asked.append((paper_mm, barcode))
    items: list[Item] = [Line("测试 test"), BigText("T01"), QrCode("https://example.org/t/x")]
    if barcode:
        items.append(Barcode("T01"))
    return TicketLayout.build(items, paper_mm=paper_mm, label="T01")


def main(argv: list[str]) -> int:
    return cli.main(argv, sample=sample)


def test_every_command_has_help() -> None:
    parser = build_parser()
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    choices = subparsers[0]._choices_actions
    assert {c.dest for c in choices} == {"test", "status"}
    for choice in choices:
        assert choice.help
        for action in subparsers[0].choices[choice.dest]._actions:
            assert action.help, (choice.dest, action.dest)


@pytest.mark.parametrize("argv", [["--help"], ["test", "--help"], ["status", "--help"]])
def test_help_exits_cleanly(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0 and "usage" in capsys.readouterr().out


def test_test_prints_the_sample_ticket_it_is_given(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    asked.clear()
    assert main(["test", "--printer", f"preview:{tmp_path}", "--paper", "58"]) == 0
    assert [p.name for p in tmp_path.glob("*.png")] == ["0001-T01.png"]
    assert main(["test", "--printer", "dummy", "--mode", "raster", "--barcode"]) == 0
    assert asked == [(58, False), (80, True)]
    assert "printed sample ticket T01 on dummy" in capsys.readouterr().out


def test_status_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--printer", "dummy"]) == 0
    assert json.loads(capsys.readouterr().out)["state"] == "ready"


def test_errors_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", "--printer", "bogus:1"]) == 1
    assert "unknown printer spec" in capsys.readouterr().err
    assert main(["status", "--printer", f"file:{tmp_path / 'lp0'}"]) == 1
    assert json.loads(capsys.readouterr().out)["state"] == "unknown"
