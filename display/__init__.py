"""Waiting-room display: the display page and the announcement builder."""
