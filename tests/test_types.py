"""mypy --strict holds for the engine, the protocol and the hardware interfaces."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STRICT = ["server/engine", "contracts/protocol.py", "hardware/printer/drivers.py",
          "hardware/printer/status.py", "hardware/printer/layout.py", "hardware/scanner/base.py"]


@pytest.mark.slow
def test_strictly_typed_modules_pass_mypy() -> None:
    from mypy import api

    out, err, status = api.run(["--config-file", str(ROOT / "pyproject.toml"), "--strict",
                                *[str(ROOT / p) for p in STRICT]])
    assert status == 0, out + err
