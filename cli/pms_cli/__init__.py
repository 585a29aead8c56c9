"""pms CLI."""
