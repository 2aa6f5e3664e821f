"""SQLite store (layer 3): state, the append-only event ledger, bookings, users and devices.

Durability: WAL, synchronous=FULL, busy_timeout; each command's tickets, events and engine
state are written in one `BEGIN IMMEDIATE` transaction.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from contracts.names import clean_name, mask_name, shown_mask

from ..engine.events import Event
from ..engine.index import tickets_of
from ..engine.model import State, Ticket
from . import codec
from .audit import INSERT_AUDIT, AuditStore, audit_row
from .changes import ChangesStore
from .errors import StorageFull, StoreError, TraceCodeUsed
from .files import refuse_newer
from .migrations import migrations
from .outbox import OutboxStore
from .pairing import PairingStore
from .reports import ReportStore
from .sessions import SessionStore

_STORED_TICKET_COLUMNS = codec.TICKET_COLUMNS + codec.REPORT_COLUMNS
_UPSERT_TICKET = (
    f"INSERT INTO tickets ({', '.join(_STORED_TICKET_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in _STORED_TICKET_COLUMNS)}) "
    f"ON CONFLICT(id) DO UPDATE SET "
    + ", ".join(f"{c}=excluded.{c}" for c in _STORED_TICKET_COLUMNS if c != "id")
)
_INSERT_EVENT = (
    "INSERT INTO events (id, seq, type, ticket_id, counter, reason, at, ticket, detail, service, "
    "stage, served_ms, served_stage) VALUES (:id, :seq, :type, :ticket_id, :counter, :reason, "
    ":at, :ticket, :detail, :service, :stage, :served_ms, :served_stage)"
)
_INSERT_VACCINATION = (
    "INSERT INTO vaccinations (seq, ticket_id, booking_id, trace_code, product, lot, expires, "
    "dose, site, route, nurse, at) VALUES (:seq, :ticket_id, :booking_id, :trace_code, "
    ":product, :lot, :expires, :dose, :site, :route, :nurse, :at)"
)
_VACCINE_FIELDS = ("code", "name", "name_en", "maker", "doses", "interval_days", "trace_prefix",
                   "observation_minutes")


def _names_cleaned(row: dict[str, Any]) -> dict[str, Any]:
    """A booking row with its names as the station keeps them (contracts/names.py), whoever
    sent it (the platform's feed, the demo, an older platform that did not clean them): the
    full name cleaned, the masked one as screens show it (made from the full name when only
    that came); None for a name with nothing visible in it."""
    if "name" not in row and "name_masked" not in row:
        return row
    out = dict(row)
    if "name" in row:
        out["name"] = clean_name(row["name"]) or None
    if "name_masked" in row or out.get("name"):
        out["name_masked"] = shown_mask(row.get("name_masked")) or \
            shown_mask(mask_name(out.get("name")))
    return out


class Store(OutboxStore, PairingStore, ReportStore, ChangesStore, AuditStore, SessionStore):
    """One SQLite database. Every method is safe to call from any thread (one lock)."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, check_same_thread=False, timeout=5.0)
        self.db = Database(conn)
        self._lock = threading.RLock()
        self.vaccines_version = 0  # counts replace_vaccines calls, for readers that cache
        with self.db.ensure_autocommit_on():
            if self.path != ":memory:":
                self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute("PRAGMA busy_timeout=5000")
            self.db.execute("PRAGMA foreign_keys=ON")
        refuse_newer(conn, self.path)  # before a migration could touch a newer schema
        migrations.apply(self.db)

    def healthy(self) -> bool:
        try:
            with self._lock:
                self.db.execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def close(self) -> None:
        with self._lock:
            self.db.close()

    def set_autocheckpoint(self, pages: int) -> None:
        """`PRAGMA wal_autocheckpoint` of the server's connection; 0 leaves checkpoints to
        Litestream while it replicates (server/litestream.py)."""
        with self._lock:
            self.db.execute(f"PRAGMA wal_autocheckpoint={int(pages)}")

    @contextmanager
    def _write(self) -> Iterator[Database]:
        with self._lock:
            conn = self.db.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
                conn.execute("COMMIT")
            except sqlite3.IntegrityError as err:
                self._rollback()
                if "vaccinations.trace_code" in str(err):
                    raise TraceCodeUsed(str(err)) from err
                raise StoreError(str(err)) from err
            except sqlite3.OperationalError as err:
                self._rollback()
                if getattr(err, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
                    raise StorageFull(str(err)) from err
                raise
            except BaseException:
                self._rollback()
                raise

    def _rollback(self) -> None:
        # a COMMIT that failed (a full disk) may have rolled back already
        if self.db.conn.in_transaction:
            self.db.conn.execute("ROLLBACK")

    def _first(self, sql: str, params: list[Any]) -> dict[str, Any] | None:
        """The first row of a query, as a dict. Plain SQL on the paths every request takes:
        sqlite-utils' `db[name]` asks the schema for the table's kind each time (about as
        long as the query)."""
        rows = self.db.execute_returning_dicts(sql, params)
        return rows[0] if rows else None

    # engine state -----------------------------------------------------------------------

    def save(self, old: State, new: State, events: Iterable[Event],
             audit: Iterable[dict[str, Any]] = ()) -> None:
        """Write what changed from `old` to `new`, the events and the audit log's entries for
        them (who made them, when staff did), in one transaction."""
        changed = tickets_of(new).changed_since(tickets_of(old))  # known when new came from old
        if changed is None:
            changed = [t for tid, t in new.tickets.items() if old.tickets.get(tid) is not t]
        with self._write() as db:
            conn = db.conn
            conn.executemany(_UPSERT_TICKET, [{**codec.ticket_to_row(t), **codec.report_cells(t)}
                                              for t in changed])
            events = list(events)
            # each event's id, unique for ever, is given here, as it is committed (docs/sync.md)
            cells = codec.events_report_cells(old, events)
            conn.executemany(_INSERT_EVENT, [{**codec.event_to_row(e), "id": uuid.uuid4().hex,
                                              **more} for e, more in zip(events, cells,
                                                                         strict=True)])
            conn.executemany(_INSERT_VACCINATION, [
                {"seq": e.seq, "ticket_id": e.ticket.id, "booking_id": e.ticket.booking_id,
                 **{k: (e.detail or {}).get(k) for k in ("trace_code", "product", "lot",
                                                          "expires", "dose", "site", "route",
                                                          "nurse", "at")}}
                for e in events if e.type == "vaccination.recorded"])
            conn.executemany(INSERT_AUDIT, [audit_row(a) for a in audit])
            conn.execute(
                "INSERT INTO meta(key, value) VALUES ('engine', ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (codec.engine_meta(new),),
            )

    def load(self, base: State) -> State:
        """The state last saved, with `base`'s rules; `base` itself if nothing was saved."""
        with self._lock:
            row = self.db.execute("SELECT value FROM meta WHERE key = 'engine'").fetchone()
            if row is None:
                return base
            meta = json.loads(row[0])
            tickets = [
                codec.ticket_from_row(r)
                for r in self.db["tickets"].rows_where("day = ?", [meta["day"]], order_by="rowid")
            ]
        return codec.state_from_meta(base, meta, tickets)

    def events(self, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.db["events"].rows_where("seq > ?", [after], order_by="seq",
                                                     limit=limit))

    def ticket_by_code(self, code: str) -> Ticket | None:
        with self._lock:
            rows = list(self.db["tickets"].rows_where("code = ?", [code], order_by="rowid desc",
                                                      limit=1))
        return codec.ticket_from_row(rows[0]) if rows else None

    # vaccinations ---------------------------------------------------------------------------

    def trace_code_used(self, trace_code: str) -> bool:
        with self._lock:
            return self.db.execute("SELECT 1 FROM vaccinations WHERE trace_code = ?",
                                   [trace_code]).fetchone() is not None

    def vaccinations(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.db["vaccinations"].rows_where(order_by="seq"))

    def replace_vaccines(self, rows: Iterable[dict[str, Any]]) -> None:
        """The platform's vaccine catalog, in the shape of `GET /api/v1/vaccines`
        (`{"code", "name", "name_en", "maker", "doses", "interval_days", "trace_prefix",
        "observation_minutes", "lots": [{"lot", "expires", "serials": [from13, to13]}]}`):
        a product it no longer lists is gone."""
        records = [{**{k: row.get(k) for k in _VACCINE_FIELDS},
                    "lots": json.dumps(list(row.get("lots") or []), ensure_ascii=False),
                    "position": i}
                   for i, row in enumerate(rows)]
        with self._write() as db:
            db.execute("DELETE FROM vaccines")
            db["vaccines"].insert_all(records, pk="code")
        self.vaccines_version += 1

    def vaccines(self) -> list[dict[str, Any]]:
        """The catalog as replace_vaccines received it, in its order."""
        with self._lock:
            rows = list(self.db["vaccines"].rows_where(order_by="position"))
        return [{**{k: row[k] for k in _VACCINE_FIELDS}, "lots": json.loads(row["lots"] or "[]")}
                for row in rows]

    # key-value ------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._write() as db:
            db.execute("INSERT INTO meta(key, value) VALUES (?, ?) "
                       "ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, value])

    # bookings -------------------------------------------------------------------------------

    def upsert_bookings(self, bookings: Iterable[dict[str, Any]], *,
                        take_codes: bool = False) -> None:
        """Insert or update bookings by id. `take_codes`: a row of another booking that holds
        one of their codes gives it up (its code gets its day appended, which nobody types)."""
        rows = [_names_cleaned(row) for row in bookings]
        with self._write() as db:
            if take_codes:
                db.execute(
                    "UPDATE bookings SET code = code || '@' || day "
                    "WHERE code IN (SELECT value FROM json_each(:codes)) "
                    "AND id NOT IN (SELECT value FROM json_each(:ids))",
                    {"codes": json.dumps([r["code"] for r in rows]),
                     "ids": json.dumps([r["id"] for r in rows])})
            db["bookings"].upsert_all(rows, pk="id")

    def delete_unused_bookings(self, id_like: str) -> int:
        """Delete the bookings whose id matches the LIKE pattern and no ticket refers to."""
        with self._write() as db:
            cursor = db.execute(
                "DELETE FROM bookings WHERE id LIKE ? AND id NOT IN "
                "(SELECT booking_id FROM tickets WHERE booking_id IS NOT NULL)", [id_like])
            return cursor.rowcount

    def bookings_by_id(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        with self._lock:
            rows = self.db.execute_returning_dicts(
                "SELECT * FROM bookings WHERE id IN (SELECT value FROM json_each(?))",
                [json.dumps(list(ids))])
        return {row["id"]: row for row in rows}

    def booking_by_code(self, code: str) -> dict[str, Any] | None:
        with self._lock:
            return self._first("SELECT * FROM bookings WHERE code = ? LIMIT 1", [code])

    def bookings_for_day(self, day: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.db["bookings"].rows_where("day = ?", [day],
                                                       order_by="slot_start, id"))

    def booking(self, booking_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self._first("SELECT * FROM bookings WHERE id = ? LIMIT 1", [booking_id])

    def booking_status(self, booking_id: str) -> str | None:
        with self._lock:
            row = self.db.execute("SELECT status FROM bookings WHERE id = ?",
                                  [booking_id]).fetchone()
        return row[0] if row else None

    def search_bookings(self, day: str, text: str, limit: int = 20) -> list[dict[str, Any]]:
        """A day's bookings whose name (full or masked) contains `text`, or whose phone ends in
        it (four digits)."""
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        with self._lock:
            return list(self.db["bookings"].rows_where(
                "day = :d AND (name LIKE :p ESCAPE '\\' OR name_masked LIKE :p ESCAPE '\\' "
                "OR (length(:t) = 4 AND phone_last4 = :t))",
                {"d": day, "p": pattern, "t": text}, order_by="slot_start, id", limit=limit))

    def apply_feed_page(self, bookings: Iterable[dict[str, Any]], cursor_key: str,
                        cursor: str) -> None:
        """Upsert a page of the platform's booking feed and advance its cursor, in one
        transaction: a crash between the two would skip or repeat nothing."""
        with self._write() as db:
            db["bookings"].upsert_all([_names_cleaned(row) for row in bookings], pk="id")
            db.execute("INSERT INTO meta(key, value) VALUES (?, ?) "
                       "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                       [cursor_key, cursor])

    # other stations -------------------------------------------------------------------------

    def put_station_names(self, names: Mapping[str, str], updated_at: str) -> None:
        """Station names by id (the platform's directory, the demo's); others are kept."""
        with self._write() as db:
            db["stations"].upsert_all(
                [{"id": k, "name": v, "updated_at": updated_at} for k, v in names.items()],
                pk="id")

    def station_name(self, station_id: str) -> str | None:
        with self._lock:
            row = self.db.execute("SELECT name FROM stations WHERE id = ?",
                                  [station_id]).fetchone()
        return row[0] if row else None

    # platform keys --------------------------------------------------------------------------

    def platform_keys(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.db["platform_keys"].rows_where(order_by="kid"))

    def replace_platform_keys(self, keys: Iterable[dict[str, Any]]) -> None:
        """The platform's key list, as published: a key it no longer lists is revoked."""
        with self._write() as db:
            db.execute("DELETE FROM platform_keys")
            db["platform_keys"].insert_all(list(keys), pk="kid")

    def add_platform_keys(self, keys: Iterable[dict[str, Any]]) -> None:
        with self._write() as db:
            db["platform_keys"].upsert_all(list(keys), pk="kid")

    # users and devices ----------------------------------------------------------------------

    def upsert_user(self, user: dict[str, Any]) -> None:
        with self._write() as db:
            db["users"].upsert(user, pk="username")

    def user(self, username: str) -> dict[str, Any] | None:
        with self._lock:
            return self._first("SELECT * FROM users WHERE username = ? LIMIT 1", [username])

    def upsert_device(self, device: dict[str, Any]) -> None:
        with self._write() as db:
            db["devices"].upsert(device, pk="id")

    def device_by_token_hash(self, token_hash: str) -> dict[str, Any] | None:
        with self._lock:
            return self._first("SELECT * FROM devices WHERE token_hash = ? AND revoked_at IS NULL "
                               "LIMIT 1", [token_hash])

    def devices(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.db["devices"].rows_where(order_by="kind, id"))

    def update_device(self, device_id: str, **values: Any) -> None:
        with self._write() as db:
            db["devices"].update(device_id, values)
