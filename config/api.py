"""The HTTP API v1 router (SPEC §6)."""

urlpatterns: list = []
