"""A udev rules parser and matcher for tests: udev's syntax (udev(7)) and how one device event
runs through the rules, enough to check `clinicq install`'s rules without a udevd.

This machine's systemd (252) has no `udevadm verify` (it came in 254), and a rule that udev
would skip with a log line (a misspelt key, a wrong operator) must fail a test instead: the
parser raises `RuleError` naming the line.

Matching follows udev: the keys of the device itself (KERNEL, SUBSYSTEM, DRIVER, ATTR{},
ENV{}) are matched against the event's device; KERNELS, SUBSYSTEMS, DRIVERS and ATTRS{} must
all match on one device among it and its parents. Patterns are shell globs (`*`, `?`, `[...]`)
with `|` between alternatives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

MATCH_KEYS = {"ACTION", "DEVPATH", "KERNEL", "SUBSYSTEM", "DRIVER", "ATTR", "SYSCTL", "KERNELS",
              "SUBSYSTEMS", "DRIVERS", "ATTRS", "TAGS", "ENV", "CONST", "TAG", "TEST", "NAME",
              "SYMLINK", "PROGRAM", "RESULT"}
ASSIGN_KEYS = {"NAME", "SYMLINK", "OWNER", "GROUP", "MODE", "SECLABEL", "ATTR", "SYSCTL", "ENV",
               "TAG", "RUN", "LABEL", "GOTO", "IMPORT", "OPTIONS"}
WITH_ATTRIBUTE = {"ATTR", "SYSCTL", "ATTRS", "ENV", "CONST", "TEST", "IMPORT", "RUN", "SECLABEL"}
PARENT_KEYS = {"KERNELS", "SUBSYSTEMS", "DRIVERS", "ATTRS"}
TOKEN = re.compile(r'\s*([A-Z_]+)(?:\{([^}]*)\})?\s*(==|!=|\+=|-=|:=|=)\s*"((?:[^"\\]|\\.)*)"\s*')


class RuleError(ValueError):
    pass


@dataclass(frozen=True)
class Token:
    key: str
    attr: str | None
    op: str
    value: str

    @property
    def matches(self) -> bool:
        return self.op in ("==", "!=")


@dataclass(frozen=True)
class Rule:
    line: int
    tokens: tuple[Token, ...]


@dataclass
class Device:
    """One device in sysfs: the event's device, or one of its parents."""

    subsystem: str
    kernel: str
    driver: str = ""
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass
class Result:
    group: str | None = None
    owner: str | None = None
    mode: str | None = None
    symlinks: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)

    @property
    def touched(self) -> bool:
        return bool(self.group or self.owner or self.mode or self.symlinks)


def parse(text: str) -> list[Rule]:
    rules: list[Rule] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        number, line = i + 1, lines[i]
        while line.endswith("\\") and i + 1 < len(lines):  # a continued line
            i += 1
            line = line[:-1] + lines[i]
        i += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        rules.append(Rule(number, _tokens(line, number)))
    labels = {t.value for r in rules for t in r.tokens if t.key == "LABEL"}
    for rule in rules:
        for t in rule.tokens:
            if t.key == "GOTO" and t.value not in labels:
                raise RuleError(f"line {rule.line}: GOTO {t.value!r} has no LABEL")
    return rules


def _tokens(line: str, number: int) -> tuple[Token, ...]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(line):
        m = TOKEN.match(line, pos)
        if m is None:
            raise RuleError(f"line {number}: cannot parse {line[pos:]!r}")
        key, attr, op, value = m.groups()
        token = Token(key, attr, op, value)
        _check(token, number)
        tokens.append(token)
        pos = m.end()
        if pos < len(line):
            if line[pos] != ",":
                raise RuleError(f"line {number}: expected ',' at {line[pos:]!r}")
            pos += 1
    if not tokens:
        raise RuleError(f"line {number}: empty rule")
    return tuple(tokens)


def _check(token: Token, number: int) -> None:
    key = token.key
    if key not in MATCH_KEYS | ASSIGN_KEYS:
        raise RuleError(f"line {number}: unknown key {key}")
    if token.matches and key not in MATCH_KEYS:
        raise RuleError(f"line {number}: {key} cannot be matched ({token.op})")
    if not token.matches and key not in ASSIGN_KEYS:
        raise RuleError(f"line {number}: {key} is a match key, not assigned ({token.op})")
    if (token.attr is not None) != (key in WITH_ATTRIBUTE) and key not in ("IMPORT", "RUN"):
        raise RuleError(f"line {number}: {key} {'needs' if token.attr is None else 'takes no'} "
                        "{attribute}")
    if key == "MODE" and not re.fullmatch(r"0?[0-7]{3}", token.value):
        raise RuleError(f"line {number}: MODE {token.value!r} is not octal")
    if key in ("GROUP", "OWNER") and not re.fullmatch(r"[a-z_][a-z0-9_-]*", token.value):
        raise RuleError(f"line {number}: {key} {token.value!r} is not a user or group name")


def glob(pattern: str, value: str | None) -> bool:
    if value is None:
        return False
    return any(fnmatchcase(value, alternative) for alternative in pattern.split("|"))


def _matches_self(token: Token, dev: Device, env: dict[str, str], action: str) -> bool | None:
    """Whether a non-parent match key holds for the event's device (None: not such a key)."""
    values = {"KERNEL": dev.kernel, "SUBSYSTEM": dev.subsystem, "DRIVER": dev.driver,
              "ACTION": action}
    if token.key in values:
        return glob(token.value, values[token.key])
    if token.key == "ATTR":
        return glob(token.value, dev.attrs.get(token.attr or ""))
    if token.key == "ENV":
        return glob(token.value, env.get(token.attr or "", ""))
    return None


def _matches_parent(token: Token, dev: Device) -> bool:
    value = {"KERNELS": dev.kernel, "SUBSYSTEMS": dev.subsystem, "DRIVERS": dev.driver,
             "ATTRS": dev.attrs.get(token.attr or "")}[token.key]
    return glob(token.value, value)


def _rule_matches(rule: Rule, chain: list[Device], env: dict[str, str], action: str) -> bool:
    parent_tokens = []
    for token in rule.tokens:
        if not token.matches:
            continue
        if token.key in PARENT_KEYS:
            parent_tokens.append(token)
            continue
        held = _matches_self(token, chain[0], env, action)
        if held is None:
            raise RuleError(f"line {rule.line}: the matcher does not know {token.key}")
        if held != (token.op == "=="):
            return False
    if not parent_tokens:
        return True
    # all parent keys on one device: the device itself or one of its parents
    return any(all(_matches_parent(t, dev) == (t.op == "==") for t in parent_tokens)
               for dev in chain)


def run(rules: list[Rule], chain: list[Device], env: dict[str, str] | None = None,
        action: str = "add") -> Result:
    """What the rules do to the event of `chain[0]` (its parents follow it in `chain`);
    `env` holds the properties earlier rules set (DEVTYPE, ID_USB_INTERFACES, ...)."""
    result = Result(env=dict(env or {}))
    final: set[str] = set()
    labels = {t.value: n for n, r in enumerate(rules) for t in r.tokens if t.key == "LABEL"}
    n = 0
    while n < len(rules):
        rule = rules[n]
        n += 1
        if not _rule_matches(rule, chain, result.env, action):
            continue
        for token in rule.tokens:
            if token.matches:
                continue
            if token.key == "GOTO":
                n = labels[token.value]
            elif token.key in ("GROUP", "OWNER", "MODE") and token.key not in final:
                setattr(result, token.key.lower(), token.value)
                if token.op == ":=":
                    final.add(token.key)
            elif token.key == "SYMLINK":
                if token.op == "=":
                    result.symlinks.clear()
                result.symlinks.extend(token.value.split())
            elif token.key == "ENV":
                result.env[token.attr or ""] = token.value
    return result
