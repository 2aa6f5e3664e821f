"""`clinicq install` / `uninstall`, always inside a throw-away root (tmp_path), never the host:
the files written, the units checked by systemd-analyze, the udev rules parsed and run against
sample devices, the dry run's listing, the screen launcher run with a recording browser."""

from __future__ import annotations

import configparser
import io
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import udev_rules
from udev_rules import Device

from server import config, install
from server.install import Executor, Options, install_main, install_plan, uninstall_main

SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
needs_systemd_analyze = pytest.mark.skipif(SYSTEMD_ANALYZE is None,
                                           reason="systemd-analyze is not installed")
UNITS = [install.STATION_UNIT, install.KIOSK_UNIT]
SCREENS = [f"{install.AUTOSTART}/clinicq-{name}-screen.desktop" for name in install.SCREENS]
EVERY_FILE = [install.SYSUSERS, install.CONFIG, install.KIOSK_ENV, install.RULES,
              install.SCREEN_SCRIPT, *SCREENS, *(f"{install.UNITS}/{u}" for u in UNITS)]


def at(root: Path, path: str) -> Path:
    return root / path.lstrip("/")


def run_install(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    assert install_main(["--root", str(root), *args]) == 0
    return capsys.readouterr().out


@pytest.fixture
def root(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    run_install(tmp_path, capsys)
    return tmp_path


# -- what an install writes -----------------------------------------------------------------


def test_install_writes_every_file_with_its_mode(root: Path) -> None:
    for path in EVERY_FILE:
        assert at(root, path).is_file(), path
    modes = {install.CONFIG: 0o640, install.KIOSK_ENV: 0o640, install.SCREEN_SCRIPT: 0o755,
             install.DATA: 0o750, install.ETC: 0o750, install.RULES: 0o644}
    for path, mode in modes.items():
        assert stat.S_IMODE(at(root, path).stat().st_mode) == mode, path
    leftovers = [p for p in root.rglob("*") if "clinicq-new" in p.name]
    assert leftovers == []


def test_under_a_root_the_host_commands_are_printed_not_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = run_install(tmp_path, capsys)
    commands = [line for line in out.splitlines() if line.startswith("$ ")]
    assert [c.split()[1] for c in commands] == [
        "systemd-sysusers", "udevadm", "udevadm", "systemctl", "systemctl"]
    assert all(c.endswith(f"# not run: --root {tmp_path}") for c in commands)
    assert "$ systemctl enable --now clinicq-station.service clinicq-kiosk.service" in out


def test_the_seeded_config_is_valid_and_keeps_its_data_in_the_data_directory(root: Path) -> None:
    settings = config.load(at(root, install.CONFIG))
    assert settings.database == f"{install.DATA}/station.db"
    assert settings.backup.target == f"{install.DATA}/backup"
    assert (settings.host, settings.port) == ("0.0.0.0", 5000)
    shipped = config.DEFAULT_CONFIG.read_text(encoding="utf-8")
    seeded = at(root, install.CONFIG).read_text(encoding="utf-8")
    # the rest is the shipped file, comments and all, for the administrator to edit
    assert len(seeded.splitlines()) == len(shipped.splitlines())
    assert "[[services]]" in seeded and "# The central platform's base URL" in seeded


def test_the_units_start_the_right_commands(root: Path) -> None:
    station = at(root, f"{install.UNITS}/{install.STATION_UNIT}").read_text()
    exe = install.default_executable()
    assert f"ExecStart={exe} serve --config /etc/clinicq/config.toml\n" in station
    for line in ["Type=notify", "Restart=on-failure", "After=network-online.target",
                 "Wants=network-online.target", "User=clinicq", "ProtectSystem=strict",
                 "ReadWritePaths=/var/lib/clinicq", "NoNewPrivileges=yes", "PrivateTmp=yes",
                 "StandardOutput=journal", "WantedBy=multi-user.target"]:
        assert line + "\n" in station, line
    kiosk = at(root, f"{install.UNITS}/{install.KIOSK_UNIT}").read_text()
    assert f"ExecStart={exe} kiosk --server ${{CLINICQ_SERVER}}" in kiosk
    assert "PrivateDevices=" not in kiosk  # it opens the printer and the scanner
    assert "After=network-online.target clinicq-station.service" in kiosk
    env = at(root, install.KIOSK_ENV).read_text()
    assert "CLINICQ_SERVER=http://127.0.0.1:5000\n" in env
    assert "CLINICQ_SCANNER=hid:/dev/clinicq-scanner\n" in env


def test_every_option_the_kiosk_unit_passes_is_one_the_agent_knows(root: Path) -> None:
    from kiosk.agent import build_parser

    known = {o for a in build_parser()._actions for o in a.option_strings}
    kiosk = at(root, f"{install.UNITS}/{install.KIOSK_UNIT}").read_text()
    exec_start = next(line for line in kiosk.splitlines() if line.startswith("ExecStart="))
    assert set(re.findall(r"--[a-z-]+", exec_start)) <= known


@needs_systemd_analyze
@pytest.mark.parametrize("unit", UNITS)
def test_units_pass_systemd_analyze_verify(root: Path, unit: str) -> None:
    path = at(root, f"{install.UNITS}/{unit}")
    done = subprocess.run([SYSTEMD_ANALYZE, "verify", "--man=no", "--generators=no", str(path)],
                          capture_output=True, text=True, timeout=60)
    # verify exits 0 on an unknown key and only says so: any line about the unit fails
    assert done.returncode == 0 and done.stdout + done.stderr == "", done.stdout + done.stderr


@needs_systemd_analyze
@pytest.mark.parametrize("unit", UNITS)
def test_units_stay_hardened(root: Path, unit: str) -> None:
    path = at(root, f"{install.UNITS}/{unit}")
    done = subprocess.run([SYSTEMD_ANALYZE, "security", "--offline=yes", "--man=no",
                           "--threshold=25", str(path)],
                          capture_output=True, text=True, timeout=60)
    # exposure 0-10 (×10 for --threshold): 1.5 and 1.8 now; above 2.5 a hardening went away
    assert done.returncode == 0, done.stdout[-600:] + done.stderr


@needs_systemd_analyze
def test_verify_would_catch_a_misspelt_key_or_a_missing_program(root: Path) -> None:
    # the check above can fail: the same unit with a typo, and with a program that is absent
    good = at(root, f"{install.UNITS}/{install.STATION_UNIT}").read_text()
    for name, text in [("typo.service", good.replace("RestartSec=", "RestartSecs=")),
                       ("gone.service", re.sub(r"ExecStart=\S+", "ExecStart=/nonexistent/x",
                                               good))]:
        unit = root / name
        unit.write_text(text)
        done = subprocess.run([SYSTEMD_ANALYZE, "verify", "--man=no", "--generators=no",
                               str(unit)], capture_output=True, text=True, timeout=60)
        assert done.stdout + done.stderr != "", name


# -- udev rules -----------------------------------------------------------------------------


def usb(kernel: str, vid: str, pid: str) -> Device:
    return Device("usb", kernel, "usb", {"idVendor": vid, "idProduct": pid})


def interface(kernel: str, cls: str) -> Device:
    return Device("usb", kernel, "", {"bInterfaceClass": cls})


def input_event(number: int, name: str, usb_dev: Device, cls: str = "03") -> list[Device]:
    return [Device("input", f"event{number}"), Device("input", f"input{number}", "",
                                                      {"name": name}),
            Device("hid", f"0003:{usb_dev.attrs['idVendor'].upper()}:0001.0001", "hid-generic"),
            interface(f"{usb_dev.kernel}:1.0", cls), usb_dev]


TM_T20 = usb("1-1", "04b8", "0e03")  # Epson TM-T20, USB printer class
TM_T20_VENDOR_CLASS = usb("1-1", "04b8", "0e15")  # TM-T20II set to the vendor class
GENERIC_PRINTER = usb("1-4", "28e9", "0289")  # an unknown vendor's printer-class printer
LS2208 = usb("1-2", "05e0", "1200")  # Zebra/Symbol LS2208, keyboard wedge
VOYAGER_ACM = usb("1-3", "0c2e", "0b07")  # Honeywell Voyager in USB serial mode
MOUSE = usb("1-5", "046d", "c077")  # Logitech USB mouse
CH340 = usb("1-6", "1a86", "7523")  # a USB serial adaptor

USB_DEVICE = {"DEVTYPE": "usb_device"}
# (what, the event's device and its parents, the properties earlier rules set (the stock
# rules' usb_id import), whether the service user gets it, the symlinks expected)
SAMPLES = [
    ("Epson TM-T20 raw USB", [TM_T20], {**USB_DEVICE, "ID_USB_INTERFACES": ":070102:"},
     True, []),
    ("Epson TM-T20 usblp node", [Device("usbmisc", "lp0", "usblp"),
                                 interface("1-1:1.0", "07"), TM_T20], {}, True,
     ["clinicq-printer"]),
    ("Epson TM-T20II vendor class", [TM_T20_VENDOR_CLASS],
     {**USB_DEVICE, "ID_USB_INTERFACES": ":ff0000:"}, True, []),
    ("printer class, unknown vendor", [GENERIC_PRINTER],
     {**USB_DEVICE, "ID_USB_INTERFACES": ":070101:070102:"}, True, []),
    ("HID scanner event node", input_event(3, "Symbol Bar Code Scanner", LS2208), {}, True,
     ["clinicq-scanner"]),
    ("HID scanner hidraw", [Device("hidraw", "hidraw0"), *input_event(3, "x", LS2208)[2:]], {},
     True, []),
    ("serial scanner ttyACM", [Device("tty", "ttyACM0", ""), interface("1-3:1.0", "02"),
                               VOYAGER_ACM], {}, True, ["clinicq-scanner-serial"]),
    ("USB mouse event node", input_event(5, "Logitech USB Optical Mouse", MOUSE), {}, False, []),
    ("USB mouse device", [MOUSE], {**USB_DEVICE, "ID_USB_INTERFACES": ":030102:"}, False, []),
    ("USB mouse hidraw", [Device("hidraw", "hidraw1"), *input_event(5, "x", MOUSE)[2:]], {},
     False, []),
    ("USB serial adaptor", [Device("tty", "ttyUSB0", "ch341-uart"), interface("1-6:1.0", "ff"),
                            CH340], {}, False, []),
]


@pytest.fixture
def rules(root: Path) -> list[udev_rules.Rule]:
    return udev_rules.parse(at(root, install.RULES).read_text())


def service_groups(root: Path) -> set[str]:
    """The service user's own group and the groups the sysusers file adds it to."""
    lines = at(root, install.SYSUSERS).read_text().splitlines()
    return {install.USER} | {line.split()[2] for line in lines if line.startswith("m ")}


@pytest.mark.parametrize(("what", "chain", "env", "access", "links"), SAMPLES,
                         ids=[s[0] for s in SAMPLES])
def test_udev_rules_give_printers_and_scanners_and_nothing_else(
        root: Path, rules: list[udev_rules.Rule], what: str, chain: list[Device],
        env: dict[str, str], access: bool, links: list[str]) -> None:
    result = udev_rules.run(rules, chain, env)
    if not access:
        assert not result.touched, result  # left to the stock rules
        return
    assert result.group in service_groups(root) and result.mode == "0660", result
    assert result.symlinks == links


def test_printer_class_devices_keep_the_stock_lp_group(rules: list[udev_rules.Rule]) -> None:
    # 50-udev-default gives them to lp (CUPS uses it); vendor-class ones it leaves to root
    env = {**USB_DEVICE, "ID_USB_INTERFACES": ":070102:"}
    assert udev_rules.run(rules, [TM_T20], env).group == "lp"
    vendor_class = {**USB_DEVICE, "ID_USB_INTERFACES": ":ff0000:"}
    assert udev_rules.run(rules, [TM_T20_VENDOR_CLASS], vendor_class).group == install.USER


@pytest.mark.skipif(shutil.which("systemd-sysusers") is None,
                    reason="systemd-sysusers is not installed")
def test_sysusers_creates_a_system_user_without_a_login(root: Path) -> None:
    # systemd-sysusers itself reads the file, into the throw-away root's /etc
    done = subprocess.run(["systemd-sysusers", f"--root={root}", str(at(root, install.SYSUSERS))],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    user = next(line.split(":") for line in at(root, "/etc/passwd").read_text().splitlines()
                if line.startswith(f"{install.USER}:"))
    assert int(user[2]) < 1000 and user[5:] == [install.DATA, "/usr/sbin/nologin"]
    groups = {line.split(":")[0]: line.split(":")[3]
              for line in at(root, "/etc/group").read_text().splitlines()}
    assert {"lp", "dialout", "video", "input"} <= {g for g, members in groups.items()
                                                   if install.USER in members.split(",")}


def test_udev_vendor_ids_are_as_sysfs_writes_them(rules: list[udev_rules.Rule]) -> None:
    # sysfs says 04b8, never 04B8: an upper-case id would silently match nothing
    ids = [v for r in rules for t in r.tokens if t.attr == "idVendor" for v in t.value.split("|")]
    assert len(ids) >= 10 and all(re.fullmatch(r"[0-9a-f]{4}", v) for v in ids), ids


@pytest.mark.parametrize("bad", [
    'SUBSYSTEM=="usb", GROUP=="clinicq"',  # a match of an assign-only key
    'SUBSYSTEMS="usb", MODE="0660"',  # an assignment to a match key
    'SUBSYTEM=="usb", MODE="0660"',  # misspelt
    'SUBSYSTEM=="usb" MODE="0660"',  # the comma missing
    'ATTRS=="04b8", MODE="0660"',  # ATTRS without {attribute}
    'SUBSYSTEM=="usb", MODE="660x"',
    'SUBSYSTEM=="usb", GOTO="nowhere"',
])
def test_the_udev_parser_rejects_what_udev_would_skip(bad: str) -> None:
    with pytest.raises(udev_rules.RuleError):
        udev_rules.parse(bad)


# -- dry run, twice, roles, uninstall -------------------------------------------------------


def dry_run_listing(out: str) -> tuple[list[str], list[str]]:
    headers = re.findall(r"(?m)^# (/\S+)$", out)
    commands = re.findall(r"(?m)^\$ (.+)$", out)
    return headers, commands


def test_dry_run_prints_every_file_and_command_and_writes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = run_install(tmp_path, capsys, "--dry-run")
    assert list(tmp_path.iterdir()) == []
    headers, commands = dry_run_listing(out)
    assert headers == [str(at(tmp_path, p)) for p in [
        install.SYSUSERS, install.CONFIG, f"{install.UNITS}/{install.STATION_UNIT}",
        install.KIOSK_ENV, f"{install.UNITS}/{install.KIOSK_UNIT}", install.RULES,
        install.SCREEN_SCRIPT, *SCREENS]]
    assert commands[:3] == ["systemd-sysusers /etc/sysusers.d/clinicq.conf",
                            f"install -d -m 0750 -o clinicq -g clinicq {tmp_path}/var/lib/clinicq",
                            f"install -d -m 0750 -o root -g clinicq {tmp_path}/etc/clinicq"]
    assert commands[-1] == "systemctl enable --now clinicq-station.service clinicq-kiosk.service"
    # each file's content follows its header whole: the listing is the install
    blocks = re.split(r"(?m)^# (/\S+)\n", out)
    first_unit = blocks[blocks.index(str(at(tmp_path, f"{install.UNITS}/{install.STATION_UNIT}")))
                        + 1]
    assert first_unit.startswith("# clinicq station server") and "[Install]" in first_unit


def test_dry_run_on_this_machine_prints_the_host_paths(capsys: pytest.CaptureFixture[str]) -> None:
    # reads whether /etc/clinicq/config.toml exists, writes nothing
    steps = install_plan(Options(clinicq=install.default_executable()))
    out = io.StringIO()
    Executor("/", dry_run=True, out=out).run(steps)
    headers, commands = dry_run_listing(out.getvalue())
    writes = [s.path for s in steps if isinstance(s, install.WriteFile)]
    assert set(headers) | {p for p in writes if f"# kept: {p} " in out.getvalue()} == set(writes)
    assert len(commands) == sum(isinstance(s, install.Run | install.MakeDir) for s in steps)


def test_install_twice_keeps_the_configuration(
        root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = at(root, install.CONFIG)
    cfg.write_text(cfg.read_text().replace('id = "demo-station"', 'id = "xingfu-01"'))
    units = {u: at(root, f"{install.UNITS}/{u}").read_bytes() for u in UNITS}
    out = run_install(root, capsys)
    assert 'id = "xingfu-01"' in cfg.read_text()
    assert f"# kept: {cfg} (exists; install never overwrites it)" in out
    assert f"# kept: {at(root, install.KIOSK_ENV)}" in out
    assert {u: at(root, f"{install.UNITS}/{u}").read_bytes() for u in UNITS} == units
    headers, _ = dry_run_listing(run_install(root, capsys, "--dry-run"))
    assert str(cfg) not in headers


def test_without_a_config_to_seed_only_a_first_install_fails(
        root: Path, tmp_path_factory: pytest.TempPathFactory,
        capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path_factory.mktemp("wheel") / "config.toml"
    capsys.readouterr()
    # the config is there already: nothing to seed, the install goes on
    assert install_main(["--root", str(root), "--seed-config", str(missing)]) == 0
    at(root, install.CONFIG).unlink()
    assert install_main(["--root", str(root), "--seed-config", str(missing)]) == 1
    err = capsys.readouterr().err
    assert f"cannot read the shipped configuration {missing}" in err and "--seed-config" in err
    assert not at(root, install.CONFIG).exists()


def test_a_display_pc_gets_only_the_screen(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = run_install(tmp_path, capsys, "--role", "display",
                      "--station-url", "http://192.168.1.10:5000")
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert written == ["etc/xdg/autostart/clinicq-display-screen.desktop",
                       "usr/local/lib/clinicq/clinicq-screen"]
    assert "$ " not in out  # no user, no units: nothing to run
    entry = configparser.ConfigParser(interpolation=None)
    entry.read(at(tmp_path, SCREENS[1]))
    assert entry["Desktop Entry"]["Exec"] == (
        f"{install.SCREEN_SCRIPT} display http://192.168.1.10:5000/display")


@pytest.mark.parametrize("args", [["--station-url", "ftp://x"], ["--clinicq", "bin/clinicq"],
                                  ["--scanner", "hid:/dev/a b"], ["--port", "0"]])
def test_bad_options_are_refused(tmp_path: Path, args: list[str],
                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert install_main(["--root", str(tmp_path), *args]) == 2
    assert capsys.readouterr().err.startswith("clinicq install: ")
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_role_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_:
        install_main(["--root", str(tmp_path), "--role", "tv"])
    assert exit_.value.code == 2 and list(tmp_path.iterdir()) == []


def test_uninstall_removes_what_install_wrote_and_keeps_the_data(
        root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = at(root, install.DATA) / "station.db"
    db.write_bytes(b"SQLite format 3\x00")
    capsys.readouterr()
    assert uninstall_main(["--root", str(root)]) == 0
    out = capsys.readouterr().out
    assert "$ systemctl disable --now clinicq-station.service clinicq-kiosk.service" in out
    left = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert left == ["etc/clinicq/config.toml", "etc/clinicq/kiosk.env",
                    "var/lib/clinicq/station.db"]
    assert uninstall_main(["--root", str(root), "--purge"]) == 0
    assert [p for p in root.rglob("*") if p.is_file()] == []
    assert not at(root, install.DATA).exists() and not at(root, install.ETC).exists()


def test_uninstall_dry_run_lists_and_removes_nothing(
        root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = sorted(root.rglob("*"))
    capsys.readouterr()
    assert uninstall_main(["--root", str(root), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert sorted(root.rglob("*")) == before
    for unit in UNITS:
        assert f"$ rm -f {at(root, f'{install.UNITS}/{unit}')}" in out


# -- the screen launcher --------------------------------------------------------------------


def fake_tool(bin_dir: Path, name: str, body: str) -> None:
    tool = bin_dir / name
    tool.write_text("#!/bin/sh\n" + body)
    tool.chmod(0o755)


def test_screen_script_is_valid_sh(root: Path) -> None:
    done = subprocess.run(["sh", "-n", str(at(root, install.SCREEN_SCRIPT))],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr


def test_screen_launcher_starts_chromium_in_kiosk_mode_without_the_restore_bar(
        root: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    home = tmp_path_factory.mktemp("home")
    bin_dir = tmp_path_factory.mktemp("bin")
    log = home / "calls"
    for tool in ["sed", "mkdir", "id", "sleep", "cat"]:
        os.symlink(shutil.which(tool), bin_dir / tool)
    fake_tool(bin_dir, "chromium", f'echo "chromium $*" >> {log}\n')
    fake_tool(bin_dir, "xset", f'echo "xset $*" >> {log}\n')
    fake_tool(bin_dir, "systemd-inhibit",
              f'[ "$4" = true ] && exit 0\necho "inhibit $1 $2" >> {log}\n'
              'shift 4\nexec "$@"\n')
    profile = home / ".local/share/clinicq/display/Default"
    profile.mkdir(parents=True)
    (profile / "Preferences").write_text(
        '{"profile":{"exit_type":"Crashed","exited_cleanly":false,"name":"x"}}')
    env = {"PATH": str(bin_dir), "HOME": str(home), "DISPLAY": ":0", "CLINICQ_SCREEN_ONCE": "1"}
    done = subprocess.run([shutil.which("sh") or "sh", str(at(root, install.SCREEN_SCRIPT)),
                           "display", "http://127.0.0.1:5000/display"],
                          env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    calls = log.read_text().splitlines()
    assert calls[:3] == ["xset s off", "xset s noblank", "xset -dpms"]
    assert calls[3] == "inhibit --what=idle --who=clinicq"
    browser = calls[4].split()
    assert browser[0] == "chromium" and browser[-1] == "http://127.0.0.1:5000/display"
    for flag in ["--kiosk", "--noerrdialogs", "--disable-session-crashed-bubble",
                 "--hide-crash-restore-bubble", "--autoplay-policy=no-user-gesture-required",
                 "--disable-features=Translate", f"--user-data-dir={profile.parent}"]:
        assert flag in browser, flag
    prefs = (profile / "Preferences").read_text()
    assert '"exit_type":"Normal"' in prefs and '"exited_cleanly":true' in prefs
