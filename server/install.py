"""`clinicq install` and `uninstall`: a Debian/Ubuntu station PC's units, rules, screens (tool).

What a role installs (paths as on the host; `--root DIR` puts them under DIR):

    station  /etc/clinicq/config.toml (seeded once from the shipped one, never overwritten),
             /etc/systemd/system/clinicq-station.service (`clinicq serve --config ...`)
    kiosk    /etc/clinicq/kiosk.env (seeded once), /etc/systemd/system/clinicq-kiosk.service
             (`clinicq kiosk ...`), /etc/udev/rules.d/70-clinicq.rules (printers, scanners)
    kiosk, display
             /usr/local/lib/clinicq/clinicq-screen (Chromium in kiosk mode) and an autostart
             entry per screen in /etc/xdg/autostart
    station, kiosk
             the system user (/etc/sysusers.d/clinicq.conf, applied by systemd-sysusers) and
             its data directory /var/lib/clinicq (0750)

An install is a list of steps (files to write, directories to make, commands to run), built
by a pure function and then carried out, printed (`--dry-run`), or carried out inside a
throw-away root (`--root`), where the commands that would change the host (systemd-sysusers,
systemctl, udevadm) are printed and not run. Running it again rewrites the same files and
keeps the seeded ones.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

FILES = Path(__file__).resolve().parent / "install_files"
ROLES = ("station", "kiosk", "display")
SCREENS = {"kiosk": ("kiosk screen", "/kiosk"), "display": ("waiting-room display", "/display")}

USER = "clinicq"
ETC = "/etc/clinicq"
DATA = "/var/lib/clinicq"
CONFIG = f"{ETC}/config.toml"
KIOSK_ENV = f"{ETC}/kiosk.env"
SYSUSERS = "/etc/sysusers.d/clinicq.conf"
UNITS = "/etc/systemd/system"
STATION_UNIT = "clinicq-station.service"
KIOSK_UNIT = "clinicq-kiosk.service"
RULES = "/etc/udev/rules.d/70-clinicq.rules"
SCREEN_SCRIPT = "/usr/local/lib/clinicq/clinicq-screen"
AUTOSTART = "/etc/xdg/autostart"
DEFAULT_SCANNER = "hid:/dev/clinicq-scanner"
DEFAULT_PRINTER = "file:/dev/clinicq-printer"
UDEV_SUBSYSTEMS = ("usb", "usbmisc", "input", "hidraw", "tty")


class InstallError(Exception):
    """The install cannot go on: a bad option, a missing file, a command that failed."""


@dataclass(frozen=True)
class WriteFile:
    path: str
    content: str
    mode: int = 0o644
    group: str | None = None  # chgrp to this (the service user's group) on the host
    seed: bool = False  # written only when absent: the administrator's file from then on
    error: str | None = None  # why the content could not be made: fatal only when written


@dataclass(frozen=True)
class MakeDir:
    path: str
    mode: int
    owner: str = "root"
    group: str = "root"


@dataclass(frozen=True)
class Run:
    argv: tuple[str, ...]
    check: bool = True  # False: a failure is reported and the steps go on


@dataclass(frozen=True)
class Remove:
    path: str
    tree: bool = False  # the whole directory (--purge)


Step = WriteFile | MakeDir | Run | Remove


@dataclass(frozen=True)
class Options:
    roles: tuple[str, ...] = ROLES
    clinicq: str = ""  # the executable the units start
    station_url: str = ""  # where the screens and the kiosk agent find the station
    listen: str = "0.0.0.0"  # the seeded config's [server] host
    port: int = 5000
    scanner: str = DEFAULT_SCANNER
    printer: str = DEFAULT_PRINTER
    shipped_config: Path = field(default_factory=lambda: _shipped_config())

    @property
    def url(self) -> str:
        return (self.station_url or f"http://127.0.0.1:{self.port}").rstrip("/")


def _shipped_config() -> Path:
    from .config import DEFAULT_CONFIG

    return DEFAULT_CONFIG


def default_executable() -> str:
    """The `clinicq` beside this Python (a virtualenv's bin/), else the one on PATH."""
    beside = Path(sys.executable).parent / "clinicq"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("clinicq")
    if found:
        return os.path.abspath(found)
    raise InstallError("no clinicq executable found: pass --clinicq PATH")


def render(template: str, values: dict[str, str]) -> str:
    """The file `template` of install_files/ with its @NAME@ placeholders filled in."""
    text = (FILES / template).read_text(encoding="utf-8")
    text = re.sub(r"@([A-Z_]+)@", lambda m: values[m.group(1)], text)
    return text


def seeded_config(shipped: Path, *, listen: str, port: int) -> str:
    """The shipped config.toml with the station's paths and address for an installed station:
    the database and its backups in the data directory (the shipped ones are relative to the
    file, and the service may write only there), listening on `listen` so that kiosk boxes
    and the TV reach it. For a backup off the PC, set [backup] target to an s3:// URL."""
    try:
        text = shipped.read_text(encoding="utf-8")
    except OSError as err:
        raise InstallError(f"cannot read the shipped configuration {shipped}: {err}") from err
    for key, value in (("database", f'"{DATA}/station.db"'), ("host", f'"{listen}"'),
                       ("port", str(port)), ("target", f'"{DATA}/backup"')):
        text, count = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", text, count=1)
        if count != 1:
            raise InstallError(f"{shipped} has no '{key} = ' line to set")
    return text


def _protect_home(executable: str) -> str:
    # a virtualenv under /home or /root must stay readable for the service to start
    return "read-only" if executable.startswith(("/home/", "/root/")) else "yes"


def _check(opts: Options) -> None:
    unknown = set(opts.roles) - set(ROLES)
    if unknown or not opts.roles:
        raise InstallError(f"roles are {', '.join(ROLES)}; got {', '.join(opts.roles) or 'none'}")
    if not 0 < opts.port < 65536:
        raise InstallError(f"--port must be 1-65535, got {opts.port}")
    if not os.path.isabs(opts.clinicq):
        raise InstallError(f"--clinicq must be an absolute path, got {opts.clinicq!r}")
    if not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]:]+(/[A-Za-z0-9._~/\-]*)?", opts.url):
        raise InstallError(f"--station-url must be http(s)://HOST[:PORT], got {opts.url!r}")
    for name, spec in (("--scanner", opts.scanner), ("--printer", opts.printer)):
        if not spec or re.search(r"[\s\"'$`\\]", spec):
            raise InstallError(f"{name} must be one word without quotes, got {spec!r}")


def install_plan(opts: Options) -> list[Step]:
    """Every step of an install of `opts.roles`, in order; nothing is done here."""
    _check(opts)
    roles = set(opts.roles)
    values = {"USER": USER, "DATA": DATA, "ETC": ETC, "CONFIG": CONFIG, "CLINICQ": opts.clinicq,
              "PROTECT_HOME": _protect_home(opts.clinicq), "STATION_URL": opts.url,
              "SCANNER": opts.scanner, "PRINTER": opts.printer, "RULES": RULES,
              "AFTER": STATION_UNIT if "station" in roles else "",
              "AUTOSTART": AUTOSTART, "SCREEN_SCRIPT": SCREEN_SCRIPT}
    steps: list[Step] = []
    services = [unit for role, unit in (("station", STATION_UNIT), ("kiosk", KIOSK_UNIT))
                if role in roles]
    if services:
        steps += [
            WriteFile(SYSUSERS, render("sysusers.conf", values)),
            Run(("systemd-sysusers", SYSUSERS)),
            MakeDir(DATA, 0o750, USER, USER),
            MakeDir(ETC, 0o750, "root", USER),
        ]
    if "station" in roles:
        try:
            seeded, error = seeded_config(opts.shipped_config, listen=opts.listen,
                                          port=opts.port), None
        except InstallError as err:  # an installed wheel has no config.toml beside it
            seeded, error = "", f"{err}; pass --seed-config PATH (a checkout's config.toml)"
        steps.append(WriteFile(CONFIG, seeded, mode=0o640, group=USER, seed=True, error=error))
        steps.append(WriteFile(f"{UNITS}/{STATION_UNIT}",
                               render("clinicq-station.service", values)))
    if "kiosk" in roles:
        steps.append(WriteFile(KIOSK_ENV, render("kiosk.env", values), mode=0o640, group=USER,
                               seed=True))
        steps.append(WriteFile(f"{UNITS}/{KIOSK_UNIT}", render("clinicq-kiosk.service", values)))
        steps.append(WriteFile(RULES, render("70-clinicq.rules", values)))
        steps.append(Run(("udevadm", "control", "--reload-rules")))
        steps.append(Run(("udevadm", "trigger", "--action=add",
                          *(f"--subsystem-match={s}" for s in UDEV_SUBSYSTEMS))))
    screens = [name for name in SCREENS if name in roles]
    if screens:
        steps.append(WriteFile(SCREEN_SCRIPT, render("clinicq-screen", values), mode=0o755))
    for name in screens:
        title, path = SCREENS[name]
        steps.append(WriteFile(f"{AUTOSTART}/clinicq-{name}-screen.desktop",
                               render("clinicq-screen.desktop",
                                      {**values, "NAME": name, "TITLE": title,
                                       "URL": opts.url + path})))
    if services:
        steps.append(Run(("systemctl", "daemon-reload")))
        steps.append(Run(("systemctl", "enable", "--now", *services)))
    return steps


def installed_files() -> list[str]:
    """Every file an install of all roles writes and an uninstall removes (not the seeded
    configuration, which is the administrator's)."""
    return [f"{UNITS}/{STATION_UNIT}", f"{UNITS}/{KIOSK_UNIT}", RULES, SCREEN_SCRIPT,
            *(f"{AUTOSTART}/clinicq-{name}-screen.desktop" for name in SCREENS), SYSUSERS]


def uninstall_plan(*, purge: bool) -> list[Step]:
    """Stop and disable the services, remove what install wrote; with `purge` also the data
    directory, the configuration and the user."""
    # a unit that was never installed (another role) makes systemctl fail: reported, not fatal
    steps: list[Step] = [Run(("systemctl", "disable", "--now", STATION_UNIT, KIOSK_UNIT),
                             check=False)]
    steps += [Remove(path) for path in installed_files()]
    steps += [Remove(str(Path(SCREEN_SCRIPT).parent), tree=True)]
    steps += [Run(("systemctl", "daemon-reload")), Run(("udevadm", "control", "--reload-rules"))]
    if purge:
        steps += [Remove(DATA, tree=True), Remove(ETC, tree=True),
                  Run(("userdel", USER), check=False)]
    return steps


# -- carrying a plan out --------------------------------------------------------------------


class Executor:
    """Carries steps out under `root` ("/" is the host), or only prints them (`dry_run`).

    Under another root nothing outside it changes: files and directories go under it (their
    owners are not set, the user exists only on the host), and commands are printed."""

    def __init__(self, root: str = "/", *, dry_run: bool = False, out: TextIO | None = None):
        self.root = Path(root)
        self.host = self.root == Path("/")
        self.dry_run = dry_run
        self.out = out or sys.stdout

    def target(self, path: str) -> Path:
        return self.root / path.lstrip("/")

    def run(self, steps: Sequence[Step]) -> None:
        for step in steps:
            if isinstance(step, WriteFile):
                self._write(step)
            elif isinstance(step, MakeDir):
                self._mkdir(step)
            elif isinstance(step, Run):
                self._command(step)
            else:
                self._remove(step)

    def _say(self, line: str) -> None:
        print(line, file=self.out)

    def _write(self, step: WriteFile) -> None:
        path = self.target(step.path)
        if step.seed and path.exists():
            self._say(f"# kept: {path} (exists; install never overwrites it)")
            return
        if step.error:
            raise InstallError(step.error)
        if self.dry_run:
            self._say(f"# {path}")
            self.out.write(step.content if step.content.endswith("\n") else step.content + "\n")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.clinicq-new")
        tmp.write_text(step.content, encoding="utf-8")
        os.chmod(tmp, step.mode)
        if step.group and self.host:
            shutil.chown(tmp, group=step.group)
        os.replace(tmp, path)  # a reader sees the old file or the new one, never half
        self._say(f"wrote {path}")

    def _mkdir(self, step: MakeDir) -> None:
        path = self.target(step.path)
        argv = ["install", "-d", "-m", f"{step.mode:04o}", "-o", step.owner, "-g", step.group,
                str(path)]
        if self.dry_run:
            self._say("$ " + shlex.join(argv))
            return
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, step.mode)
        if self.host:
            shutil.chown(path, user=step.owner, group=step.group)
        self._say(f"made {path} ({step.mode:04o})")

    def _command(self, step: Run) -> None:
        line = "$ " + shlex.join(step.argv)
        if self.dry_run:
            self._say(line)
            return
        if not self.host:
            self._say(f"{line}  # not run: --root {self.root}")
            return
        self._say(line)
        try:
            done = subprocess.run(step.argv, check=False)
        except OSError as err:
            raise InstallError(f"{step.argv[0]}: {err}") from err
        if done.returncode != 0 and not step.check:
            self._say(f"# (exit {done.returncode}; going on)")
        elif done.returncode != 0:
            raise InstallError(f"{shlex.join(step.argv)} failed (exit {done.returncode})")

    def _remove(self, step: Remove) -> None:
        path = self.target(step.path)
        if not path.exists() and not path.is_symlink():
            return
        if self.dry_run:
            self._say("$ " + shlex.join(["rm", "-r" if step.tree else "-f", str(path)]))
            return
        if step.tree:
            shutil.rmtree(path)
        else:
            path.unlink()
        self._say(f"removed {path}")


# -- command line ---------------------------------------------------------------------------


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true",
                        help="change nothing: print each file that would be written, after a "
                             "line '# PATH', and each command that would run, after '$ '")
    parser.add_argument("--root", default="/", metavar="DIR",
                        help="work inside DIR instead of / (a throw-away root, an image being "
                             "built); commands that would change the host are printed, not run")


def install_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="clinicq install",
        description="Install this PC as a clinicq station (Debian/Ubuntu, systemd): the "
                    "service user and its data directory, the systemd units of the station "
                    "server and the kiosk agent, udev rules for ticket printers and scanners, "
                    "and Chromium in kiosk mode for the kiosk screen and the display. Running "
                    "it again updates the units and keeps the configuration.")
    _common(p)
    p.add_argument("--role", action="append", choices=ROLES, dest="roles",
                   help="what this PC is (repeat for several; default: all three): the "
                        "station server, a kiosk (agent and screen), the display")
    p.add_argument("--station-url", default="", metavar="URL",
                   help="where the kiosk and the screens reach the station server "
                        "(default: http://127.0.0.1:PORT)")
    p.add_argument("--port", type=int, default=5000,
                   help="the station server's port in the seeded configuration (default 5000)")
    p.add_argument("--listen", default="0.0.0.0", metavar="ADDRESS",
                   help="the station server's listen address in the seeded configuration "
                        "(default 0.0.0.0: kiosk boxes and the TV reach it over the LAN)")
    p.add_argument("--scanner", default=DEFAULT_SCANNER,
                   help=f"the kiosk agent's scanner in the seeded kiosk.env "
                        f"(default {DEFAULT_SCANNER})")
    p.add_argument("--printer", default=DEFAULT_PRINTER,
                   help=f"the kiosk agent's printer in the seeded kiosk.env "
                        f"(default {DEFAULT_PRINTER})")
    p.add_argument("--seed-config", default=None, metavar="PATH",
                   help="the configuration /etc/clinicq/config.toml is seeded from when absent "
                        "(default: the checkout's config.toml)")
    p.add_argument("--clinicq", default="", metavar="PATH",
                   help="the clinicq executable the units start (default: the one beside "
                        "this Python, e.g. /opt/clinicq/bin/clinicq)")
    return p


def uninstall_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="clinicq uninstall",
        description="Stop and disable the clinicq services and remove the units, udev rules "
                    "and screen launchers that `clinicq install` wrote. The data directory "
                    f"({DATA}), the configuration ({ETC}) and the user stay unless --purge.")
    _common(p)
    p.add_argument("--purge", action="store_true",
                   help=f"also delete {DATA} (the station's database!), {ETC} and the user")
    return p


def _execute(steps: Sequence[Step], args: argparse.Namespace, prog: str) -> int:
    if args.root == "/" and not args.dry_run and os.geteuid() != 0:
        print(f"{prog}: run as root (sudo), or try --dry-run or --root DIR", file=sys.stderr)
        return 2
    try:
        Executor(args.root, dry_run=args.dry_run).run(steps)
    except (InstallError, OSError) as err:
        print(f"{prog}: {err}", file=sys.stderr)
        return 1
    return 0


def install_main(argv: Sequence[str] | None = None) -> int:
    args = install_parser().parse_args(argv)
    try:
        opts = Options(roles=tuple(dict.fromkeys(args.roles or ROLES)),
                       clinicq=args.clinicq or default_executable(),
                       station_url=args.station_url, listen=args.listen, port=args.port,
                       scanner=args.scanner, printer=args.printer,
                       **({"shipped_config": Path(args.seed_config)} if args.seed_config else {}))
        steps = install_plan(opts)
    except InstallError as err:
        print(f"clinicq install: {err}", file=sys.stderr)
        return 2
    return _execute(steps, args, "clinicq install")


def uninstall_main(argv: Sequence[str] | None = None) -> int:
    args = uninstall_parser().parse_args(argv)
    return _execute(uninstall_plan(purge=args.purge), args, "clinicq uninstall")
