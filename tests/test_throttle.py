"""Throttles (server/throttle.py): guessing passwords slows down without locking nurses out,
and a kiosk that checks in too fast is told, in words for the resident, to wait."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from support import KIOSK, TZ, FakeClock, LiveServer, login, station_settings

from server import config
from server.throttle import (
    ADDRESS_LIMIT,
    MAX_WAIT,
    Throttled,
    TokenBuckets,
)

ATTACKER = "203.0.113.66"


@pytest.fixture
def settings() -> config.Settings:
    """The tests' station with the shipped configuration's kiosk limits (the tests' own are
    lenient: other tests move the clock by hours or take numbers by the hundred)."""
    shipped = config.load()
    return station_settings(database=":memory:", demo=True,
                            kiosk_checkins_per_minute=shipped.kiosk_checkins_per_minute,
                            kiosk_checkin_burst=shipped.kiosk_checkin_burst)


def at(app: Flask, address: str) -> FlaskClient:
    """A browser at `address`."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def log_in(client: FlaskClient, user: str, password: str | None = None) -> Any:
    return client.post("/api/v1/login", json={"username": user, "password": password or user})


def throttled(r: Any) -> int:
    assert r.status_code == 429, r.get_json()
    error = r.get_json()["error"]
    assert error["code"] == "login_throttled" and error["message"] and error["message_zh"]
    seconds = int(r.headers["Retry-After"])
    assert f"{seconds}" in error["message"] and f"{seconds}" in error["message_zh"]
    return seconds


def test_fifty_wrong_passwords_in_a_burst(app: Flask, clock: FakeClock) -> None:
    attacker = at(app, ATTACKER)
    answers = [log_in(attacker, "demo-nurse", f"guess-{i}") for i in range(50)]
    assert [r.status_code for r in answers[:ADDRESS_LIMIT]] == [401] * ADDRESS_LIMIT
    waits = [throttled(r) for r in answers[ADDRESS_LIMIT:]]
    assert waits[0] == 30 and all(0 < w <= 30 for w in waits)
    # the right password too, while it waits; the message says so
    r = log_in(attacker, "demo-nurse")
    wait = throttled(r)
    assert "right password" in r.get_json()["error"]["message"]
    assert "即使密码正确" in r.get_json()["error"]["message_zh"]
    clock.advance(seconds=wait)
    assert log_in(attacker, "demo-nurse").status_code == 200
    # the success forgave the account's count (and these were its own failures here)
    for i in range(ADDRESS_LIMIT - 1):
        assert log_in(attacker, "demo-nurse", f"typo-{i}").status_code == 401


def test_the_wait_grows_with_each_failure_up_to_a_cap(app: Flask, clock: FakeClock) -> None:
    attacker = at(app, ATTACKER)
    for i in range(ADDRESS_LIMIT):
        log_in(attacker, "demo-nurse", f"guess-{i}")
    waits = []
    for i in range(8):
        wait = throttled(log_in(attacker, "demo-nurse", "again"))
        waits.append(wait)
        clock.advance(seconds=wait)
        assert log_in(attacker, "demo-nurse", f"more-{i}").status_code == 401
    assert waits == [30, 60, 120, 240, 300, 300, 300, 300]
    assert max(waits) == MAX_WAIT


def test_one_attackers_address_locks_out_nobody_else(app: Flask) -> None:
    attacker = at(app, ATTACKER)
    for i in range(50):
        log_in(attacker, "demo-nurse", f"guess-{i}")
    throttled(log_in(attacker, "demo-doctor"))  # its own address waits, for any account
    # the nurse at her desk and the doctor at theirs are not slowed at all
    assert log_in(at(app, "192.168.1.20"), "demo-nurse").status_code == 200
    assert log_in(at(app, "192.168.1.21"), "demo-doctor").status_code == 200


def test_a_nurse_keeps_logging_in_while_an_address_guesses_for_hours(
        app: Flask, clock: FakeClock) -> None:
    attacker, desk = at(app, ATTACKER), at(app, "192.168.1.20")
    start, guesses = clock.now, 0
    for _ in range(60):  # guessing as fast as the throttle lets it
        r = log_in(attacker, "demo-nurse", "guess")
        if r.status_code == 429:
            clock.advance(seconds=int(r.headers["Retry-After"]))
        else:
            guesses += 1
        assert log_in(desk, "demo-nurse").status_code == 200
    hours = (clock.now - start).total_seconds() / 3600
    # the burst, four on the way to the cap, then one each 5 minutes
    assert hours > 2 and guesses <= ADDRESS_LIMIT + 4 + 12 * hours + 1, (hours, guesses)


def test_guesses_from_many_addresses_slow_the_account_only(app: Flask) -> None:
    for n in range(2):  # five guesses from each of two addresses
        guesser = at(app, f"198.51.100.{n}")
        for i in range(ADDRESS_LIMIT):
            assert log_in(guesser, "demo-nurse", f"guess-{i}").status_code == 401
    throttled(log_in(at(app, "198.51.100.9"), "demo-nurse", "guess"))  # the account waits
    throttled(log_in(at(app, "192.168.1.20"), "demo-nurse"))  # for a while, for everyone
    assert log_in(at(app, "192.168.1.20"), "demo-doctor").status_code == 200


def test_failures_are_forgotten_after_a_quiet_while(app: Flask, clock: FakeClock) -> None:
    desk = at(app, "192.168.1.20")
    for i in range(ADDRESS_LIMIT - 1):
        assert log_in(desk, "demo-nurse", f"typo-{i}").status_code == 401
    clock.advance(minutes=16)
    for i in range(ADDRESS_LIMIT - 1):
        assert log_in(desk, "demo-nurse", f"typo-{i}").status_code == 401
    assert app.extensions["clinicq.logins"].forget() == 0  # the latest are still counted
    clock.advance(minutes=16)
    assert app.extensions["clinicq.logins"].forget() == 2  # the address's and the account's


def test_a_concurrent_burst_over_http_checks_no_more_than_the_limit(
        live_server: LiveServer) -> None:
    url = f"{live_server.url}/api/v1/login"

    def guess(i: int) -> requests.Response:
        return requests.post(url, json={"username": "demo-nurse", "password": f"g{i}"},
                             timeout=30)

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(guess, range(50)))
    codes = sorted(r.status_code for r in answers)
    assert codes == [401] * ADDRESS_LIMIT + [429] * (50 - ADDRESS_LIMIT)
    assert all(int(r.headers["Retry-After"]) > 0 for r in answers if r.status_code == 429)


# -- kiosks ---------------------------------------------------------------------------------

def test_token_buckets_refill_at_their_rate() -> None:
    clock = FakeClock(datetime(2026, 11, 27, 9, 0, tzinfo=TZ))
    buckets = TokenBuckets(clock, rate=60, burst=20)
    for _ in range(20):
        buckets.take("kiosk-1")
    with pytest.raises(Throttled) as err:
        buckets.take("kiosk-1")
    assert err.value.retry_after == 1
    buckets.take("kiosk-2")  # each key its own bucket
    clock.advance(seconds=1)
    buckets.take("kiosk-1")
    clock.now -= timedelta(hours=1)  # a clock set back gives nothing
    with pytest.raises(Throttled):
        buckets.take("kiosk-1")
    clock.advance(hours=2)  # a long pause fills the bucket up to its burst, no more
    for _ in range(20):
        buckets.take("kiosk-1")
    with pytest.raises(Throttled):
        buckets.take("kiosk-1")


def test_a_real_queue_at_one_kiosk_is_never_refused(client: FlaskClient,
                                                    clock: FakeClock) -> None:
    """A resident a second, for two minutes, after a rush of twenty."""
    for _ in range(20):
        assert client.post("/api/v1/tickets", json={"service": "A"},
                           headers=KIOSK).status_code == 201
    for _ in range(120):
        clock.advance(seconds=1)
        assert client.post("/api/v1/tickets", json={"service": "A"},
                           headers=KIOSK).status_code == 201


def test_a_kiosk_too_fast_is_told_to_wait(app: Flask, client: FlaskClient,
                                          clock: FakeClock) -> None:
    for _ in range(20):
        assert client.post("/api/v1/tickets", json={"service": "A"},
                           headers=KIOSK).status_code == 201
    for path, body in (("/api/v1/tickets", {"service": "A"}),
                       ("/api/v1/checkins", {"code": "DEMO-V001"})):
        r = client.post(path, json=body, headers=KIOSK)
        assert r.status_code == 429, r.get_json()
        assert r.headers["Retry-After"] == "1"
        error = r.get_json()["error"]
        assert error["code"] == "too_many_requests"
        assert error["message_zh"] == "现在取号的人比较多，请等 1 秒再试一次。"
        assert error["message"].startswith("Many people are taking numbers right now.")
    # another kiosk and the nurse's desk are not counted against this one
    token = app.extensions["clinicq"].accounts.pair_device("kiosk-2", "kiosk", "二号机")
    assert client.post("/api/v1/tickets", json={"service": "A"},
                       headers={"Authorization": f"Bearer {token}"}).status_code == 201
    headers = login(client)
    for _ in range(25):
        assert client.post("/api/v1/tickets", json={"service": "A"},
                           headers=headers).status_code == 201
    clock.advance(seconds=1)
    assert client.post("/api/v1/checkins", json={"code": "DEMO-V001"},
                       headers=KIOSK).status_code == 201
