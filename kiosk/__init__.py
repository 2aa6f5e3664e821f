"""Kiosk: the kiosk agent (scanner in, printer out) and the kiosk screen page."""
