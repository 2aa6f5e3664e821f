"""config.toml: read through its declared models; a wrong file is refused naming file and key."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from server import config
from server.cli import main

SHIPPED = tomllib.loads(config.DEFAULT_CONFIG.read_text(encoding="utf-8"))
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


def test_the_shipped_file_reads_as_before() -> None:
    settings = config.load(database=":memory:")
    assert settings.station_id == "demo-station" and str(settings.timezone) == "Asia/Shanghai"
    assert list(settings.services) == ["V", "A", "B"] and list(settings.counters) == [
        "V1", "V2", "A1", "B1"]
    exam = settings.services["B"].rules
    assert (exam.walkins, exam.early_policy, exam.late_policy, exam.grace_minutes) == (
        False, "wait", "refuse", 30)
    assert settings.services["V"].rules.default_service_minutes == 4.0
    assert settings.counters["B1"].services == ("B", "A")
    assert settings.sync_interval == 60.0 and settings.central_timeout == 2.0


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
    settings = config.from_dict(SHIPPED, database=":memory:", demo=True)
    assert settings.database == ":memory:" and settings.demo is True
