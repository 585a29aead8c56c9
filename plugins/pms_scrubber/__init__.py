"""pms_scrubber: see plugin.py."""
