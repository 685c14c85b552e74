"""Factories whose dates follow from each other, and the personas of the suite."""

import datetime as dt

import factory

from clinics.models import Clinic, OpeningHours, Role, Room, User
from patients.models import Patient
from protocols.models import Lot, Product, Protocol
from protocols.services import create_protocol, load_measures

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
