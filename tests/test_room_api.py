"""The waiting room's HTTP and Socket.IO side: calls carry their audio, which is served and
made without holding up the call; community notices; displays' health; the phone page and
its live connection; codes long enough to be unguessable."""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from support import DISPLAY, KIOSK, FakeClock, login, wait_until

from display.announce import Phrase
from display.voice import Voice
from server import config
from server.announcer import Announcer
from server.store import Store
from server.web import create_app


class HeldEngine:
    """A synthesiser held until the test releases it; records what it was asked to say."""

    id = "held"

    def __init__(self) -> None:
        self.release = threading.Event()
        self.said: list[str] = []

    def synthesize(self, phrase: Phrase) -> bytes:
        self.release.wait(10)
        self.said.append(phrase.speech)
        import io
        import wave

        buf = io.BytesIO()
        with wave.open(buf, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(8000)
            w.writeframes(b"\1\0" * 4000)
        return buf.getvalue()


@pytest.fixture
def held() -> HeldEngine:
    return HeldEngine()


@pytest.fixture
def spoken_app(settings: config.Settings, store: Store, clock: FakeClock,
               held: HeldEngine) -> Flask:
    spoken = replace(settings, announce=replace(settings.announce, engine="command",
                                                command="unused"))
    app = create_app(spoken, store=store, clock=clock, testing=True)
    # the station's voice with a held engine, through the app's own announcer
    announcer: Announcer = app.extensions["clinicq"].announcer
    announcer.voice = Voice(held)  # type: ignore[arg-type]
    return app


def test_a_call_carries_its_audio_and_never_waits_for_it(spoken_app: Flask,
                                                         held: HeldEngine) -> None:
    client = spoken_app.test_client()
    nurse = login(client)
    socketio = spoken_app.extensions["clinicq"].socketio
    screen = socketio.test_client(spoken_app, auth={"token": "demo-display-token"})
    client.post("/api/v1/tickets", json={"service": "A"}, headers=KIOSK)
    # synthesis is held: the call is answered anyway
    r = client.post("/api/v1/counters/A1/call-next", headers=nurse)
    assert r.status_code == 200
    events = [m["args"][0] for m in screen.get_received() if m["name"] == "event"]
    called = next(e for e in events if e["type"] == "ticket.called")
    a = called["announcement"]
    assert a["text"] == "请 A001 号 到 1号诊室" and a["lang"] == "zh"
    assert a["speech"] == [{"text": "请 A 零 零 一 号 到 一号诊室", "lang": "zh"}]
    assert a["audio_url"].startswith("/audio/") and a["audio_url"].endswith(".wav")
    held.release.set()
    audio = client.get(a["audio_url"])
    assert audio.status_code == 200 and audio.mimetype == "audio/wav"
    assert audio.data[:4] == b"RIFF"
    # made ahead: the recall of the ticket just called, the next numbers at their counters
    wait_until(lambda: any(s.startswith("再次呼叫") for s in held.said), 5)
    screen.disconnect()


class RecordingVoice(Voice):
    """The station's voice, recording what it is asked to make ahead (nothing is made)."""

    def __init__(self) -> None:
        super().__init__(HeldEngine())  # type: ignore[arg-type]
        self.asked: list[str] = []

    def ahead(self, phrases: Sequence[Phrase]) -> str:
        self.asked += [p.speech for p in phrases]
        return self.key(phrases)


def test_the_next_calls_are_made_ahead_once_per_head_of_the_queue(spoken_app: Flask) -> None:
    client = spoken_app.test_client()
    nurse = login(client)
    voice = RecordingVoice()
    spoken_app.extensions["clinicq"].announcer.voice = voice
    for _ in range(3):
        client.post("/api/v1/tickets", json={"service": "A"}, headers=KIOSK)
    asked = list(voice.asked)
    assert any("A 零 零 三" in s for s in asked)  # the third is in the head (ahead = 3)
    for _ in range(5):  # walk-ins behind the head: nothing new to make
        client.post("/api/v1/tickets", json={"service": "A"}, headers=KIOSK)
    assert voice.asked == asked
    client.post("/api/v1/counters/A1/call-next", headers=nurse)  # the head moves on
    new = voice.asked[len(asked):]
    assert any(s.startswith("再次呼叫") and "A 零 零 一" in s for s in new)
    assert any("A 零 零 四" in s for s in new)  # now in the head


def test_unknown_audio_is_404(spoken_app: Flask) -> None:
    client = spoken_app.test_client()
    assert client.get("/audio/" + "0" * 32 + ".wav").status_code == 404
    assert client.get("/audio/../../etc/passwd.wav").status_code == 404


def test_with_the_browser_engine_there_is_no_audio_url(app: Flask, client: FlaskClient,
                                                       nurse: dict[str, str]) -> None:
    screen = app.extensions["clinicq"].socketio.test_client(
        app, auth={"token": "demo-display-token"})
    client.post("/api/v1/tickets", json={"service": "A"}, headers=KIOSK)
    client.post("/api/v1/counters/A1/call-next", headers=nurse)
    events = [m["args"][0] for m in screen.get_received() if m["name"] == "event"]
    called = next(e for e in events if e["type"] == "ticket.called")
    assert called["announcement"]["audio_url"] is None
    assert called["announcement"]["speech"][0]["text"].startswith("请 A 零 零 一 号")
    screen.disconnect()


def test_notices_posted_listed_pushed_and_removed(app: Flask, client: FlaskClient,
                                                  clock: FakeClock) -> None:
    admin = login(client, "demo-admin")
    screen = app.extensions["clinicq"].socketio.test_client(
        app, auth={"token": "demo-display-token"})
    state = next(m["args"][0] for m in screen.get_received() if m["name"] == "state")
    assert state["notices"] == []
    r = client.post("/api/v1/notices", headers=admin,
                    json={"text": "<script>x</script>流感疫苗到货", "minutes": 60})
    assert r.status_code == 201
    notice = r.get_json()
    pushed = [m["args"][0] for m in screen.get_received() if m["name"] == "notices"]
    assert pushed[-1]["notices"][0]["text"] == "<script>x</script>流感疫苗到货"
    listed = client.get("/api/v1/notices", headers=DISPLAY).get_json()["notices"]
    assert [n["id"] for n in listed] == [notice["id"]]
    clock.advance(minutes=61)  # expired
    assert client.get("/api/v1/notices", headers=DISPLAY).get_json()["notices"] == []
    permanent = client.post("/api/v1/notices", headers=admin, json={"text": "周日休息"}).get_json()
    assert client.delete(f"/api/v1/notices/{permanent['id']}", headers=admin).status_code == 200
    gone = client.delete(f"/api/v1/notices/{permanent['id']}", headers=admin)
    assert gone.status_code == 404 and gone.get_json()["error"]["code"] == "notice_not_found"
    assert gone.get_json()["error"]["message_zh"]
    screen.disconnect()


@pytest.mark.parametrize("body, code", [
    ({}, "field_missing"), ({"text": ""}, "field_invalid"), ({"text": "   "}, "field_invalid"),
    ({"text": "x" * 201}, "field_invalid"), ({"text": "ok", "minutes": 0}, "field_invalid"),
])
def test_bad_notices(client: FlaskClient, body: dict, code: str) -> None:
    admin = login(client, "demo-admin")
    r = client.post("/api/v1/notices", headers=admin, json=body)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == code


def test_only_admins_post_notices(app: Flask, client: FlaskClient,
                                  nurse: dict[str, str]) -> None:
    assert client.post("/api/v1/notices", headers=nurse, json={"text": "x"}).status_code == 403
    assert client.post("/api/v1/notices", headers=DISPLAY, json={"text": "x"}).status_code == 403
    assert app.test_client().post("/api/v1/notices", json={"text": "x"}).status_code == 401


def test_a_display_reports_its_sound(client: FlaskClient) -> None:
    r = client.post("/api/v1/displays/health", headers=DISPLAY,
                    json={"version": "display-1", "sound": "off", "played": 3,
                          "last_error": "NotAllowedError" * 30})
    assert r.status_code == 200
    assert client.post("/api/v1/displays/health", headers=KIOSK,
                       json={"version": "1", "sound": "on"}).status_code == 403
    admin = login(client, "demo-admin")
    devices = client.get("/api/v1/devices", headers=admin).get_json()["devices"]
    display = next(d for d in devices if d["kind"] == "display")
    assert display["online"] and display["health"]["sound"] == "off"
    assert len(display["health"]["last_error"]) == 200


def test_ticket_codes_are_unguessable(client: FlaskClient, nurse: dict[str, str]) -> None:
    codes = {client.post("/api/v1/tickets", json={"service": "A"}, headers=nurse)
             .get_json()["code"] for _ in range(20)}
    assert len(codes) == 20
    for code in codes:  # URL-safe base64: 6 bits a character
        assert len(code) * 6 >= 64 and len(code) * math.log2(64) >= 96


def test_the_phone_page(client: FlaskClient, nurse: dict[str, str]) -> None:
    ticket = client.post("/api/v1/tickets", json={"service": "A"}, headers=nurse).get_json()
    page = client.get(f"/t/{ticket['code']}")
    assert page.status_code == 200 and len(page.data) <= 60 * 1024
    assert ticket["number"] in page.text and page.headers["Referrer-Policy"] == "no-referrer"
    assert "login" not in page.text.lower()


@pytest.mark.parametrize("code", ["A" * 16, "x", "..%2F..%2Fetc", "%00" * 16, "A" * 300,
                                  "<script>alert(1)</script>"])
def test_unknown_and_malformed_codes_are_the_same_plain_404(client: FlaskClient,
                                                           code: str) -> None:
    r = client.get(f"/t/{code}")
    assert r.status_code == 404
    assert r.data == client.get("/t/" + "B" * 20).data
    assert "script" not in r.text


def test_the_phone_follows_its_ticket_live(app: Flask, client: FlaskClient,
                                           nurse: dict[str, str]) -> None:
    first = client.post("/api/v1/tickets", json={"service": "A"}, headers=nurse).get_json()
    mine = client.post("/api/v1/tickets", json={"service": "A"}, headers=nurse).get_json()
    socketio = app.extensions["clinicq"].socketio
    assert not socketio.test_client(app, auth={"ticket": "A" * 16}).is_connected()
    assert not socketio.test_client(app, auth={"ticket": 5}).is_connected()
    phone = socketio.test_client(app, auth={"ticket": mine["code"]})
    start = next(m["args"][0] for m in phone.get_received() if m["name"] == "ticket")
    assert start["ticket"]["number"] == mine["number"] and start["ticket"]["position"] == 2
    assert "name_masked" not in start["ticket"] and "code" not in start["ticket"]
    client.post("/api/v1/counters/A1/call-next", headers=nurse)  # the first
    deltas = [m["args"][0] for m in phone.get_received() if m["name"] == "phone"]
    assert deltas[-1]["ticket"]["id"] == first["id"]
    assert deltas[-1]["queues"]["A"]["order"][0] == mine["id"]
    assert "name_masked" not in deltas[-1]["ticket"]
    phone.emit("resync")
    again = next(m["args"][0] for m in phone.get_received() if m["name"] == "ticket")
    assert again["ticket"]["position"] == 1
    phone.disconnect()


def test_the_ticket_qr_points_at_the_configured_public_url(settings: config.Settings,
                                                           store: Store,
                                                           clock: FakeClock) -> None:
    from kiosk.client import StationClient

    app = create_app(replace(settings, public_url="http://192.168.1.20:5000/"), store=store,
                     clock=clock, testing=True)
    snapshot = app.test_client().get("/api/v1/state", headers=KIOSK).get_json()
    assert snapshot["station"]["public_url"] == "http://192.168.1.20:5000/"
    client = StationClient("http://127.0.0.1:5000", "t")
    assert client.status_url("abc", snapshot["station"]["public_url"]) == \
        "http://192.168.1.20:5000/t/abc"
    assert client.status_url("abc", "") == "http://127.0.0.1:5000/t/abc"
    client.close()
