"""The waiting room in a real Chromium: the display at both TV sizes (calls flash, the sound step,
the call's audio fetched and played, notices, hostile names as text, a burst of calls) and the
ticket's phone page in a phone-sized context. Screenshots go to test-output/.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import requests
from browsing import WatchedBrowser, wait_for_function
from flask import Flask
from support import KIOSK, OUTPUT, LiveServer, wait_until

from contracts.names import mask_name
from server import config
from server.store import Store
from server.web import create_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]
pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed"),
]
SIZES = {"1080p": (1920, 1080), "720p": (1280, 720)}
HOSTILE = ["<img src=x onerror=window.pwned=1>王", "\u202e王小明", "欧阳娜娜", "李",
           "张\u200b\u200d三丰", "𠀀𪚥龘"]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # a TV's browser is set to autoplay in kiosk mode, but the display must not count on it
        b = WatchedBrowser(p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=FLAGS))
        yield b
        b.close()


@pytest.fixture
def room(settings: config.Settings, tmp_path: Path) -> Iterator[tuple[LiveServer, Flask]]:
    """A station that speaks with espeak-ng, on the real clock, over real HTTP."""
    spoken = replace(settings, database=str(tmp_path / "station.db"),
                     announce=replace(settings.announce, engine="espeak",
                                      cache_dir=str(tmp_path / "audio")))
    store = Store(spoken.database)
    app = create_app(spoken, store=store)
    server = LiveServer(app)
    yield server, app
    server.stop()
    app.extensions["clinicq"].announcer.stop()
    store.close()


def staff(base: str, user: str = "demo-nurse") -> requests.Session:
    s = requests.Session()
    r = s.post(f"{base}/api/v1/login", json={"username": user, "password": user}, timeout=5)
    s.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return s


def shot(page, name: str) -> None:
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"{name}.png"))


def hostile_bookings(app: Flask) -> list[str]:
    ext = app.extensions["clinicq"]
    day = ext.station.today().isoformat()
    rows = [{"id": f"hostile-{i}", "code": f"HOSTILE-{i}", "station": ext.settings.station_id,
             "service": "A", "day": day, "slot_start": "00:00", "slot_end": "23:59",
             "name": name, "name_masked": mask_name(name), "phone_last4": "0000",
             "priority": 0, "status": "booked", "updated_at": None, "vaccine": None}
            for i, name in enumerate(HOSTILE)]
    ext.store.upsert_bookings(rows)
    return [r["id"] for r in rows]


@pytest.mark.parametrize("size", list(SIZES))
def test_display_shows_flashes_and_speaks_a_call(browser, room, size: str) -> None:
    server, app = room
    base = server.url
    nurse, admin = staff(base), staff(base, "demo-admin")
    for service in ("V", "V", "V", "A", "A", "B"):
        requests.post(f"{base}/api/v1/tickets", json={"service": service}, headers=KIOSK,
                      timeout=5)
    for booking in hostile_bookings(app):
        assert nurse.post(f"{base}/api/v1/bookings/{booking}/checkin").status_code == 201
    admin.post(f"{base}/api/v1/notices", json={
        "text": "今天下午 2 点起流感疫苗接种，请带好身份证 <b>不是HTML</b>",
        "text_en": "Flu vaccination from 2 pm today"}).raise_for_status()
    width, height = SIZES[size]
    ctx = browser.new_context(viewport={"width": width, "height": height})
    page = ctx.new_page()
    fetched: list[tuple[str, int]] = []
    page.on("response", lambda r: fetched.append((r.url, r.status)) if "/audio/" in r.url
            else None)
    page.goto(f"{base}/display#token=demo-display-token")
    page.wait_for_selector(".service[data-service=V] .next span")
    page.wait_for_selector("#ticker:not([hidden]) .ticker-text span")
    assert "<b>" in page.locator("#ticker-text").inner_text()  # as text, never as HTML
    # the sound step, once per display
    page.wait_for_selector("#sound-enable:not([hidden])")
    shot(page, f"display-{size}-sound-step")
    page.click("#sound-enable")
    page.wait_for_selector("#sound-enable", state="hidden")
    assert page.evaluate("localStorage.getItem('clinicq.display.sound')") == "on"

    called = nurse.post(f"{base}/api/v1/counters/V2/call-next").json()
    page.wait_for_selector(".counter[data-counter=V2].fresh .cnum")
    assert page.locator(".counter[data-counter=V2] .cnum").inner_text() == called["number"]
    page.wait_for_selector("#flash:not([hidden]) .fnum")
    assert page.locator("#flash .fnum").inner_text() == called["number"]
    assert "2号接种台" in page.locator("#flash .fto").inner_text()
    # Playwright hands its events over only while it is called: a poll of `fetched` from
    # Python alone never sees an answer that came after the last call, so wait through it
    if not any(status == 200 for _, status in fetched):
        page.wait_for_event("response", lambda r: "/audio/" in r.url and r.status == 200,
                            timeout=10000)
    shot(page, f"display-{size}-call")
    wait_for_function(page, "window.clinicqDisplay.sound.stats.played >= 1", timeout=20000)

    # hostile names at the counters: text, masked, never markup
    for counter in ("A1", "B1"):
        nurse.post(f"{base}/api/v1/counters/{counter}/call-next").raise_for_status()
    wait_for_function(page, "document.querySelectorAll('.counter.active').length >= 3")
    assert page.evaluate("window.pwned") is None
    assert page.locator(".counter img").count() == 0
    shown = page.locator(".cwho").all_inner_texts()
    assert all(len(t) <= 3 for t in shown), shown
    assert "\u202e" not in "".join(shown) and "\u200b" not in "".join(shown)
    page.wait_for_selector("#flash", state="hidden", timeout=15000)
    shot(page, f"display-{size}-board")
    # the health says the sound is on
    devices = admin.get(f"{base}/api/v1/devices").json()["devices"]
    wait_until(lambda: any((d.get("health") or {}).get("sound") == "on" for d in
                           admin.get(f"{base}/api/v1/devices").json()["devices"]), 10,
               what=lambda: json.dumps(devices, ensure_ascii=False))
    ctx.close()


def test_a_burst_of_twenty_calls_is_shown_and_queued_in_order(browser, room) -> None:
    server, app = room
    base = server.url
    nurse = staff(base)
    for _ in range(20):
        requests.post(f"{base}/api/v1/tickets", json={"service": "A"}, headers=KIOSK,
                      timeout=5)
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = ctx.new_page()
    page.goto(f"{base}/display#token=demo-display-token")
    page.wait_for_selector(".service[data-service=A] .next span")
    page.evaluate("""() => { window.heard = [];
      const s = window.clinicqDisplay.sound, add = s.add.bind(s);
      s.add = (item) => { window.heard.push(item.number); add(item); }; }""")
    numbers = []
    for i in range(20):  # alternately at two rooms, as fast as the API answers
        counter = "A1" if i % 2 == 0 else "B1"
        ticket = nurse.post(f"{base}/api/v1/counters/{counter}/call-next").json()
        numbers.append(ticket["number"])
        for action in ("start", "complete"):
            nurse.post(f"{base}/api/v1/tickets/{ticket['id']}/{action}",
                       json={"counter": counter}).raise_for_status()
    wait_for_function(page, "window.heard.length >= 20", timeout=10000)
    assert page.evaluate("window.heard") == numbers
    wait_for_function(page, f"document.querySelector('#recent li b').textContent === "
                           f"'{numbers[-1]}'")
    ctx.close()


def test_the_phone_page_follows_the_ticket(browser, room) -> None:
    server, app = room
    base = server.url
    nurse = staff(base)
    bookings = hostile_bookings(app)  # the same slot: served in the order of arrival
    first = nurse.post(f"{base}/api/v1/bookings/{bookings[0]}/checkin").json()
    mine = nurse.post(f"{base}/api/v1/bookings/{bookings[2]}/checkin").json()  # 欧阳娜娜
    assert mine["name_masked"] == "欧*娜"
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True,
                              has_touch=True, device_scale_factor=2)
    page = ctx.new_page()
    page.add_init_script("window.buzz = []; navigator.vibrate = (p) => { window.buzz.push(p);"
                         " return true; };")
    response = page.goto(f"{base}/t/{mine['code']}")
    assert response is not None and response.status == 200
    html = requests.get(f"{base}/t/{mine['code']}", timeout=5).content
    # the page with its own script and style (static files since the strict CSP): still small
    own = [requests.get(f"{base}/static/{name}", timeout=5).content
           for name in ("js/phone.js", "css/phone.css")]
    assert len(html) + sum(len(body) for body in own) <= 60 * 1024
    assert page.locator("#num").inner_text() == mine["number"]
    wait_for_function(page, "document.getElementById('facts').textContent.indexOf('1') >= 0")
    shot(page, "phone-waiting")
    nurse.post(f"{base}/api/v1/counters/A1/call-next").raise_for_status()  # the first one
    wait_for_function(page, "document.getElementById('facts').textContent.indexOf('下一位') >= 0")
    for action in ("start", "complete"):
        nurse.post(f"{base}/api/v1/tickets/{first['id']}/{action}",
                   json={"counter": "A1"}).raise_for_status()
    nurse.post(f"{base}/api/v1/counters/A1/call-next").raise_for_status()
    page.wait_for_selector("#card.called")
    assert page.locator("#status").inner_text() == "轮到您了"
    assert page.locator("#facts").inner_text() == "请到 1号诊室"
    wait_for_function(page, "window.buzz.length === 1")
    shot(page, "phone-called")
    # nothing of the resident's name anywhere on the page
    assert "name_masked" not in page.content() and "欧" not in page.content()
    ctx.close()
    # unknown and malformed codes: the same plain 404
    missing = requests.get(f"{base}/t/{'A' * 16}", timeout=5)
    malformed = requests.get(f"{base}/t/..%2Fetc", timeout=5)
    assert missing.status_code == malformed.status_code == 404
    assert missing.text == requests.get(f"{base}/t/x", timeout=5).text


def test_a_wrong_token_says_not_paired_and_a_lost_link_says_offline(browser, room) -> None:
    server, _app = room
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    page = ctx.new_page()
    page.goto(f"{server.url}/display#token=no-such-token")
    page.wait_for_selector("#pairing:not([hidden])")  # refused: not paired, so pair it
    assert "配对" in page.locator("#pairing h2").inner_text()
    wait_for_function(page, "/^[A-Z0-9]{3}-[A-Z0-9]{3}$/.test("
                           "document.querySelector('#pairing-code').textContent)")
    page.close()
    good = ctx.new_page()
    good.goto(f"{server.url}/display#token=demo-display-token")
    good.wait_for_selector("#conn", state="hidden")
    ctx.set_offline(True)  # a transport error is "offline", never "not paired"
    good.evaluate("window.clinicqDisplay.live.socket.io.engine.close()")
    good.wait_for_selector("#conn", state="visible")
    assert "配对" not in good.locator("#conn").inner_text()
    ctx.set_offline(False)
    good.wait_for_selector("#conn", state="hidden", timeout=15000)
    ctx.close()


def test_a_counter_on_a_break_says_so_on_the_display(browser, room) -> None:
    """The nurse pauses: the display says 暂停服务 at once (no reload), the service's estimate
    goes when all its counters are away; calling next brings the counter back."""
    server, app = room
    base = server.url
    nurse = staff(base)
    for _ in range(3):
        requests.post(f"{base}/api/v1/tickets", json={"service": "A"}, headers=KIOSK, timeout=5)
    clinic = [c for c, info in app.extensions["clinicq"].settings.counters.items()
              if "A" in info.services]
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = ctx.new_page()
    page.goto(f"{base}/display#token=demo-display-token")
    page.wait_for_selector(".service[data-service=A] .next span")
    for counter in clinic:
        nurse.post(f"{base}/api/v1/counters/{counter}/pause").raise_for_status()
    first = f".counter[data-counter={clinic[0]}]"
    page.wait_for_selector(f"{first}.paused")
    assert page.locator(f"{first} .cnum").inner_text() == "暂停服务"
    wait_for_function(page,
        "document.querySelector('.service[data-service=A] .stats').textContent"
        ".includes('窗口暂停服务')")
    assert "分钟" not in page.locator(".service[data-service=A] .stats").inner_text()
    shot(page, "display-paused")
    called = nurse.post(f"{base}/api/v1/counters/{clinic[0]}/call-next").json()
    page.wait_for_selector(f"{first}:not(.paused) .cnum")
    wait_for_function(page,
        f"document.querySelector('{first} .cnum').textContent === {json.dumps(called['number'])}")
    ctx.close()


def test_a_new_display_pairs_by_its_code_and_starts_showing_calls(browser, room) -> None:
    """A TV opened on /display with no token shows a code; the admin approves it; the display
    starts by itself and shows the next call."""
    server, _app = room
    base = server.url
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = ctx.new_page()
    page.goto(f"{base}/display")
    wait_for_function(page, "/^[A-Z0-9]{3}-[A-Z0-9]{3}$/.test("
                           "document.querySelector('#pairing-code').textContent)")
    shot(page, "display-pairing")
    code = page.locator("#pairing-code").inner_text()
    admin = staff(base, "demo-admin")
    r = admin.post(f"{base}/api/v1/devices/pair", json={"code": code, "name": "二楼候诊屏",
                                                         "kind": "display"})
    assert r.status_code == 201, r.text
    page.wait_for_selector("#pairing", state="hidden", timeout=15000)
    requests.post(f"{base}/api/v1/tickets", json={"service": "A"}, headers=KIOSK, timeout=5)
    called = staff(base).post(f"{base}/api/v1/counters/A1/call-next").json()
    wait_for_function(page,
        "document.querySelector('.counter[data-counter=A1] .cnum').textContent === "
        f"{json.dumps(called['number'])}")
    token = page.evaluate("localStorage.getItem('clinicq.display.token')")
    assert token and token != "demo-display-token"
    devices = admin.get(f"{base}/api/v1/devices").json()["devices"]
    assert any(d["name"] == "二楼候诊屏" and d["kind"] == "display" for d in devices)
    ctx.close()
