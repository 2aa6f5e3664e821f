"""The admin's staff page in Chromium (the API's own tests: tests/test_admin_staff.py): a
bad username and a short password are told next to their fields, a nurse is added and logs in,
her password is reset in the dialog, she is disabled (confirmed) and her open console is
refused at once; the page is axe-clean."""

from __future__ import annotations

import pytest
from axe import assert_clean
from browsing import MARKS, admin_page, shot, staff_console, wait_for_function
from support import LiveServer

pytestmark = MARKS
ROW = "#staff tr[data-user=wangfang]"


def test_an_admin_adds_resets_and_disables_a_nurse(browser, live_server: LiveServer) -> None:
    base = live_server.url
    ctx, page = admin_page(browser, base, "/admin/staff")
    page.wait_for_selector("#staff tr[data-user=demo-nurse]")
    # bad input: said next to each field, nothing sent
    page.fill("#add-username", "Wang Fang")
    page.fill("#add-display_name", "王芳")
    page.fill("#add-password", "short")
    page.click("#add-form button[type=submit]")
    assert "小写字母" in page.locator("#add-username-error").inner_text()
    assert "8" in page.locator("#add-password-error").inner_text()
    assert page.locator("#add-username").get_attribute("aria-invalid") == "true"
    shot(page, "admin-staff-errors")
    assert_clean(page, base, "the staff page with errors")
    # a username in use: the server's refusal next to the username
    page.fill("#add-username", "demo-nurse")
    page.fill("#add-password", "long-enough")
    page.click("#add-form button[type=submit]")
    wait_for_function(page, "document.getElementById('add-username-error').textContent"
                           ".includes('demo-nurse')")
    assert page.locator("#add-password-error").inner_text() == ""
    # added
    page.fill("#add-username", "wangfang")
    page.select_option("#add-role", "nurse")
    page.fill("#add-password", "s3cret-pass")
    page.click("#add-form button[type=submit]")
    page.wait_for_selector(f"{ROW} .state.active")
    assert "王芳" in page.locator("#message").inner_text()
    assert page.locator(f"{ROW} td").nth(2).inner_text() == "护士"
    # she logs in at her console
    nurse_ctx = browser.new_context(viewport={"width": 1366, "height": 768})
    console = nurse_ctx.new_page()
    console.goto(f"{base}/console")
    console.fill("input[name=username]", "wangfang")
    console.fill("input[name=password]", "s3cret-pass")
    console.click("button[type=submit]")
    console.wait_for_selector("#call-next")
    # reset her password in the dialog: too short first, then a good one
    page.click(f"{ROW} button.reset")
    page.wait_for_selector("#password-dialog[open]")
    assert "王芳" in page.locator("#password-title").inner_text()
    page.fill("#new-password", "1234")
    page.click("#password-form button[type=submit]")
    assert page.locator("#new-password-error").inner_text()
    shot(page, "admin-staff-reset")
    assert_clean(page, base, "the password dialog")
    page.fill("#new-password", "another-pass")
    page.click("#password-form button[type=submit]")
    page.wait_for_selector("#password-dialog", state="hidden")
    assert "王芳" in page.locator("#message").inner_text()
    # disable her, confirmed: her open console is refused on its next call
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    page.click(f"{ROW} button.disable")
    page.wait_for_selector(f"{ROW} .state.disabled")
    assert "王芳" in dialogs[0]
    status = console.evaluate("fetch('/api/v1/state').then(r => r.status)")
    assert status == 401
    shot(page, "admin-staff")
    assert_clean(page, base, "the staff page")
    # the admin cannot disable themself: told plainly
    page.click("#staff tr[data-user=demo-admin] button.disable")
    page.wait_for_selector("#message.error")
    assert "自己" in page.locator("#message").inner_text()
    nurse_ctx.close()
    ctx.close()


@pytest.mark.parametrize("path", ["/admin/staff", "/admin/notices", "/admin/changes"])
def test_a_nurse_is_refused_the_new_admin_pages(browser, live_server: LiveServer,
                                                path: str) -> None:
    ctx = browser.new_context(viewport={"width": 1366, "height": 768})
    staff_console(ctx, live_server.url).close()
    page = ctx.new_page()
    r = page.goto(f"{live_server.url}{path}")
    assert r is not None and r.status == 403
    assert page.locator("form").count() == 0 and page.locator("table").count() == 0
    assert "管理员" in page.locator("main").inner_text()
    ctx.close()
