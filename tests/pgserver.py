"""A throw-away PostgreSQL server on 127.0.0.1 (initdb and pg_ctl, as the postgres user when
run as root), for the platform's tests and benchmarks; `stop()` ends it and removes it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

PG_BIN = Path(os.environ.get("CLINICQ_PG_BIN", "/usr/lib/postgresql/15/bin"))


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL binaries here, or no way to run them."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(args: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


class PostgresServer:
    """`url` is the server's SQLAlchemy URL without a database; `create_database()` adds one."""

    def __init__(self, max_connections: int = 100) -> None:
        if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
            raise PostgresUnavailable(f"PostgreSQL binaries not found in {PG_BIN} "
                                      "(set CLINICQ_PG_BIN)")
        if os.geteuid() == 0 and shutil.which("runuser") is None:
            raise PostgresUnavailable("running as root and runuser is missing")
        self.base = Path(tempfile.mkdtemp(prefix="clinicq-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")
        self.data, port = self.base / "data", _free_port()
        run = {"check": True, "capture_output": True, "timeout": 60}
        subprocess.run(_as_postgres([str(PG_BIN / "initdb"), "-D", str(self.data), "-U",
                                     "postgres", "-A", "trust", "-E", "UTF8", "--locale=C",
                                     "--no-sync"]), **run)
        options = (f"-p {port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off "
                   f"-c max_connections={max_connections}")
        try:
            subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o",
                                         options, "-l", str(self.base / "log"), "-w", "start"]),
                           **run)
        except BaseException:
            shutil.rmtree(self.base, ignore_errors=True)
            raise
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}"

    def create_database(self) -> str:
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self._plain("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return f"{self.url}/{name}"

    def drop_database(self, url: str) -> None:
        import psycopg

        with psycopg.connect(self._plain("postgres"), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {url.rsplit('/', 1)[1]} WITH (FORCE)")

    def _plain(self, database: str) -> str:
        return self.url.replace("postgresql+psycopg", "postgresql") + "/" + database

    def stop(self) -> None:
        subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m",
                                     "immediate", "-w", "stop"]), capture_output=True,
                       timeout=60)
        shutil.rmtree(self.base, ignore_errors=True)
