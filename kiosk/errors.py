"""Errors of the kiosk agent (kiosk deployable); `requests` exceptions become these once, in client.

KioskError              base of everything the agent raises
├── StationUnreachable  no answer, a timeout or a 5xx: worth retrying later
└── StationRefused      401/403: the device token is wrong or revoked; retrying will not help
"""

from __future__ import annotations


class KioskError(Exception):
    """Base of the kiosk agent's errors."""


class StationUnreachable(KioskError):
    """The station server did not answer usefully (down, network, timeout, 5xx)."""


class StationRefused(KioskError):
    """The station server refused this kiosk's token."""
