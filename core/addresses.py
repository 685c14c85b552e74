"""The client's address as the trusted proxy reports it (issue 30).

Behind N trusted proxies (TRUSTED_PROXY_COUNT), each appends the address it
received the request from to X-Forwarded-For, so the client is the N-th
entry from the right: everything left of it is whatever the client chose to
send. Never the first entry. With no proxy configured, REMOTE_ADDR."""

import ipaddress

from django.conf import settings


def client_address(request) -> str | None:
    meta = getattr(request, "META", {})
    address = meta.get("REMOTE_ADDR") or None
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if count:
        forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        # Fewer entries than proxies: the request did not come through all of
        # them, and REMOTE_ADDR is the best that is known.
        if len(forwarded) >= count:
            address = forwarded[-count]
    try:
        return str(ipaddress.ip_address(address)) if address else None
    except ValueError:
        return None
