"""Optional error reporting to Sentry (SENTRY_DSN), with patient data scrubbed.

Nothing that could name a patient leaves the process: no request bodies,
query strings, cookies or headers beyond a few harmless ones, no local
variables in stack frames, no user beyond their id, and no log messages
(which may quote a name) as breadcrumbs.
"""

SAFE_HEADERS = {"User-Agent", "Content-Type", "Content-Length", "Accept", "Host"}


def scrub(event: dict, hint: dict | None = None) -> dict:
    request = event.get("request")
    if isinstance(request, dict):
        for key in ("data", "query_string", "cookies", "env"):
            request.pop(key, None)
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {k: v for k, v in headers.items() if k in SAFE_HEADERS}
    user = event.get("user")
    if isinstance(user, dict):
        event["user"] = {"id": user["id"]} if "id" in user else {}
    event.pop("breadcrumbs", None)
    event.pop("extra", None)
    for exception in (event.get("exception") or {}).get("values", []):
        for frame in (exception.get("stacktrace") or {}).get("frames", []):
            frame.pop("vars", None)
    for thread in (event.get("threads") or {}).get("values", []):
        for frame in (thread.get("stacktrace") or {}).get("frames", []):
            frame.pop("vars", None)
    if "logentry" in event:
        # A log message's arguments may be a name; keep the template only.
        event["logentry"].pop("params", None)
        event["logentry"].pop("formatted", None)
    return event


def init_sentry(dsn: str, *, environment: str) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.logging import LoggingIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        max_breadcrumbs=0,
        before_send=scrub,
        before_send_transaction=scrub,
        traces_sample_rate=0.0,
        integrations=[DjangoIntegration(), CeleryIntegration(), LoggingIntegration(event_level=None)],
    )
