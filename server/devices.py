"""Device registry (layer 2): paired kiosks' and displays' health reports, and who is online.

A report is kept as the device's latest `health` (JSON) with `last_seen_at`; only known fields
of bounded size are kept, because a device's token may be stolen and its text reaches the
console. "Online" means a report arrived within `ONLINE_SECONDS` of now.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from contracts.protocol import DeviceHealth

from .store import Store

ONLINE_SECONDS = 30  # the agent reports every 10 s, so two missed reports still count as online
_TEXT_MAX = 200
SCANNER_STATES = frozenset({"ok", "lost", "connecting", "ended", "closed", "unknown"})
PRINTER_STATES = frozenset({"ready", "paper_near_end", "paper_out", "cover_open", "offline",
                            "unknown"})


class BadReport(ValueError):
    """A health report that is not a JSON object of the expected shape; `field` names the part."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


def _text(value: Any) -> str | None:
    return value[:_TEXT_MAX] if isinstance(value, str) else None


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _part(data: Any, name: str, states: frozenset[str]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise BadReport(name)
    state = data.get("state")
    return {
        "state": state if state in states else "unknown",
        "source": _text(data.get("source")),
        "detail": _text(data.get("detail")),
        "last_error": _text(data.get("last_error")),
    }


def clean_report(data: dict[str, Any]) -> DeviceHealth:
    """The report reduced to known fields of bounded size; BadReport if a required part is
    missing or of the wrong kind."""
    version = data.get("version")
    if not isinstance(version, str) or not version:
        raise BadReport("version")
    return DeviceHealth(
        version=version[:40],
        scanner=_part(data.get("scanner"), "scanner", SCANNER_STATES),
        printer=_part(data.get("printer"), "printer", PRINTER_STATES),
        last_scan_at=_text(data.get("last_scan_at")),
        last_checkin_at=_text(data.get("last_checkin_at")),
        held_scans=_count(data.get("held_scans")),
        print_failures=_count(data.get("print_failures")),
    )


def record_health(store: Store, device_id: str, report: DeviceHealth, now: datetime) -> None:
    store.update_device(device_id, last_seen_at=now.isoformat(),
                        health=json.dumps(report.to_dict(), ensure_ascii=False))


def _online(last_seen_at: str | None, now: datetime) -> bool:
    if not last_seen_at:
        return False
    try:
        seen = datetime.fromisoformat(last_seen_at)
    except ValueError:
        return False
    if seen.tzinfo is None or now.tzinfo is None:  # rows written before clocks carried zones
        seen, now = seen.replace(tzinfo=None), now.replace(tzinfo=None)
    return now - seen <= timedelta(seconds=ONLINE_SECONDS)


def _health(raw: str | None) -> dict[str, Any] | None:
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def listing(store: Store, now: datetime) -> list[dict[str, Any]]:
    """Every paired device with its latest health and whether it is online (admin view)."""
    return [
        {"id": r["id"], "kind": r["kind"], "name": r["name"], "paired_at": r["created_at"],
         "revoked": r["revoked_at"] is not None, "last_seen_at": r["last_seen_at"],
         "online": r["revoked_at"] is None and _online(r["last_seen_at"], now),
         "health": _health(r["health"])}
        for r in store.devices()
    ]


def kiosk_status(store: Store, now: datetime) -> list[dict[str, Any]]:
    """The kiosks' state in short, for the nurse console: no pairing data, no versions."""
    out = []
    for d in listing(store, now):
        if d["kind"] != "kiosk" or d["revoked"]:
            continue
        health = d["health"] or {}
        out.append({
            "id": d["id"], "name": d["name"], "online": d["online"],
            "last_seen_at": d["last_seen_at"],
            "scanner": (health.get("scanner") or {}).get("state"),
            "printer": (health.get("printer") or {}).get("state"),
            "printer_detail": (health.get("printer") or {}).get("detail"),
            "held_scans": health.get("held_scans", 0),
            "last_scan_at": health.get("last_scan_at"),
        })
    return out
