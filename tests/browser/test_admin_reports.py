"""The admin's reports page in Chromium: the hand-built day of tests/report_day.py shown as
charts (each canvas drawn, not blank) over tables that say the same figures, CSV links for
the chosen days, a range picked from the page, the print page as printed; axe-clean; a nurse
refused."""

from __future__ import annotations

from datetime import datetime

import pytest
from axe import assert_clean
from browsing import MARKS, shot, staff_console, wait_for_function
from flask.testing import FlaskClient
from report_day import DAY, build_day
from support import TZ, FakeClock, LiveServer

from server.store import Store

pytestmark = MARKS
CHARTS = ("arrivals_day", "arrivals_hour", "waits_day", "waits_hour", "estimate",
          "service_times", "counters", "vaccinations")
# how many pixels of a canvas are painted (not transparent): a chart drawn has bars and axes
PAINTED = """(id) => {
  const c = document.getElementById(id + '-chart');
  const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
  return n;
}"""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 27, 8, 0, tzinfo=TZ))


@pytest.fixture
def day(client: FlaskClient, store: Store, clock: FakeClock) -> dict[str, int]:
    return build_day(client, store, clock)


def admin_page(browser, base: str, path: str, lang: str = "zh", size=(1366, 768)):
    ctx = browser.new_context(viewport={"width": size[0], "height": size[1]})
    staff_console(ctx, base, "demo-admin").close()
    page = ctx.new_page()
    page.goto(f"{base}{path}{'&' if '?' in path else '?'}lang={lang}")
    return ctx, page


def wait_drawn(page) -> None:
    wait_for_function(page, "document.body.dataset.report !== undefined")
    for chart in CHARTS:
        wait_for_function(page, f"document.getElementById('{chart}-chart').dataset.drawn")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_days_report_is_drawn_with_its_tables(browser, live_server: LiveServer,
                                                  day: dict[str, int], lang: str) -> None:
    ctx, page = admin_page(browser, live_server.url, "/admin/reports", lang)
    wait_drawn(page)
    assert page.input_value("#from") == DAY and page.input_value("#to") == DAY  # today
    for chart in CHARTS:
        assert page.evaluate(PAINTED, chart) > 2000, chart
    totals = [t.split(" ")[0] for t in page.locator("#totals dd").all_inner_texts()]
    assert totals == ["7", "3", "4", "1", "10", "15", "10"]  # as tests/test_reports.py worked out
    rows = page.locator("#arrivals_hour-table tbody tr").all_inner_texts()
    assert [r.split("\t")[:4] for r in rows] == [["08:00", "5", "2", "3"],
                                                 ["09:00", "1", "1", "0"],
                                                 ["10:00", "1", "0", "1"]]
    counters = page.locator("#counters-table tbody tr").all_inner_texts()
    names = {"zh": ("1号诊室", "体检室", "1号接种台"),
             "en": ("Consulting room 1", "Exam room", "Vaccination desk 1")}[lang]
    assert [r.split("\t")[:2] for r in counters] == [[names[0], "3"], [names[1], "1"],
                                                     [names[2], "1"]]
    link = page.locator("#arrivals_day a[data-table=tickets]").get_attribute("href")
    assert link == f"/api/v1/reports/tickets.csv?from={DAY}&to={DAY}"
    r = page.request.get(live_server.url + link)
    assert r.status == 200 and r.body().startswith("\ufeff".encode())
    assert "A001" in r.text()
    shot(page, f"admin-reports-{lang}", full_page=True)
    shot(page, f"admin-reports-{lang}-screen")
    assert_clean(page, live_server.url, f"the reports page ({lang})")
    ctx.close()


def test_a_range_is_chosen_on_the_page(browser, live_server: LiveServer,
                                       day: dict[str, int]) -> None:
    ctx, page = admin_page(browser, live_server.url, "/admin/reports", "en")
    wait_drawn(page)
    page.click("button[data-days='7']")
    wait_for_function(page, "document.body.dataset.report === '2026-11-21/2026-11-27'")
    assert page.input_value("#from") == "2026-11-21"
    assert page.locator("#arrivals_day-table tbody tr").count() == 7
    # a reversed range: the server's words, nothing redrawn
    page.fill("#from", "2026-11-27")
    page.fill("#to", "2026-11-20")
    page.click("#range-form button[type=submit]")
    page.wait_for_selector("#range-message.error")
    assert "after" in page.locator("#range-message").inner_text()
    assert page.locator("#arrivals_day-table tbody tr").count() == 7
    ctx.close()


def test_the_print_page_prints_the_day(browser, live_server: LiveServer,
                                       day: dict[str, int]) -> None:
    ctx, page = admin_page(browser, live_server.url, f"/admin/reports/print?day={DAY}")
    assert "每日汇总" in page.locator("h2").inner_text()
    assert page.locator(".admin-bar").is_visible()
    shot(page, "admin-reports-print-screen", full_page=True)
    assert_clean(page, live_server.url, "the daily summary")
    # the Print button (its handler a static script: the strict CSP runs no onclick) prints
    page.evaluate("() => { window.printed = 0; window.print = () => { window.printed += 1; }; }")
    page.click("#print")
    assert page.evaluate("window.printed") == 1
    page.emulate_media(media="print")
    assert not page.locator(".admin-bar").is_visible()  # the print leaves the navigation out
    assert not page.locator("button.primary").is_visible()
    shot(page, "admin-reports-print", full_page=True)
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 5000
    ctx.close()


def test_a_nurse_is_refused_the_reports(browser, live_server: LiveServer) -> None:
    ctx = browser.new_context(viewport={"width": 1366, "height": 768})
    staff_console(ctx, live_server.url).close()
    page = ctx.new_page()
    r = page.goto(f"{live_server.url}/admin/reports")
    assert r is not None and r.status == 403
    assert page.locator("canvas").count() == 0
    assert "管理员" in page.locator("main").inner_text()
    ctx.close()
