"""First-party payment processor: a card terminal whose reference is recorded."""
