"""The vaccine catalog as this station knows it (layer 3, adapter): pulled from the platform like
the key list, kept in the store, read by the vaccination desk.

The platform's answer is checked whole by `PlatformClient.vaccines()`: a malformed catalog is
refused, logged, and the station keeps the one it has. Applying the catalog it already has
writes nothing. A product the station does not know makes the vaccination code ask the
platform (`find`), at most once per `retry_seconds`.

The store is anything with `replace_vaccines(rows)` and `vaccines()`; a row is one product in
the form of `GET /api/v1/vaccines` (`contracts.demo.DEMO_VACCINES`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import ValidationError

from .platform import Catalog, PlatformClient, PlatformError

log = logging.getLogger(__name__)


class VaccineStore(Protocol):
    def replace_vaccines(self, rows: list[dict[str, Any]]) -> None: ...

    def vaccines(self) -> list[dict[str, Any]]: ...


def _utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _same(current: list[dict[str, Any]], rows: list[dict[str, Any]]) -> bool:
    """Whether the store already holds `rows` (compared in the catalog's own form)."""
    try:
        return Catalog.model_validate({"vaccines": current}).rows() == rows
    except ValidationError:  # a damaged cache is replaced
        return False


class VaccineCatalog:
    """The platform's vaccine catalog, cached in the store."""

    def __init__(self, store: VaccineStore, client: PlatformClient | None = None, *,
                 retry_seconds: float = 30.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.client = client
        self.retry_seconds = retry_seconds
        self.last_fetched_at: str | None = None  # the last time the platform's catalog came in
        self.last_error: str | None = None
        self._monotonic = monotonic
        self._last_try: float | None = None
        self._fetch_lock = threading.Lock()

    def connect(self, client: PlatformClient | None, retry_seconds: float) -> None:
        self.client = client
        self.retry_seconds = retry_seconds

    def vaccines(self) -> list[dict[str, Any]]:
        return self.store.vaccines()

    def product(self, code: str) -> dict[str, Any] | None:
        return next((v for v in self.store.vaccines() if v.get("code") == code), None)

    def find(self, code: str) -> dict[str, Any] | None:
        """The product `code`; one the station does not know makes it ask the platform first
        (rate limited), so a product added there today is known here."""
        found = self.product(code)
        if found is None and self.refresh():
            found = self.product(code)
        return found

    def apply(self, rows: list[dict[str, Any]]) -> bool:
        """The platform's catalog (checked rows) as the station's; True when it changed."""
        current = self.store.vaccines()
        if not rows and current:
            # An empty catalog would stop every vaccination; more likely a broken platform
            # than a withdrawal of everything, so keep what we have and say so.
            log.warning("the platform published no vaccines; keeping the %d cached", len(current))
            return False
        if _same(current, rows):
            return False
        self.store.replace_vaccines(rows)
        log.info("vaccine catalog updated: %d products", len(rows))
        return True

    def refresh(self, *, force: bool = False) -> bool:
        """Fetch and apply the catalog now, unless tried within `retry_seconds` (or no platform
        is configured). True when the platform answered and its catalog is the station's."""
        if self.client is None:
            return False
        with self._fetch_lock:
            now = self._monotonic()
            if (not force and self._last_try is not None
                    and now - self._last_try < self.retry_seconds):
                return False
            self._last_try = now
            try:
                rows = self.client.vaccines()
            except PlatformError as err:
                self.last_error = str(err)
                log.warning("could not fetch the vaccine catalog; keeping the cached one: %s",
                            err)
                return False
            self.apply(rows)
            self.last_error = None
            self.last_fetched_at = _utcnow()
            return True

    def status(self) -> dict[str, Any]:
        return {"last_vaccines_at": self.last_fetched_at, "vaccines": len(self.store.vaccines())}
