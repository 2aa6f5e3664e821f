"""The admin's services and counters page in Chromium: add a counter from the page and see a
nurse's open console offer it at once; a refused setting is said beside its field, nothing
changed; the page and its dialog are axe-clean."""

from __future__ import annotations

import pytest
from axe import assert_clean
from browsing import MARKS, shot, staff_console, wait_for_function
from support import LiveServer

pytestmark = MARKS


@pytest.mark.parametrize("size", [(1366, 768)])
def test_an_admin_adds_a_counter_and_open_consoles_offer_it(
        browser, live_server: LiveServer, size: tuple[int, int]) -> None:
    base = live_server.url
    nurse_ctx = browser.new_context(viewport={"width": 1366, "height": 768})
    console = staff_console(nurse_ctx, base)
    assert console.locator("#counter-picker [data-counter=A3]").count() == 0
    ctx = browser.new_context(viewport={"width": size[0], "height": size[1]})
    staff_console(ctx, base, "demo-admin").close()
    page = ctx.new_page()
    page.goto(f"{base}/admin/services")
    page.wait_for_selector("#services tr:has-text('门诊')")
    shot(page, "admin-services")
    assert_clean(page, base, "the admin services page")

    page.click("#add-counter")
    page.wait_for_selector("#counter-dialog[open]")
    page.fill("#counter-form input[name=id]", "A3")
    page.fill("#counter-form input[name=name]", "3号诊室")
    page.fill("#counter-form input[name=spoken]", "三号诊室")
    page.click("#counter-form button[type=submit]")  # no service chosen: said beside it
    wait_for_function(page, "document.querySelector('#counter-form [data-error=services]')"
                           ".textContent.includes('至少')")
    shot(page, "admin-services-counter-error")
    assert_clean(page, base, "the counter dialog with an error")
    page.check("#counter-form input[name=services][value=A]")
    page.click("#counter-form button[type=submit]")
    page.wait_for_selector("#counter-dialog:not([open])", state="attached")
    page.wait_for_selector("#counters tr:has-text('3号诊室')")
    assert "3号诊室" in page.locator("#message").inner_text()
    # the nurse's console, open all along, loads the new layout by itself
    console.wait_for_selector("#counter-picker [data-counter=A3]", state="attached",
                              timeout=15000)

    # a prefix another service has: refused beside the prefix field, nothing saved
    page.click("#services tr:has-text('门诊') button:text-is('修改')")
    page.wait_for_selector("#service-dialog[open]")
    page.fill("#service-form input[name=prefix]", "V")
    page.fill("#service-form input[name=opens]", "08:00")
    page.fill("#service-form input[name=closes]", "11:30")
    page.click("#service-form button[type=submit]")
    wait_for_function(page, "document.querySelector('#service-form [data-error=prefix]')"
                           ".textContent.includes('前缀')")
    assert page.locator("#service-form input[name=prefix]").get_attribute(
        "aria-invalid") == "true"
    shot(page, "admin-services-service-error")
    page.fill("#service-form input[name=prefix]", "A")
    page.click("#service-form button[type=submit]")
    page.wait_for_selector("#service-dialog:not([open])", state="attached")
    page.wait_for_selector("#services tr:has-text('08:00–11:30')")
    ctx.close()
    nurse_ctx.close()
