"""Placeholder: the X12 plugin module (written next)."""
