"""Tables and named migrations of the reference central platform; storage layer (SQLAlchemy Core).

One schema serves SQLite and PostgreSQL. Times are unix seconds (BigInteger)
so both engines store and compare them the same way; booking days are DATEs.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
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
    sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
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
    sa.Index("ix_bookings_station_seq", "station_id", "change_seq"),
    sa.Index("ix_bookings_station_day", "station_id", "day"),
)


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


MIGRATIONS: list[tuple[str, Callable[[Connection], None]]] = [
    ("m001_create_tables", m001_create_tables),
    ("m002_vaccine_catalog", m002_vaccine_catalog),
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
