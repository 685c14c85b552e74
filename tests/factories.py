"""Factories whose dates follow from each other, the personas of the suite,
and the one way a test completes a visit (complete_visit, complete_over_api)."""

import datetime as dt

import factory
import time_machine

from clinics.models import Clinic, OpeningHours, Role, Room, User
from patients.models import Patient
from protocols.models import Lot, Product, Protocol
from protocols.services import create_protocol, load_measures
from sessions import services as session_services
from sessions.models import Session

PASSWORD = "correct-horse-battery"


class ClinicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clinic
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Clinic {n}")
    slug = factory.Sequence(lambda n: f"clinic-{n}")
    timezone = "Europe/Berlin"
    sender_email = "desk@clinic.example"
    phone = "+49 30 1234567"

    @factory.post_generation
    def hours(self, create, extracted, **kwargs):
        # Open every day 08:00–20:00 unless a test sets its own hours, so
        # that dates in tests never fall on a closed weekday by accident.
        if create:
            spec = extracted if extracted is not None else [(d, dt.time(8), dt.time(20)) for d in range(7)]
            OpeningHours.objects.bulk_create(
                OpeningHours(clinic=self, weekday=w, opens=o, closes=c) for w, o, c in spec
            )


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    clinic = factory.SubFactory(ClinicFactory)
    role = Role.RECEPTION
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def saved(self, create, extracted, **kwargs):
        if create:
            self.save()


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room

    clinic = factory.SubFactory(ClinicFactory)
    name = factory.Sequence(lambda n: f"Room {n}")


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    clinic = factory.SubFactory(ClinicFactory)
    record_number = factory.Sequence(lambda n: f"MRN-{n:05d}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = dt.date(1980, 5, 17)
    email = factory.Sequence(lambda n: f"patient{n}@example.org")
    skin_type = 3
    # As patients.services.create_patient does: the clinic's language (English by default).
    language = factory.SelfAttribute("clinic.language")
    reminder_consent = True


def step(name="Treatment", kind="treatment", **fields) -> dict:
    return {"name": name, "kind": kind, **fields}


# SPEC §3's worked example: a baseline, then treatment every 2–4 weeks.
HAIR_STEPS = [
    step("Baseline assessment", "assessment", measures=["hair_density"]),
    step("Injection", repeat=6, interval_days=14, window_after_days=14, duration_minutes=45, measures=["pain_vas"]),
]


def make_protocol(clinic: Clinic, steps=None, name="Hair regeneration", **fields) -> Protocol:
    load_measures()
    data = {"name": name, "indication": "hair", "delivery": "injection", **fields}
    return create_protocol(clinic=clinic, data=data, steps=steps or HAIR_STEPS, by=None)


def lot_of(clinic: Clinic, number: str = "SEC-2026-01", expiry: dt.date = dt.date(2030, 12, 31)) -> Lot:
    """A usable lot of the clinic's secretome (made once per clinic and number)."""
    product, _ = Product.objects.get_or_create(
        clinic=clinic, name="Secretome serum", defaults={"source_tissue": "umbilical_cord", "form": "secretome"}
    )
    lot, _ = Lot.objects.get_or_create(product=product, lot_number=number, defaults={"expiry_date": expiry})
    return lot


def enrol(patient: Patient, protocol: Protocol, start: str | dt.date, by: User, *, at=None, **extra):
    """An enrolment through sessions.services.enrol_patient starting on
    `start` (a date or an ISO date), with time stopped at `at` (an ISO 8601
    instant or a datetime) when given."""
    start_date = dt.date.fromisoformat(start) if isinstance(start, str) else start
    if at is None:
        return session_services.enrol_patient(patient=patient, protocol=protocol, start_date=start_date, by=by, **extra)
    with time_machine.travel(dt.datetime.fromisoformat(at) if isinstance(at, str) else at, tick=False):
        return session_services.enrol_patient(patient=patient, protocol=protocol, start_date=start_date, by=by, **extra)


WITH_ITS_LOT = object()


def complete_visit(session: Session, by: User, at: str | dt.datetime | None = None, *, lot=WITH_ITS_LOT, **extra):
    """A completed visit with its lot, through sessions.services.complete_session:
    the clinic's secretome lot (lot_of) unless `lot` names another (None: no
    lot), with time stopped at `at` (an ISO 8601 instant or a datetime) when
    given; `extra` are complete_session's other arguments (outcomes,
    not_done_reason, ...)."""
    if lot is WITH_ITS_LOT:
        lot = lot_of(session.clinic)
    if lot is not None:
        extra["lot"] = lot
    if at is None:
        return session_services.complete_session(session=session, by=by, **extra)
    with time_machine.travel(dt.datetime.fromisoformat(at) if isinstance(at, str) else at, tick=False):
        return session_services.complete_session(session=session, by=by, **extra)


def complete_over_api(client, session: Session, body: dict):
    """POST /api/v1/sessions/{id}/complete/ as `client` (the API's way to complete a visit)."""
    return client.post(f"/api/v1/sessions/{session.pk}/complete/", body, format="json")
