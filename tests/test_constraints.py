"""Reproducible installs (issue 15 item 5): every package that pyproject.toml requires, directly
or through another, is pinned in constraints.txt, and at the version installed here (the
Makefile installs with `-c constraints.txt`; `make lock` writes the file)."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
EXTRAS = ("dev", "postgres")  # what `make test` and `make lock` install


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins() -> dict[str, str]:
    out: dict[str, str] = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        assert sep and version.strip(), f"constraints.txt: {line!r} is not name==version"
        out[canonical(name)] = version.strip()
    return out


def applies(req: Requirement, extras: tuple[str, ...]) -> bool:
    if req.marker is None:
        return True
    return any(req.marker.evaluate({**default_environment(), "extra": extra})
               for extra in extras or ("",))


def required() -> dict[str, str]:
    """Every installed distribution pyproject's dependencies (and EXTRAS) reach, with its
    installed version."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    todo = [Requirement(r) for r in project["dependencies"]]
    todo += [Requirement(r) for extra in EXTRAS
             for r in project["optional-dependencies"][extra]]
    todo += [Requirement(r) for r in tomllib.loads(
        (ROOT / "pyproject.toml").read_text(encoding="utf-8"))["build-system"]["requires"]]
    todo = [r for r in todo if applies(r, ())]  # evdev: on Linux only
    found: dict[str, str] = {}
    seen: set[tuple[str, tuple[str, ...]]] = set()
    while todo:
        req = todo.pop()
        key = (canonical(req.name), tuple(sorted(req.extras)))
        if key in seen:
            continue
        seen.add(key)
        dist = metadata.distribution(req.name)  # missing: the venv lacks a requirement
        found[canonical(req.name)] = dist.version
        for text in dist.requires or []:
            sub = Requirement(text)
            if applies(sub, tuple(req.extras)):
                todo.append(sub)
    return found


def test_every_required_package_is_pinned_at_its_installed_version() -> None:
    pinned = pins()
    needed = required()
    assert len(needed) > 40  # the whole tree, not just the direct dependencies
    unpinned = sorted(name for name in needed if name not in pinned)
    assert not unpinned, f"not in constraints.txt (run `make lock`): {unpinned}"
    # setuptools only builds clinicq (pinned for the build); the venv's own may be older
    differ = {name: (pinned[name], version) for name, version in needed.items()
              if pinned[name] != version and name != "setuptools"}
    assert not differ, f"constraints.txt pins / installed here: {differ}"
    stale = sorted(set(pinned) - set(needed) - {"pip"})
    assert not stale, f"pinned but required by nothing (run `make lock`): {stale}"


def test_the_makefile_installs_with_the_constraints() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    installs = [line for line in makefile.splitlines() if "pip install" in line]
    assert installs and all("-c constraints.txt" in line for line in installs), installs
    assert re.search(r"(?m)^lock:", makefile)
    assert (ROOT / "scripts" / "lock.sh").stat().st_mode & 0o111
