"""Issue 13's "Done when", walked through in Chromium by a station administrator who uses the
pages only: a second display shows a pairing code, the admin pairs it from the devices page,
adds a counter and a nurse, posts a notice that runs on the new display, the new nurse calls
a resident at the new counter and the new display shows it, and today's report draws its
charts. Every step is a screenshot (test-output/walkthrough-*.png); every admin page is
axe-clean. The resident's tickets come from the kiosk's API: the resident is not the admin."""

from __future__ import annotations

import re

import requests
from axe import assert_clean
from browsing import MARKS, shot, staff_console, wait_for_function
from support import KIOSK, FakeClock, LiveServer

pytestmark = MARKS
CODE = re.compile(r"^[A-Z0-9]{3}-[A-Z0-9]{3}$")
TV = "二楼电视"
NOTICE = "今天下午 2 点起暂停接种，请明天再来"
# painted pixels of a chart's canvas, and the data points Chart.js holds for it
DRAWN = """(id) => {
  const c = document.getElementById(id + '-chart');
  const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let painted = 0;
  for (let i = 3; i < px.length; i += 4) if (px[i] > 0) painted++;
  const chart = Chart.getChart(c);
  const points = chart ? chart.data.datasets.reduce(
      (n, d) => n + d.data.filter(v => v !== null && v !== 0).length, 0) : 0;
  return {painted, points};
}"""


def test_an_admin_runs_the_station_from_the_pages(browser, live_server: LiveServer,
                                                  clock: FakeClock) -> None:
    base = live_server.url
    # 1. a new TV on the second floor, started with no token: it shows a pairing code
    tv_ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    tv = tv_ctx.new_page()
    tv.goto(f"{base}/display")
    wait_for_function(tv, "/^[A-Z0-9]{3}-[A-Z0-9]{3}$/.test("
                         "document.querySelector('#pairing-code').textContent)")
    code = tv.locator("#pairing-code").inner_text()
    assert CODE.match(code)
    shot(tv, "walkthrough-01-display-pairing-code")

    # 2. the admin logs in at the console's form and pairs it on the devices page
    admin = browser.new_context(viewport={"width": 1366, "height": 768})
    staff_console(admin, base, "demo-admin").close()
    page = admin.new_page()
    page.goto(f"{base}/admin/devices")
    page.wait_for_selector("#devices tr[data-device=kiosk-1]")
    assert page.locator(".admin-nav a[aria-current=page]").inner_text() == "设备"
    page.fill("#pair-code", code)
    page.fill("#pair-name", TV)
    page.check("input[name=kind][value=display]")
    shot(page, "walkthrough-02-devices-code-typed")
    page.click("#pair-form button[type=submit]")
    wait_for_function(page, f"document.getElementById('pair-message').textContent.includes('{TV}')")
    page.wait_for_selector(f"#devices tr:has(td:text-is('{TV}'))")
    assert page.locator("#updated").inner_text() == "更新于 09:00:00"  # the station's time
    shot(page, "walkthrough-03-devices-paired")
    assert_clean(page, base, "the devices page")

    # 3. the TV leaves its pairing screen and shows the queue
    tv.wait_for_selector("#pairing", state="hidden", timeout=15000)
    tv.wait_for_selector("#services .service[data-service=A]")
    page.wait_for_selector(f"#devices tr:has(td:text-is('{TV}')) .state.online", timeout=20000)
    shot(tv, "walkthrough-04-display-shows-the-queue")
    shot(page, "walkthrough-05-devices-online")

    # 4. a counter A3 for the general clinic, on the services page
    page.goto(f"{base}/admin/services")
    page.wait_for_selector("#services tr:has-text('门诊')")
    page.click("#add-counter")
    page.wait_for_selector("#counter-dialog[open]")
    page.fill("#counter-form input[name=id]", "A3")
    page.fill("#counter-form input[name=name]", "3号诊室")
    page.fill("#counter-form input[name=spoken]", "三号诊室")
    page.check("#counter-form input[name=services][value=A]")
    shot(page, "walkthrough-06-services-new-counter")
    assert_clean(page, base, "the new counter's dialog")
    page.click("#counter-form button[type=submit]")
    page.wait_for_selector("#counters tr:has-text('3号诊室')")
    assert "3号诊室" in page.locator("#message").inner_text()
    # said where the admin is looking: the dialog was low on a long page
    box = page.locator("#message").bounding_box()
    assert box is not None and 0 <= box["y"] < 768 - box["height"], box
    shot(page, "walkthrough-07-services-saved")
    assert_clean(page, base, "the services page")
    # the TV loads the new layout by itself: A3 is one of its counters
    tv.wait_for_selector("#counters .counter[data-counter=A3]", timeout=15000)

    # 5. a nurse, on the staff page; she logs in at her console
    page.goto(f"{base}/admin/staff")
    page.wait_for_selector("#staff tr[data-user=demo-nurse]")
    page.fill("#add-username", "wangfang")
    page.fill("#add-display_name", "王芳")
    page.select_option("#add-role", "nurse")
    page.fill("#add-password", "s3cret-pass")
    page.click("#add-form button[type=submit]")
    page.wait_for_selector("#staff tr[data-user=wangfang] .state.active")
    assert "王芳" in page.locator("#message").inner_text()
    shot(page, "walkthrough-08-staff-added")
    assert_clean(page, base, "the staff page")
    nurse_ctx = browser.new_context(viewport={"width": 1366, "height": 768})
    console = nurse_ctx.new_page()
    console.goto(f"{base}/console")
    console.fill("input[name=username]", "wangfang")
    console.fill("input[name=password]", "s3cret-pass")
    console.click("button[type=submit]")
    console.wait_for_selector("#call-next")
    assert "王芳" in console.locator(".who").inner_text()

    # 6. a notice, on the notices page: it runs along the bottom of the new TV
    page.goto(f"{base}/admin/notices")
    page.wait_for_selector("#none:not([hidden])")
    page.fill("#post-text", NOTICE)
    page.fill("#post-minutes", "240")
    page.click("#post-form button[type=submit]")
    page.wait_for_selector(f"#notices tr td.text:text-is('{NOTICE}')")
    shot(page, "walkthrough-09-notice-posted")
    assert_clean(page, base, "the notices page")
    wait_for_function(tv, "document.getElementById('ticker-text').textContent"
                         ".includes('今天下午 2 点起暂停接种')")
    assert tv.locator("#ticker").is_visible()
    shot(tv, "walkthrough-10-display-notice")

    # 7. two residents take a number; six minutes later 王芳 calls the first at A3
    for _ in range(2):
        r = requests.post(f"{base}/api/v1/tickets", json={"service": "A"}, headers=KIOSK,
                          timeout=5)
        assert r.status_code == 201
    wait_for_function(tv, "document.querySelector('#services [data-service=A] .next')"
                         ".textContent.includes('A002')")
    clock.advance(minutes=6)
    console.click("#counter-picker button[data-counter=A3]")
    console.click("#call-next")
    wait_for_function(console, "document.getElementById('current-number').textContent === 'A001'")
    wait_for_function(tv, "document.querySelector('#counters [data-counter=A3] .cnum')"
                         ".textContent === 'A001'")
    assert "3号诊室" in tv.locator("#counters [data-counter=A3]").inner_text()
    shot(console, "walkthrough-11-console-called")
    shot(tv, "walkthrough-12-display-call")
    console.click("button[data-action=start]")
    console.wait_for_selector("button[data-action=complete]:enabled")
    clock.advance(minutes=4)
    console.click("button[data-action=complete]")
    wait_for_function(console, "document.getElementById('current-number').textContent !== 'A001'")

    # 8. the change history says who did all this
    page.goto(f"{base}/admin/changes")
    page.wait_for_selector("#changes tr[data-action='notice.posted']")
    history = page.locator("#changes").inner_text()
    for said in ("演示管理员 配对了", TV, "3号诊室", "王芳", "今天下午 2 点起暂停接种"):
        assert said in history, said
    shot(page, "walkthrough-13-changes")
    assert_clean(page, base, "the change history")

    # 9. today's report, with its charts drawn
    page.goto(f"{base}/admin/reports")
    wait_for_function(page, "document.body.dataset.report !== undefined")
    assert page.input_value("#from") == clock().date().isoformat()
    for chart in ("arrivals_day", "arrivals_hour", "waits_hour", "counters"):
        wait_for_function(page, f"document.getElementById('{chart}-chart').dataset.drawn")
        drawn = page.evaluate(DRAWN, chart)
        assert drawn["painted"] > 2000 and drawn["points"] > 0, (chart, drawn)
    assert "3号诊室" in page.locator("#counters-table").inner_text()
    shot(page, "walkthrough-14-reports")
    shot(page, "walkthrough-14-reports-full", full_page=True)
    assert_clean(page, base, "the reports page")
    nurse_ctx.close()
    admin.close()
    tv_ctx.close()
