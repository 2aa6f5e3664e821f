"""Data access for stations: the registry with places, issued tokens, heartbeats and the
nearby query; storage layer, part of central.store.Store (the only modules that talk SQL).

A station authenticates with a token the platform issued (`station_tokens`, SHA-256 only);
the token it was registered with is its first, `initial`. A revoked token is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from typing import Any

import sqlalchemy as sa

from central import schema as t
from central.errors import CentralError
from central.wire import distance_km

_STATION_RE = re.compile(r"[a-z0-9-]{1,12}")
_SERVICE_RE = re.compile(r"[A-Z]{1,2}")
LIVE_SECONDS = 300  # a heartbeat older than this is "no live data"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class StationsStore:
    """The station half of the platform's store (mixed into central.store.Store)."""

    engine: sa.Engine

    def add_station(self, station_id: str, name: str, token: str,
                    services: dict[str, tuple[str, str]], now: int, *,
                    lat: float | None = None, lon: float | None = None) -> None:
        """`services` maps a code (`V`) to (name, kind); kind is vaccination, clinic or exam."""
        if not _STATION_RE.fullmatch(station_id) or not all(map(_SERVICE_RE.fullmatch, services)):
            raise ValueError("station ids are 1-12 of a-z 0-9 -; service codes 1-2 of A-Z")
        with self.engine.begin() as conn:
            conn.execute(sa.insert(t.stations).values(
                id=station_id, name=name, token_sha256=token_digest(token), created_at=now,
                lat=lat, lon=lon))
            conn.execute(sa.insert(t.station_tokens).values(
                station_id=station_id, token_id="initial", token_sha256=token_digest(token),
                created_at=now, revoked_at=None))
            for code, (service_name, kind) in services.items():
                conn.execute(sa.insert(t.services).values(
                    station_id=station_id, code=code, name=service_name, kind=kind))

    def place_station(self, station_id: str, lat: float, lon: float) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.update(t.stations).where(t.stations.c.id == station_id).values(
                lat=lat, lon=lon))

    def station(self, station_id: str) -> dict[str, Any] | None:
        s = t.stations.c
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(s.id, s.name, s.lat, s.lon).where(
                s.id == station_id)).mappings().first()
            if row is None:
                return None
            rows = conn.execute(sa.select(t.services).where(
                t.services.c.station_id == station_id).order_by(t.services.c.code)).mappings()
            services = [{"code": r["code"], "name": r["name"], "kind": r["kind"]} for r in rows]
        return {"id": row["id"], "name": row["name"], "lat": row["lat"], "lon": row["lon"],
                "services": services}

    def station_names(self) -> list[dict[str, str]]:
        """Every registered station's id and name, by id (the directory a station pulls, to
        name the station a resident's booking is for)."""
        s = t.stations.c
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(s.id, s.name).order_by(s.id)).mappings()
            return [{"id": r["id"], "name": r["name"]} for r in rows]

    def station_for_token(self, token: str) -> str | None:
        """The station a live token names; None for an unknown or revoked one."""
        found = self.token_owner(token)
        return found[0] if found and found[1] is None else None

    def token_owner(self, token: str) -> tuple[str, int | None] | None:
        """(station, revoked_at) of an issued token, or None when the platform never issued
        it."""
        digest = token_digest(token)
        k = t.station_tokens.c
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(k.station_id, k.token_sha256, k.revoked_at).where(
                k.token_sha256 == digest)).first()
        # The lookup is by digest; compare again in constant time for form's sake.
        if row is None or not hmac.compare_digest(row.token_sha256, digest):
            return None
        return str(row.station_id), row.revoked_at

    def issue_token(self, station_id: str, now: int) -> dict[str, str]:
        """A new token for a station: `{"station", "token_id", "token"}`; the token is shown
        this once (the platform keeps its SHA-256)."""
        token = "st_" + secrets.token_urlsafe(32)
        token_id = "tk" + secrets.token_hex(6)
        with self.engine.begin() as conn:
            if conn.execute(sa.select(t.stations.c.id).where(
                    t.stations.c.id == station_id)).first() is None:
                raise CentralError("station_unknown", station=station_id[:20])
            conn.execute(sa.insert(t.station_tokens).values(
                station_id=station_id, token_id=token_id, token_sha256=token_digest(token),
                created_at=now, revoked_at=None))
        return {"station": station_id, "token_id": token_id, "token": token}

    def revoke_token(self, station_id: str, token_id: str, now: int) -> dict[str, Any]:
        """Revoke once; revoking again answers the same (when it was revoked)."""
        k = t.station_tokens.c
        with self.engine.begin() as conn:
            conn.execute(sa.update(t.station_tokens).where(
                k.station_id == station_id, k.token_id == token_id,
                k.revoked_at.is_(None)).values(revoked_at=now))
            revoked = conn.execute(sa.select(k.revoked_at).where(
                k.station_id == station_id, k.token_id == token_id)).first()
        if revoked is None:
            raise CentralError("token_not_found", station=station_id[:20],
                               token_id=token_id[:20])
        return {"station": station_id, "token_id": token_id, "revoked_at": revoked.revoked_at}

    def tokens(self, station_id: str) -> list[dict[str, Any]]:
        k = t.station_tokens.c
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(k.token_id, k.created_at, k.revoked_at).where(
                k.station_id == station_id).order_by(k.created_at, k.token_id)).mappings()
            return [dict(r) for r in rows]

    # -- heartbeats and the nearby view ----------------------------------------------------

    def record_heartbeat(self, station_id: str, at: str, services: list[dict[str, Any]],
                         now: int) -> None:
        values = {"at": at, "received_at": now,
                  "services": json.dumps(services)}  # escaped: NULs and all
        with self.engine.begin() as conn:
            insert = t.dialect_insert(conn, t.station_live).values(station_id=station_id,
                                                                   **values)
            conn.execute(insert.on_conflict_do_update(index_elements=["station_id"],
                                                      set_=values))

    def nearby(self, lat: float, lon: float, limit: int, now: int) -> list[dict[str, Any]]:
        """Stations with a place, nearest first, with their last heartbeat's waits when it is
        at most LIVE_SECONDS old (`live`), and its age."""
        s, live = t.stations, t.station_live
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(
                s.c.id, s.c.name, s.c.lat, s.c.lon, live.c.at, live.c.received_at,
                live.c.services,
            ).select_from(s.outerjoin(live, live.c.station_id == s.c.id)).where(
                s.c.lat.is_not(None), s.c.lon.is_not(None))).mappings().all()
        found = sorted(((distance_km(lat, lon, r["lat"], r["lon"]), r["id"], r)
                        for r in rows), key=lambda item: (item[0], item[1]))[:limit]
        answer = []
        for distance, _, row in found:
            age = None if row["received_at"] is None else max(0, now - row["received_at"])
            is_live = age is not None and age <= LIVE_SECONDS
            answer.append({
                "id": row["id"], "name": row["name"], "distance_km": round(distance, 2),
                "lat": row["lat"], "lon": row["lon"], "live": is_live,
                "updated_at": row["at"], "age_seconds": age,
                "services": json.loads(row["services"]) if is_live else []})
        return answer
