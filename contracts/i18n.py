"""Contracts (shared): the one catalog of words, gettext catalogs per language, and its lookups.

Every word a resident, nurse or integrator reads lives in `contracts/translations/<lang>/
LC_MESSAGES/messages.po`. Page texts use the English text as the message id (Flask-Babel's
`_()` in templates, with the same catalogs). Coded texts use a key as the id, so code raises a
code with parameters and never holds the wording:

    error.<code>            a refusal (station API, booking QR codes), `{param}` placeholders
    platform.error.<code>   a refusal of the reference platform's API
    notice.<code>           told along with an answer (a late arrival, a failed print)
    announce.<event type>   what the waiting room hears
    ticket.<part>           the printed ticket's wording
    status.<status>, action.<action>   labels used inside other texts
    unknown.<param>         what a text says for a parameter that is None or not given (not
                            known here): `station_name` → "another station"

The `.po` files are compiled to `.mo` when the project is set up (`make catalogs`, run by
`make run` and `make test`; `pybabel compile -d contracts/translations`), never at run time.
"""

from __future__ import annotations

import functools
import gettext
from pathlib import Path
from typing import Any

CATALOG_DIR = Path(__file__).resolve().parent / "translations"
DOMAIN = "messages"
LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"


class CatalogMissing(RuntimeError):
    """The compiled catalogs are not there: the project was not set up."""


class _Params(dict[str, Any]):
    """Format parameters where a missing one shows as its `unknown.<param>` text, or as `?`
    when the catalog has none, rather than failing the answer."""

    def __init__(self, params: dict[str, Any], lang: str) -> None:
        super().__init__(params)
        self.lang = lang

    def __missing__(self, key: str) -> str:
        unknown = f"unknown.{key}"
        text = translations(self.lang).gettext(unknown)
        return "?" if text == unknown else text


@functools.cache
def translations(lang: str) -> gettext.NullTranslations:
    if lang not in LANGUAGES:
        lang = DEFAULT_LANGUAGE
    try:
        return gettext.translation(DOMAIN, CATALOG_DIR, languages=[lang])
    except FileNotFoundError as err:
        raise CatalogMissing(
            f"no compiled catalog for '{lang}' in {CATALOG_DIR}; run `make catalogs` "
            "(pybabel compile -d contracts/translations)") from err


def has(key: str, lang: str) -> bool:
    """Whether the catalog of `lang` translates `key` (for the tests that hold the catalog)."""
    return translations(lang).gettext(key) != key


def text(key: str, lang: str, **params: Any) -> str:
    """The text of `key` in `lang` with `{param}` placeholders filled; the key itself when the
    catalog lacks it (a test makes sure none does)."""
    template = translations(lang).gettext(key)
    if not params:
        return template
    values = _Params({k: v for k, v in params.items() if v is not None}, lang)
    for name, value in params.items():  # labels inside texts are words too
        if name in ("status", "action") and isinstance(value, str):
            values[name] = translations(lang).gettext(f"{name}.{value}")
    return template.format_map(values)


def both(key: str, **params: Any) -> dict[str, str]:
    """`{"message": English, "message_zh": Chinese}`, the shape every error and notice has."""
    return {"message": text(key, "en", **params), "message_zh": text(key, "zh", **params)}


def error_body(code: str, namespace: str = "error", **params: Any) -> dict[str, Any]:
    """The JSON of a refusal: `{"error": {"code", "message", "message_zh"}}`."""
    return {"error": {"code": code, **both(f"{namespace}.{code}", **params)}}


def notice(code: str, **params: Any) -> dict[str, str]:
    """A notice told along with an answer: `{"code", "message", "message_zh"}`."""
    return {"code": code, **both(f"notice.{code}", **params)}
