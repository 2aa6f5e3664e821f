"""Serving (layer 4): the station app under gunicorn, or under the development server (--dev).

Production is gunicorn embedded, one worker process with gunicorn's threaded worker: the
station is the single writer of its SQLite file and holds its Socket.IO rooms in memory, so
there is exactly one process serving (Flask-SocketIO's deployment notes: one worker, and
`--threads` for as many WebSocket connections as are expected; each open connection holds a
thread). HTTP connections are kept alive between requests. The app is built inside the
worker, after gunicorn's fork, so no SQLite connection or thread crosses a fork.

On SIGTERM (gunicorn's graceful stop) the worker stops accepting, lets in-flight requests
finish, drops every Socket.IO connection so its client reconnects (to the restarted server),
then stops the sync worker and closes the store.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import ThreadWorker
from werkzeug.serving import WSGIRequestHandler

from .config import Settings

if TYPE_CHECKING:
    from flask import Flask

    from . import backup

log = logging.getLogger(__name__)

KEEPALIVE = 15  # seconds an idle kept-alive connection stays open (in the poller)


@dataclass(frozen=True)
class Options:
    host: str
    port: int
    threads: int  # most connections served at once; each open WebSocket holds one
    graceful_timeout: int  # seconds in-flight requests get after SIGTERM
    access_log: bool = False
    keepalive: int = KEEPALIVE


class Runtime:
    """The station app and what runs beside it (the sync worker, the observation timer), in
    the serving process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app: Flask | None = None
        self.backup: backup.Continuous | None = None

    def start(self) -> Flask:
        # imported here: gunicorn's arbiter process never loads the app, only its worker does
        from .web import create_app

        app = create_app(self.settings)
        self._start_backup(app)
        # keys and today's bookings from the platform now, then every sync_interval, in the
        # background: the station serves at once, with or without the link
        app.extensions["clinicq.sync"].start()
        # observations that end are released on a timer (at once for those that ended while down)
        app.extensions["clinicq"].station.start_timer()
        app.extensions["clinicq.devicewatch"].start()
        app.extensions["clinicq.sessions"].start()  # expired staff sessions end on time
        self.app = app
        return app

    def _start_backup(self, app: Flask) -> None:
        # imported here, in the worker: gunicorn's arbiter need not hold the store's modules
        from . import backup

        kind = backup.engine(self.settings.backup)
        if kind is None or self.settings.database == ":memory:":
            return
        store, sync = app.extensions["clinicq"].store, app.extensions["clinicq.sync"]
        if kind == "litestream":
            store.set_autocheckpoint(0)  # Litestream checkpoints, after shipping the frames
        self.backup = backup.Continuous(self.settings, kind, store.last_seq, sync.pusher.wake,
                                        check=bool(self.settings.central_url))
        sync.pusher.ceiling = self.backup.backed_up_seq  # the platform gets what is backed up
        self.backup.start()

    def disconnect_clients(self) -> int:
        """Drop every Socket.IO connection at its transport; returns how many there were.

        Closing the transport (no Engine.IO "close" packet, no Socket.IO disconnect) is what
        makes clients reconnect by themselves: browsers' socket.io and python-socketio (the
        kiosk agent) both treat a server-side disconnect as final, and a lost transport as a
        reason to reconnect."""
        if self.app is None:
            return 0
        eio = self.app.extensions["clinicq"].socketio.server.eio
        sockets = list(eio.sockets.values())
        for sock in sockets:
            try:
                sock.close(wait=False, abort=True, reason=eio.reason.SERVER_DISCONNECT)
            except Exception:  # one broken connection must not keep the others open
                log.exception("could not close a Socket.IO connection")
        return len(sockets)

    def close(self) -> None:
        if self.app is None:
            return
        app, self.app = self.app, None
        app.extensions["clinicq.sync"].stop()
        app.extensions["clinicq"].station.stop_timer()
        app.extensions["clinicq.devicewatch"].stop()
        app.extensions["clinicq.sessions"].stop()
        announcer = app.extensions["clinicq"].announcer
        if announcer is not None:
            announcer.stop()  # its voice's thread and synthesis process
        if self.backup is not None:
            self.backup.stop_watch()
        app.extensions["clinicq"].store.close()
        if self.backup is not None:
            self.backup.stop()


class DevRequestHandler(WSGIRequestHandler):
    """Werkzeug's request handler, which ends the connection after a WebSocket: the socket was
    the WebSocket's, and what the client sends after its end (its close frame) is no HTTP. Kept
    alive, the next read took those bytes for a request: an `ERROR ... Bad request syntax` line
    with the frame's raw bytes at every Socket.IO disconnect."""

    def run_wsgi(self) -> None:
        upgraded = self.headers.get("Upgrade", "").lower() == "websocket"
        try:
            super().run_wsgi()
        finally:
            if upgraded:
                self.close_connection = True


class StationWorker(ThreadWorker):
    """gunicorn's threaded worker, which also tells Socket.IO clients to reconnect when it
    is asked to stop, and stops the station once the last request has finished."""

    app: StationServer

    def handle_exit(self, sig: int, frame: Any) -> None:
        stopping = self.alive
        super().handle_exit(sig, frame)
        if stopping:
            # a signal handler must not start threads (the interrupted main thread may hold
            # threading's locks): the worker's own loop runs this callback next
            self.method_queue.defer(self._start_drain)

    def finish_request(self, conn: Any, fs: Any) -> None:
        # gunicorn counts a connection out twice when closing it fails, and closing fails for
        # every WebSocket (simple-websocket has closed its socket already): the count drifts
        # below the truth, and a stopping worker would exit with requests still in flight
        before = self.nr_conns
        super().finish_request(conn, fs)
        self.nr_conns = max(self.nr_conns, before - 1)

    def _start_drain(self) -> None:
        threading.Thread(target=self._drain, name="clinicq-drain", daemon=True).start()

    def _drain(self) -> None:
        count = self.app.runtime.disconnect_clients()
        self.log.info("stopping: told %d Socket.IO client(s) to reconnect", count)

    def run(self) -> None:
        try:
            super().run()
        finally:
            self.app.runtime.close()


class StationServer(BaseApplication):
    """gunicorn embedded: configured here rather than from its command line or a file."""

    def __init__(self, settings: Settings, options: Options) -> None:
        self.runtime = Runtime(settings)
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        o = self.options
        settings: dict[str, Any] = {
            "bind": [f"[{o.host}]:{o.port}" if ":" in o.host else f"{o.host}:{o.port}"],
            "workers": 1,  # the single writer; Socket.IO rooms live in this process
            "worker_class": StationWorker,
            "threads": o.threads,
            # idle kept-alive connections wait in the worker's poller, not in a thread
            "worker_connections": max(1000, 2 * o.threads),
            "keepalive": o.keepalive,
            "graceful_timeout": o.graceful_timeout,
            # the arbiter restarts a worker silent this long; the threaded worker reports every
            # second once serving, so this bounds mostly the start (migrations, demo seed)
            "timeout": 120,
            "accesslog": "-" if o.access_log else None,
            "errorlog": "-",
            "loglevel": "info",
            "proc_name": "clinicq-station",
            # gunicorn's run-time control socket sits at one path per user: two stations (or
            # two tests) would fight over it, and nothing here uses it
            "control_socket_disable": True,
        }
        if os.path.isdir("/dev/shm"):  # the worker's heartbeat file, off the disk
            settings["worker_tmp_dir"] = "/dev/shm"
        for key, value in settings.items():
            if key in self.cfg.settings:  # older gunicorns lack some (the control socket)
                self.cfg.set(key, value)

    def load(self) -> Flask:
        # called in the worker (preload_app is off), after the fork
        return self.runtime.start()


def serve(settings: Settings, options: Options) -> int:
    """Serve until SIGTERM (graceful) or SIGINT/SIGQUIT (at once). gunicorn ends both of its
    processes, the arbiter and the worker, through sys.exit with its own exit code."""
    log.info("station %s on http://%s:%d (gunicorn, %d threads)", settings.station_id,
             options.host, options.port, options.threads)
    server = StationServer(settings, options)
    # what the arbiter has made so far is shared with the worker it forks; frozen, the
    # worker's garbage collector never writes to those pages, so they stay shared
    gc.freeze()
    server.run()
    return 0


def serve_dev(settings: Settings, options: Options) -> int:
    """Flask-SocketIO's development server (Werkzeug), in this process."""
    runtime = Runtime(settings)
    app = runtime.start()
    log.info("station %s on http://%s:%d (development server)", settings.station_id,
             options.host, options.port)
    try:
        app.extensions["clinicq"].socketio.run(app, host=options.host, port=options.port,
                                               allow_unsafe_werkzeug=True, use_reloader=False,
                                               log_output=options.access_log,
                                               request_handler=DevRequestHandler)
    finally:
        runtime.close()
    return 0
