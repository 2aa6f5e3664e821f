"""Which scanned texts are plainly not booking codes (kiosk deployable, pure: no I/O).

The station server decides what a booking is; the agent only spares it, and a resident,
codes that can never be one, so they are refused at once with a clear message, even while the
station is unreachable, and never kept for a retry. Everything else goes to the server.
"""

from __future__ import annotations

import re

_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|www\.)", re.IGNORECASE)
_OTHER_PAYLOADS = ("WIFI:", "MECARD:", "BEGIN:VCARD", "BEGIN:VEVENT", "MAILTO:", "TEL:",
                   "SMSTO:", "SMS:", "GEO:", "MATMSG:")
# EAN-8, UPC-A, EAN-13, ITF-14 and GS1 product codes, and 20-digit vaccine trace codes
_DIGITS_ONLY = re.compile(r"^\d{8,20}$")


def foreign_kind(text: str) -> str | None:
    """"url", "qr payload" or "product barcode" when `text` cannot be a booking; else None."""
    code = text.strip()
    if _URL.match(code):
        return "url"
    if code.upper().startswith(_OTHER_PAYLOADS):
        return "qr payload"
    if _DIGITS_ONLY.match(code):
        return "product barcode"
    return None


def masked(text: str) -> str:
    """A scanned code as logs show it: enough to tell scans apart, not enough to replay one."""
    code = text.strip()
    if len(code) <= 12:
        return code
    return f"{code[:8]}…({len(code)} chars)"
