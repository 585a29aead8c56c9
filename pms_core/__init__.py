"""pms core: the domain, with no UI and no heavy format libraries."""
