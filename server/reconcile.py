"""Reconciliation (layer 3): the station's day of events digested as docs/sync.md says, and
its comparison with the platform's answer (`clinicq sync reconcile`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contracts.syncwire import event_sha256, reconciliation

from .store import Store


def station_reconciliation(store: Store, day: str, *, with_items: bool = False
                           ) -> dict[str, Any]:
    items = ((e["seq"], e["id"], event_sha256(e)) for e in store.day_events(day))
    return reconciliation(items, day, with_items=with_items)


@dataclass
class Differences:
    """What one side has that the other has not, or has otherwise."""

    day: str
    station: dict[str, Any]
    platform: dict[str, Any]
    missing_on_platform: list[dict[str, Any]] = field(default_factory=list)
    only_on_platform: list[dict[str, Any]] = field(default_factory=list)
    differing: list[dict[str, Any]] = field(default_factory=list)

    @property
    def match(self) -> bool:
        return (self.station["digest"] == self.platform["digest"]
                and self.station["events"] == self.platform["events"])

    def lines(self) -> list[str]:
        head = (f"{self.day}: station {self.station['events']} events "
                f"{self.station['digest'][:16]}…, platform {self.platform['events']} events "
                f"{self.platform['digest'][:16]}…: "
                + ("match" if self.match else "DIFFER"))
        out = [head]
        out += [f"  not at the platform: seq {i['seq']} id {i['id']}"
                for i in self.missing_on_platform]
        out += [f"  only at the platform: seq {i['seq']} id {i['id']}"
                for i in self.only_on_platform]
        out += [f"  content differs: seq {i['seq']} id {i['id']}" for i in self.differing]
        return out


def compare(day: str, station: dict[str, Any], platform: dict[str, Any]) -> Differences:
    """Both answers with `items`; what differs, event by event (keyed by event id)."""
    ours = {i["id"]: i for i in station.get("items", [])}
    theirs = {i["id"]: i for i in platform.get("items", []) if isinstance(i, dict) and "id" in i}
    diff = Differences(day, station, platform)
    for eid, item in ours.items():
        other = theirs.get(eid)
        if other is None:
            diff.missing_on_platform.append(item)
        elif other.get("sha256") != item["sha256"] or other.get("seq") != item["seq"]:
            diff.differing.append(item)
    diff.only_on_platform = [i for eid, i in theirs.items() if eid not in ours]
    return diff
