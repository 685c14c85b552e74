"""Which reminder rows a session wants (planning only; sending them is the `messaging` package's)."""
