"""Station configuration (adapter): reads config.toml, declared as pydantic models, into typed
settings and engine rules."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from contracts.syncwire import MAX_BATCH

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
    stages: tuple[str, ...] = ()  # empty: every stage of its services
    spoken: str = ""  # how the waiting room hears its name, when the name does not say it


@dataclass(frozen=True)
class AnnounceConfig:
    """How the waiting room hears calls ([announce] in config.toml)."""

    engine: Literal["espeak", "browser", "command"] = "espeak"
    command: str = ""  # engine = "command": the program, `{out}` and `{lang}` filled in
    languages: tuple[str, ...] = ("zh",)
    numbers: Literal["digits", "number"] = "digits"
    speak_names: bool = False
    chime: bool = True
    repeat: int = 1
    volume: float = 1.0
    speed: int = 150
    ahead: int = 3  # the next numbers of each service whose calls are made in advance
    cache_dir: str = ""  # made audio; empty: `audio/` beside the database (memory only for
    #                      a ":memory:" database)
    cache_mb: float = 200.0


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
    push_batch_size: int = 200
    backoff_max: float = 60.0
    heartbeat_seconds: float = 60.0
    # [screening] questions: ids, their words are `screening.<id>` in the catalog
    screening_questions: tuple[str, ...] = ()
    announce: AnnounceConfig = field(default_factory=AnnounceConfig)
    extra: dict[str, Any] = field(default_factory=dict)

    def engine_rules(self) -> StationRules:
        return StationRules.build(
            [s.rules for s in self.services.values()],
            [CounterRules(c.id, c.services, c.stages) for c in self.counters.values()],
            recent_calls_kept=max(self.recent_calls_kept, 1),
        )


class _Table(BaseModel):
    """A table of config.toml: TOML's own types, strictly (`"5"` is no number, `true` no
    count); a key it does not know is an error (a misspelt key would silently be a default)."""

    model_config = ConfigDict(strict=True, extra="forbid")


def _zone(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return ZoneInfo(value)
        except (ValueError, ZoneInfoNotFoundError):
            raise PydanticCustomError(
                "time_zone", "expected an IANA time zone such as Asia/Shanghai") from None
    return value


class StationTable(_Table):
    id: str
    name: str
    name_en: str = ""
    timezone: Annotated[ZoneInfo, BeforeValidator(_zone),
                        WithJsonSchema({"type": "string"})] = ZoneInfo("Asia/Shanghai")
    database: str = "var/station.db"  # relative to the config file, or ":memory:"

    model_config = ConfigDict(arbitrary_types_allowed=True)


class ServerTable(_Table):
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 5000
    secret_key: str = ""
    public_url: str = ""


class DisplayTable(_Table):
    show_masked_names: bool = True
    next_count: Annotated[int, Field(ge=0)] = 5
    recent_calls: Annotated[int, Field(ge=0)] = 8


class AnnounceTable(_Table):
    engine: Literal["espeak", "browser", "command"] = "espeak"
    command: str = ""
    languages: list[Literal["zh", "en"]] = Field(default_factory=lambda: ["zh"], min_length=1)
    numbers: Literal["digits", "number"] = "digits"
    speak_names: bool = False
    chime: bool = True
    repeat: Annotated[int, Field(ge=1, le=5)] = 1
    volume: Annotated[float, Field(ge=0, le=1)] = 1.0
    speed: Annotated[int, Field(ge=80, le=400)] = 150
    ahead: Annotated[int, Field(ge=0, le=20)] = 3
    cache_dir: str = ""
    cache_mb: Annotated[float, Field(gt=0)] = 200.0

    @model_validator(mode="after")
    def _command_given(self) -> AnnounceTable:
        if self.engine == "command" and not self.command.strip():
            raise ConfigError("announce: engine \"command\" needs a command")
        return self

    def config(self, base_dir: Path | None) -> AnnounceConfig:
        cache = self.cache_dir
        if cache and base_dir is not None and not os.path.isabs(cache):
            cache = str(base_dir / cache)
        return AnnounceConfig(
            engine=self.engine, command=self.command, languages=tuple(self.languages),
            numbers=self.numbers, speak_names=self.speak_names, chime=self.chime,
            repeat=self.repeat, volume=self.volume, speed=self.speed, ahead=self.ahead,
            cache_dir=cache, cache_mb=self.cache_mb)


class CentralTable(_Table):
    url: str = ""
    station_token: str = ""
    timeout_seconds: Annotated[float, Field(gt=0)] = 2.0
    pull_interval_seconds: Annotated[float, Field(gt=0)] = 60.0
    key_retry_seconds: Annotated[float, Field(ge=0)] = 30.0
    push_batch_size: Annotated[int, Field(ge=1, le=MAX_BATCH)] = 200
    backoff_max_seconds: Annotated[float, Field(gt=0)] = 60.0
    heartbeat_seconds: Annotated[float, Field(gt=0)] = 60.0


STAGES = ("screening", "vaccination", "observation")
Stage = Literal["screening", "vaccination", "observation"]


class ScreeningTable(_Table):
    questions: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]] = Field(
        default_factory=list)


class ServiceTable(_Table):
    code: str
    prefix: str | None = None  # default: the code
    name: str
    name_en: str | None = None  # default: the code
    walkins: bool = True
    booked_per_walkin: Annotated[int, Field(ge=0)] = 2
    grace_minutes: Annotated[int, Field(ge=0)] = 15
    early_minutes: Annotated[int, Field(ge=0)] = 60
    early_policy: Literal["refuse", "wait"] = "refuse"
    late_policy: Literal["walkin", "refuse"] = "walkin"
    recall_limit: Annotated[int, Field(ge=0)] = 2
    default_service_minutes: Annotated[float, Field(gt=0)] = 5.0
    number_width: Annotated[int, Field(ge=1)] = 3
    stages: list[Stage] = Field(default_factory=list)
    observation_minutes: Annotated[int, Field(ge=1)] = 30
    reaction_extend_minutes: Annotated[int, Field(ge=1)] = 30

    @model_validator(mode="after")
    def _stages_in_pathway_order(self) -> ServiceTable:
        if self.stages != sorted(set(self.stages), key=STAGES.index):
            raise ConfigError(f"service '{self.code}': stages must be distinct and in the "
                              f"order {', '.join(STAGES)}")
        if "observation" in self.stages and "vaccination" not in self.stages:
            raise ConfigError(f"service '{self.code}': observation follows vaccination")
        return self

    def config(self) -> ServiceConfig:
        rules = ServiceRules(
            code=self.code, prefix=self.code if self.prefix is None else self.prefix,
            walkins=self.walkins, booked_per_walkin=self.booked_per_walkin,
            grace_minutes=self.grace_minutes, early_minutes=self.early_minutes,
            recall_limit=self.recall_limit, default_service_minutes=self.default_service_minutes,
            number_width=self.number_width, early_policy=self.early_policy,
            late_policy=self.late_policy, stages=tuple(self.stages),
            observation_minutes=self.observation_minutes,
            reaction_extend_minutes=self.reaction_extend_minutes)
        return ServiceConfig(rules, self.name, self.code if self.name_en is None else self.name_en)


class CounterTable(_Table):
    id: str
    name: str
    name_en: str | None = None  # default: the id
    services: list[str]
    stages: list[Stage] = Field(default_factory=list)
    spoken: str = ""

    def config(self) -> CounterConfig:
        return CounterConfig(self.id, self.name, self.id if self.name_en is None else self.name_en,
                             tuple(self.services), tuple(self.stages), self.spoken)


class ConfigFile(BaseModel):
    """The whole of config.toml; tables it does not know are left to whoever reads them."""

    model_config = ConfigDict(strict=True, extra="ignore")

    station: StationTable
    server: ServerTable = Field(default_factory=ServerTable)
    display: DisplayTable = Field(default_factory=DisplayTable)
    central: CentralTable = Field(default_factory=CentralTable)
    screening: ScreeningTable = Field(default_factory=ScreeningTable)
    announce: AnnounceTable = Field(default_factory=AnnounceTable)
    services: list[ServiceTable]
    counters: list[CounterTable]

    @model_validator(mode="after")
    def _counters_serve_known_services(self) -> ConfigFile:
        known = {s.code: s for s in self.services}
        for i, counter in enumerate(self.counters):
            for code in counter.services:
                if code not in known:
                    raise ConfigError(f"counters[{i}]: unknown service '{code}'")
            offered = {stage for code in counter.services for stage in known[code].stages}
            for stage in counter.stages:
                if stage == "observation" or stage not in offered:
                    raise ConfigError(f"counters[{i}]: no service of it has a queue at stage "
                                      f"'{stage}'")
        return self


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "config"


def _problem(error: Any) -> str:
    """One validation error as `where: what`, in the words of the old hand-written checks."""
    loc = tuple(error["loc"])
    if error["type"] == "missing":
        return f"{_where(loc[:-1])}: missing key '{loc[-1]}'"
    if error["type"] == "extra_forbidden":
        return f"{_where(loc[:-1])}: unknown key '{loc[-1]}'"
    what = error["msg"].removeprefix("Input should be ")
    what = what if what != error["msg"] else what[:1].lower() + what[1:]
    if error["type"] != "time_zone":
        what = "expected " + what
    return f"{_where(loc)}: {what}, got {error['input']!r}"


def load(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Read a config file (default: the repository's config.toml); keyword overrides win."""
    path = Path(path) if path else DEFAULT_CONFIG
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(f"cannot read {path}: {err}") from err
    return from_dict(data, base_dir=path.parent, source=str(path), **overrides)


def from_dict(data: dict[str, Any], *, base_dir: Path | None = None, source: str = "config",
              **overrides: Any) -> Settings:
    """Settings from the parsed TOML `data`; a ConfigError names `source`, the key and the
    value when something is wrong."""
    try:
        file = ConfigFile.model_validate(data)
    except ConfigError as err:
        raise ConfigError(f"{source}: {err}") from None
    except ValidationError as err:
        problems = [_problem(e) for e in err.errors(include_url=False)]
        raise ConfigError(f"{source}: " + "; ".join(problems)) from None
    station, server, display, central = file.station, file.server, file.display, file.central
    database = station.database
    if database != ":memory:" and base_dir is not None and not os.path.isabs(database):
        database = str(base_dir / database)
    values: dict[str, Any] = dict(
        station_id=station.id,
        station_name=station.name,
        station_name_en=station.name_en,
        timezone=station.timezone,
        database=database,
        host=server.host,
        port=server.port,
        secret_key=server.secret_key,
        public_url=server.public_url,
        services={s.code: s.config() for s in file.services},
        counters={c.id: c.config() for c in file.counters},
        show_masked_names=display.show_masked_names,
        next_count=display.next_count,
        recent_calls_kept=display.recent_calls,
        central_url=central.url.rstrip("/"),
        central_token=central.station_token,
        central_timeout=central.timeout_seconds,
        sync_interval=central.pull_interval_seconds,
        key_retry_seconds=central.key_retry_seconds,
        push_batch_size=central.push_batch_size,
        backoff_max=central.backoff_max_seconds,
        heartbeat_seconds=central.heartbeat_seconds,
        screening_questions=tuple(file.screening.questions),
        announce=file.announce.config(base_dir),
    )
    values.update(overrides)
    return Settings(**values)
