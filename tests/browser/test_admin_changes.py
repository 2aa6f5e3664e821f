"""The admin's change history in Chromium: staff, notice and device changes said in words,
newest first, paged back with "Older changes"; English with ?lang=en; axe-clean."""

from __future__ import annotations

import requests
from axe import assert_clean
from browsing import MARKS, admin_page, shot, wait_for_function
from support import LiveServer

pytestmark = MARKS


def admin_session(base: str) -> requests.Session:
    s = requests.Session()
    r = s.post(f"{base}/api/v1/login", json={"username": "demo-admin",
                                             "password": "demo-admin"}, timeout=5)
    s.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return s


def test_the_change_history_says_who_changed_what(browser, live_server: LiveServer) -> None:
    base = live_server.url
    admin = admin_session(base)
    for i in range(55):  # more than one page of 50
        admin.post(f"{base}/api/v1/admin/staff", json={
            "username": f"nurse{i:02d}", "display_name": f"护士{i:02d}", "role": "nurse",
            "password": "long-enough"}, timeout=5).raise_for_status()
    admin.post(f"{base}/api/v1/admin/staff", json={
        "username": "wangfang", "display_name": "王芳", "role": "nurse",
        "password": "long-enough"}, timeout=5).raise_for_status()
    admin.post(f"{base}/api/v1/admin/staff/wangfang/disable", timeout=5).raise_for_status()
    admin.post(f"{base}/api/v1/notices", json={"text": "今天下午停诊", "minutes": 60},
               timeout=5).raise_for_status()
    admin.post(f"{base}/api/v1/devices/display-1/rename", json={"name": "二楼候诊屏"},
               timeout=5).raise_for_status()
    ctx, page = admin_page(browser, base, "/admin/changes")
    page.wait_for_selector("#changes tr")
    what = page.locator("#changes td.what")
    assert what.nth(0).inner_text() == "演示管理员 把候诊屏“候诊大屏”改名为“二楼候诊屏”"
    assert what.nth(1).inner_text().startswith("演示管理员 发布了公告“今天下午停诊”（显示到 ")
    assert what.nth(2).inner_text() == "演示管理员 停用了 王芳（wangfang）"
    assert what.nth(3).inner_text() == "演示管理员 添加了护士 王芳（wangfang）"
    assert page.locator("#changes tr").count() == 50
    shot(page, "admin-changes")
    assert_clean(page, base, "the change history")
    page.click("#older")
    wait_for_function(page, "document.querySelectorAll('#changes tr').length === 9")
    assert page.locator("#changes td.what").last.inner_text() == \
        "演示管理员 添加了护士 护士00（nurse00）"
    assert page.locator("#older").is_hidden() and page.locator("#newest").is_visible()
    page.click("#newest")
    wait_for_function(page, "document.querySelectorAll('#changes tr').length === 50")
    # in English
    page.goto(f"{base}/admin/changes?lang=en")
    page.wait_for_selector("#changes tr")
    assert page.locator("#changes td.what").nth(3).inner_text() == \
        "演示管理员 added nurse 王芳 (wangfang)"
    shot(page, "admin-changes-en")
    ctx.close()
