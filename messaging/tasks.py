"""Celery tasks for the reminder outbox (SPEC §5).

Beat runs `scan_due_reminders` every REMINDER_SCAN_SECONDS. The scan claims
due rows in short transactions, batch by batch, and once each claim has
committed enqueues one `send_reminders` per batch with the rows' ids and the
claim token, so that the worker pool sends batches in parallel, each over
one SMTP connection. No reminder is ever a far-future (ETA or
countdown) message: a lost or duplicated message costs nothing, because the
rows are the truth. A duplicated message carries a stale token and does
nothing; a lost one leaves its row in `sending` until release_stale gives it
back to the next scan.
"""

import datetime as dt
import logging

from celery import shared_task
from celery.utils.log import get_task_logger
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.health import mark_beat
from messaging import outbox

log = logging.getLogger(__name__)
task_log = get_task_logger(__name__)

# One scan claims at most this many batches; the next scan takes the rest.
MAX_BATCHES_PER_SCAN = 40


@shared_task(name="sessions.scan_due_reminders", ignore_result=True)
def scan_due_reminders() -> dict:
    now = timezone.now()
    mark_beat(now)  # /readyz reports when the beat last had a scan run
    released = outbox.release_stale(now)
    enqueued = 0
    for _ in range(MAX_BATCHES_PER_SCAN):
        claims = outbox.claim_due(now, limit=settings.REMINDER_BATCH_SIZE)
        # claim_due has committed unless a caller wrapped us in a transaction;
        # on_commit covers that case too (it runs at once otherwise).
        transaction.on_commit(lambda claims=claims: enqueue(claims))
        enqueued += len(claims)
        if len(claims) < settings.REMINDER_BATCH_SIZE:
            break
    if released or enqueued:
        log.info("reminder scan: %d released, %d claimed and enqueued", released, enqueued)
    return {"released": released, "enqueued": enqueued}


def enqueue(claims: list[outbox.Claim]) -> None:
    """One `send_reminders` task per claim token (claim_due stamps one token
    on its whole batch, so normally one task)."""
    by_token: dict[dt.datetime, list[int]] = {}
    for claim in claims:
        by_token.setdefault(claim.claimed_at, []).append(claim.reminder_id)
    batches = list(by_token.items())
    for index, (token, ids) in enumerate(batches):
        try:
            send_reminders.delay(ids, token.isoformat())
        except Exception:
            # The broker is unreachable: give back the batches not handed
            # over yet (those already queued stay claimed and will be sent)
            # to the next scan now rather than after the stale timeout.
            outbox.unclaim(outbox.Claim(pk, held) for held, rest in batches[index:] for pk in rest)
            raise


@shared_task(name="sessions.send_reminders", ignore_result=True)
def send_reminders(reminder_ids: list[int], claimed_at: str) -> dict:
    """Send one claimed batch over one SMTP connection. SMTP failures are
    handled by the outbox (back-off on the row), never by Celery retries:
    this task neither raises for them nor re-queues."""
    token = dt.datetime.fromisoformat(claimed_at)
    outcomes = outbox.send_batch([outbox.Claim(pk, token) for pk in reminder_ids])
    for reminder_id, outcome in outcomes.items():
        task_log.info("reminder %s: %s", reminder_id, outcome)
    return outcomes


@shared_task(name="sessions.send_reminder", ignore_result=True)
def send_reminder(reminder_id: int, claimed_at: str) -> str:
    """One row: what scans enqueued before batches (messages still queued
    when a worker is upgraded)."""
    outcome = outbox.send_one(reminder_id, claimed_at=dt.datetime.fromisoformat(claimed_at))
    task_log.info("reminder %s: %s", reminder_id, outcome)
    return outcome


@shared_task(name="sessions.sync_holiday_closures", ignore_result=True)
def sync_holiday_closures() -> dict:
    """Daily (beat): each clinic's region's public holidays for the next two
    years become closures; one clinic at a time, in its own transaction."""
    from clinics.models import Clinic
    from sessions.clinic import sync_holiday_closures as sync

    left_open = {}
    for clinic in Clinic.objects.exclude(holiday_region=""):
        if booked := sync(clinic):
            left_open[clinic.pk] = [f"{day:%Y-%m-%d}" for day in booked]
            log.warning("clinic %s: holidays with bookings left open: %s", clinic.pk, left_open[clinic.pk])
    return left_open
