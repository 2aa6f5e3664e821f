"""A station's configuration, read through its declared models; a wrong file is refused naming
the file and the key (the shipped config.toml itself: test_config_shipped.py)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from support import TEST_CONFIG

from server import config
from server.cli import main

TESTS = tomllib.loads(TEST_CONFIG.read_text(encoding="utf-8"))
MINIMAL = """
[station]
id = "s1"
name = "站"

[[services]]
code = "V"
name = "接种"

[[counters]]
id = "C1"
name = "一号台"
services = ["V"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "station.toml"
    path.write_text(text, encoding="utf-8")
    return path


def refusal(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(config.ConfigError) as caught:
        config.load(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: "), message
    return message.removeprefix(f"{path}: ")


def test_defaults_fill_what_a_minimal_file_leaves_out(tmp_path: Path) -> None:
    settings = config.load(write(tmp_path, MINIMAL))
    service = settings.services["V"]
    assert (service.rules.prefix, service.name_en, service.rules.booked_per_walkin) == (
        "V", "V", 2)
    assert settings.counters["C1"].name_en == "C1" and settings.port == 5000
    assert settings.database == str(tmp_path / "var/station.db")


@pytest.mark.parametrize("change, problem", [
    (MINIMAL.replace('name = "站"\n', ""), "station: missing key 'name'"),
    (MINIMAL.replace('code = "V"', 'code = "V"\ngrace_minutes = "15"'),
     "services[0].grace_minutes: expected a valid integer, got '15'"),
    (MINIMAL.replace('code = "V"', 'code = "V"\nwalkins = 1'),
     "services[0].walkins: expected a valid boolean, got 1"),
    (MINIMAL.replace('code = "V"', 'code = "V"\nlate_policy = "later"'),
     "services[0].late_policy: expected 'walkin' or 'refuse', got 'later'"),
    (MINIMAL.replace('code = "V"', 'code = "V"\ngrace_minute = 15'),
     "services[0]: unknown key 'grace_minute'"),
    (MINIMAL.replace('services = ["V"]', 'services = ["V", "X"]'),
     "counters[0]: unknown service 'X'"),
    (MINIMAL.replace('name = "站"', 'name = "站"\ntimezone = "Mars/Olympus"'),
     "station.timezone: expected an IANA time zone such as Asia/Shanghai, got 'Mars/Olympus'"),
    (MINIMAL + '\n[server]\nport = "80"\n', "server.port: expected a valid integer, got '80'"),
])
def test_a_wrong_value_names_the_key(tmp_path: Path, change: str, problem: str) -> None:
    assert refusal(tmp_path, change) == problem


def test_an_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(config.ConfigError, match="cannot read"):
        config.load(write(tmp_path, "[station\n"))


def test_serve_prints_the_problem_and_fails(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, MINIMAL.replace('name = "站"\n', ""))
    assert main(["serve", "--config", str(path)]) == 2
    assert f"{path}: station: missing key 'name'" in capsys.readouterr().err


def test_overrides_win() -> None:
    settings = config.from_dict(TESTS, database=":memory:", demo=True)
    assert settings.database == ":memory:" and settings.demo is True
