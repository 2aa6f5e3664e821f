"""The admin's notices page in Chromium: a notice posted from the page runs on the
waiting-room display at once, in Chinese (English on an English display), and goes away when
removed from the page; a blank notice or bad minutes are told next to their field."""

from __future__ import annotations

from axe import assert_clean
from browsing import MARKS, admin_page, shot, wait_for_function
from support import LiveServer

pytestmark = MARKS


def test_a_notice_posted_on_the_page_runs_on_the_display(browser,
                                                         live_server: LiveServer) -> None:
    base = live_server.url
    tv_ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    tv = tv_ctx.new_page()
    tv.goto(f"{base}/display#token=demo-display-token")
    tv.wait_for_selector("#ticker", state="hidden")
    ctx, page = admin_page(browser, base, "/admin/notices")
    page.wait_for_selector("#none:not([hidden])")
    # bad input, next to its field
    page.fill("#post-text", "   ")
    page.click("#post-form button[type=submit]")
    assert "中文" in page.locator("#post-text-error").inner_text()
    page.fill("#post-text", "今天下午 2 点起暂停接种，请明天再来")
    page.fill("#post-minutes", "0")
    page.click("#post-form button[type=submit]")
    assert "44640" in page.locator("#post-minutes-error").inner_text()
    assert page.locator("#post-text-error").inner_text() == ""
    # posted for two hours
    page.fill("#post-text_en", "No vaccinations after 2 pm today; please come tomorrow")
    page.fill("#post-minutes", "120")
    page.click("#post-form button[type=submit]")
    page.wait_for_selector("#notices tr td.text:text-is('今天下午 2 点起暂停接种，请明天再来')")
    assert "已发布" in page.locator("#message").inner_text()
    wait_for_function(tv, "document.getElementById('ticker-text').textContent"
                         ".includes('今天下午 2 点起暂停接种')")
    assert tv.locator("#ticker").is_visible()
    shot(page, "admin-notices")
    assert_clean(page, base, "the notices page")
    shot(tv, "admin-notice-on-display")
    # an English display shows the English text
    en = tv_ctx.new_page()
    en.goto(f"{base}/display?lang=en#token=demo-display-token")
    wait_for_function(en, "document.getElementById('ticker-text').textContent"
                         ".includes('No vaccinations after 2 pm')")
    en.close()
    # removed, confirmed: the display's ticker goes
    page.on("dialog", lambda d: d.accept())
    page.click("#notices tr button.danger")
    page.wait_for_selector("#none:not([hidden])")
    tv.wait_for_selector("#ticker", state="hidden")
    tv_ctx.close()
    ctx.close()
