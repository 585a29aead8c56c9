"""The screens of the pms TUI."""
