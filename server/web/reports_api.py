"""Web (layer 4): the admin's reports — the summary of a date range as JSON, and each of its
tables (and the range's tickets) as CSV, streamed (server/store/reports.py computes them)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import Annotated, Any

from flask import Blueprint, Response, current_app, jsonify
from pydantic import AfterValidator, BaseModel, Field

from ..store import Store
from ..store.reports import TICKET_CSV_COLUMNS
from .declare import answers, parameter
from .errors import RequestError
from .inputs import Input, takes
from .security import requires

bp = Blueprint("reports", __name__)
MAX_DAYS = 366  # a year, leap day included; longer is a mistake (or a slow page)
BOM = "\ufeff"  # Excel reads a CSV as UTF-8 (Chinese names of services, vaccines) only after it


def _real_date(value: str) -> str:
    date.fromisoformat(value)  # 2026-02-30 is no day
    return value


Day = Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"), AfterValidator(_real_date)]


class ReportRange(Input):
    invalid_when_missing = frozenset()

    start: Day = Field(alias="from", description="first day, the station's date, YYYY-MM-DD")
    end: Day = Field(alias="to", description="last day (included), YYYY-MM-DD")

    def days(self) -> tuple[date, date]:
        """The range as dates; `range_reversed` or `range_too_long` (400) when it is not one
        a report is made for."""
        first, last = date.fromisoformat(self.start), date.fromisoformat(self.end)
        if last < first:
            raise RequestError("range_reversed", start=self.start, end=self.end)
        if (last - first).days + 1 > MAX_DAYS:
            raise RequestError("range_too_long", days=MAX_DAYS)
        return first, last


# --- the summary's shape (for the OpenAPI document) ------------------------------------------

class Spread(BaseModel):
    """Minutes: count, median (mean of the middle one or two), p90 (rank ⌈0.9·n⌉), mean."""

    n: int
    median: float | None
    p90: float | None
    mean: float | None


class ErrorSpread(Spread):
    """The estimate's absolute error in minutes; `bias`: the mean of wait − estimate."""

    bias: float | None


class Counts(BaseModel):
    arrivals: int
    booked: int = Field(description="bookings checked in, the late ones included")
    walkin: int
    late: int = Field(description="bookings past their grace period, served as walk-ins")
    priority: int
    no_show: int
    cancelled: int


class Totals(Counts):
    wait: Spread
    estimate_error: ErrorSpread


class DayRow(Totals):
    day: str


class HourRow(Totals):
    hour: int = Field(description="hour of the day of check-in, over the whole range")


class ServiceTime(Spread):
    service: str
    stage: str | None


class ServiceTimeDay(ServiceTime):
    day: str


class CounterRow(BaseModel):
    counter: str
    served: int = Field(description="stages served to their end")
    service_time: Spread


class CounterDay(CounterRow):
    day: str


class DoseRow(BaseModel):
    day: str
    product: str
    name: str | None
    name_en: str | None
    dose: int | None
    n: int


class ReportSummary(BaseModel):
    """A date range's report; times in minutes."""

    from_: str = Field(alias="from")
    to: str
    unit: str
    totals: Totals
    days: list[DayRow]
    hours: list[HourRow]
    service_times: list[ServiceTime]
    service_times_by_day: list[ServiceTimeDay]
    counters: list[CounterRow]
    counters_by_day: list[CounterDay]
    vaccinations: list[DoseRow]


# --- the CSV tables ---------------------------------------------------------------------------

def _spread_cells(prefix: str, s: dict[str, Any], bias: bool = False) -> dict[str, Any]:
    cells = {f"{prefix}_n": s["n"], f"{prefix}_median_min": s["median"],
             f"{prefix}_p90_min": s["p90"], f"{prefix}_mean_min": s["mean"]}
    if bias:
        cells[f"{prefix}_bias_min"] = s["bias"]
    return cells


def _counted(row: dict[str, Any]) -> dict[str, Any]:
    return {**{k: row[k] for k in Counts.model_fields},
            **_spread_cells("wait", row["wait"]),
            **_spread_cells("estimate_error", row["estimate_error"], bias=True)}


def _flat(row: dict[str, Any], *keys: str) -> dict[str, Any]:
    out = {k: row[k] for k in keys}
    if "served" in row:
        return {**out, "served": row["served"], **_spread_cells("service", row["service_time"])}
    return {**out, **_spread_cells("service", row)}


# table -> the summary's rows flattened to CSV cells
TABLES: dict[str, Callable[[dict[str, Any]], list[dict[str, Any]]]] = {
    "days": lambda s: [{"day": r["day"], **_counted(r)} for r in s["days"]],
    "hours": lambda s: [{"hour": r["hour"], **_counted(r)} for r in s["hours"]],
    "service_times": lambda s: [_flat(r, "day", "service", "stage")
                                for r in s["service_times_by_day"]],
    "counters": lambda s: [_flat(r, "day", "counter") for r in s["counters_by_day"]],
    "vaccinations": lambda s: [{k: r[k] for k in ("day", "product", "name", "name_en", "dose",
                                                  "n")} for r in s["vaccinations"]],
}
CSV_TABLES = ("tickets", *TABLES)


def _store() -> Store:
    return current_app.extensions["clinicq"].store  # type: ignore[no-any-return]


def csv_lines(rows: Iterable[dict[str, Any]], columns: Iterable[str] | None = None
              ) -> Iterator[str]:
    """`rows` as CSV text, a line at a time, the BOM first; the columns are the first row's
    keys unless given (a table with no rows still has its header when they are)."""
    buffer = io.StringIO()
    writer: csv.DictWriter[str] | None = None
    yield BOM
    if columns is not None:
        writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\r\n")
        writer.writeheader()
    for row in rows:
        if writer is None:
            writer = csv.DictWriter(buffer, fieldnames=list(row), lineterminator="\r\n")
            writer.writeheader()
        writer.writerow(row)
        if buffer.tell() > 16 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


@bp.get("/api/v1/reports/summary")
@requires("reports")
@answers(200, "the range's report", ReportSummary)
@takes(query=ReportRange)
def summary(query: ReportRange) -> Response:
    """A date range's report: per day, per hour, per stage and counter, and the doses given

    Arrivals (booked, walk-in, late, priority), no-shows and cancellations; waits from
    check-in to the call (median, p90) and the error of the wait told at check-in; service
    times per service and stage and per counter; vaccinations by product and dose. Days are
    the station's; at most 366 of them (`range_too_long`), `from` not after `to`
    (`range_reversed`).
    """
    first, last = query.days()
    return jsonify(_store().report(first, last))


@bp.get("/api/v1/reports/<table>.csv")
@requires("reports")
@answers(200, "text/csv, UTF-8 with a BOM, streamed")
@parameter("table", description="`tickets`: one row per ticket of the range (no names); the "
                                "others: the summary's tables", enum=list(CSV_TABLES))
@takes(query=ReportRange)
def table_csv(table: str, query: ReportRange) -> Response:
    """A table of the report, or the range's tickets, as CSV for a spreadsheet"""
    if table not in CSV_TABLES:  # asked after who is asking: unknown names say nothing first
        raise RequestError("not_found")
    first, last = query.days()
    store = _store()
    if table == "tickets":
        lines = csv_lines(store.report_tickets(first, last), TICKET_CSV_COLUMNS)
    else:
        lines = csv_lines(TABLES[table](store.report(first, last)))
    name = f"clinicq-{table}-{first:%Y%m%d}-{last:%Y%m%d}.csv"
    return Response(lines, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{name}"'})
