"""Web (layer 4): translation catalogs, compiled from the checked-in .po files at start-up.

Compiling in memory-sized temp files keeps binary .mo files out of the repository and
needs no build step; the catalogs are small, so this takes milliseconds.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

SOURCE = Path(__file__).resolve().parent.parent / "translations"


@functools.cache
def compiled_catalogs() -> str:
    target = Path(tempfile.mkdtemp(prefix="clinicq-i18n-"))
    atexit.register(shutil.rmtree, target, ignore_errors=True)
    for po in SOURCE.glob("*/LC_MESSAGES/*.po"):
        out = target / po.relative_to(SOURCE).with_suffix(".mo")
        out.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as src:
            catalog = read_po(src)
        with out.open("wb") as dst:
            write_mo(dst, catalog)
    return str(target)
