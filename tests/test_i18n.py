"""Pages speak Chinese by default and English by a switch; every page text has a translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from flask.testing import FlaskClient

ROOT = Path(__file__).resolve().parent.parent
METHOD_MAP = [("**/templates/**.html", "jinja2"), ("**.py", "python")]


def test_every_page_text_has_a_chinese_translation() -> None:
    with (ROOT / "server/translations/zh/LC_MESSAGES/messages.po").open("rb") as f:
        catalog = read_po(f)
    translated = {m.id for m in catalog if m.id and m.string}
    used = set()
    for folder in ("server", "kiosk", "display"):
        for _file, _line, message, _comments, _context in extract_from_dir(
                ROOT / folder, METHOD_MAP, keywords={"_": None, "gettext": None}):
            used.add(message)
    assert used - translated == set()


def test_pages_default_to_chinese_and_switch_to_english(client: FlaskClient) -> None:
    assert "用户名" in client.get("/console").get_data(as_text=True)  # the login form
    kiosk = client.get("/kiosk").get_data(as_text=True)
    assert "请扫描预约二维码" in kiosk
    english = client.get("/kiosk?lang=en")
    assert "Please scan your booking QR code" in english.get_data(as_text=True)
    assert "lang=en" in english.headers["Set-Cookie"]
    # the choice sticks for the next page
    assert "Waiting-room display" in client.get("/").get_data(as_text=True)
