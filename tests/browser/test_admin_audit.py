"""The admin's audit log in Chromium: staff logins (a refused one too), ticket steps and a
settings change, newest first, by day, with its CSV; English with ?lang=en; axe-clean."""

from __future__ import annotations

import requests
from axe import assert_clean
from browsing import MARKS, admin_page, shot
from support import KIOSK, LiveServer

pytestmark = MARKS


def nurse_session(base: str) -> requests.Session:
    s = requests.Session()
    r = s.post(f"{base}/api/v1/login", json={"username": "demo-nurse",
                                             "password": "demo-nurse"}, timeout=5)
    s.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return s


def test_the_audit_log_shows_who_did_what(browser, live_server: LiveServer) -> None:
    base = live_server.url
    assert requests.post(f"{base}/api/v1/login", json={"username": "demo-nurse",
                                                       "password": "guess"},
                         timeout=5).status_code == 401
    nurse = nurse_session(base)
    for _ in range(2):
        requests.post(f"{base}/api/v1/tickets", json={"service": "A"}, headers=KIOSK,
                      timeout=5).raise_for_status()
    called = nurse.post(f"{base}/api/v1/counters/A1/call-next", timeout=5).json()
    nurse.post(f"{base}/api/v1/tickets/{called['id']}/no-show", json={"counter": "A1"},
               timeout=5).raise_for_status()
    nurse.post(f"{base}/api/v1/tickets/{called['id']}/restore", timeout=5).raise_for_status()
    nurse.post(f"{base}/api/v1/counters/A1/call-next", timeout=5).raise_for_status()
    nurse.post(f"{base}/api/v1/logout", timeout=5).raise_for_status()

    ctx, page = admin_page(browser, base, "/admin/audit")
    rows = page.locator("table.audit tbody tr")
    texts = [rows.nth(i).inner_text() for i in range(rows.count())]
    assert len(texts) == 8, texts
    assert "demo-admin" in texts[0] and "登录" in texts[0]
    assert "demo-nurse" in texts[1] and "退出登录" in texts[1]
    assert "恢复过号" in texts[3] and called["number"] in texts[3]
    assert "标记过号" in texts[4] and "窗口 A1" in texts[4]
    assert "已呼叫" in texts[5] and "窗口 A1" in texts[5]
    assert "demo-nurse" in texts[6] and "登录" in texts[6]
    assert "登录被拒" in texts[7]
    csv = page.locator("a[download]")
    assert csv.get_attribute("href") == "/api/v1/admin/audit.csv?from=2026-11-27&to=2026-11-27"
    got = ctx.request.get(f"{base}{csv.get_attribute('href')}")
    assert got.status == 200 and "login_failed" in got.text()
    shot(page, "admin-audit")
    assert_clean(page, base, "the audit log")

    # a day with nothing recorded, then English
    page.fill("input[name=from]", "2026-11-20")
    page.fill("input[name=to]", "2026-11-20")
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/audit?from=2026-11-20&to=2026-11-20")
    assert rows.count() == 0 and page.get_by_text("这几天没有记录。").is_visible()
    page.goto(f"{base}/admin/audit?lang=en")
    assert page.locator("h2#audit-title").inner_text() == "Audit log"
    assert "login refused" in page.locator("table.audit").inner_text()
    shot(page, "admin-audit-en")
    assert_clean(page, base, "the audit log in English")
    ctx.close()
