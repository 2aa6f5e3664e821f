"""axe-core in the browser tests: the project's vendored copy (no CDN), injected into a page;
a serious or critical violation fails the test with what and where."""

from __future__ import annotations

from typing import Any

AXE_PATH = "/static/vendor/axe-4.14.1.min.js"  # served by the station server itself


def axe_violations(page: Any, base: str, *, impacts: tuple[str, ...] = ("serious", "critical"),
                   context: str = "document") -> list[dict[str, Any]]:
    """Run axe on what `page` shows now; the violations of the given impacts."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=f"{base}{AXE_PATH}")
    result = page.evaluate(
        "async (ctx) => await axe.run(ctx === 'document' ? document : ctx, "
        "{resultTypes: ['violations']})", context)
    return [v for v in result["violations"] if v.get("impact") in impacts]


def assert_axe_clean(page: Any, base: str, where: str = "") -> None:
    """No serious or critical axe violations on what `page` shows now."""
    bad = axe_violations(page, base)
    lines = [f"{v['id']} ({v['impact']}): {v['help']} at "
             + ", ".join(" ".join(n["target"]) for n in v["nodes"][:5]) for v in bad]
    assert not bad, f"axe {where}:\n" + "\n".join(lines)
