"""Flask app factory of the reference central platform; web layer.

Config keys (all optional): DATABASE_URL (SQLite file by default, or
`postgresql+psycopg://...`), ADMIN_TOKEN, DEMO (seed the demo data),
TIMEZONE (IANA name of the stations' local time; this machine's by default),
CLOCK (a callable returning unix seconds; `time.time` by default).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask

from central.demo import DEMO_ADMIN_TOKEN, seed_demo
from central.errors import register_error_handlers
from central.store import Store
from central.views import api, pages

DEFAULT_DATABASE = Path("var") / "central.sqlite3"


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(
        DATABASE_URL=None, ADMIN_TOKEN=None, DEMO=False, TIMEZONE=None, CLOCK=time.time
    )
    app.config.update(config or {})
    if app.config["DEMO"] and not app.config["ADMIN_TOKEN"]:
        app.config["ADMIN_TOKEN"] = DEMO_ADMIN_TOKEN
    url = app.config["DATABASE_URL"]
    if url is None:
        DEFAULT_DATABASE.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{DEFAULT_DATABASE.resolve()}"
    tz = ZoneInfo(app.config["TIMEZONE"]) if app.config["TIMEZONE"] else None
    store = Store(url, tz=tz)
    now = int(app.config["CLOCK"]())
    store.migrate(now)
    if app.config["DEMO"]:
        seed_demo(store, now)
    app.extensions["central.store"] = store

    app.register_blueprint(api)
    app.register_blueprint(pages)
    register_error_handlers(app)
    return app
