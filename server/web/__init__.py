"""Web (layer 4): the Flask app factory wiring store, station service, API, pages and Socket.IO."""

from __future__ import annotations

import dataclasses
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask, request
from flask.sessions import SessionInterface, SessionMixin
from flask_babel import Babel, get_locale
from flask_socketio import SocketIO

from contracts import i18n
from contracts.headers import SecurityHeaders
from display.pages import bp as display_bp
from kiosk.screen import bp as kiosk_bp

from .. import demo, layout, presenter, sync
from ..announcer import Announcer
from ..auth import Accounts
from ..config import Settings
from ..device_watch import DeviceWatch
from ..sessions import Sessions
from ..station import Clock, StationService
from ..store import Store
from ..throttle import LoginThrottle, TokenBuckets
from . import (
    admin_api,
    admin_pages,
    api,
    audit_views,
    bodies,
    bookings_api,
    broadcast,
    devices_api,
    errors,
    layout_api,
    pages,
    pairing_api,
    phone,
    realtime,
    reports_api,
    reports_pages,
    room_api,
    security,
    sync_api,
    vaccination_api,
)

log = logging.getLogger(__name__)


@dataclass
class Extension:
    settings: Settings
    store: Store
    station: StationService
    accounts: Accounts
    socketio: SocketIO
    announcer: Announcer | None = None  # the waiting room's phrases and the station's voice


class NoCookieSession(SessionInterface):
    """Flask's signed-cookie session is not used: a staff member's session is the station's
    (server/sessions.py, in its SQLite). Opened and checked on every request anyway, it cost
    about 0.1 ms each; this gives every request Flask's null session, which refuses writes."""

    def open_session(self, app: Flask, request: Any) -> SessionMixin:
        return self.make_null_session(app)

    def save_session(self, app: Flask, session: SessionMixin, response: Any) -> None:
        return None


def _secret_key(settings: Settings, store: Store) -> str:
    if settings.secret_key:
        return settings.secret_key
    key = store.get_meta("secret_key")
    if key is None:
        key = secrets.token_hex(32)
        store.set_meta("secret_key", key)
    return key


def select_locale() -> str:
    lang = request.args.get("lang") or request.cookies.get("lang")
    return lang if lang in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE


def create_app(settings: Settings, *, store: Store | None = None, clock: Clock | None = None,
               testing: bool = False) -> Flask:
    """The station server's app. Hand in a store and clock to run on a test database and time."""
    app = Flask(__name__)
    store = store or Store(settings.database)
    app.config.update(
        SECRET_KEY=_secret_key(settings, store),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        TESTING=testing,
        BABEL_DEFAULT_LOCALE="zh",
    )
    app.session_interface = NoCookieSession()
    bodies.init_app(app)  # JSON read with limits; MAX_CONTENT_LENGTH
    accounts = Accounts(store)
    # the app's own settings: its services and counters change live with the saved layout
    settings = dataclasses.replace(settings)
    layout.bootstrap(settings, store)
    station = StationService(settings, store, clock=clock)
    # staff sessions and the throttles read the station's clock (tests set it)
    app.extensions["clinicq.sessions"] = Sessions(
        store, station.clock, idle=timedelta(minutes=settings.session_idle_minutes),
        absolute=timedelta(hours=settings.session_max_hours))
    app.extensions["clinicq.logins"] = LoginThrottle(store, station.clock)
    app.extensions["clinicq.kiosk_budget"] = TokenBuckets(
        station.clock, rate=settings.kiosk_checkins_per_minute,
        burst=settings.kiosk_checkin_burst)
    if settings.demo:
        demo.seed(settings, store, accounts, station.today())
    announcer = Announcer(settings)
    socketio = realtime.init_app(app, station, settings, announcer)
    # the services or counters changed (the admin pages): every open page loads them anew
    station.on_layout(lambda: socketio.emit("layout", {}))
    station.on_layout(lambda: realtime.tell_admins(socketio, "layout"))
    app.extensions["clinicq"] = Extension(settings, store, station, accounts, socketio, announcer)
    # on every answer, Socket.IO's included (its middleware is app.wsgi_app by now)
    app.wsgi_app = SecurityHeaders(app.wsgi_app)  # type: ignore[method-assign]

    def heartbeat() -> dict[str, Any]:
        state, now = station.current()
        return presenter.heartbeat(state, settings, now)

    # kiosks out of paper or gone silent: an alert on every console (started by serving.py)
    app.extensions["clinicq.devicewatch"] = DeviceWatch(
        store, station.clock, lambda alert: socketio.emit("device_alert", alert,
                                                          to=broadcast.STAFF_ROOM))
    worker = sync.init_app(app, settings, store, station.keyring, heartbeat=heartbeat)
    station.subscribe(worker.pusher.wake)  # every commit wakes the push of its events

    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(i18n.CATALOG_DIR)
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["catalog_error"] = lambda code: i18n.error_body(code)["error"]
    errors.init_app(app)
    security.init_app(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(admin_api.bp)
    app.register_blueprint(bookings_api.bp)
    app.register_blueprint(devices_api.bp)
    app.register_blueprint(vaccination_api.bp)
    app.register_blueprint(room_api.bp)
    app.register_blueprint(layout_api.bp)
    app.register_blueprint(phone.bp)
    app.register_blueprint(sync_api.bp)
    pairing_api.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(admin_pages.bp)
    app.register_blueprint(reports_api.bp)
    app.register_blueprint(reports_pages.bp)
    app.register_blueprint(kiosk_bp)
    app.register_blueprint(display_bp)
    audit_views.init_app(app)

    @app.after_request
    def remember_language(response: Any) -> Any:
        lang = request.args.get("lang")
        if lang in i18n.LANGUAGES:
            response.set_cookie("lang", lang, max_age=365 * 24 * 3600, samesite="Lax")
        return response

    return app
