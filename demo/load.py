"""A clinic the size of a chain's years of use, for benchmarks and load tests
(SPEC §15): `manage.py generate_load` and `bench/run.py` call `generate`.

Unlike `load_demo`, nothing goes through the services one by one: a million
sessions that way would take hours. The rows are computed here with the same
rules (the schedule engine for dates and windows, `booked_reminders` for the
reminder outbox) and written with PostgreSQL COPY (`core.bulk`), one
transaction per block of enrolments. What the data holds:

- a clinic with the seven standard protocols, opening Monday to Saturday
  08:00-18:00, one room per practitioner, a manager and two receptionists;
- patients (most with reminder consent and an email), each enrolled in one or
  more protocols; enrolments `active`, `completed` and `withdrawn`;
- sessions on the initial schedule's dates: past ones completed (booked on a
  day of their window, with outcomes for the step's measures, a product lot,
  now and then an adverse event), skipped or still planned (overdue); the
  coming three weeks mostly booked; later ones planned; those after a
  withdrawal cancelled;
- bookings on an hourly grid per practitioner, so that no practitioner, room
  or patient is ever in two overlapping sessions (the exclusion constraints
  check every row as it is written): at most `practitioners × 10` a day;
- the reminder rows the services would have made: sent ones before each past
  booking, pending ones for the coming bookings and windows.

The same seed, sizes and `today` give the same rows. History tables
(django-simple-history) get no rows: a generated course has no edits.
"""

import datetime as dt
import functools
import random
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from clinics.models import Clinic, Role, Room
from clinics.services import create_staff, set_opening_hours
from core.bulk import copy_rows, reserve_ids
from core.timezones import at_local
from patients.models import Enrolment, EnrolmentStatus, Patient
from protocols import schedule
from protocols.models import Lot, Product, ProductKind, Protocol, SourceTissue, StepKind, ValueType
from protocols.services import set_up_clinic
from sessions.models import (
    AdverseEvent,
    Deviation,
    DeviationKind,
    OutcomeMeasurement,
    Reminder,
    ReminderKind,
    ReminderStatus,
    Session,
    SessionStatus,
    Severity,
)
from sessions.reminders.plan import MORNING, booked_reminders

OPENS, HOURS_A_DAY = 8, 10  # 08:00-18:00, one booking an hour per practitioner
OPEN_WEEKDAYS = tuple(range(6))  # Monday to Saturday, unless generate() is told otherwise
BOOKED_AHEAD_DAYS = 21  # the coming three weeks are mostly booked
LOTS_A_MONTH = 3  # lots of the product used each month
ENROLMENTS_PER_BLOCK = 2000  # one transaction each

FIRST_NAMES = ["Anna", "Ben", "Clara", "David", "Elif", "Finn", "Greta", "Hamza", "Ida", "Jonas", "Katarina",
               "Lukas", "Mia", "Noah", "Olga", "Paul", "Ronja", "Sami", "Tilda", "Yusuf"]
LAST_NAMES = ["Becker", "Demir", "Fischer", "Hoffmann", "Jansen", "Klein", "Lange", "Meyer", "Nowak", "Okafor",
              "Richter", "Schmidt", "Schulz", "Wagner", "Weber", "Wolf", "Yilmaz", "Zimmermann"]


@dataclass
class Summary:
    clinic: Clinic
    patients: int = 0
    enrolments: int = 0
    sessions: int = 0
    outcomes: int = 0
    reminders: int = 0
    adverse_events: int = 0
    by_status: dict = field(default_factory=lambda: defaultdict(int))


@dataclass
class _Diary:
    """Who is booked when: an hourly grid per practitioner per day."""

    practitioners: int
    weekdays: tuple = OPEN_WEEKDAYS
    next_slot: dict = field(default_factory=lambda: defaultdict(int))
    patient_hours: dict = field(default_factory=lambda: defaultdict(set))

    def take(self, day: dt.date, patient_id: int) -> tuple[int, int] | None:
        """(hour index, practitioner index) of a free slot on `day` where the
        patient is free too, or None when the day is full."""
        if day.weekday() not in self.weekdays:
            return None
        k = self.next_slot[day]
        if k >= self.practitioners * HOURS_A_DAY:
            return None
        hour, who = divmod(k, self.practitioners)
        if hour in self.patient_hours[(patient_id, day)]:
            return None
        self.next_slot[day] = k + 1
        self.patient_hours[(patient_id, day)].add(hour)
        return hour, who


def _measure_value(rng: random.Random, measure) -> Decimal:
    low, high = float(measure.min_value), float(measure.max_value)
    # Most instruments are used in their lower half (a 0-100 scale rarely sees 100).
    value = low + (high - low) * rng.random() * 0.6
    if measure.value_type == ValueType.INTEGER:
        return Decimal(int(value))
    return Decimal(f"{value:.1f}")


def generate(
    *,
    slug: str,
    patients: int,
    sessions: int,
    seed: int = 15,
    practitioners: int = 20,
    today: dt.date | None = None,
    password: str | None = None,
    timezone_name: str = "Europe/Berlin",
    open_weekdays=OPEN_WEEKDAYS,
    progress=None,
) -> Summary:
    """Make the clinic `slug` with about `sessions` sessions over `patients`
    patients (enrolments are whole, so a few more sessions than asked)."""
    rng = random.Random(seed)
    now = timezone.now()
    with transaction.atomic():
        clinic = set_up_clinic(name=f"Load clinic {slug}", slug=slug, timezone=timezone_name,
                               sender_email=f"{slug}@clinic.example")
        clinic.slot_minutes = 30
        clinic.patients_may_book = True  # `make load`'s patients book from their links
        clinic.save(update_fields=["slot_minutes", "patients_may_book"])
        set_opening_hours(clinic=clinic, hours=[(d, dt.time(OPENS), dt.time(OPENS + HOURS_A_DAY))
                                                for d in open_weekdays])
        rooms = Room.objects.bulk_create(Room(clinic=clinic, name=f"Room {n + 1}") for n in range(practitioners))
        # Without --password the staff cannot log in (the bench uses tokens).
        staff_password = password or secrets.token_urlsafe(24)
        staff = []
        for username, role in [(f"{slug}-manager", Role.MANAGER), (f"{slug}-desk1", Role.RECEPTION),
                               (f"{slug}-desk2", Role.RECEPTION)] + [
                                   (f"{slug}-dr{n + 1}", Role.CLINICIAN) for n in range(practitioners)]:
            user = create_staff(username=username, clinic=clinic, role=role, password=staff_password,
                                first_name=username.split("-")[-1].title(), last_name="Load")
            staff.append(user)
        product = Product.objects.create(clinic=clinic, name="Secretome (UC-MSC conditioned medium)",
                                         source_tissue=SourceTissue.UMBILICAL_CORD, form=ProductKind.SECRETOME,
                                         manufacturer="Load Biologics")
    clinicians = [u for u in staff if u.role == Role.CLINICIAN]
    desk = staff[1]
    lots = _Lots(product)
    tz = clinic.tz
    today = today or now.astimezone(tz).date()
    offsets = clinic.reminder_offsets_hours or []

    protocols = list(
        Protocol.objects.filter(clinic=clinic, is_current=True).prefetch_related("steps__measures").order_by("pk")
    )
    plans = []
    for protocol in protocols:
        steps = [s for s in protocol.steps.all() if not s.arm]
        rules = [schedule.StepRule.of(s) for s in steps]
        length = schedule.last_date(dt.date(2000, 1, 3), rules) - dt.date(2000, 1, 3)
        plans.append((protocol, steps, rules, [list(s.measures.all()) for s in steps], length))

    # Spread the start dates so that past days fill to about 80 % of the grid.
    capacity = practitioners * HOURS_A_DAY * len(open_weekdays) / 7
    span_days = max(60, int(sessions * 0.85 / (capacity * 0.8)))
    summary = Summary(clinic=clinic)
    diary = _Diary(practitioners, tuple(open_weekdays))

    patient_ids = reserve_ids(Patient, patients)
    patient_rows = []
    can_email = {}
    for n, pk in enumerate(patient_ids):
        consent = rng.random() < 0.85
        has_email = rng.random() < 0.95
        can_email[pk] = consent and has_email
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        patient_rows.append({
            "id": pk, "clinic_id": clinic.pk, "record_number": f"L{n + 1:07d}", "first_name": first,
            "last_name": last, "date_of_birth": dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(365 * 65)),
            "email": f"{first.lower()}.{last.lower()}.{n + 1}@patients.example" if has_email else "",
            "skin_type": rng.randint(1, 6), "reminder_consent": consent,
            "reminder_consent_changed_at": now if consent else None, "language": clinic.language,
        })
    with transaction.atomic():
        summary.patients = copy_rows(Patient, patient_rows, now=now)

    made = 0
    while made < sessions:
        block = _Block()
        for _ in range(ENROLMENTS_PER_BLOCK):
            if made >= sessions:
                break
            protocol, steps, rules, measures, length = rng.choice(plans)
            start = today + dt.timedelta(days=rng.randint(-span_days, 30))
            patient_id = rng.choice(patient_ids)
            clinician = rng.choice(clinicians)
            planned = schedule.initial_schedule(start, rules)
            end_date = start + length
            withdrawn_on = None
            if rng.random() < 0.06:
                withdrawn_on = start + dt.timedelta(days=rng.randint(1, max(1, length.days)))
                if withdrawn_on >= today:
                    withdrawn_on = None
            status = (EnrolmentStatus.WITHDRAWN if withdrawn_on else
                      EnrolmentStatus.COMPLETED if end_date < today else EnrolmentStatus.ACTIVE)
            enrolment = {
                "clinic_id": clinic.pk, "patient_id": patient_id, "protocol_id": protocol.pk, "start_date": start,
                "clinician_id": clinician.pk, "status": status, "created_by_id": desk.pk,
                "withdrawn_at": at_local(withdrawn_on, dt.time(12), tz) if withdrawn_on else None,
                "withdrawn_reason": "Moved away" if withdrawn_on else "",
            }
            block.enrolments.append(enrolment)
            for p in planned:
                step = steps[p.step_index]
                row = {
                    "clinic_id": clinic.pk, "patient_id": patient_id, "step_id": step.pk,
                    "sequence": p.sequence, "occurrence": p.occurrence, "target_date": p.dates.target_date,
                    "window_start": p.dates.window_start, "window_end": p.dates.window_end,
                }
                _session_state(rng, row, step, measures[p.step_index], p.dates, today=today, now=now, tz=tz,
                               withdrawn_on=withdrawn_on, diary=diary, clinicians=clinicians, rooms=rooms,
                               clinician=clinician, can_email=can_email[patient_id], offsets=offsets, block=block,
                               lots=lots)
                block.sessions.append((enrolment, row))
                summary.by_status[row["status"]] += 1
            made += len(planned)
        _write(block, now=now, summary=summary)
        if progress:
            progress(summary)
    return summary


@dataclass
class _Lots:
    """The product's lots, made as the visits need them: a few a month, each
    good for a year from the month it was made."""

    product: Product
    made: dict = field(default_factory=dict)

    def of(self, day: dt.date, n: int) -> tuple[int, str]:
        month = day.replace(day=1)
        number = f"LOT-{month:%Y%m}-{n:02d}"
        if number not in self.made:
            lot = Lot.objects.create(product=self.product, lot_number=number, received_on=month,
                                     expiry_date=month.replace(year=month.year + 1))
            self.made[number] = lot.pk
        return self.made[number], number


@dataclass
class _Block:
    enrolments: list = field(default_factory=list)
    sessions: list = field(default_factory=list)  # (enrolment row, session row)
    outcomes: list = field(default_factory=list)  # (session row, outcome row)
    reminders: list = field(default_factory=list)
    adverse_events: list = field(default_factory=list)
    deviations: list = field(default_factory=list)


def _session_state(rng, row, step, measures, dates, *, today, now, tz, withdrawn_on, diary, clinicians, rooms,
                   clinician, can_email, offsets, block, lots) -> None:
    """Fill in the session's status, booking and completion, and queue its
    outcomes, adverse events and reminders on `block`."""
    home = step.kind == StepKind.HOME
    target = dates.target_date
    row["status"] = SessionStatus.PLANNED
    if withdrawn_on and target > withdrawn_on:
        row["status"] = SessionStatus.CANCELLED
        return
    if target < today:
        roll = rng.random()
        if roll < 0.9:
            if home:
                completed_at = _at(target, 20, tz)
                observed_on = target
                who = clinician
            else:
                booked = _book(row, dates, step.duration_minutes, diary, rooms, clinicians, tz, last_day=today - dt.timedelta(days=1))
                if booked is None:
                    row["status"] = SessionStatus.SKIPPED
                    row["skip_reason"] = "No slot in the window"
                    block.deviations.append((row, DeviationKind.SKIPPED, row["skip_reason"], clinician.pk))
                    return
                who = booked
                completed_at = row["end"] + dt.timedelta(minutes=5)
                observed_on = row["start"].astimezone(tz).date()
                if can_email:
                    for hours in offsets:
                        due = row["start"] - dt.timedelta(hours=hours)
                        block.reminders.append((row, {"kind": ReminderKind.BOOKED, "offset_hours": hours,
                                                      "due_at": due, "status": ReminderStatus.SENT, "attempts": 1,
                                                      "sent_at": due}))
            row["status"] = SessionStatus.COMPLETED
            row["completed_at"] = completed_at
            row["completed_by_id"] = who.pk
            if step.kind == StepKind.TREATMENT:
                row["lot_id"], row["product_lot"] = lots.of(observed_on, rng.randint(1, LOTS_A_MONTH))
            for measure in measures:
                block.outcomes.append((row, {"measure_id": measure.pk, "value": _measure_value(rng, measure),
                                             "recorded_by_id": who.pk, "recorded_at": completed_at,
                                             "observed_on": observed_on}))
            if step.kind == StepKind.TREATMENT and rng.random() < 0.005:
                block.adverse_events.append((row, {
                    "description": "Transient erythema at the treated area", "severity": Severity.MILD,
                    "reported_by_id": who.pk, "reported_at": completed_at}))
        elif roll < 0.95:
            row["status"] = SessionStatus.SKIPPED
            row["skip_reason"] = "Patient travelling"
            block.deviations.append((row, DeviationKind.SKIPPED, row["skip_reason"], clinician.pk))
        # else: still planned, overdue (on the due list)
        return
    soon = not home and (target - today).days <= BOOKED_AHEAD_DAYS and rng.random() < 0.85
    if soon and _book(row, dates, step.duration_minutes, diary, rooms, clinicians, tz, first_day=today):
        row["status"] = SessionStatus.BOOKED
        if can_email:
            for wanted in booked_reminders(row["start"], offsets, now):
                block.reminders.append((row, {"kind": wanted.kind, "offset_hours": wanted.offset_hours,
                                              "due_at": wanted.due_at}))
        return
    if can_email:
        due = at_local(target if home else dates.window_start, MORNING, tz)
        if due > now:
            kind = ReminderKind.HOME if home else ReminderKind.WINDOW_OPEN
            block.reminders.append((row, {"kind": kind, "due_at": due}))


def _book(row, dates, duration, diary, rooms, clinicians, tz, *, first_day=None, last_day=None):
    """Book the session on its target day, else the nearest day of its window
    with room in the diary; returns the practitioner, or None when full."""
    days = _nearest_first(dates.target_date, dates.window_start, dates.window_end)
    for day in days:
        if (first_day and day < first_day) or (last_day and day > last_day):
            continue
        slot = diary.take(day, row["patient_id"])
        if slot is None:
            continue
        hour, who = slot
        row["start"] = _at(day, OPENS + hour, tz)
        row["end"] = row["start"] + dt.timedelta(minutes=duration)
        row["practitioner_id"] = clinicians[who].pk
        row["room_id"] = rooms[who].pk
        return clinicians[who]
    return None


def _nearest_first(target: dt.date, first: dt.date, last: dt.date):
    """The days of a window, the target first, then outward one day at a time."""
    yield target
    for n in range(1, max((target - first).days, (last - target).days) + 1):
        step = dt.timedelta(days=n)
        if target - step >= first:
            yield target - step
        if target + step <= last:
            yield target + step


@functools.lru_cache(maxsize=65536)
def _at(day: dt.date, hour: int, tz) -> dt.datetime:
    return at_local(day, dt.time(hour), tz)


def _write(block: _Block, *, now, summary: Summary) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        # Like pg_restore --disable-triggers: the foreign keys' (deferred)
        # triggers are skipped for this transaction, as every reference here
        # points at a row made by this load or read from the database. Check
        # and exclusion constraints are not triggers: every row still meets
        # them, so no practitioner, room or patient is ever double-booked.
        cursor.execute("SET LOCAL session_replication_role = replica")
        for row, pk in zip(block.enrolments, reserve_ids(Enrolment, len(block.enrolments)), strict=True):
            row["id"] = pk
        session_ids = reserve_ids(Session, len(block.sessions))
        for (enrolment, row), pk in zip(block.sessions, session_ids, strict=True):
            row["id"] = pk
            row["enrolment_id"] = enrolment["id"]
        summary.enrolments += copy_rows(Enrolment, block.enrolments, now=now)
        summary.sessions += copy_rows(Session, (row for _, row in block.sessions), now=now)
        summary.outcomes += copy_rows(
            OutcomeMeasurement, ({**o, "session_id": s["id"]} for s, o in block.outcomes), now=now
        )
        summary.adverse_events += copy_rows(
            AdverseEvent, ({**a, "session_id": s["id"]} for s, a in block.adverse_events), now=now
        )
        copy_rows(Deviation, ({"session_id": s["id"], "kind": kind, "reason": reason, "by_id": by, "at": now}
                              for s, kind, reason, by in block.deviations), now=now)
        summary.reminders += copy_rows(
            Reminder, ({**r, "clinic_id": s["clinic_id"], "session_id": s["id"]} for s, r in block.reminders), now=now
        )
