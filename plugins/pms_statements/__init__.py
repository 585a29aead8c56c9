"""First-party statement renderers: printable PDF and CSV for print vendors."""
