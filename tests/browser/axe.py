"""axe-core in the browser tests: the project's own copy (server/web/static/vendor, no CDN) is
injected into a page and run; serious and critical violations fail the test."""

from __future__ import annotations

from typing import Any

AXE_PATH = "/static/vendor/axe-4.14.1.min.js"
BLOCKING = ("serious", "critical")


def violations(page: Any, base: str, *, context: str | None = None) -> list[dict[str, Any]]:
    """axe's violations on `page` as it is now (`context`: a selector to check only a part)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=base + AXE_PATH)
    found: list[dict[str, Any]] = page.evaluate(
        """(ctx) => axe.run(ctx ? document.querySelector(ctx) : document,
                            {resultTypes: ['violations']})
                       .then(r => r.violations.map(v => ({
                           id: v.id, impact: v.impact, help: v.help,
                           nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary)
                       })))""", context)
    return found


def assert_clean(page: Any, base: str, what: str, *, context: str | None = None) -> None:
    """No serious or critical axe violation on `page`; the message lists each with its nodes."""
    bad = [v for v in violations(page, base, context=context) if v["impact"] in BLOCKING]
    lines = [f"{v['impact']} {v['id']} ({v['help']}): " + "; ".join(v["nodes"][:5]) for v in bad]
    assert not bad, f"axe on {what}:\n" + "\n".join(lines)


def assert_axe_clean(page: Any, base: str, where: str = "") -> None:
    """The kiosk tests' name for `assert_clean`."""
    assert_clean(page, base, where or "the page")
