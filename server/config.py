"""Station configuration (adapter): reads config.toml, declared as pydantic models, into typed
settings and engine rules."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import time
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
    """config.toml is missing a key, has a wrong value, or names an unknown service. `field`
    and `code` say which setting and what is wrong, for the admin pages' messages."""

    def __init__(self, message: str, *, field: str = "", code: str = "",
                 **params: Any) -> None:
        super().__init__(message)
        self.field = field
        self.code = code
        self.params = params


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the station's layout: where (`services[1].prefix`), a stable
    code (words `setting.<code>` in the catalog), its parameters, and config.toml's words."""

    where: tuple[int | str, ...]
    code: str
    text: str
    params: dict[str, Any] = field(default_factory=dict)


class Live(Mapping[str, Any]):
    """A mapping replaced whole, at once, when an administrator changes the layout: everyone
    holding the settings reads the new services and counters from then on, and a reader
    iterating it meanwhile keeps the mapping it started with."""

    def __init__(self, items: Mapping[str, Any]) -> None:
        self._items = dict(items)

    def replace(self, items: Mapping[str, Any]) -> None:
        self._items = dict(items)

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items.copy())

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Live({self._items!r})"


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
class BackupConfig:
    """Where and how the station database is backed up ([backup] in config.toml;
    server/backup.py). An empty target means no continuous backup."""

    target: str = ""  # a directory (absolute once loaded), or an s3:// URL (Litestream only)
    engine: Literal["auto", "litestream", "sqlite"] = "auto"
    window_seconds: float = 1.0  # Litestream ships the WAL this often
    snapshot_seconds: float = 60.0  # the backup-API engine copies the database this often
    retention_hours: float = 72.0
    endpoint: str = ""  # an S3-compatible store's URL (MinIO, ...); empty for AWS

    @property
    def remote(self) -> bool:
        return "://" in self.target


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
    services: Mapping[str, ServiceConfig]  # a Live mapping: the admin pages change it
    counters: Mapping[str, CounterConfig]
    show_masked_names: bool = True
    next_count: int = 5
    recent_calls_kept: int = 8  # [display] recent_calls
    demo: bool = False
    public_url: str = ""
    # staff sessions ([server] in config.toml): they end after this long unused, and this
    # long after the login whatever happens
    session_idle_minutes: float = 30.0
    session_max_hours: float = 12.0
    # each kiosk's check-ins and walk-ins: so many a minute, bursts of so many
    kiosk_checkins_per_minute: int = 60
    kiosk_checkin_burst: int = 20
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
    backup: BackupConfig = field(default_factory=BackupConfig)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # the services and counters change live (server/layout.py), each Settings its own
        # (`dataclasses.replace` gives a copy that changes apart); frozen otherwise
        for name in ("services", "counters"):
            object.__setattr__(self, name, Live(getattr(self, name)))

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
    session_idle_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 30
    session_max_hours: Annotated[int, Field(ge=1, le=7 * 24)] = 12
    kiosk_checkins_per_minute: Annotated[int, Field(ge=1)] = 60
    kiosk_checkin_burst: Annotated[int, Field(ge=1)] = 20


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


class BackupTable(_Table):
    target: str = ""
    engine: Literal["auto", "litestream", "sqlite"] = "auto"
    window_seconds: Annotated[float, Field(gt=0, le=3600)] = 1.0
    snapshot_seconds: Annotated[float, Field(ge=1)] = 60.0
    retention_hours: Annotated[float, Field(gt=0)] = 72.0
    endpoint: str = ""

    @model_validator(mode="after")
    def _s3_needs_litestream(self) -> BackupTable:
        if "://" in self.target and self.engine == "sqlite":
            raise ConfigError("backup: a target URL needs engine \"litestream\" (or \"auto\")")
        return self

    def config(self, base_dir: Path | None) -> BackupConfig:
        target = self.target
        if target and "://" not in target and base_dir is not None \
                and not os.path.isabs(target):
            target = str(base_dir / target)
        return BackupConfig(target=target, engine=self.engine,
                            window_seconds=self.window_seconds,
                            snapshot_seconds=self.snapshot_seconds,
                            retention_hours=self.retention_hours, endpoint=self.endpoint)


STAGES = ("screening", "vaccination", "observation")
CLOCK = r"^(|([01][0-9]|2[0-3]):[0-5][0-9])$"  # a clock time HH:MM, or empty
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
    opens: Annotated[str, Field(pattern=CLOCK)] = ""  # walk-ins from (HH:MM; "": all day)
    closes: Annotated[str, Field(pattern=CLOCK)] = ""  # walk-ins until (HH:MM; "": all day)
    walkin_capacity: Annotated[int, Field(ge=0)] = 0  # walk-in numbers a day; 0: no limit

    @model_validator(mode="after")
    def _stages_in_pathway_order(self) -> ServiceTable:
        if self.stages != sorted(set(self.stages), key=STAGES.index):
            raise ConfigError(f"service '{self.code}': stages must be distinct and in the "
                              f"order {', '.join(STAGES)}", field="stages",
                              code="stages_order")
        if "observation" in self.stages and "vaccination" not in self.stages:
            raise ConfigError(f"service '{self.code}': observation follows vaccination",
                              field="stages", code="observation_alone")
        if self.opens and self.closes and self.closes <= self.opens:
            raise ConfigError(f"service '{self.code}': closes ({self.closes}) must be after "
                              f"opens ({self.opens})", field="closes",
                              code="closes_before_opens", opens=self.opens, closes=self.closes)
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
            reaction_extend_minutes=self.reaction_extend_minutes,
            opens=time.fromisoformat(self.opens) if self.opens else None,
            closes=time.fromisoformat(self.closes) if self.closes else None,
            walkin_capacity=self.walkin_capacity)
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
    backup: BackupTable = Field(default_factory=BackupTable)
    services: list[ServiceTable]
    counters: list[CounterTable]

    @model_validator(mode="after")
    def _counters_serve_known_services(self) -> ConfigFile:
        problems = layout_problems(self.services, self.counters)
        if problems:
            raise ConfigError(problems[0].text)
        return self


def layout_problems(services: list[ServiceTable], counters: list[CounterTable]
                    ) -> list[Problem]:
    """What is wrong across the services and counters (each table being valid on its own):
    the one home of these rules, for config.toml and the admin pages alike."""
    out: list[Problem] = []
    known: dict[str, ServiceTable] = {}
    prefixes: dict[str, str] = {}
    for i, service in enumerate(services):
        if service.code in known:
            out.append(Problem(("services", i, "code"), "duplicate_service",
                               f"services[{i}]: a second service '{service.code}'",
                               {"code": service.code}))
        known.setdefault(service.code, service)
        prefix = service.code if service.prefix is None else service.prefix
        if prefix in prefixes and prefixes[prefix] != service.code:
            out.append(Problem(("services", i, "prefix"), "duplicate_prefix",
                               f"services[{i}]: prefix '{prefix}' is service "
                               f"'{prefixes[prefix]}'s already",
                               {"prefix": prefix, "other": prefixes[prefix]}))
        prefixes.setdefault(prefix, service.code)
    ids: set[str] = set()
    for i, counter in enumerate(counters):
        if counter.id in ids:
            out.append(Problem(("counters", i, "id"), "duplicate_counter",
                               f"counters[{i}]: a second counter '{counter.id}'",
                               {"id": counter.id}))
        ids.add(counter.id)
        if not counter.services:
            out.append(Problem(("counters", i, "services"), "counter_serves_nothing",
                               f"counters[{i}]: serves no service", {"id": counter.id}))
        for code in counter.services:
            if code not in known:
                out.append(Problem(("counters", i, "services"), "unknown_service",
                                   f"counters[{i}]: unknown service '{code}'",
                                   {"code": code, "id": counter.id}))
        offered = {stage for code in counter.services if code in known
                   for stage in known[code].stages}
        for stage in counter.stages:
            if stage == "observation" or stage not in offered:
                out.append(Problem(("counters", i, "stages"), "stage_not_offered",
                                   f"counters[{i}]: no service of it has a queue at stage "
                                   f"'{stage}'", {"stage": stage, "id": counter.id}))
    return out


def setting_path(loc: tuple[int | str, ...]) -> str:
    """Where a setting is, as config.toml's readers say it: `services[1].prefix`."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "config"


def _problem(error: Any) -> str:
    """One validation error as `where: what`, in the words of the old hand-written checks."""
    loc = tuple(error["loc"])
    if error["type"] == "missing":
        return f"{setting_path(loc[:-1])}: missing key '{loc[-1]}'"
    if error["type"] == "extra_forbidden":
        return f"{setting_path(loc[:-1])}: unknown key '{loc[-1]}'"
    what = error["msg"].removeprefix("Input should be ")
    what = what if what != error["msg"] else what[:1].lower() + what[1:]
    if error["type"] != "time_zone":
        what = "expected " + what
    return f"{setting_path(loc)}: {what}, got {error['input']!r}"


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
        session_idle_minutes=float(server.session_idle_minutes),
        session_max_hours=float(server.session_max_hours),
        kiosk_checkins_per_minute=server.kiosk_checkins_per_minute,
        kiosk_checkin_burst=server.kiosk_checkin_burst,
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
        backup=file.backup.config(base_dir),
    )
    values.update(overrides)
    return Settings(**values)
