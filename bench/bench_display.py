"""Benchmark: the display's observation board with 200 tickets in observation, in Chromium.

Puts 200 tickets into observation on a station (production server), opens the display in
Debian's chromium (Playwright), then sends 60 changes; each redraws the board. Two figures:
the board's redraw as the page's script measures it (User Timing `observation-redraw`), and
from the start of that redraw to the second animation frame after it, an upper bound that
includes style, layout and paint (and up to one frame of waiting).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import requests
from harness import StationProcess, emit_distribution, unthrottled

from contracts.demo import DEMO_TRACE_CODE

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
OBSERVING = 200
# boxes of the demo's current HepB lot, one per dose
TRACE_PREFIX = DEMO_TRACE_CODE[:13]  # product and lot; 7 digits of box follow
CHECKS = ("name", "age", "vaccine", "specification", "dose", "site", "route")
CHANGES = 60
# after each redraw of the board, the time until the second animation frame
FRAME_PROBE = """
window.benchFrames = [];
new MutationObserver(() => {
  const start = performance.getEntriesByName('observation-redraw-start').at(-1).startTime;
  requestAnimationFrame(() => requestAnimationFrame(
    () => window.benchFrames.push(performance.now() - start)));
}).observe(document.getElementById('observing'), {childList: true});
"""


def into_observation(url: str, n: int) -> requests.Session:
    """`n` vaccination walk-ins through the whole pathway: screening answered "no" to every
    question, called to a vaccination desk, a dose recorded from its own box."""
    nurse = requests.Session()
    r = nurse.post(f"{url}/api/v1/login", json={"username": "demo-nurse", "password": "demo-nurse"})
    nurse.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    questions = nurse.get(f"{url}/api/v1/screening/questions").json()["questions"]
    for i in range(n):
        ticket = nurse.post(f"{url}/api/v1/tickets", json={"service": "V"}).json()
        nurse.post(f"{url}/api/v1/tickets/{ticket['id']}/screening",
                   json={"answers": {q["id"]: False for q in questions}}).raise_for_status()
        called = nurse.post(f"{url}/api/v1/counters/V1/call-next").json()
        nurse.post(f"{url}/api/v1/tickets/{called['id']}/start",
                   json={"counter": "V1"}).raise_for_status()
        nurse.post(f"{url}/api/v1/tickets/{called['id']}/vaccinate", json={
            "trace_code": f"{TRACE_PREFIX}{i:07d}", "site": "left_deltoid",
            "route": "intramuscular", "checklist": dict.fromkeys(CHECKS, True),
        }).raise_for_status()
    return nurse


def main() -> int:
    if not Path(CHROMIUM).exists():
        print("bench_display: Debian chromium is not installed (make test installs it)",
              file=sys.stderr)
        return 0
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        station = StationProcess(Path(tmp) / "station.db", config_file=unthrottled(Path(tmp)))
        try:
            nurse = into_observation(station.url, OBSERVING)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                            args=["--no-sandbox", "--disable-gpu"])
                page = browser.new_page(viewport={"width": 1920, "height": 1080})
                page.goto(f"{station.url}/display#token=demo-display-token")
                page.wait_for_function(
                    f"document.querySelectorAll('#observing li').length > 0 && "
                    f"document.getElementById('obs-count').textContent === '({OBSERVING})'")
                page.evaluate("performance.clearMeasures('observation-redraw')")
                page.evaluate(FRAME_PROBE)
                for i in range(CHANGES):
                    nurse.post(f"{station.url}/api/v1/tickets", json={"service": "A"})
                    page.wait_for_function(
                        f"performance.getEntriesByName('observation-redraw').length > {i}")
                board = page.evaluate(
                    "performance.getEntriesByName('observation-redraw').map(e => e.duration)")
                page.wait_for_function(f"window.benchFrames.length >= {CHANGES}")
                frames = page.evaluate("window.benchFrames")
                browser.close()
        finally:
            station.stop()
    emit_distribution(f"observation_board_{OBSERVING}_redraw", board)
    emit_distribution(f"observation_board_{OBSERVING}_to_frame", frames)
    return 0


if __name__ == "__main__":
    sys.exit(main())
