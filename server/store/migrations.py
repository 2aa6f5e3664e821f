"""SQLite store (layer 3): schema migrations, each a named function in its own transaction."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from .codec import STAGE_ENDS

migrations = Migrations("clinicq")


@migrations()
def m001_create_tickets(db: Database) -> None:
    db["tickets"].create(
        {
            "id": str, "day": str, "service": str, "number": str, "seq_no": int, "kind": str,
            "status": str, "issued_at": str, "code": str, "priority": int, "booking_id": str,
            "slot_start": str, "slot_end": str, "late": int, "name_masked": str,
            "called_at": str, "started_at": str, "finished_at": str, "counter": str,
            "recalls": int, "version": int, "transferred_from": str, "transferred_to": str,
        },
        pk="id",
        not_null={"day", "service", "number", "seq_no", "kind", "status", "issued_at", "code"},
    )
    # Numbers are unique per service and day, and a booking has one ticket, even if a bug
    # upstream tried otherwise: the database refuses the second row.
    db.execute(
        "CREATE UNIQUE INDEX tickets_number ON tickets(day, service, seq_no) "
        "WHERE transferred_from IS NULL"
    )
    db.execute(
        "CREATE UNIQUE INDEX tickets_booking ON tickets(booking_id) "
        "WHERE booking_id IS NOT NULL AND transferred_from IS NULL"
    )
    db["tickets"].create_index(["code"])
    db["tickets"].create_index(["day", "status"])


@migrations()
def m002_create_events(db: Database) -> None:
    db["events"].create(
        {"seq": int, "type": str, "ticket_id": str, "counter": str, "reason": str, "at": str,
         "ticket": str},
        pk="seq", not_null={"type", "ticket_id", "at", "ticket"},
    )
    db["events"].create_index(["ticket_id"])
    # The ledger is append-only: the database itself refuses edits and deletions.
    db.execute(
        "CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
        "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END"
    )
    db.execute(
        "CREATE TRIGGER events_no_delete BEFORE DELETE ON events "
        "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END"
    )


@migrations()
def m003_create_meta(db: Database) -> None:
    db["meta"].create({"key": str, "value": str}, pk="key")


@migrations()
def m004_create_bookings(db: Database) -> None:
    db["bookings"].create(
        {
            "id": str, "code": str, "station": str, "service": str, "day": str,
            "slot_start": str, "slot_end": str, "name": str, "name_masked": str,
            "phone_last4": str, "priority": int, "status": str, "updated_at": str,
        },
        pk="id", not_null={"code", "service", "day", "status"},
    )
    db["bookings"].create_index(["code"], unique=True)
    db["bookings"].create_index(["day"])


@migrations()
def m005_create_users_and_devices(db: Database) -> None:
    db["users"].create(
        {"username": str, "password_hash": str, "role": str, "display_name": str,
         "created_at": str, "disabled": int},
        pk="username", not_null={"password_hash", "role"},
    )
    db["devices"].create(
        {"id": str, "kind": str, "name": str, "token_hash": str, "created_at": str,
         "revoked_at": str, "last_seen_at": str, "health": str},
        pk="id", not_null={"kind", "token_hash"},
    )
    db["devices"].create_index(["token_hash"], unique=True)


@migrations()
def m006_create_platform_keys(db: Database) -> None:
    # The platform's public keys for booking codes, cached so check-in verifies offline.
    db["platform_keys"].create(
        {"kid": str, "public_key": str, "status": str, "created_at": int, "retired_at": int,
         "verify_until": int, "fetched_at": str},
        pk="kid", not_null={"public_key"},
    )


@migrations()
def m007_add_booking_feed_columns(db: Database) -> None:
    # What the platform's feed carries beyond the demo rows: the vaccine booked, and when the
    # booking changed there (the feed's `updated_at`, unix seconds).
    db["bookings"].add_column("vaccine", str)
    db["bookings"].add_column("changed_at", int)
    db["bookings"].create_index(["day", "phone_last4"])


@migrations()
def m008_add_ticket_pathway_columns(db: Database) -> None:
    # Where a ticket is on its service's pathway, its screening flag, the vaccine booked or
    # given, and when its observation ends.
    for column, kind in (("stage", str), ("flagged", int), ("cleared", int),
                         ("screening_yes", str), ("vaccine", str), ("dose", int),
                         ("previous_dose_on", str), ("observation_ends_at", str)):
        db["tickets"].add_column(column, kind)


@migrations()
def m009_add_event_detail(db: Database) -> None:
    # What an event records beyond the ticket (screening answers, the dose record), as JSON.
    db["events"].add_column("detail", str)


@migrations()
def m010_create_vaccinations(db: Database) -> None:
    # One row per dose given, written with its `vaccination.recorded` event. A trace code is
    # used once at this station: the unique index refuses a second dose from the same box even
    # when two nurses scan it at the same instant.
    db["vaccinations"].create(
        {"seq": int, "ticket_id": str, "booking_id": str, "trace_code": str, "product": str,
         "lot": str, "expires": str, "dose": int, "site": str, "route": str, "nurse": str,
         "at": str},
        pk="seq", not_null={"ticket_id", "trace_code", "product", "at"},
    )
    db["vaccinations"].create_index(["trace_code"], unique=True,
                                    index_name="vaccinations_trace_code")


@migrations()
def m011_create_vaccines(db: Database) -> None:
    # The platform's vaccine catalog as the station last received it; `lots` is JSON.
    db["vaccines"].create(
        {"code": str, "name": str, "name_en": str, "maker": str, "doses": int,
         "interval_days": int, "trace_prefix": str, "observation_minutes": int, "lots": str,
         "position": int},
        pk="code", not_null={"name", "trace_prefix"},
    )


@migrations()
def m012_create_outbox(db: Database) -> None:
    # The event ledger is the outbox (docs/sync.md): each event gets an id unique for ever
    # (random, 128 bits), given when it is committed; what the platform has acknowledged sits
    # beside it: `meta.push_acked` (every event up to that seq is settled) and `sync_problems`
    # (events the platform answered `conflict` or `rejected`: kept, counted, shown).
    db.execute("DROP TRIGGER events_no_update")
    db.execute("ALTER TABLE events ADD COLUMN id TEXT")
    db.execute("UPDATE events SET id = lower(hex(randomblob(16))) WHERE id IS NULL")
    db.execute(
        "CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
        "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END"
    )
    db["events"].create_index(["id"], unique=True, index_name="events_id")
    db["events"].create_index(["at"], index_name="events_at")
    db["sync_problems"].create(
        {"seq": int, "event_id": str, "result": str, "reason": str, "answered_at": str},
        pk="seq", not_null={"event_id", "result", "answered_at"},
    )


@migrations()
def m013_add_birth_year(db: Database) -> None:
    # The resident's birth year from the platform's booking (`resident.birth_year`), kept with
    # the booking and its ticket so the vaccination desk can check the age (三查七对).
    db["bookings"].add_column("birth_year", int)
    db["tickets"].add_column("birth_year", int)


@migrations()
def m014_add_ticket_name(db: Database) -> None:
    # The booking's full name carried onto its ticket, for staff at the console only (public
    # screens, the phone page and the printed ticket keep the masked one); not in the events.
    db["tickets"].add_column("name", str)


@migrations()
def m015_create_stations(db: Database) -> None:
    # Other stations' names by id, from the platform's directory (and the demo's): a resident
    # who shows a booking of another station is told which one.
    db["stations"].create({"id": str, "name": str, "updated_at": str}, pk="id",
                          not_null={"name"})


@migrations()
def m016_create_pairings(db: Database) -> None:
    # A device started without a token asks to be paired: a short code it shows, a secret
    # `poll` it keeps (only its hash here). An admin approves the code, naming the device; the
    # device's token is made when the device collects it, so it is never stored in plain.
    db["pairings"].create(
        {"code": str, "poll_hash": str, "kind": str, "remote": str, "created_at": str,
         "expires_at": str, "approved_at": str, "approved_by": str, "device_id": str,
         "name": str, "claimed_at": str},
        pk="code", not_null={"poll_hash", "created_at", "expires_at"},
    )
    db["pairings"].create_index(["poll_hash"], unique=True)
    db["pairings"].create_index(["expires_at"])


@migrations()
def m017_add_report_columns(db: Database) -> None:
    # Reports (server/store/reports.py). `issued_eta_minutes`: the wait the resident was told
    # when the ticket was issued, to set against the wait that happened. Written by the store
    # beside each ticket (derived, not engine fields): `issued_hour`, the station's hour of
    # check-in, and `wait_seconds`, check-in to the (last) call. Beside each event: the
    # ticket's `service` and `stage` after it; and on the event that ends a stage served at a
    # counter, `served_ms` since its `ticket.started` and `served_stage`. A report then reads
    # plain numbers from an index, not each event's JSON and times.
    db["tickets"].add_column("issued_eta_minutes", int)
    db["tickets"].add_column("issued_hour", int)
    db["tickets"].add_column("wait_seconds", int)
    db.execute(
        "UPDATE tickets SET issued_hour = CAST(substr(issued_at, 12, 2) AS INTEGER), "
        "wait_seconds = CAST(round((julianday(called_at) - julianday(issued_at)) * 86400) "
        "AS INTEGER)"
    )
    db.execute("DROP TRIGGER events_no_update")
    for column in ("service TEXT", "stage TEXT", "served_ms INTEGER", "served_stage TEXT"):
        db.execute(f"ALTER TABLE events ADD COLUMN {column}")
    db.execute("UPDATE events SET service = json_extract(ticket, '$.service'), "
               "stage = json_extract(ticket, '$.stage')")
    ends = ", ".join(f"'{t}'" for t in STAGE_ENDS)
    db.execute(
        "UPDATE events SET served_ms = s.ms, served_stage = s.stage FROM ("
        " SELECT end_seq, ms, stage FROM ("
        "  SELECT type, stage, lead(seq) OVER w AS end_seq, lead(type) OVER w AS end_type,"
        "   CAST(round((julianday(lead(at) OVER w) - julianday(at)) * 86400000) AS INTEGER)"
        "   AS ms"
        f"  FROM events WHERE type IN ('ticket.started', {ends})"
        "  WINDOW w AS (PARTITION BY ticket_id ORDER BY seq))"
        f" WHERE type = 'ticket.started' AND end_type IN ({ends})) AS s "
        "WHERE events.seq = s.end_seq"
    )
    db.execute(
        "CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
        "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END"
    )
    # A report reads a date range: tickets by day (their id starts with the day, so the
    # events and doses of a range are a range of ticket ids), each index covering what its
    # queries read so the rows themselves are not visited (and the waits of an hour come in
    # order, so sorting them is only a check).
    db.execute(
        "CREATE INDEX tickets_report ON tickets(day, issued_hour, wait_seconds, kind, late, "
        "priority, status, transferred_from, issued_eta_minutes)"
    )
    db.execute(
        "CREATE INDEX events_served ON events(ticket_id, served_ms, service, served_stage, "
        "counter) WHERE served_ms IS NOT NULL"
    )
    db.execute(
        "CREATE INDEX vaccinations_report ON vaccinations(ticket_id, product, dose)"
    )


@migrations()
def m018_create_changes(db: Database) -> None:
    # The administrators' ledger: who changed the station's settings, staff, devices or
    # notices, and what. Append-only; `layout` in meta holds the services and counters now.
    db["changes"].create(
        {"seq": int, "at": str, "user": str, "action": str, "subject": str, "detail": str},
        pk="seq", not_null={"at", "user", "action"},
    )
    db["changes"].create_index(["at"])


@migrations()
def m019_create_sessions(db: Database) -> None:
    # Staff sessions (server/sessions.py): the cookie holds a random id, only its hash is kept
    # here (`key`), with the session's CSRF token and when it began and was last used.
    db["sessions"].create(
        {"key": str, "user": str, "csrf": str, "created_at": str, "seen_at": str},
        pk="key", not_null={"user", "csrf", "created_at", "seen_at"},
    )
    db["sessions"].create_index(["user"])
    db["sessions"].create_index(["seen_at"])
    # Failed logins (server/throttle.py): `scope` "address" counts one address's failures
    # (`key` the address, `address` empty), "account" one username's failures from each
    # address (`key` the username). Times are UTC ISO strings.
    db["login_failures"].create(
        {"scope": str, "key": str, "address": str, "failures": int, "last_at": str},
        pk=("scope", "key", "address"), not_null={"failures", "last_at"},
    )
    db["login_failures"].create_index(["last_at"])


@migrations()
def m020_create_audit(db: Database) -> None:
    # The audit log of staff actions: logins (and failed ones), logouts, and each step a staff
    # member made a ticket take (call, recall, undo, no-show, restore, transfer, screening,
    # dose, observation end...), with who, when, and the events it made (their `seq`: the
    # events say what happened to the ticket, this says who did it). Settings changes stay in
    # `changes` (m018); the admin's audit page reads both. Neither can be edited: the database
    # refuses any UPDATE or DELETE of either.
    db["audit"].create(
        {"seq": int, "at": str, "actor": str, "role": str, "action": str, "subject": str,
         "detail": str},
        pk="seq", not_null={"at", "actor", "action"},
    )
    db["audit"].create_index(["at"])
    for table in ("audit", "changes"):
        for verb in ("UPDATE", "DELETE"):
            db.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )


@migrations()
def m021_add_ticket_issued_by(db: Database) -> None:
    # The kiosk (device id) that issued a ticket: a kiosk is shown only its own tickets, with
    # their phone-page codes (server/views.py). A station detail: not in the events' ticket.
    db["tickets"].add_column("issued_by", str)
