"""The reminder outbox (SPEC §5): claim due rows, send each one outside any
transaction, then mark what happened.

A row's life: `pending` -> (claimed) `sending` -> `sent`, or back to
`pending` with a back-off after a temporary SMTP failure, or `failed` after a
permanent one or the last attempt, or `void` when at send time it is no
longer wanted (consent withdrawn, session rebooked or cancelled).

Exactly once, with one exception. A claim is a short transaction that moves
due rows from `pending` to `sending` and stamps `claimed_at`; that stamp is
the claim's token, and only the holder of the token may send the row. Just
before talking to SMTP the sender renews the stamp (and counts the attempt),
so `release_stale` only ever takes back a row whose sender has been silent
for REMINDER_SENDING_TIMEOUT_SECONDS: a worker that died, or a claim whose
broker message was lost. The one duplicate this allows is a message that the
SMTP server accepted in the instant before its worker died, before the row
was marked `sent`: at most one per dead worker process.
"""

import datetime as dt
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F, Q

from clinics.models import Role, User
from core.exceptions import Conflict
from core.services import now as _now
from core.timezones import at_local
from messaging.emails import build_email
from sessions.models import NOTICE_KINDS, Reminder, ReminderKind, ReminderStatus, SessionStatus
from sessions.questionnaires import instruments_for
from sessions.reminders.plan import MORNING

log = logging.getLogger(__name__)

# What send_one reports, for counts and logs.
SENT, RETRY, FAILED, VOID, SKIPPED = "sent", "retry", "failed", "void", "skipped"

# last_error keeps one line per failed attempt, the newest last, this long at most.
ERROR_LOG_CHARS = 2000


@dataclass(frozen=True)
class Claim:
    """A claimed row and the token (its `claimed_at`) that proves the claim."""

    reminder_id: int
    claimed_at: dt.datetime


def _note(previous: str, now: dt.datetime, text: str) -> str:
    line = f"{now.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S}Z {text}"
    joined = f"{previous}\n{line}" if previous else line
    return joined[-ERROR_LOG_CHARS:]


# --- Claiming ----------------------------------------------------------------------------------------


def release_stale(now: dt.datetime | None = None) -> int:
    """Take back rows left in `sending` by a sender that went silent (a
    killed worker, or a claim whose broker message was lost). They go back to
    `pending`; one whose last allowed attempt was the one that died is
    `failed`. Returns how many rows were taken back."""
    now = _now(now)
    cutoff = now - dt.timedelta(seconds=settings.REMINDER_SENDING_TIMEOUT_SECONDS)
    stale = Reminder.objects.filter(status=ReminderStatus.SENDING, claimed_at__lt=cutoff)
    released = 0
    for reminder in stale.only("pk", "attempts", "last_error", "claimed_at"):
        exhausted = reminder.attempts >= settings.REMINDER_MAX_ATTEMPTS
        note = (
            f"no word from its sender for {settings.REMINDER_SENDING_TIMEOUT_SECONDS}s (worker or message lost); "
            + ("no attempts left" if exhausted else "released for another try")
        )
        # Conditional on the same token: a sender that wakes up meanwhile
        # keeps its claim and this row is left alone.
        released += Reminder.objects.filter(
            pk=reminder.pk, status=ReminderStatus.SENDING, claimed_at=reminder.claimed_at
        ).update(
            status=ReminderStatus.FAILED if exhausted else ReminderStatus.PENDING,
            claimed_at=None,
            next_attempt_at=None,
            last_error=_note(reminder.last_error, now, note),
        )
    if released:
        log.warning("released %d reminder(s) stuck in sending", released)
    return released


def due(now: dt.datetime):
    return Reminder.objects.filter(status=ReminderStatus.PENDING, due_at__lte=now).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )


def claim_due(now: dt.datetime | None = None, *, limit: int | None = None) -> list[Claim]:
    """Claim up to `limit` due rows in one short transaction.

    SKIP LOCKED lets concurrent scans (two beats, a re-delivered scan
    message) each take different rows instead of waiting for or re-taking the
    same ones; the UPDATE repeats `status = pending` so it cannot take a row
    another claimer already moved on."""
    now = _now(now)
    limit = limit or settings.REMINDER_BATCH_SIZE
    with transaction.atomic():
        ids = list(
            due(now).select_for_update(skip_locked=True).order_by("due_at", "id").values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return []
        Reminder.objects.filter(pk__in=ids, status=ReminderStatus.PENDING).update(
            status=ReminderStatus.SENDING, claimed_at=now
        )
    return [Claim(pk, now) for pk in ids]


def unclaim(claims: Iterable[Claim]) -> int:
    """Give back claims that will not be sent (the broker refused the
    message): they are due again at the next scan."""
    undone = 0
    for claim in claims:
        undone += Reminder.objects.filter(
            pk=claim.reminder_id, status=ReminderStatus.SENDING, claimed_at=claim.claimed_at
        ).update(status=ReminderStatus.PENDING, claimed_at=None)
    return undone


# --- Sending -----------------------------------------------------------------------------------------


def stale_reason(reminder: Reminder, now: dt.datetime, *, superseded: bool) -> str:
    """Why this reminder should no longer go out, or "" if it still should;
    `superseded`: a later reminder of the same booking is due as well
    (`superseded_ids`).

    The services void pending rows in the same transaction as the change,
    but a row already claimed is not pending: this catches a change that
    committed between the claim and the send."""
    session = reminder.session
    patient = session.patient
    if not patient.can_receive_reminders:
        return "The patient has no reminder consent or no email address."
    if reminder.kind in NOTICE_KINDS:
        return notice_stale_reason(reminder, now)
    if refusal := session.enrolment_refusal():
        return refusal
    tz = session.clinic.tz
    if reminder.kind == ReminderKind.BOOKED:
        if session.status != SessionStatus.BOOKED or session.start is None:
            return f"The session is {session.status}, no longer booked."
        # Elapsed hours: UTC arithmetic, as the planning did (reminders.py).
        planned_for = session.start.astimezone(dt.UTC) - dt.timedelta(hours=reminder.offset_hours or 0)
        if reminder.offset_hours is not None and planned_for != reminder.due_at:
            return "The session was rebooked to another time."
        if session.start <= now:
            return "The session has already begun."
        # After an outage the 72- and 24-hour reminders may both be due: the
        # patient gets the later one only.
        if superseded:
            return "A later reminder for this booking is due as well."
    elif reminder.kind == ReminderKind.HOME:
        if session.status != SessionStatus.PLANNED or at_local(session.target_date, MORNING, tz) != reminder.due_at:
            return "The home application was moved or is no longer planned."
        if now.astimezone(tz).date() > session.target_date:
            return "The day of the home application has passed."
    elif reminder.kind == ReminderKind.WINDOW_OPEN:
        if session.status != SessionStatus.PLANNED or at_local(session.window_start, MORNING, tz) != reminder.due_at:
            return "The session was booked or its window moved."
        if now.astimezone(tz).date() > session.window_end:
            return "The session's window has closed."
    elif reminder.kind == ReminderKind.QUESTIONNAIRE:
        return questionnaire_stale_reason(reminder, now)
    elif reminder.kind == ReminderKind.MISSED and session.status != SessionStatus.PLANNED:
        return f"The session is {session.status} again."
    return ""


def questionnaire_stale_reason(reminder: Reminder, now: dt.datetime) -> str:
    """A questionnaire goes out for the booking it was planned for, before
    the visit, while unanswered and with something to ask (DLQI alone waits
    for its licensed wording: staff record it at the visit)."""
    session = reminder.session
    if session.status != SessionStatus.BOOKED or session.start is None:
        return f"The session is {session.status}, no longer booked."
    planned_for = session.start.astimezone(dt.UTC) - dt.timedelta(hours=reminder.offset_hours or 0)
    if planned_for != reminder.due_at:
        return "The session was rebooked to another time."
    if session.start <= now:
        return "The session has already begun."
    if session.questionnaire_answered:
        return "The questionnaire has already been answered."
    asked, left_out = instruments_for(session)
    if not asked:
        return f"Nothing to ask: no wording entered for {', '.join(left_out) or 'its measures'}."
    return ""


def notice_stale_reason(reminder: Reminder, now: dt.datetime) -> str:
    """A confirmation or "moved" notice goes out while the booking it names
    still stands and lies ahead; a cancellation while no newer booking of the
    session has followed it (that one's confirmation says it all)."""
    session = reminder.session
    if reminder.kind == ReminderKind.CANCELLED:
        if session.ics_sequence != reminder.ics_sequence:
            return "The session was booked again after the cancellation."
        return ""
    if session.status != SessionStatus.BOOKED or session.start != reminder.event_start:
        return "The booking changed again before this notice went out."
    if session.enrolment.status != "active":
        return f"The enrolment is {session.enrolment.status}."
    if session.start <= now:
        return "The session has already begun."
    return ""


def is_temporary(error: Exception) -> bool:
    """Whether trying again later may succeed: SMTP 4xx replies, a dropped or
    refused connection, a timeout. 5xx replies are permanent. (smtplib's
    errors are read by what they carry: a refusal of every recipient has
    `recipients`, any other reply `smtp_code`; all of them are OSErrors.)"""
    if isinstance(refused := getattr(error, "recipients", None), dict):
        codes = [code for code, _ in refused.values()]
        return bool(codes) and all(400 <= code < 500 for code in codes)
    if isinstance(code := getattr(error, "smtp_code", None), int):
        return 400 <= code < 500
    # SMTPServerDisconnected, ConnectionRefusedError, TimeoutError and other
    # OSErrors, and any other SMTP trouble: the server may be back later.
    return isinstance(error, OSError)


def describe(error: Exception) -> str:
    if isinstance(refused := getattr(error, "recipients", None), dict):
        parts = [f"{addr}: {code} {_text(msg)}" for addr, (code, msg) in refused.items()]
        return "recipient refused: " + "; ".join(parts)
    if isinstance(code := getattr(error, "smtp_code", None), int):
        return f"{code} {_text(getattr(error, 'smtp_error', ''))}"
    return f"{type(error).__name__}: {error}"


def _text(message) -> str:
    return message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)


def retry_delay(attempts: int) -> dt.timedelta:
    """Back-off after the n-th failed attempt: base, 2×base, 4×base, …
    (at least a second, so one scan never retries a row it just tried)."""
    seconds = settings.REMINDER_RETRY_BASE_SECONDS * 2 ** (max(attempts, 1) - 1)
    return dt.timedelta(seconds=max(seconds, 1))


# What checking and composing read of a batch's rows: the reminder's own
# columns in REMINDER_READS and these, reached through the session (the
# reminder's clinic is the session's: one join fewer to plan). The six
# tables' other columns took longer to load than the query took to run
# (docs/benchmarks.md); reading one of them costs a query an email, which
# tests/messaging/test_outbox.py would count.
BATCH_READS = {
    "session": ("status", "target_date", "window_start", "window_end", "start", "end", "ics_sequence"),
    "session__clinic": ("name", "slug", "timezone", "sender_email", "phone", "address", "cancel_cutoff_hours",
                        "patients_may_request_booking", "patients_may_book", "language",
                        "questionnaire_lead_hours"),
    "session__patient": ("first_name", "last_name", "email", "reminder_consent", "language", "sex"),
    "session__enrolment": ("status", "follow_up_kept"),
    "session__step": ("name", "follow_up"),
    "session__step__protocol": ("name",),
}
REMINDER_READS = ("kind", "offset_hours", "due_at", "event_start", "event_end", "previous_start", "ics_sequence",
                  "status", "attempts", "next_attempt_at", "claimed_at", "last_error")


def send_one(
    reminder_id: int, *, claimed_at: dt.datetime, now: dt.datetime | None = None, connection=None
) -> str:
    """Send one claimed reminder (`send_batch` of one). `claimed_at` is the
    claim's token; a caller without the current token (a re-delivered or
    duplicated message) does nothing and gets SKIPPED."""
    return send_batch([Claim(reminder_id, claimed_at)], now=now, connection=connection)[reminder_id]


def send_batch(claims: list[Claim], *, now: dt.datetime | None = None, connection=None) -> dict[int, str]:
    """Send claimed reminders over one SMTP connection; returns each one's
    outcome by id. Call it outside any transaction: the SMTP conversation
    must not hold row locks, and each row is marked right after its message.

    The rows, and whether a later reminder supersedes a booked one, are read
    in one query each for the whole batch; the claims are renewed (and the
    attempt counted) in one statement just before the first message, and
    again whenever a slow server has let a third of the stale timeout pass,
    so release_stale never takes back a row whose sender is still at work.
    `connection` is a mail connection to reuse; without it the batch opens
    its own (Django's SMTP backend: one SMTP connection for the batch) on the
    first message and closes it at the end. Each row is marked right after
    its message, before the next one goes out, so at most one delivered
    message is ever unmarked."""
    outcomes: dict[int, str] = {}
    tokens = {claim.reminder_id: claim.claimed_at for claim in claims}
    rows = {
        reminder.pk: reminder
        for reminder in Reminder.objects.select_related(*BATCH_READS)
        .only(*REMINDER_READS, *BATCH_READS, *(f"{path}__{name}" for path, names in BATCH_READS.items() for name in names))
        .filter(pk__in=tokens, status=ReminderStatus.SENDING)
        .order_by()
    }
    check_time = _now(now)
    superseded = superseded_ids(rows.values(), check_time)
    wanted = []
    for reminder_id, token in tokens.items():
        reminder = rows.get(reminder_id)
        if reminder is None or reminder.claimed_at != token:
            outcomes[reminder_id] = SKIPPED
            continue
        reason = stale_reason(reminder, check_time, superseded=reminder_id in superseded)
        if reason:
            _held(reminder).update(
                status=ReminderStatus.VOID, claimed_at=None, last_error=_note(reminder.last_error, check_time, reason)
            )
            outcomes[reminder_id] = VOID
            continue
        wanted.append(reminder)
    if not wanted:
        return outcomes

    own_connection = connection is None
    if own_connection:
        connection = get_connection(fail_silently=False)
    try:
        # A slow server: the batch renews the rest of its claims once the
        # last renewal is this old, well before release_stale takes them back.
        renew_after = settings.REMINDER_SENDING_TIMEOUT_SECONDS / 3
        renewed_at, renewed = _renew(wanted, now, attempt=True)
        for reminder in wanted:
            if reminder.pk in renewed and (_now(now) - renewed_at).total_seconds() > renew_after:
                rest = [r for r in wanted if r.pk in renewed and r.pk not in outcomes]
                renewed_at, renewed = _renew(rest, now, attempt=False)
            if reminder.pk not in renewed:
                outcomes[reminder.pk] = SKIPPED
                continue
            try:
                message = build_email(reminder)
            except Exception as error:  # a bug or bad data: retrying will not help
                log.exception("could not build reminder %s", reminder.pk)
                _held(reminder).update(
                    status=ReminderStatus.FAILED,
                    claimed_at=None,
                    last_error=_note(reminder.last_error, _now(now), f"could not build the email: {error!r}"),
                )
                outcomes[reminder.pk] = FAILED
                continue
            outcomes[reminder.pk] = _deliver(reminder, message, connection, now=now)
    finally:
        if own_connection:
            connection.close()
    return outcomes


def superseded_ids(reminders: Iterable[Reminder], now: dt.datetime) -> set[int]:
    """The booked-session reminders of these for which a later one of the
    same booking is due as well (after an outage the 72- and 24-hour
    reminders may both be due: the patient gets the later one only)."""
    booked = [r for r in reminders if r.kind == ReminderKind.BOOKED]
    if not booked:
        return set()
    latest: dict[int, dt.datetime] = {}
    for session_id, due_at in (
        Reminder.objects.filter(session__in={r.session_id for r in booked}, kind=ReminderKind.BOOKED, due_at__lte=now)
        .exclude(status__in=(ReminderStatus.VOID, ReminderStatus.FAILED))
        .values_list("session_id", "due_at")
    ):
        latest[session_id] = max(due_at, latest.get(session_id, due_at))
    return {r.pk for r in booked if latest.get(r.session_id, r.due_at) > r.due_at}


def _renew(reminders: list[Reminder], now: dt.datetime | None, *, attempt: bool) -> tuple[dt.datetime, set[int]]:
    """Renew the claims still held on these rows, counting an attempt on
    each the first time: from here until a row is marked, a crash may leave
    a delivered message behind (the one allowed duplicate), and
    release_stale waits a full timeout from this instant. Returns the new
    token and the ids renewed (a row whose claim was taken back is not)."""
    started = _now(now)
    by_token: dict[dt.datetime, list[int]] = {}
    for reminder in reminders:
        by_token.setdefault(reminder.claimed_at, []).append(reminder.pk)
    with transaction.atomic():
        held = set()
        for token, ids in by_token.items():
            held.update(
                Reminder.objects.select_for_update()
                .filter(pk__in=ids, status=ReminderStatus.SENDING, claimed_at=token)
                .values_list("pk", flat=True)
            )
        changes = {"claimed_at": started} | ({"attempts": F("attempts") + 1} if attempt else {})
        Reminder.objects.filter(pk__in=held).update(**changes)
    for reminder in reminders:
        if reminder.pk in held:
            reminder.claimed_at = started
            reminder.attempts += 1 if attempt else 0
    return started, held


def _deliver(reminder: Reminder, message: EmailMessage, connection, *, now: dt.datetime | None) -> str:
    """Send one message over the batch's connection and mark its row: sent,
    or back to pending with a back-off after a temporary failure, or failed."""
    try:
        # A no-op once open; opens it for the batch's first message, and
        # again after a failure closed it.
        connection.open()
        connection.send_messages([message])
    except Exception as error:
        return _not_sent(reminder, error, connection, now=now)
    # Delivered: mark it even if our claim was taken back meanwhile (a send
    # slower than the timeout), so that it is not sent once more.
    Reminder.objects.filter(pk=reminder.pk, status__in=(ReminderStatus.SENDING, ReminderStatus.PENDING)).update(
        status=ReminderStatus.SENT, sent_at=_now(now), claimed_at=None, next_attempt_at=None
    )
    return SENT


def _not_sent(reminder: Reminder, error: Exception, connection, *, now: dt.datetime | None) -> str:
    """After an SMTP failure: back to pending with a back-off while attempts
    are left and trying again may help, else failed."""
    reminder_id, attempts = reminder.pk, reminder.attempts
    # The next message of the batch opens a fresh connection rather than
    # meeting a broken one. The socket under Django's SMTP backend is
    # dropped first: a failure in the middle of a message leaves the server
    # reading it, and the QUIT that the backend's close() sends would be read
    # as part of the message while the client waited for an answer until
    # EMAIL_TIMEOUT.
    if (smtp := getattr(connection, "connection", None)) is not None:
        smtp.close()
    connection.close()
    finished = _now(now)
    note = _note(reminder.last_error, finished, f"attempt {attempts}: {describe(error)}")
    if is_temporary(error) and attempts < settings.REMINDER_MAX_ATTEMPTS:
        _held(reminder).update(
            status=ReminderStatus.PENDING,
            claimed_at=None,
            next_attempt_at=finished + retry_delay(attempts),
            last_error=note,
        )
        log.info("reminder %s: temporary failure, retrying (%s)", reminder_id, describe(error))
        return RETRY
    _held(reminder).update(status=ReminderStatus.FAILED, claimed_at=None, next_attempt_at=None, last_error=note)
    log.warning("reminder %s failed after %d attempt(s): %s", reminder_id, attempts, describe(error))
    return FAILED


def _held(reminder: Reminder):
    """The row, while this sender still holds its claim (the token it has)."""
    return Reminder.objects.filter(pk=reminder.pk, status=ReminderStatus.SENDING, claimed_at=reminder.claimed_at)


def scan(now: dt.datetime | None = None) -> Counter:
    """One pass, in this process: take back stale rows, then claim and send
    every due row, batch by batch, each batch over one SMTP connection (the
    handshake costs about as much as a message; a batch of void rows opens
    none). `send_due_reminders` runs it; the Celery scan task does the same
    claiming but hands each batch to a worker."""
    cutoff = _now(now)
    counts: Counter = Counter(released=release_stale(cutoff))
    while True:
        claims = claim_due(cutoff, limit=settings.REMINDER_BATCH_SIZE)
        counts["claimed"] += len(claims)
        if claims:
            # With an explicit `now` (tests), the whole pass happens then.
            counts.update(send_batch(claims, now=now).values())
        if len(claims) < settings.REMINDER_BATCH_SIZE:
            return counts


# --- Staff -------------------------------------------------------------------------------------------


@transaction.atomic
def resend_reminder(*, reminder: Reminder, by: User, now: dt.datetime | None = None) -> Reminder:
    """A manager sends a `failed` reminder again: it is pending with a fresh
    count of attempts and goes out at the next scan (if still wanted then)."""
    if not by.has_role(Role.MANAGER):
        raise PermissionDenied("Only a manager may resend a reminder.")
    if by.clinic_id != reminder.clinic_id:
        raise ValidationError({"reminder": ["Unknown reminder."]})
    now = _now(now)
    row = Reminder.objects.select_for_update().get(pk=reminder.pk)
    if row.status != ReminderStatus.FAILED:
        raise Conflict(f"Only a failed reminder can be resent; this one is {row.status}.")
    row.status = ReminderStatus.PENDING
    row.attempts = 0
    row.next_attempt_at = None
    row.claimed_at = None
    row.last_error = _note(row.last_error, now, f"resend requested by {by.username}")
    row.save(update_fields=["status", "attempts", "next_attempt_at", "claimed_at", "last_error"])
    return row
