"""Waiting-room display: the display page and the announcement builder."""

from __future__ import annotations

import os
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[1])  # where `display` is imported from


def child_env() -> dict[str, str]:
    """The environment of a child run as `python -m display.…` (the synthesis process, the
    pinyin reader): this process's, with `display` importable from where it is here."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_ROOT, env.get("PYTHONPATH")) if p)
    return env
