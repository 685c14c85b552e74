"""The HTTP API v1: one module per resource, the router (urls.py) and the shared API helpers. It imports the domain, never `web`."""
