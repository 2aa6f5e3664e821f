"""Two administrators at once, in Chromium: what one changes on the staff, notices, services
and devices pages shows on the other's open pages of that kind (and in the change history) at
once, with no reload, by the Socket.IO `admin` message; the pages that do not poll prove it,
and the devices page (which reads its health every 5 s) is shown to get the message itself."""

from __future__ import annotations

import requests
from browsing import MARKS, shot, staff_console, wait_for_function
from support import LiveServer

pytestmark = MARKS
PAGES = ("staff", "notices", "services", "devices", "changes")


def second_admin(base: str) -> str:
    """A second administrator's account, added by the demo admin (the API's own tests add
    accounts through the page); the demo's console form logs in with the name as password."""
    s = requests.Session()
    r = s.post(f"{base}/api/v1/login", json={"username": "demo-admin", "password": "demo-admin"},
               timeout=5)
    r = s.post(f"{base}/api/v1/admin/staff", headers={"X-CSRF-Token": r.json()["csrf_token"]},
               json={"username": "li-admin-2", "display_name": "李主任", "role": "admin",
                     "password": "li-admin-2"}, timeout=5)
    assert r.status_code == 201, r.text
    return "li-admin-2"


def test_one_admins_change_shows_on_the_others_open_pages(browser,
                                                          live_server: LiveServer) -> None:
    base = live_server.url
    other = second_admin(base)
    # the first admin has every page open, each marked to tell a reload apart
    watching = browser.new_context(viewport={"width": 1366, "height": 768})
    staff_console(watching, base, "demo-admin").close()
    pages, frames = {}, []
    for name in PAGES:
        page = watching.new_page()
        if name == "devices":
            page.on("websocket", lambda ws: ws.on(
                "framereceived", lambda payload: frames.append(payload)))
        page.goto(f"{base}/admin/{name}")
        wait_for_function(page, "document.body.dataset.live === 'on'")
        page.evaluate("window.notReloaded = true")
        pages[name] = page
    pages["staff"].wait_for_selector("#staff tr[data-user=demo-nurse]")
    pages["notices"].wait_for_selector("#none:not([hidden])")

    acting = browser.new_context(viewport={"width": 1366, "height": 768})
    staff_console(acting, base, other).close()
    act = acting.new_page()
    # a nurse added
    act.goto(f"{base}/admin/staff")
    act.fill("#add-username", "wangfang")
    act.fill("#add-display_name", "王芳")
    act.fill("#add-password", "s3cret-pass")
    act.click("#add-form button[type=submit]")
    pages["staff"].wait_for_selector("#staff tr[data-user=wangfang] .state.active")
    # a notice posted
    act.goto(f"{base}/admin/notices")
    act.fill("#post-text", "三楼电梯维修，请走楼梯")
    act.click("#post-form button[type=submit]")
    pages["notices"].wait_for_selector("#notices td.text:text-is('三楼电梯维修，请走楼梯')")
    assert pages["notices"].locator("#none").is_hidden()
    # a counter added
    act.goto(f"{base}/admin/services")
    act.wait_for_selector("#services tr:has-text('门诊')")
    act.click("#add-counter")
    act.fill("#counter-form input[name=id]", "A3")
    act.fill("#counter-form input[name=name]", "3号诊室")
    act.check("#counter-form input[name=services][value=A]")
    act.click("#counter-form button[type=submit]")
    pages["services"].wait_for_selector("#counters tr:has-text('3号诊室')")
    # a display paired: a new TV shows its code, the other admin types it in
    tv_ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    tv = tv_ctx.new_page()
    tv.goto(f"{base}/display")
    wait_for_function(tv, "/^[A-Z0-9]{3}-[A-Z0-9]{3}$/.test("
                         "document.querySelector('#pairing-code').textContent)")
    act.goto(f"{base}/admin/devices")
    act.fill("#pair-code", tv.locator("#pairing-code").inner_text())
    act.fill("#pair-name", "二楼电视")
    act.click("#pair-form button[type=submit]")
    pages["devices"].wait_for_selector("#devices tr:has(td:text-is('二楼电视'))")
    assert any('"admin"' in str(f) and '"devices"' in str(f) for f in frames), frames[-5:]
    # the history, open all along, has the newest change on top
    pages["changes"].wait_for_selector("#changes tr:first-child[data-action='device.paired']")
    assert "李主任" in pages["changes"].locator("#changes").inner_text()  # by name
    for name, page in pages.items():
        assert page.evaluate("window.notReloaded === true"), f"the {name} page reloaded"
        shot(page, f"admin-live-{name}")
    tv_ctx.close()
    acting.close()
    watching.close()
