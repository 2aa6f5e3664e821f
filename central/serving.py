"""Serving the reference platform under gunicorn, several worker processes; entry layer.

Each worker builds its own app (and its own database pool) after gunicorn's fork: nothing is
shared between processes but the database, which is what lets the platform run as many
workers as the machine has cores, against PostgreSQL. Migrations and the demo seed take the
store's startup lock, so workers that start at once take turns (central/app.py).

The same app without this module: `gunicorn -w 4 'central.app:from_env()'`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from gunicorn.app.base import BaseApplication

if TYPE_CHECKING:
    from flask import Flask


class CentralServer(BaseApplication):
    """gunicorn embedded: configured here rather than from its command line or a file."""

    def __init__(self, config: Mapping[str, Any], *, host: str, port: int, workers: int,
                 threads: int, access_log: bool = False) -> None:
        self.config = dict(config)
        self.settings = {
            "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"],
            "workers": workers,
            "worker_class": "gthread",
            "threads": threads,
            "keepalive": 15,
            "graceful_timeout": 10,
            "timeout": 120,  # bounds mostly a worker's start (migrations under the lock)
            "accesslog": "-" if access_log else None,
            "errorlog": "-",
            "loglevel": "info",
            "proc_name": "clinicq-central",
            # one control socket path per user: two platforms (or tests) would fight over it
            "control_socket_disable": True,
        }
        if os.path.isdir("/dev/shm"):  # workers' heartbeat files, off the disk
            self.settings["worker_tmp_dir"] = "/dev/shm"
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.settings.items():
            if key in self.cfg.settings:  # older gunicorns lack some (the control socket)
                self.cfg.set(key, value)

    def load(self) -> Flask:
        # called in each worker (preload_app is off), after the fork
        from central.app import create_app

        return create_app(self.config)


def serve(config: Mapping[str, Any], **options: Any) -> int:
    """Serve until SIGTERM (graceful) or SIGINT; gunicorn exits through sys.exit."""
    CentralServer(config, **options).run()
    return 0
