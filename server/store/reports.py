"""SQLite store (layer 3): the admin's reports — aggregates of a date range, computed by SQLite.

Counts are GROUP BYs over the range's rows, read through the indexes of
`m017_add_report_columns` (each covers what its query reads, as plain numbers: no JSON or
date parsing per row). For the percentiles, SQLite hands over each group's numbers (waits,
service times) as one sorted list, and Python picks the ranks; the CSV export reads the
tickets a page at a time. Days are the station's own: a ticket's `day` and the date its id
starts with; its times are stored in the station's timezone.

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

import math
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from sqlite_utils import Database

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


# One row per day and hour of check-in: the counts, and the waits (seconds) of the residents
# who came with the estimate's error, each as a list (`group_concat` skips the NULLs). The
# index is in (day, hour) order, so SQLite groups as it reads, without sorting.
_BY_HOUR = """
SELECT day, issued_hour AS hour, count(*) AS arrivals,
       sum(kind = 'booked') AS booked, sum(kind = 'walkin') AS walkin,
       sum(kind = 'booked' AND late = 1) AS late, sum(priority = 1) AS priority,
       sum(status = 'no_show') AS no_show, sum(status = 'cancelled') AS cancelled,
       group_concat(CASE WHEN status != 'no_show' THEN wait_seconds END) AS waits,
       group_concat(CASE WHEN status != 'no_show'
                    THEN wait_seconds - 60 * issued_eta_minutes END) AS errors
FROM tickets INDEXED BY tickets_report
WHERE day BETWEEN :first AND :last AND transferred_from IS NULL
GROUP BY day, issued_hour
"""
# Each stage served at a counter (`served_ms` sits on the event that ended it), as one list
# per day, service, stage and counter.
_SERVICE_TIMES = """
SELECT substr(ticket_id, 1, 8) AS day, service, served_stage, counter,
       group_concat(served_ms) AS ms
FROM events INDEXED BY events_served
WHERE ticket_id >= :lo AND ticket_id < :hi AND served_ms IS NOT NULL
GROUP BY 1, 2, 3, 4
"""
_VACCINATIONS = """
SELECT substr(v.ticket_id, 1, 8) AS day, v.product, v.dose, count(*) AS n,
       c.name AS name, c.name_en AS name_en
FROM vaccinations AS v INDEXED BY vaccinations_report
LEFT JOIN vaccines AS c ON c.code = v.product
WHERE v.ticket_id >= :lo AND v.ticket_id < :hi
GROUP BY day, v.product, v.dose
ORDER BY day, v.product, v.dose
"""
_COUNTS = ("arrivals", "booked", "walkin", "late", "priority", "no_show", "cancelled")
Key = Any


def spread(ordered: list[int], unit: float = 60.0) -> dict[str, Any]:
    """n, median (the mean of the middle one or two), p90 (rank ⌈0.9·n⌉) and mean of values
    in order, divided by `unit` (seconds to minutes), to a tenth."""
    n = len(ordered)
    if not n:
        return {"n": 0, "median": None, "p90": None, "mean": None}
    middle = (ordered[(n - 1) // 2] + ordered[n // 2]) / 2
    return {"n": n, "median": _minutes(middle / unit),
            "p90": _minutes(ordered[math.ceil(0.9 * n) - 1] / unit),
            "mean": _minutes(sum(ordered) / n / unit)}


def _errors(ordered_abs: list[int], total: int) -> dict[str, Any]:
    """The estimate's absolute errors in order, and the sum of the signed ones."""
    out = spread(ordered_abs)
    out["bias"] = _minutes(total / len(ordered_abs) / 60) if ordered_abs else None
    return out


def _numbers(text: str | None) -> list[int]:
    """A `group_concat` of integers, back as a list in order (a cell's waits come in order
    from the index: then sorting is only a check)."""
    values = list(map(int, text.split(","))) if text else []
    values.sort()
    return values


def _pooled(cells: dict[Key, list[int]], key: Any) -> dict[Key, list[int]]:
    """Sorted lists pooled by `key(cell key)`, each pool sorted: timsort merges the runs it is
    handed, so a pool costs about one pass."""
    pools: dict[Key, list[int]] = {}
    for cell, values in cells.items():
        pools.setdefault(key(cell), []).extend(values)
    for values in pools.values():
        values.sort()
    return pools


def _day(compact: str) -> str:
    return f"{compact[:4]}-{compact[4:6]}-{compact[6:8]}"


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
        with self._lock:
            hours = self._rows(_BY_HOUR, params)
            served = self._rows(_SERVICE_TIMES, params)
            doses = self._rows(_VACCINATIONS, params)
        return _assemble(first, last, hours, served, doses)

    def report_tickets(self, first: date, last: date) -> Iterator[dict[str, Any]]:
        """The range's tickets, in id order, a page at a time (names and booking ids left out:
        an export travels further than the station)."""
        params = _id_range(first, last)
        after = ""
        columns = ", ".join(c for c in TICKET_CSV_COLUMNS if c != "wait_minutes")
        sql = (f"SELECT {columns}, round(wait_seconds / 60.0, 1) AS wait_minutes FROM tickets "
               "WHERE id >= :lo AND id < :hi AND id > :after ORDER BY id LIMIT :limit")
        while True:
            page = self._rows(sql, {**params, "after": after, "limit": CSV_PAGE})
            yield from page
            if len(page) < CSV_PAGE:
                return
            after = page[-1]["id"]



def _assemble(first: date, last: date, hours: list[dict[str, Any]],
              served: list[dict[str, Any]], doses: list[dict[str, Any]]) -> dict[str, Any]:
    """The summary's shape from the queries' rows (one per group, a few hundred at most)."""
    days = [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
    by_day = {d: dict.fromkeys(_COUNTS, 0) for d in days}
    by_hour: dict[int, dict[str, int]] = {}
    waits: dict[Key, list[int]] = {}
    errors: dict[Key, list[int]] = {}
    signed: dict[Key, int] = {}
    for row in hours:
        hour = by_hour.setdefault(row["hour"], dict.fromkeys(_COUNTS, 0))
        for name in _COUNTS:
            by_day[row["day"]][name] += row[name]
            hour[name] += row[name]
        cell = (row["day"], row["hour"])
        waits[cell] = _numbers(row["waits"])
        told = _numbers(row["errors"])
        signed[cell] = sum(told)
        errors[cell] = sorted(map(abs, told))
    if by_hour:  # every hour between the first and the last arrival, so a chart has no gaps
        for h in range(min(by_hour), max(by_hour) + 1):
            by_hour.setdefault(h, dict.fromkeys(_COUNTS, 0))
    w_day, w_hour = _pooled(waits, lambda c: c[0]), _pooled(waits, lambda c: c[1])
    e_day, e_hour = _pooled(errors, lambda c: c[0]), _pooled(errors, lambda c: c[1])
    s_day: dict[Key, int] = {}
    s_hour: dict[Key, int] = {}
    for (d, h), total in signed.items():
        s_day[d] = s_day.get(d, 0) + total
        s_hour[h] = s_hour.get(h, 0) + total
    # stages served, milliseconds: per (day, service, stage, counter), pooled four ways
    cells = {(r["day"], r["service"], r["served_stage"], r["counter"]): _numbers(r["ms"])
             for r in served}
    by_stage_day = _pooled(cells, lambda c: c[:3])
    by_stage = _pooled(cells, lambda c: c[1:3])
    by_counter_day = _pooled(cells, lambda c: (c[0], c[3]))
    by_counter = _pooled(cells, lambda c: c[3])

    def ms(values: list[int]) -> dict[str, Any]:
        return spread(values, unit=60_000.0)

    totals: dict[str, Any] = {name: sum(d[name] for d in by_day.values()) for name in _COUNTS}
    totals["wait"] = spread(_pooled(w_day, lambda c: 0).get(0, []))
    totals["estimate_error"] = _errors(_pooled(e_day, lambda c: 0).get(0, []),
                                       sum(signed.values()))
    return {
        "from": first.isoformat(), "to": last.isoformat(), "unit": "minutes",
        "totals": totals,
        "days": [{"day": d, **by_day[d], "wait": spread(w_day.get(d, [])),
                  "estimate_error": _errors(e_day.get(d, []), s_day.get(d, 0))}
                 for d in days],
        "hours": [{"hour": h, **by_hour[h], "wait": spread(w_hour.get(h, [])),
                   "estimate_error": _errors(e_hour.get(h, []), s_hour.get(h, 0))}
                  for h in sorted(by_hour)],
        "service_times": [{"service": k[0], "stage": k[1], **ms(v)}
                          for k, v in sorted(by_stage.items(), key=_order)],
        "service_times_by_day": [{"day": _day(k[0]), "service": k[1], "stage": k[2], **ms(v)}
                                 for k, v in sorted(by_stage_day.items(), key=_order)],
        "counters": [{"counter": k, "served": len(v), "service_time": ms(v)}
                     for k, v in sorted(by_counter.items(), key=_order)],
        "counters_by_day": [{"day": _day(k[0]), "counter": k[1], "served": len(v),
                             "service_time": ms(v)}
                            for k, v in sorted(by_counter_day.items(), key=_order)],
        "vaccinations": [
            {"day": _day(r["day"]), "product": r["product"], "name": r["name"],
             "name_en": r["name_en"], "dose": r["dose"], "n": r["n"]} for r in doses],
    }


def _order(item: tuple[Any, Any]) -> tuple[str, ...]:
    key = item[0] if isinstance(item[0], tuple) else (item[0],)
    return tuple("" if k is None else str(k) for k in key)
