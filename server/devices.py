"""Device registry (layer 2): paired kiosks' and displays' health reports, and who is online.

A report is kept as the device's latest `health` (JSON) with `last_seen_at`; it arrives
cleaned to known fields of bounded size (server.web.inputs.DeviceHealth), because a device's
token may be stolen and its text reaches the console. "Online" means a report arrived within
`ONLINE_SECONDS` of now.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from contracts.protocol import DeviceHealth

from .store import Store

ONLINE_SECONDS = 30  # the agent reports every 10 s, so two missed reports still count as online


def record_health(store: Store, device_id: str, report: DeviceHealth, now: datetime) -> None:
    store.update_device(device_id, last_seen_at=now.isoformat(),
                        health=json.dumps(report.to_dict(), ensure_ascii=False))


def record_display_health(store: Store, device_id: str, report: dict[str, Any],
                          now: datetime) -> None:
    """A display's report (server.web.inputs.DisplayHealth, cleaned): its sound on or off."""
    store.update_device(device_id, last_seen_at=now.isoformat(),
                        health=json.dumps({"kind": "display", **report}, ensure_ascii=False))


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
