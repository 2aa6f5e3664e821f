"""The station's layout (layer 2): its services and counters, as the administrator sets them.

`config.toml` is the bootstrap: the first start seeds the database's layout from it; from then
on the admin pages change the database's (`StationService.configure`), and
`clinicq config export` writes it back out as TOML. A layout is kept in config.toml's own
shape — `{"services": [...], "counters": [...]}`, each entry a `[[services]]` or
`[[counters]]` table — and validated by config.toml's own models, so both say the same.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomlkit
from pydantic import ValidationError

from contracts import i18n

from .config import (
    ConfigError,
    CounterConfig,
    CounterTable,
    ServiceConfig,
    ServiceTable,
    Settings,
    layout_problems,
    setting_path,
)
from .store import Store

log = logging.getLogger(__name__)

Document = dict[str, list[dict[str, Any]]]
Parsed = tuple[dict[str, ServiceConfig], dict[str, CounterConfig]]

# pydantic's error types, as the few things an administrator is told
_KINDS = {"missing": "required", "greater_than_equal": "too_small",
          "greater_than": "too_small", "string_pattern_mismatch": "bad_clock",
          "extra_forbidden": "unknown_key", "string_too_short": "required"}


class LayoutInvalid(Exception):
    """The layout is refused; `fields` says, per setting, what is wrong (in both languages)."""

    def __init__(self, fields: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(fields)} settings refused")
        self.fields = fields


def service_table(service: ServiceConfig) -> dict[str, Any]:
    r = service.rules
    return {
        "code": r.code, "prefix": r.prefix, "name": service.name, "name_en": service.name_en,
        "walkins": r.walkins, "booked_per_walkin": r.booked_per_walkin,
        "grace_minutes": r.grace_minutes, "early_minutes": r.early_minutes,
        "early_policy": r.early_policy, "late_policy": r.late_policy,
        "recall_limit": r.recall_limit,
        "default_service_minutes": _number(r.default_service_minutes),
        "number_width": r.number_width, "stages": list(r.stages),
        "observation_minutes": r.observation_minutes,
        "reaction_extend_minutes": r.reaction_extend_minutes,
        "opens": f"{r.opens:%H:%M}" if r.opens else "",
        "closes": f"{r.closes:%H:%M}" if r.closes else "",
        "walkin_capacity": r.walkin_capacity,
    }


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def counter_table(counter: CounterConfig) -> dict[str, Any]:
    return {"id": counter.id, "name": counter.name, "name_en": counter.name_en,
            "services": list(counter.services), "stages": list(counter.stages),
            "spoken": counter.spoken}


def document(services: Mapping[str, ServiceConfig],
             counters: Mapping[str, CounterConfig]) -> Document:
    return {"services": [service_table(s) for s in services.values()],
            "counters": [counter_table(c) for c in counters.values()]}


def _field(where: tuple[int | str, ...], code: str, subject: str,
           params: dict[str, Any]) -> dict[str, Any]:
    words = i18n.both(f"setting.{code}", **params)
    return {"field": str(where[-1]), "where": setting_path(where), "subject": subject,
            "code": code, **words}


def validate(doc: Mapping[str, Any]) -> Parsed:
    """The services and counters of `doc`, or LayoutInvalid naming every setting refused."""
    problems: list[dict[str, Any]] = []
    parsed: dict[str, list[Any]] = {"services": [], "counters": []}
    for part, model, key in (("services", ServiceTable, "code"),
                             ("counters", CounterTable, "id")):
        entries = doc.get(part)
        if not isinstance(entries, list):
            problems.append(_field((part,), "invalid", "", {}))
            continue
        for i, entry in enumerate(entries):
            subject = str(entry.get(key, "")) if isinstance(entry, dict) else ""
            try:
                parsed[part].append(model.model_validate(entry))
            except ValidationError as err:
                for e in err.errors(include_url=False):
                    name = next((p for p in e["loc"] if isinstance(p, str)), key)
                    limit = (e.get("ctx") or {}).get("ge", (e.get("ctx") or {}).get("gt", 0))
                    problems.append(_field((part, i, name), _KINDS.get(e["type"], "invalid"),
                                           subject, {"limit": limit}))
            except ConfigError as err:
                problems.append(_field((part, i, err.field), err.code, subject, err.params))
    if not problems:
        services, counters = parsed["services"], parsed["counters"]
        for p in layout_problems(services, counters):
            entries = services if p.where[0] == "services" else counters
            subject = getattr(entries[int(p.where[1])], "code" if entries is services else "id")
            problems.append(_field(p.where, p.code, subject, p.params))
    if problems:
        raise LayoutInvalid(problems)
    return ({s.code: s.config() for s in parsed["services"]},
            {c.id: c.config() for c in parsed["counters"]})


def bootstrap(settings: Settings, store: Store) -> None:
    """Seed the database's layout from config.toml on the first start; from then on use the
    database's, saying so when config.toml's differs."""
    mine = document(settings.services, settings.counters)
    saved = store.layout()
    if saved is None:  # not a change anyone made: no row in the ledger
        store.set_meta("layout", json.dumps(mine, ensure_ascii=False))
        return
    try:
        services, counters = validate(saved)
    except LayoutInvalid as err:  # a layout written by an older version this one refuses
        log.error("the saved layout is refused (%s); using config.toml's", err.fields)
        return
    if saved != mine:
        log.warning("the services and counters set on the admin pages are used, not "
                    "config.toml's; `clinicq config export` writes them to config.toml")
    settings.services.replace(services)  # type: ignore[attr-defined]
    settings.counters.replace(counters)  # type: ignore[attr-defined]


def _merge(tables: Any, entries: list[dict[str, Any]], key: str) -> Any:
    """`tables` (an array of tables read from the file) made `entries`, in place: a table that
    stays is changed key by key, keeping its comments; gone ones are dropped, new appended."""
    if not isinstance(tables, tomlkit.items.AoT):
        tables = tomlkit.aot()
    wanted = {entry[key]: entry for entry in entries}
    for i in reversed(range(len(tables))):
        if tables[i].get(key) not in wanted:
            del tables[i]
    have = {table.get(key): table for table in tables}
    for entry in entries:
        table = have.get(entry[key])
        if table is None:
            table = tomlkit.table()
            tables.append(table)
            table = tables[-1]
        for name in [k for k in table if k not in entry]:
            del table[name]
        for name, value in entry.items():
            if table.get(name) != value:
                table[name] = value
    return tables


def export_toml(doc: Document, config_text: str) -> str:
    """`config_text` (config.toml) with its [[services]] and [[counters]] made `doc`'s, every
    other table and comment kept."""
    toml = tomlkit.parse(config_text)
    for part, key in (("services", "code"), ("counters", "id")):
        toml[part] = _merge(toml.get(part), doc[part], key)
    return tomlkit.dumps(toml)


def export_file(store: Store, config_path: Path) -> str:
    doc = store.layout()
    text = config_path.read_text(encoding="utf-8")
    return text if doc is None else export_toml(doc, text)


__all__ = ["LayoutInvalid", "bootstrap", "document", "export_file", "export_toml",
           "validate"]
