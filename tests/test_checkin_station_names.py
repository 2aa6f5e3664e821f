"""Another station's booking at the kiosk: the refusal names that station (the platform's
station directory, the demo's names), or says "another station" when its name is unknown."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from test_checkin_signed import DAY, checkin, token

from contracts.demo import DEMO_NEIGHBOURS
from server.platform import PlatformClient, Reply, Request
from server.sync import Sync


def refusal(client: FlaskClient, code: str) -> dict[str, Any]:
    r = checkin(client, code)
    assert r.status_code == 422, r.get_json()
    error = r.get_json()["error"]
    assert error["code"] == "booking_wrong_station"
    return error  # type: ignore[no-any-return]


def test_a_signed_code_of_a_demo_neighbour_names_it(client: FlaskClient) -> None:
    station_id, name = DEMO_NEIGHBOURS[3][:2]  # 滨江区长河社区卫生服务站
    error = refusal(client, token(station=station_id))
    assert error["message_zh"] == f"这是{name}的预约，请到该服务站签到。"
    assert name in error["message"] and station_id not in error["message"]


def test_an_unknown_station_is_another_station(client: FlaskClient) -> None:
    error = refusal(client, token(station="east-station"))
    assert error["message_zh"] == "这是另一个服务站的预约，请到该服务站签到。"
    assert error["message"] == "This booking is for another station. Please check in there."
    assert "east-station" not in error["message"] + error["message_zh"]


def test_a_typed_code_of_another_station_names_it(app: Flask, client: FlaskClient) -> None:
    station_id, name = DEMO_NEIGHBOURS[0][:2]
    app.extensions["clinicq"].store.upsert_bookings([{
        "id": "ELSEWHERE", "code": "WULIN-7", "station": station_id, "service": "V",
        "day": DAY.isoformat(), "status": "booked"}])
    assert name in refusal(client, "wulin-7")["message_zh"]


class Directory:
    """A platform that answers its station directory (`status`, `doc`), and nothing else."""

    def __init__(self, status: int, doc: Any) -> None:
        self.status, self.doc = status, doc
        self.requests: list[Request] = []

    def __call__(self, req: Request) -> Reply:
        self.requests.append(req)
        assert req.method == "GET" and req.url == "http://central/api/v1/stations"
        return Reply(self.status, self.doc, {})


def sync_with(app: Flask, platform: Directory) -> Sync:
    ext = app.extensions["clinicq"]
    client = PlatformClient("http://central", "demo-station", "t", transport=platform)
    return Sync(ext.settings, ext.store, ext.station.keyring, client)


def test_names_pulled_from_the_platform_are_said(app: Flask, client: FlaskClient) -> None:
    platform = Directory(200, {"stations": [
        {"id": "east-station", "name": "东城社区卫生服务站"},
        {"id": "hz-wulin", "name": "武林街道社区卫生服务中心"},  # renamed since the demo's
        {"id": "broken"}, "not a station", {"id": 7, "name": "seven"}]})
    assert sync_with(app, platform).pull_station_names() is True
    assert len(platform.requests) == 1
    assert "这是东城社区卫生服务站的预约" in refusal(client, token(station="east-station"))[
        "message_zh"]
    assert "武林街道社区卫生服务中心" in refusal(client, token(station="hz-wulin"))["message"]
    assert "另一个服务站" in refusal(client, token(station="broken"))["message_zh"]


def test_a_platform_without_a_directory_leaves_another_station(app: Flask,
                                                               client: FlaskClient) -> None:
    # a 404 is a platform that has no directory: done for the day, not an error to retry
    assert sync_with(app, Directory(404, {"error": {"code": "not_found"}})) \
        .pull_station_names() is True
    # unreachable: asked again in the next round
    assert sync_with(app, Directory(503, None)).pull_station_names() is False
    assert "another station" in refusal(client, token(station="east-station"))["message"]
