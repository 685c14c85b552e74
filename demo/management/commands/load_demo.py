"""`manage.py load_demo`: a demo clinic with staff, patients and a history.

Everything is made through the services, as staff would make it: patients
are enrolled, sessions booked into free slots inside opening hours,
completed with outcomes, skipped, missed. The past is played by passing
`now=` to the services, in the order the days happened, so the data holds
every rule the services enforce (windows, overlaps, deviations, cascade).

Idempotent: when the demo clinic exists the command changes nothing and
prints the logins again. The whole load is one transaction: it lands
completely or not at all.
"""

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from clinics.management.commands.create_staff import error_text
from clinics.models import Clinic, Closure, Role, Room, User
from clinics.services import create_staff, set_opening_hours
from core.exceptions import Conflict
from core.languages import Language
from core.timezones import at_local, is_in_gap
from patients.models import Patient, Sex
from patients.services import create_patient
from protocols import instruments
from protocols.library import asked_of
from protocols.models import Lot, Product, ProductKind, Protocol, SourceTissue, StepKind, ValueType
from protocols.services import set_up_clinic
from sessions import services
from sessions.clinic import sync_holiday_closures
from sessions.enrolments import workable
from sessions.models import NOTICE_KINDS, Reminder, ReminderKind, ReminderStatus, Session, SessionStatus

SLUG = "demo"
NAME = "Regimen Demo Clinic"
TIMEZONE = "Europe/Berlin"
# A local demo: every login shares one published password (see --allow-insecure).
PASSWORD = "regimen-demo"

HOURS = [(weekday, dt.time(8), dt.time(18)) for weekday in range(5)] + [(5, dt.time(9), dt.time(13))]

# Berlin's public holidays (the `holidays` library) are the demo's closures.
HOLIDAY_REGION = "DE-BE"
PHONE = "+49 30 5550 1000"
ADDRESS = "Friedrichstraße 100, 10117 Berlin"

# username, role, first name, last name
STAFF = [
    ("manager", Role.MANAGER, "Miriam", "Hoffmann"),
    ("dr.weber", Role.CLINICIAN, "Lena", "Weber"),
    ("dr.okafor", Role.CLINICIAN, "Chidi", "Okafor"),
    ("reception", Role.RECEPTION, "Jonas", "Becker"),
]
ROOMS = ["Treatment room 1", "Treatment room 2"]

AREAS = {
    "hair-aga": "Vertex and frontal scalp",
    "photoaging-4wk": "Face and neck",
    "post-laser": "Face, perioral and cheeks",
    "chronic-wound": "Left plantar forefoot",
    "atopic-dermatitis": "Antecubital fossae and neck",
    "psoriasis": "Elbows, knees and lower back",
    "scars": "Cheeks, atrophic acne scars",
    "surgical-scars": "Lower abdomen, caesarean section scar",
}

# Days over which a course shows its effect: outcome values move from their
# baseline to their end-of-course value in proportion to the time elapsed.
COURSE_DAYS = {
    "hair-aga": 98,
    "photoaging-4wk": 28,
    "post-laser": 28,
    "chronic-wound": 56,
    "atopic-dermatitis": 28,
    "psoriasis": 84,
    "scars": 84,
    "surgical-scars": 84,
}

# Measure code: (baseline, end of course). Hair density 100 -> 129 is the
# +29 % the seed review reports after a 12-week course.
TRAJECTORIES = {
    "hair_density": (100, 129),
    "hair_thickness": (58, 66),
    "anagen_ratio": (62, 78),
    "wrinkle_depth": (420, 330),
    "elasticity_r2": (0.58, 0.68),
    "hydration": (38, 52),
    "glogau": (3, 2),
    "wound_area": (12.5, 0),
    "wound_closed": (0, 1),
    "scorad": (48, 21),
    "easi": (18, 7),
    "pasi": (14, 5.5),
    "iga": (3, 1),
    "dlqi": (14, 4),
    "itch_nrs": (7, 3),
    "scar_grade": (3, 2),
    "vss": (8, 4),
    "pain_vas": (3, 3),
    "tcs_use": (30, 8),
    "erythema_grade": (3, 1),
    "downtime_days": (6, 6),
    "reepithelialised": (0, 1),
    "posas_observer": (34, 22),
    "posas_patient": (38, 24),
    "poem": (16, 6),
    "pgic": (3, 3),
    "norwood": (3.5, 3.5),
    "ludwig": (2, 2),
    "amount_dispensed": (30, 30),
}
# Norwood is graded for men, Ludwig for women (protocols.library.SEX_SPECIFIC_MEASURES).
WOMEN = {"Sophie", "Katharina", "Elena", "Ingrid", "Julia", "Aylin", "Emma", "Mia", "Petra", "Lea"}
# Patients differ: each one's values are scaled by one of these.
SCALES = (1.0, 0.94, 1.07, 0.97, 1.04)

ADVERSE_EVENT = {
    "description": "Transient erythema and pinpoint bleeding at the injection sites, resolved within 48 hours.",
    "severity": "mild",
    "related_to_treatment": "yes",
}


def demo_items(code: str, severity: float) -> dict:
    """Items of a scored instrument at about ``severity`` (0-1) of its maximum."""
    severity = min(max(severity, 0.0), 1.0)

    def grade(high, half=False):
        return round(severity * high * 2) / 2 if half else round(severity * high)

    area = round(severity * 100)
    if code == "scorad":
        return {
            "area_percent": area,
            "intensity": {item: grade(3) for item in instruments.SCORAD_INTENSITY_ITEMS},
            "pruritus": grade(10),
            "sleeplessness": grade(10),
        }
    if code == "dlqi":
        total = round(severity * 30)
        return {"answers": [min(3, max(0, total - 3 * n)) for n in range(instruments.DLQI_QUESTIONS)]}
    if code == "poem":
        total = round(severity * 28)
        return {"answers": [min(4, max(0, total - 4 * n)) for n in range(instruments.POEM_QUESTIONS)]}
    regions, signs, high = (
        (instruments.EASI_REGIONS, instruments.EASI_ITEMS, 3) if code == "easi"
        else (instruments.PASI_REGIONS, instruments.PASI_ITEMS, 4)
    )
    return {
        "regions": {
            region: {**{sign: grade(high, half=code == "easi") for sign in signs}, instruments.AREA_KEY: area}
            for region in regions
        }
    }


@dataclass
class DemoPatient:
    record_number: str
    first_name: str
    last_name: str
    date_of_birth: dt.date
    skin_type: int
    consent: bool
    protocol: str
    start_in_days: int
    # Sequence number -> what happens to that session in the demo's past:
    # "adverse" (completed with an adverse event), "no_show", "skip", "late"
    # (booked after its window with a clinician's reason), "awaiting" (seen,
    # results not entered yet: left booked for a new user to complete).
    events: dict[int, str] = field(default_factory=dict)


PATIENTS = [
    # Started long enough ago that the course and its 12-month follow-up are done (so one
    # enrolment is completed) and the end-of-course assessment shows the effect.
    DemoPatient("RD-1001", "Thomas", "Müller", dt.date(1979, 4, 12), 2, True, "hair-aga", -480, {3: "adverse"}),
    DemoPatient("RD-1002", "Lukas", "Fischer", dt.date(1988, 9, 3), 3, True, "hair-aga", -52, {4: "no_show"}),
    DemoPatient("RD-1003", "Mehmet", "Yılmaz", dt.date(1982, 1, 27), 4, True, "hair-aga", -28),
    DemoPatient("RD-1004", "Sophie", "Wagner", dt.date(1990, 6, 18), 2, True, "hair-aga", 5),
    DemoPatient("RD-1005", "Katharina", "Becker", dt.date(1968, 11, 2), 2, True, "photoaging-4wk", -63),
    DemoPatient("RD-1006", "Elena", "Rossi", dt.date(1972, 3, 9), 3, False, "photoaging-4wk", -21),
    DemoPatient("RD-1007", "Ingrid", "Schulz", dt.date(1961, 8, 23), 1, True, "photoaging-4wk", 9),
    DemoPatient("RD-1008", "Julia", "Neumann", dt.date(1985, 12, 14), 2, True, "post-laser", -45),
    DemoPatient("RD-1009", "Marco", "Bianchi", dt.date(1977, 5, 30), 3, True, "post-laser", -6),
    DemoPatient(
        "RD-1010", "Heinz", "Krüger", dt.date(1951, 2, 6), 2, True, "chronic-wound", -66, {6: "skip", 10: "late"}
    ),
    DemoPatient("RD-1011", "Friedrich", "Lange", dt.date(1948, 10, 11), 3, False, "chronic-wound", -35, {4: "skip"}),
    DemoPatient("RD-1012", "Aylin", "Demir", dt.date(1959, 7, 19), 4, True, "chronic-wound", -10),
    DemoPatient("RD-1013", "Emma", "Hofmann", dt.date(1998, 4, 25), 2, True, "atopic-dermatitis", -56, {7: "no_show"}),
    DemoPatient("RD-1014", "Noah", "Klein", dt.date(2001, 9, 8), 3, True, "atopic-dermatitis", -24),
    DemoPatient("RD-1015", "Mia", "Zimmermann", dt.date(1995, 1, 15), 2, True, "atopic-dermatitis", 2),
    DemoPatient("RD-1016", "Stefan", "Braun", dt.date(1970, 6, 1), 2, True, "psoriasis", -68, {7: "late"}),
    DemoPatient("RD-1017", "Petra", "Hartmann", dt.date(1966, 2, 28), 3, True, "psoriasis", -40, {7: "awaiting"}),
    DemoPatient("RD-1018", "Jan", "Kowalski", dt.date(1980, 12, 5), 2, False, "psoriasis", 12),
    DemoPatient("RD-1019", "Lea", "Richter", dt.date(1993, 8, 17), 3, True, "scars", -59),
    DemoPatient("RD-1020", "David", "Schröder", dt.date(1989, 3, 21), 5, True, "surgical-scars", -14),
]

# The one patient the German-speaking clinic writes to in English (SPEC §20).
ENGLISH_SPEAKING = {"RD-1009"}


class Command(BaseCommand):
    help = (
        f"Load the demo clinic {NAME!r} (slug {SLUG}): staff, rooms, 20 patients in the eight standard protocols, "
        "with completed, skipped, missed and upcoming sessions. Changes nothing when it exists; prints the logins."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-insecure",
            action="store_true",
            help=f"Load even with DEBUG off. The demo logins share the published password {PASSWORD!r}.",
        )

    def handle(self, *args, allow_insecure, **options):
        if not settings.DEBUG and not allow_insecure:
            raise CommandError(
                f"load_demo creates staff logins with the published password {PASSWORD!r}, so it runs only with "
                "DEBUG=true (as `make run` does). Pass --allow-insecure to load it anyway."
            )
        clinic = Clinic.objects.filter(slug=SLUG).first()
        if clinic is not None:
            self.stdout.write(f"The demo clinic {clinic.name!r} exists; nothing changed.")
        else:
            try:
                with transaction.atomic():
                    clinic = Demo(self.stdout.write).build()
            except ValidationError as error:
                raise CommandError(f"Demo not loaded, nothing changed. {error_text(error)}") from None
            except Conflict as error:
                raise CommandError(f"Demo not loaded, nothing changed. {error.message}") from None
        self.print_logins(clinic)

    def print_logins(self, clinic: Clinic) -> None:
        users = {u.username: u for u in User.objects.filter(clinic=clinic, username__in=[s[0] for s in STAFF])}
        rows = [("username", "password", "role", "name")]
        rows += [
            (u.username, PASSWORD, u.get_role_display(), u.display_name)
            for u in (users.get(s[0]) for s in STAFF)
            if u is not None
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        self.stdout.write("")
        self.stdout.write(f"Staff logins for {clinic.name} (the manager may also use /admin/):")
        for index, row in enumerate(rows):
            line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            self.stdout.write(f"  {line}".rstrip())
            if index == 0:
                self.stdout.write("  " + "  ".join("-" * width for width in widths))


class Demo:
    """Builds the demo clinic. `today` and `now` are the clinic's, so the
    history ends yesterday and the bookings start now, whatever the day."""

    def __init__(self, write):
        self.write = write
        self.now = timezone.now()

    # --- the clinic ---------------------------------------------------------------------------

    def build(self) -> Clinic:
        # A Berlin clinic writes to its patients in German (SPEC §20); its staff's
        # pages follow their browsers, as no demo login has a language of its own.
        self.clinic = set_up_clinic(
            name=NAME, slug=SLUG, timezone=TIMEZONE, sender_email="desk@demo-clinic.example", language=Language.GERMAN
        )
        # The demo lets patients book their own visits from their emails (SPEC §18).
        self.clinic.patients_may_book = True
        self.clinic.save(update_fields=["patients_may_book"])
        self.tz = self.clinic.tz
        self.today = self.now.astimezone(self.tz).date()
        set_opening_hours(clinic=self.clinic, hours=HOURS)
        self.hours: dict[int, list[tuple[dt.time, dt.time]]] = {}
        for weekday, opens, closes in HOURS:
            self.hours.setdefault(weekday, []).append((opens, closes))
        self.closures = self.add_closures()
        self.rooms = [Room.objects.create(clinic=self.clinic, name=name) for name in ROOMS]
        self.staff = {
            username: create_staff(
                username=username,
                clinic=self.clinic,
                role=role,
                password=PASSWORD,
                first_name=first,
                last_name=last,
                email=f"{username.replace('.', '-')}@demo-clinic.example",
            )
            for username, role, first, last in STAFF
        }
        self.reception = self.staff["reception"]
        self.clinicians = [self.staff["dr.weber"], self.staff["dr.okafor"]]
        protocols = {p.library_key: p for p in Protocol.objects.filter(clinic=self.clinic, is_current=True)}

        plans = []
        for index, spec in enumerate(PATIENTS):
            patient = create_patient(
                clinic=self.clinic,
                data={
                    "record_number": spec.record_number,
                    "first_name": spec.first_name,
                    "last_name": spec.last_name,
                    "date_of_birth": spec.date_of_birth,
                    "email": f"{ascii_name(spec.first_name)}.{ascii_name(spec.last_name)}@example.org",
                    "phone": f"+49 30 5550 {1100 + index}",
                    "skin_type": spec.skin_type,
                    "sex": Sex.FEMALE if spec.first_name in WOMEN else Sex.MALE,
                    "reminder_consent": spec.consent,
                    **({"language": Language.ENGLISH} if spec.record_number in ENGLISH_SPEAKING else {}),
                },
                by=self.reception,
                now=self.now,
            )
            clinician = self.clinicians[index % 2]
            start = self.open_day_from(self.today + dt.timedelta(days=spec.start_in_days))
            # A start whose schedule has a visit with no open day in its
            # window (a 0-day window on a holiday) is refused: take the next
            # start that works, as a receptionist would.
            steps = list(protocols[spec.protocol].steps.order_by("position"))
            start = workable.check_schedule(self.clinic, start, steps)[1] or start
            enrolment = services.enrol_patient(
                patient=patient,
                protocol=protocols[spec.protocol],
                start_date=start,
                by=self.reception,
                clinician=clinician,
                area=AREAS[spec.protocol],
                now=self.now,
            )
            plans.append((index, spec, enrolment))

        # The past first, day by day per patient; then the coming days.
        for index, spec, enrolment in plans:
            self.play_history(index, spec, enrolment)
        for index, _spec, enrolment in plans:
            self.book_upcoming(index, enrolment)
        self.retire_past_reminders()
        self.report()
        return self.clinic

    def add_closures(self) -> set[dt.date]:
        """The clinic's details a patient's email shows, and Berlin's public
        holidays of the next two years as closures (nothing is booked yet)."""
        self.clinic.phone, self.clinic.address, self.clinic.holiday_region = PHONE, ADDRESS, HOLIDAY_REGION
        self.clinic.save(update_fields=["phone", "address", "holiday_region"])
        sync_holiday_closures(self.clinic, now=self.now)
        return set(Closure.objects.filter(clinic=self.clinic).values_list("date", flat=True))

    def is_open(self, day: dt.date) -> bool:
        return day.weekday() in self.hours and day not in self.closures

    def open_day_from(self, day: dt.date) -> dt.date:
        while not self.is_open(day):
            day += dt.timedelta(days=1)
        return day

    # --- slots --------------------------------------------------------------------------------

    def starts(self, first: dt.date, last: dt.date, minutes: int, preference: int) -> Iterator[dt.datetime]:
        """Slot starts inside opening hours from `first` to `last`, each day's
        list rotated by `preference` so that patients spread over the day."""
        day = first
        while day <= last:
            if self.is_open(day):
                walls = []
                for opens, closes in self.hours[day.weekday()]:
                    wall = dt.datetime.combine(day, opens)
                    while wall + dt.timedelta(minutes=minutes) <= dt.datetime.combine(day, closes):
                        walls.append(wall)
                        wall += dt.timedelta(minutes=self.clinic.slot_minutes)
                if walls:
                    shift = (preference * 7) % len(walls)
                    for wall in walls[shift:] + walls[:shift]:
                        # A wall-clock time the zone skips (spring forward) is no slot.
                        if not is_in_gap(wall, self.tz):
                            yield wall.replace(tzinfo=self.tz, fold=0)
            day += dt.timedelta(days=1)

    def book(
        self,
        session: Session,
        *,
        first: dt.date,
        last: dt.date,
        preference: int,
        not_before: dt.datetime,
        clinician: User,
        override_reason: str = "",
        past: bool,
    ) -> Session | None:
        """Book the first slot that the services accept, trying the patient's
        clinician, then the other one, in either room. In the past the
        booking is made three days ahead of the slot (or right after the
        previous event); otherwise it is made now."""
        if first > last:
            return None
        others = [c for c in self.clinicians if c.pk != clinician.pk]
        by = clinician if override_reason else self.reception
        attempts = 0
        for start in self.starts(first, last, session.step.duration_minutes, preference):
            if start < not_before:
                continue
            if past and start + dt.timedelta(minutes=session.step.duration_minutes) > self.now:
                return None
            booked_at = max(not_before, start - dt.timedelta(days=3)) if past else self.now
            for practitioner in [clinician, *others]:
                for room in self.rooms[preference % 2 :] + self.rooms[: preference % 2]:
                    attempts += 1
                    if attempts > 300:
                        return None
                    try:
                        return services.book_session(
                            session=session,
                            start=start,
                            practitioner=practitioner,
                            room=room,
                            override_reason=override_reason,
                            by=by,
                            now=booked_at,
                        )
                    except (Conflict, ValidationError):
                        continue
        return None

    # --- the past -----------------------------------------------------------------------------

    def next_open(self, enrolment, *, bookable_only: bool = False) -> Session | None:
        sessions = Session.objects.filter(
            enrolment=enrolment, status__in=(SessionStatus.PLANNED, SessionStatus.BOOKED)
        ).select_related("step", "clinic", "enrolment", "patient")
        if bookable_only:
            sessions = sessions.exclude(step__kind=StepKind.HOME)
        # In date order: a step anchored on the start date may fall between
        # the occurrences of an earlier step.
        return sessions.order_by("target_date", "sequence").first()

    def play_history(self, index: int, spec: DemoPatient, enrolment) -> None:
        # Each service call is its own savepoint: should one refuse on some
        # unforeseen day, this patient's history simply ends there.
        try:
            self._play_history(index, spec, enrolment)
        except (Conflict, ValidationError) as error:
            self.write(f"Note: the history of {enrolment.patient} stops early: {error}")

    def _play_history(self, index: int, spec: DemoPatient, enrolment) -> None:
        """Walk the enrolment's sessions in order while they lie in the past:
        book each into a slot in its window and complete it, unless the
        patient's script says otherwise."""
        events = dict(spec.events)
        clinician = enrolment.clinician
        last_event = dt.datetime.combine(enrolment.start_date, dt.time(0), tzinfo=self.tz) - dt.timedelta(days=7)
        yesterday = self.today - dt.timedelta(days=1)
        while (session := self.next_open(enrolment)) is not None and session.window_start <= yesterday:
            if session.is_home:
                if session.target_date > yesterday:
                    return
                self._apply_at_home(session, clinician)
                continue
            event = events.pop(session.sequence, "")
            if event == "skip":
                last_event = self._skip(session, clinician, not_before=last_event)
                continue
            booked = self._book_in_the_past(
                session, event=event, index=index, clinician=clinician, not_before=last_event, last=yesterday
            )
            if booked is None or event == "awaiting":
                # Nothing fits in the past any more (the coming days take it),
                # or her history stops at a visit that waits for its results,
                # so a new user can complete it and read the change.
                return
            if event == "no_show":
                last_event = self._miss(booked)
                continue
            last_event = self._complete_visit(booked, index=index, spec=spec, event=event)

    def _apply_at_home(self, session: Session, clinician: User) -> None:
        """Home applications are ticked off on the evening of their day."""
        done_at = at_local(session.target_date, dt.time(20), self.tz)
        services.complete_session(session=session, by=clinician, notes="Applied at home.", now=done_at)

    def _skip(self, session: Session, clinician: User, *, not_before: dt.datetime) -> dt.datetime:
        skipped_at = max(not_before, at_local(session.window_start, dt.time(8), self.tz))
        services.skip_session(
            session=session,
            reason="Patient in hospital for an unrelated reason; the ward changed the dressing.",
            by=clinician,
            now=skipped_at,
        )
        return skipped_at

    def _book_in_the_past(
        self, session: Session, *, event: str, index: int, clinician: User, not_before: dt.datetime, last: dt.date
    ) -> Session | None:
        """A past slot for the visit: late on purpose when the script says so,
        else in its window, else at the next opening after it."""
        first_day = max(session.window_start, not_before.astimezone(self.tz).date())
        common = {"preference": index, "not_before": not_before, "clinician": clinician, "past": True}
        if event == "late":
            booked = self.book(
                session,
                first=session.window_end + dt.timedelta(days=2),
                last=last,
                override_reason="Patient away for a family emergency; seen at the first date they could come.",
                **common,
            )
            if booked is not None:
                return booked
        booked = self.book(session, first=first_day, last=min(session.window_end, last), **common)
        if booked is None and session.window_end < last:
            booked = self.book(
                session,
                first=max(first_day, session.window_end + dt.timedelta(days=1)),
                last=last,
                override_reason="No free slot in the window; seen at the next opening.",
                **common,
            )
        return booked

    def _miss(self, booked: Session) -> dt.datetime:
        """A no-show; reception rebooks a few days later."""
        services.mark_no_show(
            session=booked, by=self.reception, reason="Did not attend; no answer by phone.", now=booked.end
        )
        return booked.end + dt.timedelta(days=2)

    def _complete_visit(self, booked: Session, *, index: int, spec: DemoPatient, event: str) -> dt.datetime:
        services.complete_session(
            session=booked,
            by=booked.practitioner,
            outcomes=self.outcomes(index, spec, booked),
            notes=self.note(booked, event),
            adverse_events=[ADVERSE_EVENT] if event == "adverse" else [],
            now=booked.end,
            **self.product(booked, index),
        )
        return booked.end

    def outcomes(self, index: int, spec: DemoPatient, session: Session) -> list[dict]:
        progress = min(1.0, max(0.0, (session.start.astimezone(self.tz).date() - session.enrolment.start_date).days
                                / COURSE_DAYS[spec.protocol]))
        scale = SCALES[index % len(SCALES)]
        values = []
        for measure in session.step.measures.all():
            if not asked_of(measure.code, session.patient.sex):
                continue
            baseline, final = TRAJECTORIES[measure.code]
            if measure.code == "pain_vas":
                value = 3 + session.sequence % 2
            elif measure.code in ("wound_closed", "reepithelialised"):
                value = 1 if progress >= 1 else 0
            else:
                value = (baseline + (final - baseline) * progress) * scale
            if measure.code in instruments.SCORED_CODES:
                # Scored instruments come from their items (SPEC §10).
                values.append({"measure": measure.code, "items": demo_items(measure.code, value / float(measure.max_value))})
                continue
            if measure.value_type in (ValueType.INTEGER, ValueType.SCORE):
                value = round(value)
            else:
                value = Decimal(str(round(value, 3 if measure.max_value <= 1 else 1)))
            value = min(max(Decimal(value), measure.min_value), measure.max_value)
            values.append({"measure": measure.code, "value": value})
        return values

    def note(self, session: Session, event: str) -> str:
        if event == "adverse":
            return "Erythema at the injection sites after the session; cool compresses advised."
        if session.step.kind == StepKind.TREATMENT:
            return "Tolerated well."
        return "Assessment done; photographs taken."

    def product(self, session: Session, index: int) -> dict:
        """A treatment names its lot (SPEC §12): one lot a month of each of
        the clinic's two secretomes, each good for a year."""
        if session.step.kind != StepKind.TREATMENT:
            return {}
        source = SourceTissue.UMBILICAL_CORD if index % 2 else SourceTissue.ADIPOSE
        product, _ = Product.objects.get_or_create(
            clinic=self.clinic,
            name=f"Secretome ({'UC' if source == SourceTissue.UMBILICAL_CORD else 'AD'}-MSC conditioned medium)",
            defaults={"source_tissue": source, "form": ProductKind.SECRETOME, "manufacturer": "Demo Biologics"},
        )
        made = session.start.astimezone(self.tz).date().replace(day=1)
        lot, _ = Lot.objects.get_or_create(
            product=product,
            lot_number=f"SCM-{made:%y%m}-{'UC' if source == SourceTissue.UMBILICAL_CORD else 'AD'}",
            defaults={"expiry_date": made.replace(year=made.year + 1), "received_on": made,
                      "concentration": Decimal("2.0"), "concentration_unit": "mg/mL protein"},
        )
        return {"lot": lot, "product_form": "lyophilised", "product_concentration": "2 mL reconstituted"}

    # --- the coming days ----------------------------------------------------------------------

    def book_upcoming(self, index: int, enrolment) -> None:
        """Book the next visit of most enrolments whose window opens within
        two weeks; every fifth is left for reception to book."""
        if index % 5 == 4:
            return
        session = self.next_open(enrolment, bookable_only=True)
        horizon = self.today + dt.timedelta(days=14)
        if session is None or session.status != SessionStatus.PLANNED or session.window_start > horizon:
            return
        # Half of them as soon as the window allows (today's agenda fills
        # up), the others spread over the next days.
        first = max(session.window_start, self.today + dt.timedelta(days=0 if index % 2 == 0 else 1 + index % 3))
        if first > session.window_end:
            first = max(session.window_start, self.today)
        booked = self.book(
            session,
            first=first,
            last=session.window_end,
            preference=index,
            not_before=self.now,
            clinician=enrolment.clinician,
            past=False,
        )
        if booked is None and session.window_end < horizon:
            # The window has run out (or has no free slot left): book the
            # first free slot after it, with the clinician's reason.
            self.book(
                session,
                first=max(self.today, session.window_end + dt.timedelta(days=1)),
                last=horizon + dt.timedelta(days=14),
                preference=index,
                not_before=self.now,
                clinician=enrolment.clinician,
                override_reason=f"Window ended {session.window_end:%d %b}; booked at the patient's first availability.",
                past=False,
            )

    def retire_past_reminders(self) -> None:
        """The past was played with past clocks, so the services planned
        "time to book", home and "we missed you" emails that fell due in
        that past, and the bookings then made confirmation, moved and
        cancelled notices. They belong to it: void them, or the worker would
        send a burst of stale emails the moment `make run` starts.
        (Booked-session reminders of the bookings made now are left alone.)"""
        Reminder.objects.filter(
            clinic=self.clinic,
            status=ReminderStatus.PENDING,
            kind__in=(ReminderKind.WINDOW_OPEN, ReminderKind.HOME, ReminderKind.MISSED, *NOTICE_KINDS),
            due_at__lt=self.now,
        ).update(status=ReminderStatus.VOID)

    def report(self) -> None:
        sessions = Session.objects.filter(clinic=self.clinic)
        counts = {status: sessions.filter(status=status).count() for status in SessionStatus.values}
        upcoming = sessions.filter(status=SessionStatus.BOOKED, start__gte=self.now).count()
        awaiting = sessions.filter(status=SessionStatus.BOOKED, start__lt=self.now).select_related("patient", "step")
        missed = sessions.filter(missed_count__gt=0).count()
        out_of_window = sessions.filter(deviations__kind="out_of_window").distinct().count()
        self.write(
            f"Created {NAME!r} (slug {SLUG}, {TIMEZONE}): {len(self.staff)} staff, {len(self.rooms)} rooms, "
            f"{Patient.objects.filter(clinic=self.clinic).count()} patients in "
            f"{Protocol.objects.filter(clinic=self.clinic, enrolments__isnull=False).distinct().count()} protocols, "
            f"closed on {len(self.closures)} public holidays of {HOLIDAY_REGION} "
            f"(next {', '.join(f'{d:%Y-%m-%d}' for d in sorted(self.closures)[:2])})."
        )
        self.write(
            f"Sessions: {counts['completed']} completed, {counts['skipped']} skipped, {missed} with a no-show, "
            f"{out_of_window} booked outside their window, {upcoming} booked from now on, {counts['planned']} planned."
        )
        for session in awaiting:
            self.write(
                f"Awaiting results: session {session.pk}, {session.step.name} of {session.patient.full_name} "
                f"on {session.start.astimezone(self.tz):%a %d %b %H:%M} — complete it to see the change from baseline."
            )


def ascii_name(name: str) -> str:
    table = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ı": "i", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})
    return name.translate(table).lower()
