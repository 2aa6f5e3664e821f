"""Flask app factory of the reference central platform; web layer.

Config keys (all optional): DATABASE_URL (SQLite file by default, or
`postgresql+psycopg://...`), ADMIN_TOKEN, DEMO (seed the demo data),
TIMEZONE (IANA name of the stations' local time; this machine's by default),
CLOCK (a callable returning unix seconds; `time.time` by default).

Any number of processes may serve the same database (gunicorn workers): each builds its own
app, and migrations and the demo seed run under a startup lock, one process at a time.
`from_env()` is the factory for a gunicorn command line:
`gunicorn -w 4 'central.app:from_env()'` with CLINICQ_CENTRAL_DATABASE_URL and friends.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask

from central import bodies
from central.demo import DEMO_ADMIN_TOKEN, seed_demo
from central.errors import register_error_handlers
from central.store import Store
from central.sync_views import sync_api, sync_pages
from central.views import api, pages
from contracts.headers import SecurityHeaders

DEFAULT_DATABASE = Path("var") / "central.sqlite3"
MAX_BODY = 16 * 1024 * 1024
ENV_PREFIX = "CLINICQ_CENTRAL_"


def database_url(url: str | None) -> str:
    """The URL given, or the default SQLite file (var/central.sqlite3, made when missing)."""
    if url is not None:
        return url
    DEFAULT_DATABASE.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_DATABASE.resolve()}"


def from_env() -> Flask:
    """The app configured from CLINICQ_CENTRAL_DATABASE_URL, _ADMIN_TOKEN, _DEMO (1 or 0)
    and _TIMEZONE: the factory gunicorn calls in each worker."""
    env = {key[len(ENV_PREFIX):]: value for key, value in os.environ.items()
           if key.startswith(ENV_PREFIX)}
    return create_app({"DATABASE_URL": env.get("DATABASE_URL") or None,
                       "ADMIN_TOKEN": env.get("ADMIN_TOKEN") or None,
                       "DEMO": env.get("DEMO", "0") in ("1", "true", "yes"),
                       "TIMEZONE": env.get("TIMEZONE") or None})


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(
        DATABASE_URL=None, ADMIN_TOKEN=None, DEMO=False, TIMEZONE=None, CLOCK=time.time
    )
    app.config.update(config or {})
    if app.config["DEMO"] and not app.config["ADMIN_TOKEN"]:
        app.config["ADMIN_TOKEN"] = DEMO_ADMIN_TOKEN
    url = database_url(app.config["DATABASE_URL"])
    tz = ZoneInfo(app.config["TIMEZONE"]) if app.config["TIMEZONE"] else None
    store = Store(url, tz=tz)
    now = int(app.config["CLOCK"]())
    with store.startup_lock():
        store.migrate(now)
        if app.config["DEMO"]:
            seed_demo(store, now)
    app.extensions["central.store"] = store
    # a batch of 500 events is well under this; a larger body is 413 batch_too_large
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = MAX_BODY

    app.register_blueprint(api)
    app.register_blueprint(pages)
    app.register_blueprint(sync_api)
    app.register_blueprint(sync_pages)
    register_error_handlers(app)
    bodies.init_app(app)
    app.wsgi_app = SecurityHeaders(app.wsgi_app)  # type: ignore[method-assign]
    return app
