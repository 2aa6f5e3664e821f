"""Tables and named migrations of the reference central platform; storage layer (SQLAlchemy Core).

One schema serves SQLite and PostgreSQL. Times are unix seconds (BigInteger)
so both engines store and compare them the same way; booking days are DATEs.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

metadata = sa.MetaData()

migrations_table = sa.Table(
    "central_migrations", metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("applied_at", sa.BigInteger, nullable=False),
)

# One row per named sequence. Allocating by UPDATE takes a row lock that is
# held until commit, so change cursors become visible in increasing order
# (a feed reader can never skip a cursor that commits later).
counters = sa.Table(
    "counters", metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)

stations = sa.Table(
    "stations", metadata,
    sa.Column("id", sa.String(12), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    # the token the station was registered with; m003 copied it into station_tokens, which is
    # what the platform checks since (a token can be revoked there)
    sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("lat", sa.Float, nullable=True),
    sa.Column("lon", sa.Float, nullable=True),
)

# Station tokens the platform issued: it keeps their SHA-256 only; a revoked one is refused.
station_tokens = sa.Table(
    "station_tokens", metadata,
    sa.Column("station_id", sa.ForeignKey("stations.id"), primary_key=True),
    sa.Column("token_id", sa.String(20), primary_key=True),
    sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("revoked_at", sa.BigInteger, nullable=True),
)

# The last heartbeat of each station: its queue lengths and waits as it sent them (JSON).
station_live = sa.Table(
    "station_live", metadata,
    sa.Column("station_id", sa.ForeignKey("stations.id"), primary_key=True),
    sa.Column("at", sa.String(40), nullable=False),  # the station's local time, as sent
    sa.Column("received_at", sa.BigInteger, nullable=False),  # the platform's clock
    sa.Column("services", sa.Text, nullable=False),
)

# Station events as sent (docs/sync.md), each stored once: (station, event id) is the key.
# `body` is the canonical JSON; `day` is the station's local date, for reconciliation.
events = sa.Table(
    "events", metadata,
    sa.Column("station_id", sa.String(12), primary_key=True),
    sa.Column("event_id", sa.String(64), primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("type", sa.String(40), nullable=False),
    sa.Column("day", sa.String(10), nullable=False),
    sa.Column("booking_id", sa.String(20), nullable=True),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("received_at", sa.BigInteger, nullable=False),
    sa.Index("ix_events_station_day", "station_id", "day"),
    sa.Index("ix_events_booking", "booking_id"),
)

# Other contents sent under an id already stored: kept apart, reported, never applied.
event_conflicts = sa.Table(
    "event_conflicts", metadata,
    sa.Column("station_id", sa.String(12), primary_key=True),
    sa.Column("event_id", sa.String(64), primary_key=True),
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=True),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("received_at", sa.BigInteger, nullable=False),
)

services = sa.Table(
    "services", metadata,
    sa.Column("station_id", sa.ForeignKey("stations.id"), primary_key=True),
    sa.Column("code", sa.String(2), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),  # vaccination | clinic | exam
)

# The vaccine catalog. A trace code (追溯码) is a product's 7-digit `trace_prefix` and 13 more
# digits; a lot holds the range of those 13 digits its boxes carry. `trace_prefix` is NULL only
# on products from before m002 that nobody completed since; the catalog leaves them out.
vaccines = sa.Table(
    "vaccines", metadata,
    sa.Column("code", sa.String(40), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("manufacturer", sa.String(200), nullable=False),
    sa.Column("doses", sa.Integer, nullable=False),
    sa.Column("name_en", sa.String(200), nullable=False, server_default=""),
    sa.Column("interval_days", sa.Integer, nullable=False, server_default="0"),
    sa.Column("trace_prefix", sa.String(7), nullable=True),
    sa.Column("observation_minutes", sa.Integer, nullable=False, server_default="30"),
    sa.Index("ux_vaccines_trace_prefix", "trace_prefix", unique=True),
)

vaccine_lots = sa.Table(
    "vaccine_lots", metadata,
    sa.Column("vaccine_code", sa.ForeignKey("vaccines.code"), primary_key=True),
    sa.Column("lot", sa.String(40), primary_key=True),
    sa.Column("expires", sa.Date, nullable=False),
    sa.Column("serial_from", sa.String(13), nullable=False),
    sa.Column("serial_to", sa.String(13), nullable=False),
)

residents = sa.Table(
    "residents", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("phone", sa.String(20), nullable=False),
    sa.Column("birth_year", sa.Integer, nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    # the secret of the resident's own link to their records (shown with their bookings)
    sa.Column("link_key", sa.String(32), nullable=True),
    sa.UniqueConstraint("phone", "name", name="uq_residents_phone_name"),
)

signing_keys = sa.Table(
    "signing_keys", metadata,
    sa.Column("kid", sa.String(4), primary_key=True),
    # A reference platform keeps the seed in its database; a real one keeps
    # it in an HSM or KMS and only asks it to sign.
    sa.Column("private_seed", sa.LargeBinary(32), nullable=False),
    sa.Column("public_key", sa.LargeBinary(32), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("retired_at", sa.BigInteger, nullable=True),
    sa.Column("verify_until", sa.BigInteger, nullable=True),
)

bookings = sa.Table(
    "bookings", metadata,
    sa.Column("id", sa.String(10), primary_key=True),
    sa.Column("station_id", sa.ForeignKey("stations.id"), nullable=False),
    sa.Column("service", sa.String(2), nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("slot_start", sa.Integer, nullable=False),
    sa.Column("slot_end", sa.Integer, nullable=False),
    sa.Column("resident_id", sa.ForeignKey("residents.id"), nullable=False),
    sa.Column("priority", sa.Boolean, nullable=False),
    sa.Column("vaccine_code", sa.ForeignKey("vaccines.code"), nullable=True),
    sa.Column("vaccine_dose", sa.Integer, nullable=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("key_id", sa.ForeignKey("signing_keys.kid"), nullable=False),
    sa.Column("token", sa.String(256), nullable=False),
    sa.Column("expires", sa.BigInteger, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.Column("change_seq", sa.BigInteger, nullable=False, unique=True),
    # what the station last reported: the ticket's stage and the seq of the event applied
    sa.Column("stage", sa.String(20), nullable=True),
    sa.Column("applied_seq", sa.BigInteger, nullable=True),
    sa.Index("ix_bookings_station_seq", "station_id", "change_seq"),
    sa.Index("ix_bookings_station_day", "station_id", "day"),
)


def dialect_insert(conn: Connection, table: sa.Table) -> Any:
    """An INSERT that knows `ON CONFLICT` on both engines (SQLite's and PostgreSQL's own)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def m001_create_tables(conn: Connection) -> None:
    tables = [t for t in metadata.sorted_tables if t is not migrations_table]
    metadata.create_all(conn, tables=tables)
    conn.execute(sa.insert(counters).values(name="booking_change", value=0))


# The columns m002 adds to a vaccines table that m001 made before they were declared (the
# same DDL on SQLite and PostgreSQL).
_M002_COLUMNS = {
    "name_en": "VARCHAR(200) NOT NULL DEFAULT ''",
    "interval_days": "INTEGER NOT NULL DEFAULT 0",
    "trace_prefix": "VARCHAR(7)",
    "observation_minutes": "INTEGER NOT NULL DEFAULT 30",
}


def m002_vaccine_catalog(conn: Connection) -> None:
    """Names in English, dose interval, trace prefix, observation time, and the lots.

    m001 creates the tables as declared now, so on a new database everything is there
    already; on one that m001 made earlier, the missing columns and tables are added.
    """
    present = {c["name"] for c in sa.inspect(conn).get_columns("vaccines")}
    for name, ddl in _M002_COLUMNS.items():
        if name not in present:
            conn.exec_driver_sql(f"ALTER TABLE vaccines ADD COLUMN {name} {ddl}")
    for index in vaccines.indexes:
        index.create(conn, checkfirst=True)
    vaccine_lots.create(conn, checkfirst=True)


_M003_COLUMNS = {
    "stations": {"lat": "DOUBLE PRECISION", "lon": "DOUBLE PRECISION"},
    "residents": {"link_key": "VARCHAR(32)"},
    "bookings": {"stage": "VARCHAR(20)", "applied_seq": "BIGINT"},
}


def m003_station_sync(conn: Connection) -> None:
    """Events, conflicts, station tokens and heartbeats; stations' place, residents' link
    keys, bookings' reported stage. Tokens stations were registered with become their first
    issued token (`initial`); residents get a link key."""
    inspector = sa.inspect(conn)
    for table, columns in _M003_COLUMNS.items():
        present = {c["name"] for c in inspector.get_columns(table)}
        for name, ddl in columns.items():
            if name not in present:
                conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {name} {ddl}")
    for table in (station_tokens, station_live, events, event_conflicts):
        table.create(conn, checkfirst=True)
    known = set(conn.execute(sa.select(station_tokens.c.station_id)).scalars())
    for row in conn.execute(sa.select(stations.c.id, stations.c.token_sha256,
                                      stations.c.created_at)).all():
        if row.id not in known:
            conn.execute(sa.insert(station_tokens).values(
                station_id=row.id, token_id="initial", token_sha256=row.token_sha256,
                created_at=row.created_at, revoked_at=None))
    for (resident_id,) in conn.execute(sa.select(residents.c.id).where(
            residents.c.link_key.is_(None))).all():
        conn.execute(sa.update(residents).where(residents.c.id == resident_id).values(
            link_key=secrets.token_urlsafe(16)))


MIGRATIONS: list[tuple[str, Callable[[Connection], None]]] = [
    ("m001_create_tables", m001_create_tables),
    ("m002_vaccine_catalog", m002_vaccine_catalog),
    ("m003_station_sync", m003_station_sync),
]


def migrate(engine: sa.Engine, now: int) -> list[str]:
    """Apply the migrations not yet applied, each in its own transaction."""
    with engine.begin() as conn:
        migrations_table.create(conn, checkfirst=True)
    applied = []
    for name, step in MIGRATIONS:
        with engine.begin() as conn:
            done = conn.execute(sa.select(migrations_table.c.name).where(
                migrations_table.c.name == name)).first()
            if done is None:
                step(conn)
                conn.execute(sa.insert(migrations_table).values(name=name, applied_at=now))
                applied.append(name)
    return applied
