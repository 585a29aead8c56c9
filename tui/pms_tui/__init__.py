"""pms TUI."""
