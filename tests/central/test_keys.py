"""Tests for signing-key rotation in central/store.py and the public key list."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from contracts.bookingcode import TokenError, decode_token, keys_from_json, verify_token
from contracts.demo import demo_keys_json, demo_public_keys

ADMIN = {"Authorization": "Bearer demo-central-admin-token"}


def test_keys_are_public_and_match_the_demo_key(client: FlaskClient) -> None:
    published = client.get("/api/v1/keys").json
    assert [k["kid"] for k in published["keys"]] == ["d1"]
    assert published["keys"][0]["public_key"] == demo_keys_json()["keys"][0]["public_key"]
    assert keys_from_json(published)["d1"].public_key == demo_public_keys()["d1"].public_key


def test_rotation_new_key_signs_old_codes_still_verify(client: FlaskClient,
                                                       booking_request: Any) -> None:
    old = client.post("/api/v1/bookings", json=booking_request(), headers=ADMIN).json
    rotated = client.post("/api/v1/keys/rotate", json={"kid": "k2"}, headers=ADMIN)
    assert rotated.status_code == 201
    new = client.post("/api/v1/bookings", json=booking_request(slot="10:00"),
                      headers=ADMIN).json
    assert (decode_token(old["token"])[1], decode_token(new["token"])[1]) == ("d1", "k2")

    published = client.get("/api/v1/keys").json["keys"]
    status = {k["kid"]: (k["status"], k["verify_until"]) for k in published}
    assert status == {"k2": ("active", None), "d1": ("retired", old["expires"])}
    keys = keys_from_json({"keys": published})
    assert verify_token(old["token"], keys).booking_id == old["id"]
    assert verify_token(new["token"], keys).booking_id == new["id"]
    # A station that only knows the demo key asks for the new one.
    with pytest.raises(TokenError, match="token_unknown_key"):
        verify_token(new["token"], demo_public_keys())


def test_retired_key_leaves_the_list_once_its_codes_expired(
        client: FlaskClient, booking_request: Any, clock: Any) -> None:
    old = client.post("/api/v1/bookings", json=booking_request(), headers=ADMIN).json
    client.post("/api/v1/keys/rotate", json={"kid": "k2"}, headers=ADMIN)
    clock.now = old["expires"] + 1
    assert [k["kid"] for k in client.get("/api/v1/keys").json["keys"]] == ["k2"]


@pytest.mark.parametrize("body, status, code", [
    ({}, 400, "field_missing"), ({"kid": "toolong"}, 400, "field_invalid"),
    ({"kid": "d1"}, 409, "key_exists"), ({"kid": "é"}, 400, "field_invalid"),
])
def test_bad_rotation_requests(client: FlaskClient, body: dict, status: int, code: str) -> None:
    response = client.post("/api/v1/keys/rotate", json=body, headers=ADMIN)
    assert (response.status_code, response.json["error"]["code"]) == (status, code)
