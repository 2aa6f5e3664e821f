"""One catalog of words: every code, notice, phrase and page text has Chinese and English."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from flask.testing import FlaskClient

from central.errors import STATUS as PLATFORM_STATUS
from contracts import i18n
from contracts.bookingcode import ERROR_CODES
from contracts.protocol import KIOSK_NOTICES
from display.announce import SPOKEN
from kiosk.ticket import PARTS
from server.engine.transitions import TRANSITIONS
from server.web.errors import STATUS

ROOT = Path(__file__).resolve().parent.parent
METHOD_MAP = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
SOURCES = ("contracts", "server", "kiosk", "display", "hardware", "central")
RAISED = re.compile(r"\b(DomainError|RequestError|TokenError|CentralError)\(\s*\"(\w+)\"")


def po(lang: str) -> dict[str, str]:
    with (i18n.CATALOG_DIR / lang / "LC_MESSAGES/messages.po").open("rb") as f:
        return {m.id: m.string for m in read_po(f) if m.id}


def coded_keys() -> set[str]:
    """Every key the code asks the catalog for, from the registries that name codes."""
    statuses = {target for _, target in TRANSITIONS.values()} | {"waiting"}
    return ({f"error.{code}" for code in STATUS} | {f"error.{code}" for code in ERROR_CODES}
            | {f"platform.error.{code}" for code in PLATFORM_STATUS}
            | {f"notice.{code}" for code in (*KIOSK_NOTICES, "booking_late")}
            | {f"announce.{event}" for event in SPOKEN} | {f"ticket.{part}" for part in PARTS}
            | {f"status.{s}" for s in statuses} | {f"action.{a}" for a in TRANSITIONS})


def raised_codes() -> set[tuple[str, str]]:
    found = set()
    for folder in SOURCES:
        for path in (ROOT / folder).rglob("*.py"):
            found |= set(RAISED.findall(path.read_text(encoding="utf-8")))
    return found


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_code_has_words_in_each_language(lang: str) -> None:
    missing = sorted(key for key in coded_keys() if not i18n.has(key, lang))
    assert missing == []


def test_every_code_raised_in_the_source_has_a_status_and_words() -> None:
    raised = raised_codes()
    assert len(raised) > 30  # the pattern finds the raises at all
    for kind, code in sorted(raised):
        if kind == "CentralError":
            assert code in PLATFORM_STATUS, code
        else:
            assert code in STATUS, f"{kind}({code!r}) has no HTTP status in server/web/errors.py"


def test_both_languages_have_the_same_coded_keys_and_placeholders() -> None:
    en, zh = po("en"), po("zh")
    coded = re.compile(r"^[a-z_]+(\.[a-z_\-]+)+$")
    en_keys = {k for k in en if coded.match(k)}
    zh_keys = {k for k in zh if coded.match(k)}
    assert en_keys == zh_keys
    for key in en_keys:
        assert en[key] and zh[key], key
        assert placeholders(en[key]) == placeholders(zh[key]), key


def test_compiled_catalogs_match_their_sources() -> None:
    for lang in i18n.LANGUAGES:
        compiled = i18n.translations(lang)
        stale = [k for k, v in po(lang).items() if v and compiled.gettext(k) != v]
        assert stale == [], f"{lang}: run `make catalogs`"


def test_a_refusal_reads_the_same_wherever_it_is_shown(client: FlaskClient) -> None:
    # one wording for one code: the station's API and the codec agree (they had drifted)
    from contracts.bookingcode import TokenError

    answer = client.post("/api/v1/checkins", json={"code": "BK1:"}).get_json()["error"]
    refused = TokenError(answer["code"])
    assert (answer["message"], answer["message_zh"]) == (refused.message, refused.message_zh)


def test_labels_inside_texts_are_translated() -> None:
    zh = i18n.text("error.transition_forbidden", "zh", ticket="V1", status="no_show",
                   action="no-show")
    assert zh == "V1 号当前已过号，现在不能标记过号。"
    en = i18n.text("error.transition_forbidden", "en", ticket="V1", status="no_show",
                   action="no-show")
    assert en == "Ticket V1 is no show; it cannot be no-show now."


def test_every_page_text_has_a_chinese_translation() -> None:
    translated = {k for k, v in po("zh").items() if v}
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
