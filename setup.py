"""Build hook: compile the catalogs of words (contracts/translations/*.po → .mo) into every build.

pyproject.toml holds the project's metadata; this file only adds the compile step, so a wheel
or an install from the checkout carries the compiled catalogs that contracts/i18n.py reads.
"""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithCatalogs(build_py):
    def run(self) -> None:
        for po in Path(__file__).parent.glob("contracts/translations/*/LC_MESSAGES/*.po"):
            with po.open("rb") as src:
                catalog = read_po(src)
            with po.with_suffix(".mo").open("wb") as dst:
                write_mo(dst, catalog)
        super().run()


setup(cmdclass={"build_py": BuildWithCatalogs})
