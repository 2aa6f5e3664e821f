"""The audit log of staff actions (server/audit.py, server/web/audit_views.py, m020): what is
recorded, by whom, in the same transaction as the step; that nobody can edit it; and that only
the administrator reads it, by day, as JSON, as CSV and on its page."""

from __future__ import annotations

import csv
import io
import sqlite3
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from support import DISPLAY, KIOSK, FakeClock, login
from test_vaccination_api import DOSE, at_desk, book, checked_in

from server.store import Store, StoreError

DAY = "2026-11-27"


def audit(client: FlaskClient, admin: dict[str, str], start: str = DAY,
          end: str = DAY) -> list[dict[str, Any]]:
    r = client.get(f"/api/v1/admin/audit?from={start}&to={end}&limit=500", headers=admin)
    assert r.status_code == 200, r.get_json()
    return list(reversed(r.get_json()["entries"]))  # oldest first, to read like a story


def said(entries: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["actor"], e["action"]) for e in entries if e["source"] == "action"]


def test_logins_and_ticket_steps_are_recorded_with_who_did_them(
        client: FlaskClient, store: Store) -> None:
    assert client.post("/api/v1/login", json={"username": "demo-nurse",
                                              "password": "wrong"}).status_code == 401
    nurse = login(client)
    a = client.post("/api/v1/tickets", json={"service": "A"}, headers=KIOSK).get_json()
    client.post("/api/v1/tickets", json={"service": "A"}, headers=KIOSK)
    assert client.post("/api/v1/counters/A1/call-next", headers=nurse).get_json()["id"] == a["id"]
    for step in ("recall", "no-show", "restore"):
        r = client.post(f"/api/v1/tickets/{a['id']}/{step}", json={"counter": "A1"},
                        headers=nurse)
        assert r.status_code == 200, (step, r.get_json())
    c = client.post("/api/v1/counters/A1/call-next", headers=nurse).get_json()
    assert client.post(f"/api/v1/tickets/{c['id']}/start", headers=nurse).status_code == 200
    r = client.post(f"/api/v1/tickets/{c['id']}/transfer", json={"service": "V"}, headers=nurse)
    assert r.status_code == 200, r.get_json()
    assert client.post("/api/v1/counters/A1/undo", headers=nurse).status_code == 200
    assert client.post("/api/v1/logout", headers=nurse).status_code == 200

    admin = login(client, "demo-admin")
    entries = audit(client, admin)
    assert said(entries) == [
        ("demo-nurse", "login_failed"), ("demo-nurse", "login"), ("demo-nurse", "call"),
        ("demo-nurse", "recall"), ("demo-nurse", "no-show"), ("demo-nurse", "restore"),
        ("demo-nurse", "call"), ("demo-nurse", "start"), ("demo-nurse", "transfer"),
        ("demo-nurse", "undo"),
        ("demo-nurse", "logout"), ("demo-admin", "login")]
    # the kiosk's walk-ins are no staff action; each step names its ticket, counter and events
    by_action = {e["action"]: e for e in entries}
    assert by_action["recall"]["subject"] == a["id"]
    assert sum(e["action"] == "walk_in" for e in entries) == 0
    assert by_action["recall"]["detail"]["counter"] == "A1"
    assert by_action["recall"]["detail"]["numbers"] == [a["number"]]
    assert by_action["transfer"]["detail"]["service"] == "V"
    assert entries[1]["role"] == "nurse" and entries[0]["role"] is None
    # the events hold what happened, the log who did it: the seqs it names are those events
    events = {e["seq"]: e for e in store.events()}
    assert events[by_action["recall"]["detail"]["events"][0]]["type"] == "ticket.recalled"
    assert "wrong" not in str(entries)  # no password, ever


def test_vaccination_steps_are_recorded(client: FlaskClient, nurse: dict[str, str], store: Store,
                                        clock: FakeClock) -> None:
    t = at_desk(client, nurse, store, clock)  # screened at the kiosk: no staff action
    assert client.post(f"/api/v1/tickets/{t['id']}/vaccinate", json=DOSE,
                       headers=nurse).status_code == 200
    doctor = login(client, "demo-doctor")
    other = checked_in(client, book(store, clock))
    r = client.post(f"/api/v1/tickets/{other['id']}/screening", json={"answers": {"fever": True}},
                    headers=doctor)
    assert r.status_code == 200, r.get_json()
    clock.advance(minutes=31)
    r = client.post(f"/api/v1/tickets/{t['id']}/release", headers=doctor)
    assert r.status_code == 200, r.get_json()
    actions = said(audit(client, login(client, "demo-admin")))
    assert ("demo-nurse", "call") in actions and ("demo-nurse", "dose") in actions
    assert ("demo-doctor", "release") in actions and ("demo-doctor", "screening") in actions


def test_a_settings_change_is_read_from_its_ledger_not_copied(client: FlaskClient,
                                                             store: Store) -> None:
    admin = login(client, "demo-admin")
    r = client.post("/api/v1/admin/staff", json={"username": "nurse-two", "display_name": "王护士",
                                                  "role": "nurse", "password": "long-enough"},
                    headers=admin)
    assert r.status_code == 201, r.get_json()
    [change] = [e for e in audit(client, admin) if e["source"] == "settings"]
    assert (change["actor"], change["action"]) == ("demo-admin", "staff.added")
    assert store.db.execute("SELECT count(*) FROM audit WHERE action = 'staff.added'"
                            ).fetchone()[0] == 0


@pytest.mark.parametrize("sql", [
    "UPDATE audit SET actor = 'someone else'", "DELETE FROM audit",
    "UPDATE changes SET user = 'someone else'", "DELETE FROM changes",
])
def test_nobody_can_edit_the_log_not_even_through_the_store(client: FlaskClient, store: Store,
                                                            sql: str) -> None:
    admin = login(client, "demo-admin")
    client.post("/api/v1/admin/staff", json={"username": "nurse-two", "display_name": "王护士",
                                              "role": "nurse", "password": "long-enough"},
                headers=admin)
    before = audit(client, admin)
    with pytest.raises(StoreError, match="append-only"):
        with store._write() as db:
            db.execute(sql)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store.db.execute(sql)
    assert [(e["seq"], e["actor"]) for e in audit(client, admin)][:len(before)] == \
        [(e["seq"], e["actor"]) for e in before]


def test_only_the_administrator_reads_it_and_no_route_changes_it(app: Flask,
                                                                client: FlaskClient) -> None:
    for rule in app.url_map.iter_rules():
        if "audit" in rule.rule:
            assert rule.methods is not None and rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule
    for path in ("/api/v1/admin/audit?from=2026-11-27&to=2026-11-27",
                 "/api/v1/admin/audit.csv?from=2026-11-27&to=2026-11-27"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers=KIOSK).status_code == 403
        assert client.get(path, headers=DISPLAY).status_code == 403
    login(client)
    assert client.get("/api/v1/admin/audit?from=2026-11-27&to=2026-11-27").status_code == 403
    page = client.get("/admin/audit")
    assert page.status_code == 403 and "demo-nurse" not in page.get_data(as_text=True)
    assert client.delete("/api/v1/admin/audit").status_code == 405


def test_days_filter_csv_and_page(client: FlaskClient, clock: FakeClock) -> None:
    client.post("/api/v1/login", json={"username": "=HYPERLINK(\"x\")", "password": "p"})
    clock.advance(days=1)
    admin = login(client, "demo-admin")
    assert said(audit(client, admin)) == [("=HYPERLINK(\"x\")", "login_failed")]
    assert said(audit(client, admin, "2026-11-28", "2026-11-28")) == [("demo-admin", "login")]
    assert len(audit(client, admin, DAY, "2026-11-28")) == 2
    r = client.get("/api/v1/admin/audit?from=2026-11-28&to=2026-11-27", headers=admin)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "range_reversed"

    r = client.get(f"/api/v1/admin/audit.csv?from={DAY}&to=2026-11-28", headers=admin)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))
    assert [(x["actor"], x["action"]) for x in rows] == [
        ("demo-admin", "login"), ("'=HYPERLINK(\"x\")", "login_failed")]  # no formula
    assert rows[0]["detail"] == "address=127.0.0.1"

    zh = client.get(f"/admin/audit?from={DAY}&to=2026-11-28").get_data(as_text=True)
    assert "操作日志" in zh and "登录被拒" in zh and "HYPERLINK" in zh
    en = client.get(f"/admin/audit?from={DAY}&to=2026-11-28&lang=en").get_data(as_text=True)
    assert "Audit log" in en and "login refused" in en
    bad = client.get("/admin/audit?from=2026-11-28&to=2026-11-27&lang=zh").get_data(as_text=True)
    assert "开始日期不能晚于结束日期" in bad


def test_a_step_and_its_entry_are_one_transaction(app: Flask, store: Store) -> None:
    """When the entry cannot be written (here: no actor, which the table refuses), the step is
    not made either: the log never misses a step that happened."""
    from server import audit as audit_log
    from server.engine.errors import DomainError

    station = app.extensions["clinicq"].station
    station.walk_in("A")
    events_before, state_before = len(store.events()), station.state
    with audit_log.acting(None, "nurse"), pytest.raises(DomainError):  # type: ignore[arg-type]
        station.call_next("A1")
    assert len(store.events()) == events_before and station.state is state_before
    with audit_log.acting("demo-nurse", "nurse"):
        called = station.call_next("A1")
    [row] = store.db.execute("SELECT actor, action, subject FROM audit").fetchall()
    assert row == ("demo-nurse", "call", called.id)
    assert audit_log.current() is None  # nothing leaks past the block
