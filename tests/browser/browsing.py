"""Helpers of the browser tests: Debian's Chromium (never `playwright install`), the demo
nurse's console and screenshots kept in test-output/ as evidence of what a person sees."""

from __future__ import annotations

import shutil
import time
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


# Each page reports what the Content-Security-Policy refused: the event, from a script that runs
# before the page's own, and Chromium's console line ("Refused to ...") as a second witness.
_REPORT_VIOLATIONS = """document.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline")
                + " at " + e.sourceFile + ":" + e.lineNumber);
}, true);"""


def _is_violation(text: str) -> bool:
    return (text.startswith("CSP violation:") or "Content Security Policy" in text
            or text.startswith("Refused to"))


class WatchedBrowser:
    """A Playwright browser whose every context (and so every page) records the CSP violations
    its pages meet in `violations`; the browser tests' fixtures fail a test that met any."""

    def __init__(self, browser: object) -> None:
        self._browser = browser
        self.violations: list[str] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self._browser, name)

    def _watch(self, context):
        context.add_init_script(_REPORT_VIOLATIONS)
        context.on("console", lambda message: self._console(message))
        return context

    def _console(self, message) -> None:
        if _is_violation(message.text):
            hint = (" (Playwright's page.wait_for_function runs eval() in the page: use"
                    " browsing.wait_for_function)") if "blocked eval" in message.text else ""
            self.violations.append(f"{message.page.url if message.page else '?'}: "
                                   f"{message.text}{hint}")

    def new_context(self, **options: object):
        return self._watch(self._browser.new_context(**options))

    def new_page(self, **options: object):
        context = self.new_context(**options)
        page = context.new_page()
        # like Browser.new_page: closing the page closes its own context
        page.on("close", lambda _page: context.close())
        return page

    def take_violations(self) -> list[str]:
        found, self.violations = self.violations, []
        return sorted(set(found))


def wait_for_function(page, expression: str, *, arg: object = None, timeout: float = 30_000,
                      polling: float = 50):
    """`page.wait_for_function` under the strict CSP: Playwright's own runs the expression with
    eval() inside the page, which `script-src 'self'` refuses; this polls `page.evaluate` (over
    DevTools, outside the page's policy) until the value is truthy, and returns it. A
    navigation under way counts as not yet; after `timeout` ms, Playwright's TimeoutError."""
    from playwright.sync_api import Error, TimeoutError

    deadline = time.monotonic() + timeout / 1000
    while True:
        try:
            value = page.evaluate(expression, arg)
        except Error as error:
            if "context was destroyed" not in str(error) and "navigat" not in str(error):
                raise
            value = None
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"wait_for_function: not true after {timeout:.0f} ms: {expression}")
        page.wait_for_timeout(polling)


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
