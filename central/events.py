"""Data access for station events: storing a batch once per id, applying it to bookings,
reconciliation over what is stored, and residents' records built from the events; storage
layer, part of central.store.Store (the only modules that talk SQL).

A batch is one transaction: `INSERT … ON CONFLICT DO NOTHING` of its well-formed events, then
the ids the insert did not take are compared by hash with what is stored (duplicate or
conflict). Several worker processes may ingest the same ids at once: the unique key decides,
never a check before the insert. Booking status moves only forwards in the station's `seq`:
the UPDATE carries the condition `applied_seq < seq`, so concurrent batches cannot undo each
other either.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from central import schema as t
from central.wire import Incoming, check_event, result
from contracts import syncwire


class EventsStore:
    """The event half of the platform's store (mixed into central.store.Store)."""

    engine: sa.Engine

    def ingest(self, station_id: str, raw_events: Sequence[Any], now: int
               ) -> list[dict[str, Any]]:
        """Store and apply a batch; one result per event, in order (docs/sync.md)."""
        checked = [check_event(raw) for raw in raw_events]
        with self.engine.begin() as conn:
            owners = self._booking_owners(conn, {e.booking_id for e in checked
                                                 if e.reason is None and e.booking_id})
            outcome: list[tuple[str, str | None]] = []
            first: dict[str, Incoming] = {}  # the first well-formed event of each id
            for event in checked:
                if event.reason is not None:
                    outcome.append(("rejected", event.reason))
                elif event.booking_id in owners and owners[event.booking_id] != station_id:
                    outcome.append(("rejected", "booking of another station"))
                else:
                    first.setdefault(event.event_id, event)
                    outcome.append(("", None))
            stored = self._insert_new(conn, station_id, list(first.values()), now)
            known = self._hashes(conn, station_id, [i for i in first if i not in stored])
            results, conflicts, taken = [], [], set()
            for event, (verdict, reason) in zip(checked, outcome, strict=True):
                if not verdict:
                    if event.event_id in stored and event.event_id not in taken \
                            and first[event.event_id] is event:
                        verdict = "stored"
                        taken.add(event.event_id)
                    else:
                        original = (first[event.event_id].sha256 if event.event_id in stored
                                    else known.get(event.event_id))
                        verdict = "duplicate" if original == event.sha256 else "conflict"
                        if verdict == "conflict":
                            conflicts.append(event)
                results.append(result(event, verdict, reason))
            self._keep_conflicts(conn, station_id, conflicts, now)
            self._apply(conn, station_id, [first[i] for i in stored], owners, now)
        return results

    def _booking_owners(self, conn: Connection, ids: set[str | None]) -> dict[str, str]:
        if not ids:
            return {}
        b = t.bookings.c
        rows = conn.execute(sa.select(b.id, b.station_id).where(b.id.in_(sorted(ids)))).all()
        return {row.id: row.station_id for row in rows}

    def _insert_new(self, conn: Connection, station_id: str, events: list[Incoming],
                    now: int) -> set[str]:
        """Insert what is new; returns the ids this transaction stored."""
        if not events:
            return set()
        rows = [{"station_id": station_id, "event_id": e.event_id, "seq": e.seq,
                 "type": e.type, "day": e.day, "booking_id": e.booking_id,
                 "sha256": e.sha256, "body": e.body, "received_at": now} for e in events]
        insert = t.dialect_insert(conn, t.events).on_conflict_do_nothing(
            index_elements=["station_id", "event_id"]).returning(t.events.c.event_id)
        return set(conn.execute(insert, rows).scalars())

    def _hashes(self, conn: Connection, station_id: str, ids: list[str]) -> dict[str, str]:
        if not ids:
            return {}
        e = t.events.c
        rows = conn.execute(sa.select(e.event_id, e.sha256).where(
            e.station_id == station_id, e.event_id.in_(ids))).all()
        return {row.event_id: row.sha256 for row in rows}

    def _keep_conflicts(self, conn: Connection, station_id: str, events: list[Incoming],
                        now: int) -> None:
        if not events:
            return
        insert = t.dialect_insert(conn, t.event_conflicts).on_conflict_do_nothing(
            index_elements=["station_id", "event_id", "sha256"])
        conn.execute(insert, [{"station_id": station_id, "event_id": e.event_id,
                               "sha256": e.sha256, "seq": e.seq, "body": e.body,
                               "received_at": now} for e in events])

    def _apply(self, conn: Connection, station_id: str, events: list[Incoming],
               owners: dict[str, str], now: int) -> None:
        """Each booking takes the status of its latest event here, if that is later than the
        last one applied."""
        latest: dict[str, Incoming] = {}
        for event in events:
            if event.status is None or owners.get(event.booking_id or "") != station_id:
                continue
            held = latest.get(event.booking_id or "")
            if held is None or event.seq > held.seq:
                latest[event.booking_id or ""] = event
        if not latest:
            return
        b = t.bookings.c
        update = sa.update(t.bookings).where(
            b.id == sa.bindparam("b_id"), b.station_id == station_id,
            sa.or_(b.applied_seq.is_(None), b.applied_seq < sa.bindparam("b_seq")),
        ).values(status=sa.bindparam("b_status"), stage=sa.bindparam("b_stage"),
                 applied_seq=sa.bindparam("b_seq"), updated_at=now)
        conn.execute(update, [{"b_id": booking, "b_seq": e.seq, "b_status": e.status,
                               "b_stage": e.stage} for booking, e in sorted(latest.items())])

    # -- reading -----------------------------------------------------------------------------

    def reconciliation(self, station_id: str, day: str, *, with_items: bool = False
                       ) -> dict[str, Any]:
        e = t.events.c
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(e.seq, e.event_id, e.sha256).where(
                e.station_id == station_id, e.day == day)).all()
        return syncwire.reconciliation([(r.seq, r.event_id, r.sha256) for r in rows], day,
                                       with_items=with_items)

    def event_counts(self, station_id: str) -> dict[str, int]:
        with self.engine.connect() as conn:
            stored = conn.execute(sa.select(sa.func.count()).select_from(t.events).where(
                t.events.c.station_id == station_id)).scalar_one()
            conflicts = conn.execute(sa.select(sa.func.count()).select_from(
                t.event_conflicts).where(t.event_conflicts.c.station_id == station_id)
            ).scalar_one()
        return {"events": int(stored), "conflicts": int(conflicts)}

    def conflicts(self, station_id: str) -> list[dict[str, Any]]:
        c = t.event_conflicts.c
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(c.event_id, c.seq, c.sha256, c.received_at).where(
                c.station_id == station_id).order_by(c.received_at, c.event_id)).mappings()
            return [dict(r) for r in rows]

    def resident_events(self, resident_id: int) -> list[tuple[str, dict[str, Any]]]:
        """(station, event) of every stored event about this resident's bookings, in each
        station's order."""
        e, b = t.events, t.bookings
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(e.c.station_id, e.c.body).select_from(
                e.join(b, sa.and_(b.c.id == e.c.booking_id, b.c.station_id == e.c.station_id))
            ).where(b.c.resident_id == resident_id).order_by(e.c.station_id, e.c.seq)).all()
        return [(row.station_id, json.loads(row.body)) for row in rows]
