"""The shipped config.toml: it loads, sets every key the tests' configuration sets, and says
what each key does. The only tests that read it; all others use tests/data/station.toml."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from support import TEST_CONFIG

from server import config

SHIPPED = config.DEFAULT_CONFIG


def keys(table: dict[str, Any], prefix: str = "") -> set[str]:
    """Dotted key paths; the entries of an array of tables share one path (`services.code`)."""
    found: set[str] = set()
    for key, value in table.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            found |= keys(value, path + ".")
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for entry in value:
                found |= keys(entry, path + ".")
        else:
            found.add(path)
    return found


def test_the_shipped_config_loads_as_the_default() -> None:
    settings = config.load()
    assert settings.services and settings.counters
    rules = settings.engine_rules()
    assert set(rules.counters) == set(settings.counters)


def test_the_shipped_config_sets_every_key_of_the_tests_configuration() -> None:
    shipped = keys(tomllib.loads(SHIPPED.read_text(encoding="utf-8")))
    ours = keys(tomllib.loads(TEST_CONFIG.read_text(encoding="utf-8")))
    assert shipped == ours


def test_every_key_of_the_shipped_config_is_documented() -> None:
    lines = SHIPPED.read_text(encoding="utf-8").splitlines()
    comments = [line.strip().lstrip("#") for line in lines if line.lstrip().startswith("#")]
    undocumented = []
    for i, line in enumerate(lines):
        match = re.match(r"(\w+)\s*=", line)
        if match is None:
            continue
        key = match.group(1)
        commented_above = i > 0 and lines[i - 1].lstrip().startswith("#")
        named = any(re.search(rf"(?<![\w.]){key}(?!\w)", c) for c in comments)
        if not (commented_above or named):
            undocumented.append(key)
    assert undocumented == []


def test_the_tests_configuration_is_not_the_shipped_file() -> None:
    assert TEST_CONFIG.resolve() != Path(SHIPPED).resolve()
    assert config.load(TEST_CONFIG).database == ":memory:"


def test_the_shipped_file_reads_as_before() -> None:
    settings = config.load(database=":memory:")
    assert settings.station_id == "demo-station" and str(settings.timezone) == "Asia/Shanghai"
    assert list(settings.services) == ["V", "A", "B"] and list(settings.counters) == [
        "V1", "V2", "A1", "B1", "S1"]
    vaccination = settings.services["V"].rules
    assert vaccination.stages == ("screening", "vaccination", "observation")
    assert settings.services["A"].rules.stages == ()
    assert settings.counters["S1"].stages == ("screening",)
    assert settings.screening_questions[0] == "fever"
    exam = settings.services["B"].rules
    assert (exam.walkins, exam.early_policy, exam.late_policy, exam.grace_minutes) == (
        False, "wait", "refuse", 30)
    assert settings.services["V"].rules.default_service_minutes == 4.0
    assert settings.counters["B1"].services == ("B", "A")
    assert settings.sync_interval == 60.0 and settings.central_timeout == 2.0
