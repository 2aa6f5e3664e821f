"""Station configuration (adapter): reads config.toml into typed settings and engine rules."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from .engine.model import CounterRules, ServiceRules, StationRules

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "config.toml"


class ConfigError(Exception):
    """config.toml is missing a key, has a wrong value, or names an unknown service."""


@dataclass(frozen=True)
class ServiceConfig:
    rules: ServiceRules
    name: str
    name_en: str


@dataclass(frozen=True)
class CounterConfig:
    """A desk or room as config.toml describes it; the engine gets its CounterRules."""

    id: str
    name: str
    name_en: str
    services: tuple[str, ...]


@dataclass(frozen=True)
class Settings:
    station_id: str
    station_name: str
    station_name_en: str
    timezone: ZoneInfo
    database: str  # a file path, or ":memory:"
    host: str
    port: int
    secret_key: str
    services: dict[str, ServiceConfig]
    counters: dict[str, CounterConfig]
    show_masked_names: bool = True
    next_count: int = 5
    recent_calls_kept: int = 8  # [display] recent_calls
    demo: bool = False
    public_url: str = ""
    # the central platform ([central] in config.toml); an empty url means no sync
    central_url: str = ""
    central_token: str = ""
    central_timeout: float = 2.0
    sync_interval: float = 60.0
    key_retry_seconds: float = 30.0
    extra: dict[str, Any] = field(default_factory=dict)

    def engine_rules(self) -> StationRules:
        return StationRules.build(
            [s.rules for s in self.services.values()],
            [CounterRules(c.id, c.services) for c in self.counters.values()],
            recent_calls_kept=max(self.recent_calls_kept, 1),
        )


def _get(table: dict[str, Any], key: str, kind: type, where: str, default: Any = ...) -> Any:
    if key not in table:
        if default is ...:
            raise ConfigError(f"{where}: missing key '{key}'")
        return default
    value = table[key]
    if kind is float and isinstance(value, int):
        value = float(value)
    if not isinstance(value, kind):
        raise ConfigError(f"{where}.{key}: expected {kind.__name__}, got {value!r}")
    return value


def _choice(table: dict[str, Any], key: str, allowed: tuple[str, ...], where: str) -> str:
    value: str = _get(table, key, str, where, allowed[0])
    if value not in allowed:
        raise ConfigError(f"{where}.{key}: expected one of {', '.join(allowed)}, got {value!r}")
    return value


def load(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Read a config file (default: the repository's config.toml); keyword overrides win."""
    path = Path(path) if path else DEFAULT_CONFIG
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(f"cannot read {path}: {err}") from err
    return from_dict(data, base_dir=path.parent, **overrides)


def from_dict(data: dict[str, Any], *, base_dir: Path | None = None, **overrides: Any) -> Settings:
    station = _get(data, "station", dict, "config")
    server = data.get("server", {})
    display = data.get("display", {})
    central = data.get("central", {})
    services: dict[str, ServiceConfig] = {}
    for i, s in enumerate(_get(data, "services", list, "config")):
        where = f"services[{i}]"
        code = _get(s, "code", str, where)
        rules = ServiceRules(
            code=code,
            prefix=_get(s, "prefix", str, where, code),
            walkins=_get(s, "walkins", bool, where, True),
            booked_per_walkin=_get(s, "booked_per_walkin", int, where, 2),
            grace_minutes=_get(s, "grace_minutes", int, where, 15),
            early_minutes=_get(s, "early_minutes", int, where, 60),
            recall_limit=_get(s, "recall_limit", int, where, 2),
            default_service_minutes=_get(s, "default_service_minutes", float, where, 5.0),
            number_width=_get(s, "number_width", int, where, 3),
            early_policy=_choice(s, "early_policy", ("refuse", "wait"), where),
            late_policy=_choice(s, "late_policy", ("walkin", "refuse"), where),
        )
        services[code] = ServiceConfig(rules, _get(s, "name", str, where),
                                       _get(s, "name_en", str, where, code))
    counters: dict[str, CounterConfig] = {}
    for i, c in enumerate(_get(data, "counters", list, "config")):
        where = f"counters[{i}]"
        served = tuple(_get(c, "services", list, where))
        for code in served:
            if code not in services:
                raise ConfigError(f"{where}: unknown service '{code}'")
        cid = _get(c, "id", str, where)
        counters[cid] = CounterConfig(cid, _get(c, "name", str, where),
                                    _get(c, "name_en", str, where, cid), served)
    database = _get(station, "database", str, "station", "var/station.db")
    if database != ":memory:" and base_dir is not None and not os.path.isabs(database):
        database = str(base_dir / database)
    values: dict[str, Any] = dict(
        station_id=_get(station, "id", str, "station"),
        station_name=_get(station, "name", str, "station"),
        station_name_en=_get(station, "name_en", str, "station", ""),
        timezone=ZoneInfo(_get(station, "timezone", str, "station", "Asia/Shanghai")),
        database=database,
        host=_get(server, "host", str, "server", "127.0.0.1"),
        port=_get(server, "port", int, "server", 5000),
        secret_key=_get(server, "secret_key", str, "server", ""),
        public_url=_get(server, "public_url", str, "server", ""),
        services=services,
        counters=counters,
        show_masked_names=_get(display, "show_masked_names", bool, "display", True),
        next_count=_get(display, "next_count", int, "display", 5),
        recent_calls_kept=_get(display, "recent_calls", int, "display", 8),
        central_url=_get(central, "url", str, "central", "").rstrip("/"),
        central_token=_get(central, "station_token", str, "central", ""),
        central_timeout=_get(central, "timeout_seconds", float, "central", 2.0),
        sync_interval=_get(central, "pull_interval_seconds", float, "central", 60.0),
        key_retry_seconds=_get(central, "key_retry_seconds", float, "central", 30.0),
    )
    values.update(overrides)
    return Settings(**values)
