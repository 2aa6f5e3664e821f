"""SQLite store (layer 3): the admin's reports — aggregates of a date range, computed by SQLite.

Every figure is a GROUP BY over the range's rows, read through the indexes of
`m017_add_report_columns` (each covers what its query reads); percentiles are picked by rank
with window functions, so no row of the range travels to Python except in the CSV export,
which reads the tickets a page at a time. Days are the station's own: a ticket's `day` and the
date its id starts with, and its times are stored in the station's timezone.

Definitions (the reports page says them too):
- arrivals: tickets issued (a transfer's continuation is not a new arrival); booked includes
  the late bookings (also counted as `late`), which are served as walk-ins.
- wait: from check-in to the call at the ticket's last queue stage (a one-stage service: the
  call; vaccination: the call to the vaccination desk), in minutes, for the residents who
  came (no-shows left out); the estimate told at check-in counts the stages ahead, so it is
  set against this same wait.
- estimate error: wait − the minutes told at check-in; `median`/`p90` of its absolute value,
  `bias` its mean (positive: residents waited longer than they were told).
- service time: from `ticket.started` at a stage to the stage's end (completed, advanced to
  the next stage, the dose recorded, transferred), per service and stage, and per counter.
- median: the mean of the middle one or two values; p90: the value at rank ⌈0.9·n⌉.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from sqlite_utils import Database

# What ends a stage served at a counter (the next such event after `ticket.started`).
STAGE_ENDS = ("ticket.completed", "ticket.advanced", "vaccination.recorded",
              "observation.started", "ticket.transferred")
CSV_PAGE = 2000  # tickets read per page of the export; the lock is let go between pages

TICKET_CSV_COLUMNS = ("id", "day", "service", "number", "kind", "late", "priority", "status",
                      "stage", "counter", "issued_at", "called_at", "started_at", "finished_at",
                      "recalls", "wait_minutes", "issued_eta_minutes", "vaccine", "dose",
                      "transferred_from", "transferred_to")


def _id_range(first: date, last: date) -> dict[str, str]:
    """Ticket ids start with their day (`20260302-V001`): the range's ids lie in [lo, hi)."""
    return {"lo": f"{first:%Y%m%d}", "hi": f"{last + timedelta(days=1):%Y%m%d}",
            "first": first.isoformat(), "last": last.isoformat()}


def _minutes(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


_HOUR = "CAST(substr(issued_at, 12, 2) AS INTEGER)"
_WAIT = "(julianday(called_at) - julianday(issued_at)) * 1440.0"
_ARRIVALS = f"""
SELECT day, {_HOUR} AS hour, count(*) AS arrivals,
       sum(kind = 'booked') AS booked, sum(kind = 'walkin') AS walkin,
       sum(kind = 'booked' AND late = 1) AS late, sum(priority = 1) AS priority,
       sum(status = 'no_show') AS no_show, sum(status = 'cancelled') AS cancelled
FROM tickets INDEXED BY tickets_report
WHERE day BETWEEN :first AND :last AND transferred_from IS NULL
GROUP BY day, hour
"""
# waits and the estimate's error, one row per called ticket of the range
_WAITS = f"""
SELECT day AS k1, {_HOUR} AS k2, {_WAIT} AS wait,
       {_WAIT} - issued_eta_minutes AS err
FROM tickets INDEXED BY tickets_report
WHERE day BETWEEN :first AND :last AND transferred_from IS NULL AND called_at IS NOT NULL
  AND status != 'no_show'
"""
_SERVICE_TIMES = f"""
SELECT t.day AS k1, t.service AS k2, e.stage AS k3, e.counter AS k4,
       (julianday(e.next_at) - julianday(e.at)) * 1440.0 AS x
FROM (SELECT ticket_id, type, at, stage, counter,
             lead(type) OVER w AS next_type, lead(at) OVER w AS next_at
      FROM events INDEXED BY events_report
      WHERE ticket_id >= :lo AND ticket_id < :hi
        AND type IN ('ticket.started', {", ".join(f"'{t}'" for t in STAGE_ENDS)})
      WINDOW w AS (PARTITION BY ticket_id ORDER BY seq)) AS e
JOIN tickets AS t ON t.id = e.ticket_id
WHERE e.type = 'ticket.started'
  AND e.next_type IN ({", ".join(f"'{t}'" for t in STAGE_ENDS)})
"""
_VACCINATIONS = """
SELECT substr(v.ticket_id, 1, 4) || '-' || substr(v.ticket_id, 5, 2) || '-' ||
       substr(v.ticket_id, 7, 2) AS day, v.product, v.dose, count(*) AS n,
       c.name AS name, c.name_en AS name_en
FROM vaccinations AS v INDEXED BY vaccinations_report
LEFT JOIN vaccines AS c ON c.code = v.product
WHERE v.ticket_id >= :lo AND v.ticket_id < :hi
GROUP BY day, v.product, v.dose
ORDER BY day, v.product, v.dose
"""


def _spreads(source: str, value: str, groupings: dict[str, tuple[str, ...]],
             mean_of: str | None = None) -> str:
    """A query answering, for each grouping of `source`'s rows by some of its key columns
    (k1..k4), per group: n, mean, median and p90 of `value`, and the mean of `mean_of`.
    The source is read once (materialised); each grouping ranks it with a window."""
    keys = ("k1", "k2", "k3", "k4")
    arms = []
    for name, cols in groupings.items():
        by = ", ".join(cols) or "NULL"
        picked = ", ".join(c if c in cols else f"NULL AS {c}" for c in keys)
        part = f"PARTITION BY {by} " if cols else ""
        arms.append(
            f"SELECT '{name}' AS g, {picked}, x, y, "
            f"row_number() OVER ({part}ORDER BY x) AS rn, count(*) OVER ({part.strip()}) AS n "
            f"FROM v")
    return (
        f"WITH src AS MATERIALIZED ({source}), "
        f"v AS MATERIALIZED (SELECT k1, k2, k3, k4, {value} AS x, {mean_of or 'NULL'} AS y "
        f"FROM src WHERE {value} IS NOT NULL), "
        f"r AS ({' UNION ALL '.join(arms)}) "
        "SELECT g, k1, k2, k3, k4, max(n) AS n, avg(x) AS mean, "
        "avg(CASE WHEN rn IN ((n + 1) / 2, (n + 2) / 2) THEN x END) AS median, "
        "max(CASE WHEN rn = (9 * n + 9) / 10 THEN x END) AS p90, avg(y) AS mean_y "
        "FROM r GROUP BY g, k1, k2, k3, k4 ORDER BY g, k1, k2, k3, k4"
    )


def _with_keys(source: str) -> str:
    """`_WAITS` names only k1, k2: the other key columns, empty."""
    return f"SELECT k1, k2, NULL AS k3, NULL AS k4, wait, err FROM ({source})"


class ReportStore:
    """Mixed into Store: read-only aggregates for the reports (server/web/reports_api.py)."""

    db: Database
    _lock: threading.RLock

    def _rows(self, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        with self._lock:
            cursor = self.db.execute(sql, params)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def report(self, first: date, last: date) -> dict[str, Any]:
        """The summary of days `first`..`last` (inclusive): per day, per hour of the day (over
        the whole range), per service and stage, per counter, and the doses given."""
        params = _id_range(first, last)
        counts = self._rows(_ARRIVALS, params)
        waits = self._rows(_spreads(_with_keys(_WAITS), "wait",
                                    {"day": ("k1",), "hour": ("k2",), "all": ()}), params)
        errors = self._rows(_spreads(_with_keys(_WAITS), "abs(err)",
                                     {"day": ("k1",), "hour": ("k2",), "all": ()},
                                     mean_of="err"), params)
        services = self._rows(_spreads(_SERVICE_TIMES, "x", {
            "day": ("k1", "k2", "k3"), "all": ("k2", "k3"),
            "counter_day": ("k1", "k4"), "counter": ("k4",)}), params)
        doses = self._rows(_VACCINATIONS, params)
        return _assemble(first, last, counts, waits, errors, services, doses)

    def report_tickets(self, first: date, last: date) -> Iterator[dict[str, Any]]:
        """The range's tickets, in id order, a page at a time (names and booking ids left out:
        an export travels further than the station)."""
        params = _id_range(first, last)
        after = ""
        columns = ", ".join(c for c in TICKET_CSV_COLUMNS if c != "wait_minutes")
        sql = (f"SELECT {columns}, round({_WAIT}, 1) AS wait_minutes FROM tickets "
               "WHERE id >= :lo AND id < :hi AND id > :after ORDER BY id LIMIT :limit")
        while True:
            page = self._rows(sql, {**params, "after": after, "limit": CSV_PAGE})
            yield from page
            if len(page) < CSV_PAGE:
                return
            after = page[-1]["id"]


def _spread(row: dict[str, Any] | None, bias: bool = False) -> dict[str, Any]:
    if row is None:
        out: dict[str, Any] = {"n": 0, "median": None, "p90": None, "mean": None}
        if bias:
            out["bias"] = None
        return out
    out = {"n": row["n"], "median": _minutes(row["median"]), "p90": _minutes(row["p90"]),
           "mean": _minutes(row["mean"])}
    if bias:
        out["bias"] = _minutes(row["mean_y"])
    return out


_COUNTS = ("arrivals", "booked", "walkin", "late", "priority", "no_show", "cancelled")


def _assemble(first: date, last: date, counts: list[dict[str, Any]],
              waits: list[dict[str, Any]], errors: list[dict[str, Any]],
              services: list[dict[str, Any]], doses: list[dict[str, Any]]) -> dict[str, Any]:
    """The summary's shape from the queries' rows (a few hundred at most: one per group)."""
    days = [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
    by_day = {d: dict.fromkeys(_COUNTS, 0) for d in days}
    by_hour: dict[int, dict[str, int]] = {}
    for row in counts:
        hour = by_hour.setdefault(row["hour"], dict.fromkeys(_COUNTS, 0))
        for name in _COUNTS:
            by_day[row["day"]][name] += row[name]
            hour[name] += row[name]
    if by_hour:  # every hour between the first and the last arrival, so a chart has no gaps
        for h in range(min(by_hour), max(by_hour) + 1):
            by_hour.setdefault(h, dict.fromkeys(_COUNTS, 0))

    def pick(rows: list[dict[str, Any]], group: str) -> dict[Any, dict[str, Any]]:
        key = {"day": "k1", "hour": "k2"}.get(group, "k1")
        return {r[key]: r for r in rows if r["g"] == group}

    w_day, w_hour = pick(waits, "day"), pick(waits, "hour")
    e_day, e_hour = pick(errors, "day"), pick(errors, "hour")
    totals: dict[str, Any] = {name: sum(d[name] for d in by_day.values()) for name in _COUNTS}
    totals["wait"] = _spread(next((r for r in waits if r["g"] == "all"), None))
    totals["estimate_error"] = _spread(next((r for r in errors if r["g"] == "all"), None),
                                       bias=True)
    return {
        "from": first.isoformat(), "to": last.isoformat(), "unit": "minutes",
        "totals": totals,
        "days": [{"day": d, **by_day[d], "wait": _spread(w_day.get(d)),
                  "estimate_error": _spread(e_day.get(d), bias=True)} for d in days],
        "hours": [{"hour": h, **by_hour[h], "wait": _spread(w_hour.get(h)),
                   "estimate_error": _spread(e_hour.get(h), bias=True)}
                  for h in sorted(by_hour)],
        "service_times": [
            {"service": r["k2"], "stage": r["k3"], **_spread(r)}
            for r in services if r["g"] == "all"],
        "service_times_by_day": [
            {"day": r["k1"], "service": r["k2"], "stage": r["k3"], **_spread(r)}
            for r in services if r["g"] == "day"],
        "counters": [
            {"counter": r["k4"], "served": r["n"], "service_time": _spread(r)}
            for r in services if r["g"] == "counter"],
        "counters_by_day": [
            {"day": r["k1"], "counter": r["k4"], "served": r["n"], "service_time": _spread(r)}
            for r in services if r["g"] == "counter_day"],
        "vaccinations": [
            {"day": r["day"], "product": r["product"], "name": r["name"],
             "name_en": r["name_en"], "dose": r["dose"], "n": r["n"]} for r in doses],
    }
