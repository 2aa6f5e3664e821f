"""Data access of the reference central platform: the only module that talks SQL; storage layer.

The caller hands in a database URL (SQLite file or `postgresql+psycopg://`);
every multi-row change runs in one transaction. Times are unix seconds.
"""

from __future__ import annotations

import fcntl
import hmac
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import Connection

from central import schema as t
from central.errors import CentralError
from central.events import EventsStore
from central.inputs import NewBooking, VaccineProduct, hhmm
from central.records import fold
from central.stations import StationsStore
from contracts.bookingcode import (
    MAX_DAYS_AHEAD,
    BookingClaims,
    KeyInfo,
    public_key_bytes,
    sign_booking,
)
from contracts.names import mask_name

_ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
_KID_RE = re.compile(r"[A-Za-z0-9]{1,4}")
ELDERLY_AGE = 75
STATUSES = ("booked", "checked_in", "called", "serving", "observing", "completed", "no_show",
            "cancelled", "deferred")
STARTUP_LOCK = 0x636C_6E71  # PostgreSQL advisory lock key: one process migrates and seeds


@dataclass(frozen=True)
class BookingChanges:
    """A station's bookings changed after a cursor, as the platform's store reads them; the
    station receives them as one page of its booking feed (server/platform.py's FeedPage)."""

    bookings: list[dict[str, Any]]
    next_cursor: int
    has_more: bool


class Store(StationsStore, EventsStore):
    """Stations, services, residents, bookings, the vaccine catalog, signing keys, and (from
    the mixins) station tokens, heartbeats and station events."""

    def __init__(self, url: str, *, tz: tzinfo | None = None) -> None:
        kwargs: dict[str, Any] = {}
        if url.startswith("sqlite"):
            # Threads of the web server share the file; wait on a busy writer.
            kwargs["connect_args"] = {"timeout": 15, "check_same_thread": False}
        self.engine = sa.create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            sa.event.listen(self.engine, "begin", _sqlite_begin)
        self.tz = tz  # the stations' local time; None means this machine's

    def close(self) -> None:
        self.engine.dispose()

    def migrate(self, now: int) -> list[str]:
        return t.migrate(self.engine, now)

    @contextmanager
    def startup_lock(self) -> Iterator[None]:
        """Held while migrating and seeding, so that worker processes starting at once take
        turns: a PostgreSQL advisory lock, or a lock file beside a SQLite database."""
        if self.engine.dialect.name == "postgresql":
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": STARTUP_LOCK})
                conn.commit()
                try:
                    yield
                finally:
                    conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": STARTUP_LOCK})
                    conn.commit()
            return
        database = self.engine.url.database
        if not database or database == ":memory:":
            yield
            return
        with open(f"{database}.startup-lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    # -- vaccines ------------------------------------------------------------------

    def put_vaccine(self, product: VaccineProduct) -> bool:
        """Add or replace a product and its lots, in one transaction; True when it is new.

        A trace prefix names one product: another product's prefix is `trace_prefix_taken`.
        """
        v = t.vaccines.c
        values = {"name": product.name, "name_en": product.name_en,
                  "manufacturer": product.maker, "doses": product.doses,
                  "interval_days": product.interval_days, "trace_prefix": product.trace_prefix,
                  "observation_minutes": product.observation_minutes}
        with self._tx() as conn:
            holder = conn.execute(sa.select(v.code).where(
                v.trace_prefix == product.trace_prefix, v.code != product.code)).scalar()
            if holder is not None:
                raise CentralError("trace_prefix_taken", prefix=product.trace_prefix,
                                   product=holder)
            new = conn.execute(sa.select(v.code).where(v.code == product.code)).first() is None
            if new:
                conn.execute(sa.insert(t.vaccines).values(code=product.code, **values))
            else:
                conn.execute(sa.update(t.vaccines).where(v.code == product.code).values(**values))
            conn.execute(sa.delete(t.vaccine_lots).where(
                t.vaccine_lots.c.vaccine_code == product.code))
            if product.lots:
                conn.execute(sa.insert(t.vaccine_lots), [
                    {"vaccine_code": product.code, "lot": lot.lot, "expires": lot.expires,
                     "serial_from": lot.serials[0], "serial_to": lot.serials[1]}
                    for lot in product.lots])
        return new

    def vaccines(self, *, complete: bool = True) -> list[dict[str, Any]]:
        """The catalog as `GET /api/v1/vaccines` carries it, by product code; `complete=False`
        also lists products without a trace prefix (made before the catalog had them)."""
        v, lots = t.vaccines, t.vaccine_lots
        query = sa.select(v).order_by(v.c.code)
        if complete:
            query = query.where(v.c.trace_prefix.is_not(None))
        with self.engine.connect() as conn:
            products = conn.execute(query).mappings().all()
            by_product: dict[str, list[dict[str, Any]]] = {}
            for lot in conn.execute(sa.select(lots).order_by(
                    lots.c.vaccine_code, lots.c.expires, lots.c.lot)).mappings():
                by_product.setdefault(lot["vaccine_code"], []).append({
                    "lot": lot["lot"], "expires": lot["expires"].isoformat(),
                    "serials": [lot["serial_from"], lot["serial_to"]]})
        return [{"code": p["code"], "name": p["name"], "name_en": p["name_en"],
                 "maker": p["manufacturer"], "doses": p["doses"],
                 "interval_days": p["interval_days"], "trace_prefix": p["trace_prefix"],
                 "observation_minutes": p["observation_minutes"],
                 "lots": by_product.get(p["code"], [])} for p in products]

    # -- signing keys --------------------------------------------------------

    def rotate_key(self, kid: str, seed: bytes, now: int) -> None:
        """Make a new key the signing key; retire the active one in the same transaction.

        A retired key stays published with `verify_until` = the latest expiry
        of any code it signed, so every code already issued keeps verifying.
        """
        if not _KID_RE.fullmatch(kid) or len(seed) != 32:
            raise ValueError("key ids are 1-4 ASCII letters or digits; seeds are 32 bytes")
        private = Ed25519PrivateKey.from_private_bytes(seed)
        keys = t.signing_keys
        with self._tx() as conn:
            if conn.execute(sa.select(keys.c.kid).where(keys.c.kid == kid)).first():
                raise CentralError("key_exists", kid=kid)
            for (old,) in conn.execute(sa.select(keys.c.kid).where(keys.c.retired_at.is_(None))):
                latest = conn.execute(sa.select(sa.func.max(t.bookings.c.expires)).where(
                    t.bookings.c.key_id == old)).scalar()
                conn.execute(sa.update(keys).where(keys.c.kid == old).values(
                    retired_at=now, verify_until=max(latest or now, now)))
            conn.execute(sa.insert(keys).values(
                kid=kid, private_seed=seed, public_key=public_key_bytes(private),
                created_at=now, retired_at=None, verify_until=None))

    def public_keys(self, now: int) -> list[KeyInfo]:
        """Keys that can still verify a valid code: active ones and retired ones not yet past."""
        keys = t.signing_keys
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(keys).where(sa.or_(
                keys.c.verify_until.is_(None), keys.c.verify_until >= now)
            ).order_by(keys.c.created_at.desc(), keys.c.kid)).mappings().all()
        return [KeyInfo(r["kid"], bytes(r["public_key"]), r["created_at"], r["retired_at"],
                        r["verify_until"]) for r in rows]

    def _signing_key(self, conn: Connection) -> tuple[str, Ed25519PrivateKey]:
        keys = t.signing_keys
        row = conn.execute(sa.select(keys.c.kid, keys.c.private_seed).where(
            keys.c.retired_at.is_(None)).order_by(keys.c.created_at.desc())).first()
        if row is None:
            raise CentralError("no_signing_key")
        return row.kid, Ed25519PrivateKey.from_private_bytes(bytes(row.private_seed))

    # -- bookings ------------------------------------------------------------

    def _next_change(self, conn: Connection) -> int:
        counter = t.counters.c
        conn.execute(sa.update(t.counters).where(counter.name == "booking_change").values(
            value=counter.value + 1))
        return int(conn.execute(sa.select(counter.value).where(
            counter.name == "booking_change")).scalar_one())

    def local_today(self, now: int) -> date:
        return datetime.fromtimestamp(now, self.tz).date() if self.tz else (
            datetime.fromtimestamp(now).date())

    def _end_of_day(self, day: date) -> int:
        midnight = datetime.combine(day + timedelta(days=1), time(0))
        return int((midnight.replace(tzinfo=self.tz) if self.tz else midnight).timestamp())

    def create_booking(self, new: NewBooking, now: int, *,
                       booking_id: str | None = None) -> dict[str, Any]:
        today = self.local_today(now)
        if not today <= new.day <= today + timedelta(days=MAX_DAYS_AHEAD):
            raise CentralError("field_invalid", field="day",
                               why=f"from today to {MAX_DAYS_AHEAD} days ahead")
        with self._tx() as conn:
            return self.create_booking_in(conn, new, now, booking_id=booking_id)

    def create_booking_in(self, conn: Connection, new: NewBooking, now: int, *,
                          booking_id: str | None = None) -> dict[str, Any]:
        """create_booking inside the caller's transaction; its change number is taken under
        the counter's row lock, held until that transaction ends (see schema.counters).
        `booking_id`: the id to give it (the demo's, `contracts.demo`); a new random one if
        None."""
        self._check_booking_refs(conn, new)
        resident_id = self._resident(conn, new, now)
        if new.priority is not None:
            priority = new.priority
        else:
            priority = new.birth_year is not None and (
                new.day.year - new.birth_year >= ELDERLY_AGE)
        booking_id = booking_id or self._new_id(conn)
        kid, private = self._signing_key(conn)
        claims = BookingClaims(
            booking_id, new.station, new.service, new.day, new.slot_start, new.slot_end,
            self._end_of_day(new.day), mask_name(new.name), priority)
        token = sign_booking(claims, private, kid)
        conn.execute(sa.insert(t.bookings).values(
            id=booking_id, station_id=new.station, service=new.service, day=new.day,
            slot_start=new.slot_start, slot_end=new.slot_end, resident_id=resident_id,
            priority=priority, vaccine_code=new.vaccine_product,
            vaccine_dose=new.vaccine_dose, status="booked", key_id=kid, token=token,
            expires=claims.expires, created_at=now, updated_at=now,
            change_seq=self._next_change(conn)))
        return self._booking(conn, booking_id)

    def _check_booking_refs(self, conn: Connection, new: NewBooking) -> None:
        if conn.execute(sa.select(t.stations.c.id).where(
                t.stations.c.id == new.station)).first() is None:
            raise CentralError("station_unknown", station=new.station)
        kind = conn.execute(sa.select(t.services.c.kind).where(
            t.services.c.station_id == new.station, t.services.c.code == new.service)).scalar()
        if kind is None:
            raise CentralError("service_unknown", station=new.station, service=new.service)
        if kind == "vaccination" and new.vaccine_product is None:
            raise CentralError("field_missing", field="vaccine")
        if kind != "vaccination" and new.vaccine_product is not None:
            raise CentralError("field_invalid", field="vaccine", why="only for vaccinations")
        if new.vaccine_product is not None:
            doses = conn.execute(sa.select(t.vaccines.c.doses).where(
                t.vaccines.c.code == new.vaccine_product)).scalar()
            if doses is None:
                raise CentralError("vaccine_unknown", product=new.vaccine_product)
            if new.vaccine_dose is not None and new.vaccine_dose > doses:
                raise CentralError("field_invalid", field="vaccine.dose",
                                   why=f"this vaccine has {doses} doses")

    def _resident(self, conn: Connection, new: NewBooking, now: int) -> int:
        r = t.residents.c
        found = conn.execute(sa.select(r.id).where(
            r.phone == new.phone, r.name == new.name)).scalar()
        if found is not None:
            if new.birth_year is not None:
                conn.execute(sa.update(t.residents).where(r.id == found).values(
                    birth_year=new.birth_year))
            return int(found)
        # two workers booking for the same new resident at once: the unique key decides
        created = conn.execute(t.dialect_insert(conn, t.residents).values(
            name=new.name, phone=new.phone, birth_year=new.birth_year, created_at=now,
            link_key=secrets.token_urlsafe(16),
        ).on_conflict_do_nothing(index_elements=["phone", "name"]).returning(r.id)).scalar()
        if created is None:
            created = conn.execute(sa.select(r.id).where(
                r.phone == new.phone, r.name == new.name)).scalar_one()
        return int(created)

    def _new_id(self, conn: Connection) -> str:
        while True:
            candidate = "".join(secrets.choice(_ID_ALPHABET) for _ in range(10))
            if conn.execute(sa.select(t.bookings.c.id).where(
                    t.bookings.c.id == candidate)).first() is None:
                return candidate

    def booking(self, booking_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            rows = self._select_bookings(conn, t.bookings.c.id == booking_id)
        return rows[0] if rows else None

    def _booking(self, conn: Connection, booking_id: str) -> dict[str, Any]:
        return self._select_bookings(conn, t.bookings.c.id == booking_id)[0]

    def cancel_booking(self, booking_id: str, now: int) -> dict[str, Any]:
        """Cancel once; cancelling again returns the booking unchanged (no new feed entry)."""
        b = t.bookings.c
        with self._tx() as conn:
            status = conn.execute(sa.select(b.status).where(b.id == booking_id)).scalar()
            if status is None:
                raise CentralError("booking_not_found", id=booking_id)
            if status not in ("booked", "cancelled"):
                raise CentralError("booking_not_cancellable", status=status)
            if status == "booked":
                conn.execute(sa.update(t.bookings).where(b.id == booking_id).values(
                    status="cancelled", updated_at=now, change_seq=self._next_change(conn)))
            return self._booking(conn, booking_id)

    def feed(self, station_id: str, after: int, limit: int) -> BookingChanges:
        """Bookings of a station changed after cursor `after`, oldest change first.

        A booking appears once, at its latest change; reading the same cursor
        again gives the same page until something changes.
        """
        b = t.bookings.c
        with self.engine.connect() as conn:
            rows = self._select_bookings(
                conn, sa.and_(b.station_id == station_id, b.change_seq > after),
                order=b.change_seq, limit=limit + 1)
        page = rows[:limit]
        next_cursor = page[-1]["cursor"] if page else after
        return BookingChanges(page, int(next_cursor), len(rows) > limit)

    def resident_records(self, resident_id: int, key: str | None) -> dict[str, Any]:
        """The visit and vaccination records of a resident; `key` is their link's secret, or
        None when an administrator asks."""
        r = t.residents.c
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(r.id, r.name, r.link_key).where(
                r.id == resident_id)).first()
            names = dict(conn.execute(sa.select(t.stations.c.id, t.stations.c.name)).all())
        if row is None or (key is not None and not (
                row.link_key and hmac.compare_digest(row.link_key.encode(), key.encode()))):
            raise CentralError("resident_not_found")
        return {"resident": {"id": row.id, "name_masked": mask_name(row.name)},
                **fold(self.resident_events(resident_id), names)}

    def bookings_for_day(self, station_id: str, day: date) -> list[dict[str, Any]]:
        b = t.bookings.c
        with self.engine.connect() as conn:
            return self._select_bookings(conn, sa.and_(b.station_id == station_id, b.day == day),
                                         order=(b.slot_start, b.service, b.id))

    def _select_bookings(self, conn: Connection, where: Any, order: Any = None,
                         limit: int | None = None) -> list[dict[str, Any]]:
        b, r, v = t.bookings, t.residents, t.vaccines
        query = sa.select(
            b, r.c.name.label("resident_name"), r.c.phone.label("resident_phone"),
            r.c.birth_year.label("resident_birth_year"), r.c.link_key.label("resident_key"),
            v.c.name.label("vaccine_name"),
        ).select_from(b.join(r, b.c.resident_id == r.c.id).outerjoin(
            v, b.c.vaccine_code == v.c.code)).where(where)
        if order is not None:
            query = query.order_by(*(order if isinstance(order, tuple) else (order,)))
        if limit is not None:
            query = query.limit(limit)
        return [_booking_dict(row) for row in conn.execute(query).mappings()]


def _booking_dict(row: Any) -> dict[str, Any]:
    vaccine = None
    if row["vaccine_code"] is not None:
        vaccine = {"product": row["vaccine_code"], "name": row["vaccine_name"],
                   "dose": row["vaccine_dose"]}
    return {
        "id": row["id"], "station": row["station_id"], "service": row["service"],
        "day": row["day"].isoformat(),
        "slot": {"start": hhmm(row["slot_start"]), "end": hhmm(row["slot_end"])},
        "status": row["status"], "priority": bool(row["priority"]), "vaccine": vaccine,
        "token": row["token"], "key_id": row["key_id"], "expires": row["expires"],
        "created_at": row["created_at"], "updated_at": row["updated_at"],
        "cursor": str(row["change_seq"]), "stage": row["stage"],
        "resident": {"id": row["resident_id"], "name": row["resident_name"],
                     "phone": row["resident_phone"], "birth_year": row["resident_birth_year"],
                     "link_key": row["resident_key"]},
        "name_masked": mask_name(row["resident_name"]),
        "phone_last4": row["resident_phone"][-4:],
    }


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event own transactions (see _sqlite_begin).
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # IMMEDIATE takes the write lock up front: a read-then-write transaction
    # then waits for a busy writer instead of failing on a stale snapshot.
    conn.exec_driver_sql("BEGIN IMMEDIATE")
