"""Device alerts (layer 2): a kiosk whose printer is out of paper (or its cover open), whose
scanner is lost, or that has gone silent for a minute raises an alert on every console; its
end is said too. Checked every few seconds from the devices' last health reports.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from . import devices
from .store import Store

log = logging.getLogger(__name__)

SILENT = timedelta(seconds=60)
PRINTER_ALERTS = frozenset({"paper_out", "cover_open", "offline"})

Notify = Callable[[dict[str, Any]], None]


def problems(store: Store, now: datetime) -> dict[tuple[str, str], dict[str, Any]]:
    """(device id, problem) -> what the console shows, for every kiosk now in trouble."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for d in devices.listing(store, now):
        if d["kind"] != "kiosk" or d["revoked"]:
            continue
        seen = d["last_seen_at"]
        base = {"device": d["id"], "name": d["name"], "last_seen_at": seen}
        if seen is None:
            continue  # never reported: paired but not set up yet, not "gone"
        if now - datetime.fromisoformat(seen) > SILENT:
            out[(d["id"], "silent")] = {**base, "problem": "silent"}
            continue  # what it said last is old news
        health = d["health"] or {}
        printer = (health.get("printer") or {}).get("state")
        if printer in PRINTER_ALERTS:
            out[(d["id"], "printer")] = {**base, "problem": f"printer_{printer}"}
        if (health.get("scanner") or {}).get("state") == "lost":
            out[(d["id"], "scanner")] = {**base, "problem": "scanner_lost"}
    return out


class DeviceWatch:
    """Tells `notify` each alert once when it begins (`active: true`) and once when it ends."""

    def __init__(self, store: Store, clock: Callable[[], datetime], notify: Notify) -> None:
        self.store = store
        self.clock = clock
        self.notify = notify
        self.active: dict[tuple[str, str], dict[str, Any]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self) -> list[dict[str, Any]]:
        now = self.clock()
        current = problems(self.store, now)
        told = []
        for key, alert in current.items():
            if self.active.get(key, {}).get("problem") != alert["problem"]:
                told.append({**alert, "active": True, "at": now.isoformat()})
        for key, alert in self.active.items():
            if key not in current:
                told.append({**alert, "active": False, "at": now.isoformat()})
        self.active = current
        for message in told:
            self.notify(message)
        return told

    def start(self, interval: float = 5.0) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(interval,),
                                        name="clinicq-device-watch", daemon=True)
        self._thread.start()

    def _run(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.check()
            except Exception:  # the watch must outlive one bad round
                log.exception("checking the devices failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
