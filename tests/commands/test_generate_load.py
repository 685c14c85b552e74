"""generate_load builds a clinic whose rows obey the product's own rules, the
same rows from the same seed, in every state the benchmarks need."""

import datetime as dt
import zoneinfo

import pytest
from django.core.management.base import CommandError
from django.db.models import Count, F, Q
from django.utils import timezone

from clinics.models import Clinic
from demo.load import generate
from patients.models import Enrolment, EnrolmentStatus
from protocols.models import Lot, Protocol, StepKind
from sessions.models import AdverseEvent, OutcomeMeasurement, Reminder, ReminderStatus, Session, SessionStatus

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
TODAY = dt.date(2026, 3, 11)


def fingerprint(clinic: Clinic) -> list[tuple]:
    return list(
        Session.objects.filter(clinic=clinic)
        .order_by("enrolment__start_date", "patient__record_number", "step__protocol__library_key", "sequence")
        .values_list("patient__record_number", "step__protocol__library_key", "sequence", "status", "target_date",
                     "start", "lot__lot_number")
    )


@pytest.mark.django_db
def test_the_generated_clinic_obeys_the_rules_and_holds_every_state(run):
    printed = run("generate_load", "--patients", "60", "--sessions", "1500", "--slug", "gen", "--practitioners", "4")
    clinic = Clinic.objects.get(slug="gen")
    assert "Clinic 'gen'" in printed and "sessions" in printed

    assert Session.objects.filter(clinic=clinic).count() >= 1500
    assert Protocol.objects.filter(clinic=clinic, is_current=True).count() >= 7
    statuses = set(Session.objects.filter(clinic=clinic).values_list("status", flat=True))
    assert {SessionStatus.COMPLETED, SessionStatus.PLANNED, SessionStatus.BOOKED, SessionStatus.SKIPPED} <= statuses
    # Two months of starts at this size: no course has ended yet.
    assert EnrolmentStatus.ACTIVE in set(Enrolment.objects.filter(clinic=clinic).values_list("status", flat=True))

    # Every outcome is dated by its visit, as the completion workflow dates it
    # (the booked start's local day, a home application's own day).
    outcomes = OutcomeMeasurement.objects.filter(session__clinic=clinic).select_related("session")
    assert outcomes.exists()
    for outcome in outcomes:
        session = outcome.session
        day = session.start.astimezone(BERLIN).date() if session.start else session.target_date
        assert outcome.observed_on == day
        assert session.status == SessionStatus.COMPLETED

    # Every completed treatment names a lot of the clinic's product, usable that day.
    treatments = Session.objects.filter(clinic=clinic, status=SessionStatus.COMPLETED, step__kind=StepKind.TREATMENT)
    assert treatments.exists()
    assert not treatments.filter(lot__isnull=True).exists()
    assert not treatments.exclude(product_lot=F("lot__lot_number")).exists()
    assert not treatments.filter(lot__expiry_date__lt=F("target_date")).exists()
    assert set(Lot.objects.filter(sessions__clinic=clinic).values_list("product__clinic", flat=True)) == {clinic.pk}

    # No practitioner in two places at once; booked visits lie ahead, and
    # every booked one has its pending reminders, no sent ones.
    clashes = (
        Session.objects.filter(clinic=clinic, start__isnull=False).exclude(status=SessionStatus.CANCELLED)
        .values("practitioner", "start").annotate(n=Count("id")).filter(n__gt=1)
    )
    assert not clashes.exists()
    booked = Session.objects.filter(clinic=clinic, status=SessionStatus.BOOKED)
    assert booked.exists() and not booked.filter(start__lt=timezone.now() - dt.timedelta(days=1)).exists()
    assert Reminder.objects.filter(session__in=booked, status=ReminderStatus.PENDING).exists()
    assert not Reminder.objects.filter(session__in=booked, status=ReminderStatus.SENT).exists()
    assert not AdverseEvent.objects.filter(session__clinic=clinic).filter(~Q(session__status=SessionStatus.COMPLETED)).exists()


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_clinic():
    one = generate(slug="one", patients=20, sessions=300, practitioners=3, seed=7, today=TODAY)
    two = generate(slug="two", patients=20, sessions=300, practitioners=3, seed=7, today=TODAY)
    other = generate(slug="other", patients=20, sessions=300, practitioners=3, seed=8, today=TODAY)
    assert fingerprint(one.clinic) == fingerprint(two.clinic)
    assert fingerprint(one.clinic) != fingerprint(other.clinic)


@pytest.mark.django_db
def test_an_existing_slug_and_empty_sizes_are_refused(run):
    run("generate_load", "--patients", "5", "--sessions", "50", "--slug", "taken", "--today", TODAY.isoformat())
    with pytest.raises(CommandError, match="exists"):
        run("generate_load", "--patients", "5", "--sessions", "50", "--slug", "taken")
    with pytest.raises(CommandError, match="at least 1"):
        run("generate_load", "--patients", "0", "--sessions", "50", "--slug", "fresh")
    with pytest.raises(CommandError, match="--timezone"):
        run("generate_load", "--patients", "5", "--sessions", "50", "--slug", "fresh", "--timezone", "Mars/Olympus")
    with pytest.raises(CommandError, match="--open-weekdays"):
        run("generate_load", "--patients", "5", "--sessions", "50", "--slug", "fresh", "--open-weekdays", "8")
    run("generate_load", "--patients", "5", "--sessions", "200", "--slug", "tokyo", "--timezone", "Asia/Tokyo",
        "--open-weekdays", "0123456")
    tokyo = Clinic.objects.get(slug="tokyo")
    assert tokyo.timezone == "Asia/Tokyo"
    assert sorted(set(tokyo.opening_hours.values_list("weekday", flat=True))) == list(range(7))
    sundays = Session.objects.filter(clinic=tokyo, start__isnull=False)
    assert any(s.start.astimezone(tokyo.tz).weekday() == 6 for s in sundays)
