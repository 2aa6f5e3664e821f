"""Helpers of the browser tests: Debian's Chromium (never `playwright install`), the demo
nurse's console and screenshots kept in test-output/ as evidence of what a person sees."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support import OUTPUT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]
MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed "
                       "(make test installs it)"),
]


def staff_console(context, base: str, username: str = "demo-nurse"):
    """The console page, logged in through its own login form (the demo's password is the
    user name)."""
    page = context.new_page()
    page.goto(f"{base}/console")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", username)
    page.click("button[type=submit]")
    page.wait_for_selector("#call-next")
    return page


def admin_page(browser, base: str, path: str, size: tuple[int, int] = (1366, 768)):
    """An admin page in its own browser context, the demo admin logged in at the console;
    answers (context, page)."""
    ctx = browser.new_context(viewport={"width": size[0], "height": size[1]})
    staff_console(ctx, base, "demo-admin").close()
    page = ctx.new_page()
    page.goto(f"{base}{path}")
    return ctx, page


def shot(page, name: str, **options: object) -> Path:
    OUTPUT.mkdir(exist_ok=True)
    path = OUTPUT / f"{name}.png"
    page.screenshot(path=str(path), **options)
    return path
