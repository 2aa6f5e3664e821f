"""A station day for tests/test_offline_day.py: a seeded simpy model of arrivals and counters
(the parameters of bench/simulate.py's scenarios and bench/sim_vaccination.py) that drives a
REAL station process over HTTP, as its kiosk, nurses and doctor would.

Simulated minutes only order the actions: each action runs at once against the station, so a
day from opening to close takes seconds of real time (a compressed schedule). What the test
needs to check afterwards is kept here: every ticket as the station last answered it, the
doses given, the bookings that were checked in.
"""

from __future__ import annotations

import math
import random
import sys
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import simpy
from support import KIOSK, StationProcess

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import simulate  # noqa: E402
from sim_vaccination import Vaccination  # noqa: E402

SCENARIO = simulate.SCENARIOS["quiet_afternoon"]  # 14:00-17:00 of a small station
VACCINATION = Vaccination(booked_per_slot=3, walkins_per_hour=3, flagged=0.15)
DAY_MINUTES = 180
SLOT_MINUTES = 30
QUESTIONS = ("fever", "allergy", "past_reaction", "recent_vaccine", "pregnancy", "immune",
             "illness")
# boxes of the demo catalog's current lots (contracts/demo.py): prefix and first serial
BOXES = {"HepB": ("8612001", 2026030000000), "Flu4": ("8612002", 2026080000000)}
FINAL = {"done", "no_show", "cancelled", "deferred", "released"}
TrickAction = Callable[[], None]


def lognormal(rng: random.Random, mean: float, sigma: float) -> float:
    return rng.lognormvariate(math.log(mean) - sigma * sigma / 2, sigma)


class Station:
    """A station process seen through its API: the kiosk, a nurse, a doctor and an admin,
    each with their own session; `restart()` kills it and starts it again on its database."""

    def __init__(self, make: Callable[[], StationProcess]) -> None:
        self.make = make
        self._start()

    def _start(self) -> None:
        self.proc = self.make()
        self.url = self.proc.url
        self.kiosk = requests.Session()
        self.kiosk.headers.update(KIOSK)
        self.nurse, self.doctor, self.admin = (self._login(f"demo-{who}")
                                               for who in ("nurse", "doctor", "admin"))

    def _login(self, username: str) -> requests.Session:
        session = requests.Session()
        r = session.post(f"{self.url}/api/v1/login", timeout=10,
                         json={"username": username, "password": username})
        assert r.status_code == 200, r.text
        session.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        return session

    def call(self, who: requests.Session, method: str, path: str,
             expect: tuple[int, ...] = (200, 201), **kw: Any) -> requests.Response:
        r = who.request(method, f"{self.url}{path}", timeout=10, **kw)
        assert r.status_code in expect, f"{method} {path}: {r.status_code} {r.text}"
        return r

    def get(self, path: str, who: requests.Session | None = None, **params: str) -> Any:
        return self.call(who or self.nurse, "GET", path, params=params).json()

    def close(self) -> None:
        for s in (self.kiosk, self.nurse, self.doctor, self.admin):
            s.close()

    def restart(self, kill: Callable[[StationProcess], None]) -> None:
        kill(self.proc)
        self.close()
        self._start()

    def stop(self) -> None:
        self.close()
        self.proc.stop()


@dataclass
class Resident:
    kind: str  # "booked" (a platform booking's QR), "typed" (a demo code), "walkin"
    service: str
    arrives: float  # simulated minute
    code: str | None = None  # what the kiosk scans or the resident types
    booking: dict[str, Any] | None = None  # the platform's booking, for "booked"
    product: str | None = None  # the booked vaccine
    absent: bool = False  # booked but never comes
    leaves: float | None = None  # gives up waiting this many minutes after check-in


@dataclass
class Day:
    """The day's plan (from the seed) and what happened; `run(station)` plays it."""

    seed: int
    rng: random.Random = field(init=False)
    residents: list[Resident] = field(default_factory=list)
    tickets: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> last answer
    doses: dict[str, dict[str, Any]] = field(default_factory=dict)  # ticket id -> what was given
    checked_in: dict[str, str] = field(default_factory=dict)  # booking id -> ticket id
    refused: list[tuple[str, str]] = field(default_factory=list)  # (code, error code)
    timed: list[tuple[float, TrickAction]] = field(default_factory=list)  # (minute, action)
    serials: dict[str, int] = field(default_factory=dict)
    arriving: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    # -- the plan -----------------------------------------------------------------------------

    def plan_bookings(self) -> list[dict[str, Any]]:
        """The day's bookings to make at the platform (before the day): service, vaccine,
        resident and the simulated slot each belongs to, `booked_per_slot` a slot."""
        out = []
        for slot in range(DAY_MINUTES // SLOT_MINUTES):
            for service, n in (("A", SCENARIO.booked_per_slot),
                               ("V", VACCINATION.booked_per_slot)):
                for _ in range(n):
                    i = len(out)
                    product = ("HepB", "Flu4")[i % 2] if service == "V" else None
                    out.append({"service": service, "slot": slot, "product": product,
                                "name": "王李张刘陈杨黄赵"[i % 8] + "小红明华伟芳"[i % 6],
                                "phone": f"139{i:04d}{1000 + i:04d}",
                                "birth_year": 1950 + (i * 7) % 50})
        return out

    def plan(self, bookings: list[tuple[dict[str, Any], dict[str, Any]]],
             typed_codes: list[str]) -> None:
        """Arrivals: each booked resident around their slot's start (or absent), typed demo
        codes early in the day, walk-ins as a Poisson process over the day."""
        sc, rng = SCENARIO, self.rng
        for planned, booking in bookings:
            start = planned["slot"] * SLOT_MINUTES
            arrives = max(0.0, start + rng.gauss(sc.arrive_mean + 8, sc.arrive_sd))
            self.residents.append(Resident(
                "booked", planned["service"], arrives, booking["token"], booking,
                planned["product"], absent=rng.random() < sc.booked_absent * 2))
        for i, code in enumerate(typed_codes):
            self.residents.append(Resident("typed", "A", 5.0 + 10 * i, code))
        for service, per_hour in (("A", sc.walkins_per_hour), ("V", VACCINATION.walkins_per_hour)):
            t = rng.expovariate(per_hour / 60)
            while t < DAY_MINUTES:
                self.residents.append(Resident("walkin", service, t,
                                               product=("HepB", "Flu4")[int(t) % 2]))
                t += rng.expovariate(per_hour / 60)
        for r in self.residents:
            if not r.absent and rng.random() < 0.05:
                r.leaves = rng.uniform(3, 15)

    def at(self, minute: float, action: TrickAction) -> None:
        """Something the test does at a simulated minute (a cancellation at the platform, a
        restart of the station)."""
        self.timed.append((minute, action))

    # -- the day ------------------------------------------------------------------------------

    def run(self, station: Station) -> None:
        env = simpy.Environment()
        self.arriving = sum(1 for r in self.residents if not r.absent)
        for r in self.residents:
            if not r.absent:
                env.process(self._resident(env, station, r))
        for minute, action in self.timed:
            env.process(self._timed(env, minute, action))
        for counter in ("A1", "V1", "V2", "S1"):
            env.process(self._counter(env, station, counter))
        env.run(until=DAY_MINUTES + 600)
        open_ = {t: s for t, s in self.tickets.items() if s["status"] not in FINAL}
        assert not self.arriving and not open_, f"the day did not close: {open_}"

    def _timed(self, env: simpy.Environment, minute: float,
               action: TrickAction) -> Generator[Any, Any, None]:
        yield env.timeout(minute)
        action()

    def _keep(self, r: requests.Response) -> dict[str, Any]:
        ticket: dict[str, Any] = r.json()
        self.tickets[ticket["id"]] = ticket
        return ticket

    def _resident(self, env: simpy.Environment, station: Station,
                  r: Resident) -> Generator[Any, Any, None]:
        yield env.timeout(r.arrives)
        self.arriving -= 1
        if r.kind == "walkin":
            ticket = self._keep(station.call(station.kiosk, "POST", "/api/v1/tickets",
                                             json={"service": r.service}))
        else:
            got = station.call(station.kiosk, "POST", "/api/v1/checkins", json={"code": r.code},
                               expect=(201, 422))
            if got.status_code == 422:
                self.refused.append((str(r.code), got.json()["error"]["code"]))
                return
            ticket = self._keep(got)
            self.checked_in[ticket["booking_id"]] = ticket["id"]
        if r.service == "V":
            ticket["product"] = r.product or ticket.get("vaccine", {}).get("product")
            if self.rng.random() < VACCINATION.kiosk_answered:
                yield env.timeout(VACCINATION.kiosk_minutes)
                self._screen(station, station.kiosk, ticket["id"])
        if r.leaves is not None:
            yield env.timeout(r.leaves)
            if self.tickets[ticket["id"]]["status"] == "waiting":
                self._keep(station.call(station.nurse, "POST",
                                        f"/api/v1/tickets/{ticket['id']}/cancel", json={}))

    def _screen(self, station: Station, who: requests.Session, ticket_id: str) -> None:
        flagged = self.rng.random() < VACCINATION.flagged
        answers = {q: False for q in QUESTIONS}
        if flagged:
            answers[self.rng.choice(QUESTIONS)] = True
        product = self.tickets[ticket_id].get("product")
        self._keep(station.call(who, "POST", f"/api/v1/tickets/{ticket_id}/screening",
                                json={"answers": answers}))
        self.tickets[ticket_id]["product"] = product

    def _counter(self, env: simpy.Environment, station: Station,
                 counter: str) -> Generator[Any, Any, None]:
        sc, rng = SCENARIO, self.rng
        while True:
            got = station.call(station.nurse, "POST", f"/api/v1/counters/{counter}/call-next",
                               expect=(200, 409))
            if got.status_code == 409:
                assert got.json()["error"]["code"] == "queue_empty", got.text
                if not self.arriving and all(t["status"] in FINAL | {"observing"}
                                             for t in self.tickets.values()):
                    return
                yield env.timeout(1)
                continue
            product = self.tickets.get(got.json()["id"], {}).get("product")
            ticket = self._keep(got)
            ticket["product"] = product
            tid = ticket["id"]
            yield env.timeout(sc.walk_minutes)
            if ticket["stage"] != "vaccination" and rng.random() < sc.no_show * 2:
                yield env.timeout(sc.no_show_wait)
                self._keep(station.call(station.nurse, "POST", f"/api/v1/tickets/{tid}/no-show",
                                        json={}))
            elif ticket["service"] == "A":
                self._keep(station.call(station.nurse, "POST", f"/api/v1/tickets/{tid}/start",
                                        json={}))
                yield env.timeout(lognormal(rng, sc.service_mean_minutes, sc.service_sigma))
                self._keep(station.call(station.nurse, "POST",
                                        f"/api/v1/tickets/{tid}/complete", json={}))
            elif ticket["stage"] == "screening":
                self._keep(station.call(station.nurse, "POST", f"/api/v1/tickets/{tid}/start",
                                        json={}))
                self.tickets[tid]["product"] = product
                yield env.timeout(lognormal(rng, *VACCINATION.screening))
                self._screen(station, station.nurse, tid)
                if self.tickets[tid]["flagged"]:
                    yield env.timeout(lognormal(rng, *VACCINATION.doctor))
                    decision = "defer" if rng.random() < VACCINATION.deferred else "clear"
                    self._keep(station.call(station.doctor, "POST",
                                            f"/api/v1/tickets/{tid}/{decision}",
                                            json={"reason": "问诊后决定"}))
                    self.tickets[tid]["product"] = product
                if self.tickets[tid]["status"] == "serving":  # on to the vaccination queue
                    self._keep(station.call(station.nurse, "POST",
                                            f"/api/v1/tickets/{tid}/complete", json={}))
                    self.tickets[tid]["product"] = product
            else:
                yield env.timeout(lognormal(rng, *VACCINATION.dose))
                self._vaccinate(station, tid, product or "Flu4")
                env.process(self._observe(env, station, tid))

    def _vaccinate(self, station: Station, ticket_id: str, product: str) -> None:
        prefix, first = BOXES[product]
        serial = first + self.serials.get(product, 0) + 1
        self.serials[product] = serial - first
        scan = {"trace_code": f"{prefix}{serial:013d}", "site": "left_deltoid",
                "route": "intramuscular"}
        answer = self._keep(station.call(station.nurse, "POST",
                                         f"/api/v1/tickets/{ticket_id}/vaccinate", json=scan))
        assert answer["status"] == "observing", answer
        self.doses[ticket_id] = {**scan, "product": product}

    def _observe(self, env: simpy.Environment, station: Station,
                 ticket_id: str) -> Generator[Any, Any, None]:
        rng = self.rng
        roll = rng.random()
        if roll < 0.1:  # a reaction: kept longer, then released
            yield env.timeout(rng.uniform(5, 20))
            self._keep(station.call(station.nurse, "POST", f"/api/v1/tickets/{ticket_id}/reaction",
                                    json={"symptoms": ["rash"], "severity": "mild",
                                          "note": "左臂", "action": "observed"}))
            self.doses[ticket_id]["outcome"] = "reaction"
            yield env.timeout(30)
        elif roll < 0.2:  # leaves before the end
            yield env.timeout(rng.uniform(5, 25))
            self._keep(station.call(station.nurse, "POST",
                                    f"/api/v1/tickets/{ticket_id}/leave-early",
                                    json={"reason": "有急事先走"}))
            self.doses[ticket_id]["outcome"] = "left_early"
            return
        else:
            yield env.timeout(30)
        self._keep(station.call(station.nurse, "POST", f"/api/v1/tickets/{ticket_id}/release",
                                json={}))
        self.doses[ticket_id].setdefault("outcome", "released")
