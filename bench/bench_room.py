"""Benchmark: the waiting room.

- phrase → audio ready (espeak-ng, chime included), p50, first time and cached, in-process;
- call-next → the display's DOM shows it, in Debian's chromium, against the station served
  the production way (gunicorn, server/serving.py), sound on;
- the display's JS heap and DOM node count after 10 calls and after 1,000 (after a GC);
- 500 phone pages connected (raw Socket.IO clients, two processes): call → each of them,
  p50/p99, and the slowest phone of each call; the station's RSS with them connected.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from harness import StationProcess, emit, emit_distribution, unthrottled

from display.announce import Voicing, phrases
from display.speech import EspeakEngine
from display.voice import Voice

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
KIOSK = {"Authorization": "Bearer demo-kiosk-token"}
PHRASES = 30
SHOWN = 50
PHONES = 500
PHONE_CALLS = 30


def audio_ready() -> None:
    voice = Voice(EspeakEngine())
    try:
        first, cached = [], []
        for i in range(PHRASES):
            spoken = phrases("ticket.called", f"V{i + 100:03d}", {"zh": f"{i % 9 + 1}号接种台"},
                             Voicing())
            t0 = time.perf_counter()
            key = voice.request(spoken)
            assert voice.audio(key, wait=30) is not None
            first.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            key = voice.request(spoken)
            assert voice.audio(key, wait=30) is not None
            cached.append((time.perf_counter() - t0) * 1000)
    finally:
        voice.stop()
    emit("phrase_to_audio_first_p50", statistics.median(first), "ms", len(first))
    emit("phrase_to_audio_cached_p50", statistics.median(cached), "ms", len(cached))


def nurse(url: str) -> requests.Session:
    s = requests.Session()
    r = s.post(f"{url}/api/v1/login", json={"username": "demo-nurse", "password": "demo-nurse"})
    s.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return s


def serve_one(s: requests.Session, url: str, counter: str) -> dict:
    ticket = s.post(f"{url}/api/v1/counters/{counter}/call-next").json()
    for action in ("start", "complete"):
        s.post(f"{url}/api/v1/tickets/{ticket['id']}/{action}", json={"counter": counter})
    return ticket


def metrics(cdp) -> tuple[float, int]:
    cdp.send("HeapProfiler.collectGarbage")
    got = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return got["JSHeapUsedSize"] / 1024 / 1024, int(got["Nodes"])


def display(url: str) -> None:
    from playwright.sync_api import sync_playwright

    s = nurse(url)
    for _ in range(SHOWN + 1010):
        s.post(f"{url}/api/v1/tickets", json={"service": "A"})
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        seen: dict[str, float] = {}
        page.expose_function("shown", lambda number: seen.setdefault(number, time.perf_counter()))
        page.goto(f"{url}/display#token=demo-display-token")
        page.wait_for_selector(".service[data-service=A] .next span")
        page.click("#sound-enable")
        page.evaluate("""() => new MutationObserver(() => {
            const n = document.querySelector('.counter[data-counter=A1] .cnum');
            if (n) window.shown(n.textContent);
          }).observe(document.getElementById('counters'), {childList: true, subtree: true})""")
        latencies = []
        for _ in range(SHOWN):
            t0 = time.perf_counter()
            ticket = s.post(f"{url}/api/v1/counters/A1/call-next").json()
            page.wait_for_function(f"document.querySelector('.counter[data-counter=A1] .cnum')"
                                   f".textContent === '{ticket['number']}'")
            latencies.append((seen[ticket["number"]] - t0) * 1000)
            for action in ("start", "complete"):
                s.post(f"{url}/api/v1/tickets/{ticket['id']}/{action}", json={"counter": "A1"})
        emit_distribution("call_next_to_display_dom", latencies)
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable")
        calls = SHOWN
        for _ in range(10):
            serve_one(s, url, "B1")
        calls += 10
        heap_10, nodes_10 = metrics(cdp)
        while calls < 1000:
            serve_one(s, url, "A1" if calls % 2 else "B1")
            calls += 1
        page.wait_for_function("document.querySelector('#recent li') !== null")
        time.sleep(1)  # the last deltas drawn
        heap_1000, nodes_1000 = metrics(cdp)
        browser.close()
    emit("display_js_heap_after_10_calls", heap_10, "MB", 60)
    emit("display_js_heap_after_1000_calls", heap_1000, "MB", calls)
    emit("display_dom_nodes_after_10_calls", nodes_10, "nodes", 60)
    emit("display_dom_nodes_after_1000_calls", nodes_1000, "nodes", calls)


def phones(station: StationProcess) -> None:
    url = station.url
    s = nurse(url)
    codes = [s.post(f"{url}/api/v1/tickets", json={"service": "V"}).json()["code"]
             for _ in range(PHONES)]
    script = Path(__file__).resolve().parent / "phone_clients.py"
    halves = [codes[: PHONES // 2], codes[PHONES // 2:]]
    procs = [subprocess.Popen([sys.executable, str(script), url], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True) for _ in halves]
    for proc, part in zip(procs, halves, strict=True):
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(json.dumps(part) + "\n")
        proc.stdin.flush()
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    rss = station.rss_mb()
    sent: dict[str, float] = {}
    for _ in range(PHONE_CALLS):
        t0 = time.monotonic()
        ticket = s.post(f"{url}/api/v1/counters/S1/call-next").json()
        sent[ticket["id"]] = t0
        time.sleep(0.3)
        s.post(f"{url}/api/v1/tickets/{ticket['id']}/no-show")
    per_phone, slowest = [], {}
    for proc in procs:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write("\n")
        proc.stdin.flush()
        for ticket_id, at in json.loads(proc.stdout.readline()):
            if ticket_id in sent:
                ms = (at - sent[ticket_id]) * 1000
                per_phone.append(ms)
                slowest[ticket_id] = max(slowest.get(ticket_id, 0.0), ms)
        proc.wait(timeout=30)
    assert len(per_phone) == PHONES * PHONE_CALLS, f"{len(per_phone)} deliveries"
    emit_distribution(f"call_to_{PHONES}_phones", per_phone)
    emit(f"call_to_all_{PHONES}_phones_p50", statistics.median(slowest.values()), "ms",
         len(slowest))
    emit(f"station_rss_with_{PHONES}_phones", rss, "MB", 1)


def main() -> int:
    audio_ready()
    with tempfile.TemporaryDirectory() as tmp:
        station = StationProcess(Path(tmp) / "station.db", None, "--threads", "700",
                                 config_file=unthrottled(Path(tmp)))
        try:
            if Path(CHROMIUM).exists():
                display(station.url)
            else:
                print("bench_room: Debian chromium is not installed", file=sys.stderr)
            phones(station)
        finally:
            station.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
