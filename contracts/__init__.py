"""Contracts (shared, layer 0): what the station, kiosk agent, display and platform agree on.

The booking-code codec (`bookingcode`), the messages they exchange (`protocol`), the demo's
public signing key (`demo_keys`) and the one catalog of words (`i18n`). Plain code that
imports nothing of ours and no web framework; every deployable may import it, and it is the
only piece they share.
"""
