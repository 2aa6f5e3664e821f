"""The kiosk agent's pairing: with no token, ask the station for a code, print it (and log it),
wait for an admin to approve it on the devices page, and keep the token in a file only root or
the kiosk's user can read. The next start reads the file; a revoked token is paired again.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

import requests

from hardware.printer import Printer
from hardware.printer.layout import BigText, Line, Rule, TicketLayout

log = logging.getLogger(__name__)


class PairingFailed(Exception):
    """The station could not be asked (wrong URL, not a clinicq station)."""


def read_token(path: Path) -> str | None:
    try:
        token = path.read_text("utf-8").strip()
    except FileNotFoundError:
        return None
    return token or None


def save_token(path: Path, token: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(token + "\n")


def pairing_slip(code: str, server: str, paper_mm: int) -> TicketLayout:
    items = [Line("自助机配对 / Kiosk pairing", "center", bold=True), Rule(),
             Line("请管理员在“管理 → 设备”输入：", "center"),
             Line("Admin → Devices, enter:", "center"),
             BigText(code), Rule(), Line(server, "center"),
             Line("10 分钟内有效 / valid 10 minutes", "center")]
    return TicketLayout.build(items, paper_mm=paper_mm, label=f"pairing-{code}")


def pair(server: str, *, printer: Printer | None = None, paper_mm: int = 80,
         every: float = 2.0, sleep: Callable[[float], None] = time.sleep,
         session: requests.Session | None = None) -> str:
    """Until an admin approves: ask for a code, print it, poll; answers the token."""
    http = session or requests.Session()
    while True:
        try:
            r = http.post(f"{server}/api/v1/pairing", json={"kind": "kiosk"}, timeout=10)
        except requests.RequestException as err:
            log.warning("cannot reach the station to pair (%s); trying again", err)
            sleep(10)
            continue
        if r.status_code == 429:
            sleep(30)
            continue
        if r.status_code != 201:
            raise PairingFailed(f"{server} answered {r.status_code} to a pairing request")
        asked = r.json()
        code, poll = asked["code"], asked["poll"]
        log.warning("this kiosk is not paired: an admin enters code %s on the devices page "
                    "(%s/admin/devices)", code, server)
        if printer is not None:
            try:
                printer.print_ticket(pairing_slip(code, server, paper_mm))
            except Exception as err:  # the code is in the log too
                log.warning("could not print the pairing code: %s", err)
        while True:
            sleep(every)
            try:
                got = http.get(f"{server}/api/v1/pairing/{poll}", timeout=10)
            except requests.RequestException:
                continue
            if got.status_code == 200:
                answer = got.json()
                log.info("paired as %s (%s)", answer["id"], answer["name"])
                return str(answer["token"])
            if got.status_code == 410:
                break  # expired: a new code
