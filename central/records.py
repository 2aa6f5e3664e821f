"""A resident's visit and vaccination records, folded from the station events stored about
their bookings (docs/sync.md "How the platform applies events"); pure, no I/O (central
domain).

Folding on read keeps one truth, the stored events: an event that arrives late or out of
order lands in its place by `seq`, and nothing needs rebuilding.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

VACCINATION_FIELDS = ("product", "name", "maker", "lot", "expires", "dose", "site", "route",
                      "nurse", "at", "trace_code")


def fold(events: Iterable[tuple[str, dict[str, Any]]],
         station_names: dict[str, str]) -> dict[str, Any]:
    """`events` are (station, event) in each station's `seq` order."""
    visits: dict[tuple[str, str], dict[str, Any]] = {}
    vaccinations: dict[tuple[str, str], dict[str, Any]] = {}
    for station, event in events:
        ticket = event.get("ticket") or {}
        key = (station, str(ticket.get("id")))
        visit = visits.get(key)
        if visit is None:
            visit = visits[key] = {
                "station": station, "station_name": station_names.get(station, station),
                "booking_id": ticket.get("booking_id"), "ticket": ticket.get("number"),
                "service": ticket.get("service"), "checked_in": None, "called": None,
                "started": None, "completed": None, "counter": None, "status": None}
        kind, at = event.get("type"), event.get("at")
        visit["status"] = ticket.get("status") or visit["status"]
        if kind == "ticket.issued" and visit["checked_in"] is None:
            visit["checked_in"] = at
        elif kind == "ticket.called" and visit["called"] is None:
            visit["called"] = at
            visit["counter"] = event.get("counter") or visit["counter"]
        elif kind == "ticket.started":
            visit["started"] = at
            visit["counter"] = event.get("counter") or visit["counter"]
        elif kind == "ticket.completed":
            visit["completed"] = at
        elif kind == "vaccination.recorded":
            detail = event.get("detail") or {}
            vaccinations[key] = {
                "station": station, "station_name": visit["station_name"],
                "booking_id": visit["booking_id"],
                **{name: detail.get(name) for name in VACCINATION_FIELDS},
                "at": detail.get("at") or at, "observation": {"outcome": "observing"}}
        elif kind in ("observation.released", "observation.left_early",
                      "observation.reaction") and key in vaccinations:
            _observe(vaccinations[key]["observation"], kind, event)
    ordered = sorted(visits.values(), key=lambda v: (v["checked_in"] or "", v["station"]))
    return {"visits": ordered,
            "vaccinations": sorted(vaccinations.values(), key=lambda v: str(v["at"] or ""))}


def _observe(observation: dict[str, Any], kind: str, event: dict[str, Any]) -> None:
    """A reaction stays the outcome once recorded; otherwise the last word wins."""
    if kind == "observation.reaction":
        observation["outcome"] = "reaction"
        observation.setdefault("reactions", []).append(
            {"at": event.get("at"), **(event.get("detail") or {})})
        return
    outcome = "released" if kind == "observation.released" else "left_early"
    observation["ended_at"] = event.get("at")
    if observation["outcome"] != "reaction":
        observation["outcome"] = outcome
    else:
        observation["ended"] = outcome
