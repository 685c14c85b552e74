"""The reminder outbox's part of /readyz (core.health): how many rows are
due and unsent, and how long the oldest has waited. Reported, never a reason
to take the web server out of service (restarting it would not send them)."""

from django.db.models import Count, Min
from django.utils import timezone

from messaging import outbox

# A due row older than this is worth a warning: the beat, the worker or SMTP is stuck.
LATE_SECONDS = 15 * 60


def check_outbox() -> tuple[bool, dict]:
    now = timezone.now()
    summary = outbox.due(now).aggregate(backlog=Count("pk"), oldest=Min("due_at"))
    oldest = summary["oldest"]
    waited = round((now - oldest).total_seconds()) if oldest else 0
    details = {
        "backlog": summary["backlog"],
        "oldest_due": oldest.isoformat() if oldest else None,
        "oldest_waited_seconds": waited,
    }
    if waited > LATE_SECONDS:
        details["warning"] = f"the oldest due reminder has waited more than {LATE_SECONDS // 60} minutes"
    return True, details
