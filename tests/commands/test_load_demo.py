"""load_demo builds a believable clinic through the services, on any day,
and a second run changes nothing."""

import datetime as dt
import re
import zoneinfo

import pytest
import time_machine
from django.core.management.base import CommandError
from django.db.models import Count

from clinics.models import Clinic, Closure, OpeningHours, Role, Room, User
from patients.models import Enrolment, Patient
from protocols.library import PROTOCOLS
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
)

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
# A Wednesday morning: the agenda of today has bookings left.
WEDNESDAY = dt.datetime(2026, 3, 11, 10, 0, tzinfo=BERLIN)
DEMO_LOGINS = {"manager": Role.MANAGER, "dr.weber": Role.CLINICIAN, "dr.okafor": Role.CLINICIAN,
               "reception": Role.RECEPTION}


def snapshot():
    """Row counts of everything load_demo writes, history included."""
    models = [Clinic, OpeningHours, Closure, Room, User, Patient, Enrolment, Session, OutcomeMeasurement,
              AdverseEvent, Deviation, Reminder]
    counts = {m.__name__: m.objects.count() for m in models}
    counts["sessions by status"] = sorted(Session.objects.values_list("status").annotate(n=Count("id")))
    counts["reminders by status"] = sorted(Reminder.objects.values_list("status").annotate(n=Count("id")))
    counts["session history"] = Session.history.count()
    counts["patient history"] = Patient.history.count()
    return counts


def test_load_demo_refuses_without_debug(run):
    with pytest.raises(CommandError, match="runs only with DEBUG=true"):
        run("load_demo")
    assert not Clinic.objects.exists()


@time_machine.travel(WEDNESDAY, tick=False)
def test_load_demo_builds_the_demo_clinic(run, settings):
    settings.DEBUG = True
    run("load_protocol_library")
    out = run("load_demo")
    now = WEDNESDAY
    today = now.date()

    clinic = Clinic.objects.get(slug="demo")
    assert (clinic.name, clinic.timezone) == ("Regimen Demo Clinic", "Europe/Berlin")
    hours = {(h.weekday, h.opens, h.closes) for h in clinic.opening_hours.all()}
    assert hours == {(d, dt.time(8), dt.time(18)) for d in range(5)} | {(5, dt.time(9), dt.time(13))}
    closures = list(clinic.closures.values_list("date", flat=True))
    assert len(closures) == 2 and all(day > today for day in closures)
    assert clinic.rooms.count() == 2

    staff = {u.username: u for u in User.objects.filter(clinic=clinic)}
    assert {name: u.role for name, u in staff.items()} == DEMO_LOGINS
    assert all(u.check_password("regimen-demo") for u in staff.values())
    assert staff["manager"].is_staff and not staff["manager"].is_superuser

    patients = Patient.objects.filter(clinic=clinic)
    assert patients.count() == 20
    assert all(p.email.endswith("@example.org") and p.skin_type in range(1, 7) for p in patients)
    assert 10 < patients.filter(reminder_consent=True).count() < 20
    enrolments = Enrolment.objects.filter(clinic=clinic)
    assert enrolments.count() == 20
    assert set(enrolments.values_list("protocol__library_key", flat=True)) == {p["key"] for p in PROTOCOLS}
    starts = [e.start_date for e in enrolments]
    assert min(starts) < today - dt.timedelta(days=60) and max(starts) > today + dt.timedelta(days=7)

    sessions = Session.objects.filter(clinic=clinic)
    completed = sessions.filter(status=SessionStatus.COMPLETED).select_related("step")
    assert completed.count() > 50
    for session in completed.exclude(step__kind="home").prefetch_related("step__measures", "outcomes__measure"):
        assert {o.measure.code for o in session.outcomes.all()} == {m.code for m in session.step.measures.all()}
        assert session.start.astimezone(BERLIN).date() < today
    # The showcase: hair density up 29 % over the course.
    mueller = OutcomeMeasurement.objects.filter(
        session__patient__last_name="Müller", measure__code="hair_density"
    ).order_by("session__sequence")
    assert [int(o.value) for o in mueller][:2] == [100, 129]

    assert sessions.filter(status=SessionStatus.SKIPPED).exclude(skip_reason="").exists()
    assert Deviation.objects.filter(session__clinic=clinic, kind=DeviationKind.SKIPPED).exists()
    assert Deviation.objects.filter(session__clinic=clinic, kind=DeviationKind.NO_SHOW).exists()
    assert sessions.filter(missed_count__gt=0).exists()
    late = Deviation.objects.filter(session__clinic=clinic, kind=DeviationKind.OUT_OF_WINDOW)
    assert late.exists() and all(d.reason for d in late)
    event = AdverseEvent.objects.get(session__clinic=clinic)
    assert (event.severity, event.related_to_treatment) == ("mild", "yes")
    assert enrolments.filter(status="completed").exists()

    # One past visit waits for its results, for a new user to complete.
    awaiting = sessions.filter(status=SessionStatus.BOOKED, start__lt=now)
    assert [(s.patient.last_name, s.step.name) for s in awaiting] == [("Hartmann", "Assessment, weeks 4 and 8")]
    assert "Awaiting results" in out
    upcoming = sessions.filter(status=SessionStatus.BOOKED, start__gte=now)
    assert upcoming.count() >= 8
    assert upcoming.filter(start__date=today).exists(), "today's agenda is empty"
    assert upcoming.filter(start__date__gt=today).exists()
    for session in upcoming:
        local = session.start.astimezone(BERLIN)
        assert local.date() not in closures
        assert any(o <= local.time() and session.end.astimezone(BERLIN).time() <= c
                   for w, o, c in hours if w == local.weekday())
    # The past was played with past clocks; no "time to book" email is left
    # overdue to go out the moment the worker starts.
    assert not Reminder.objects.filter(
        clinic=clinic, status=ReminderStatus.PENDING, kind__in=(ReminderKind.WINDOW_OPEN, ReminderKind.HOME),
        due_at__lt=now,
    ).exists()
    assert Reminder.objects.filter(clinic=clinic, status=ReminderStatus.PENDING, due_at__gt=now).exists()

    for username in DEMO_LOGINS:
        assert username in out
    assert "regimen-demo" in out

    before = snapshot()
    again = run("load_demo")
    assert snapshot() == before
    assert "exists; nothing changed" in again
    assert all(username in again for username in DEMO_LOGINS)


@pytest.mark.parametrize(
    "moment",
    [
        # A Sunday night, closed until Monday, on the day of the spring clock change.
        dt.datetime(2027, 3, 28, 21, 30, tzinfo=BERLIN),
        # Thursday at closing time, with the Christmas closures right ahead.
        dt.datetime(2026, 12, 24, 17, 55, tzinfo=BERLIN),
    ],
    ids=["sunday-night-after-dst-change", "christmas-eve-closing"],
)
def test_load_demo_works_whatever_the_day(run, settings, moment):
    settings.DEBUG = True
    with time_machine.travel(moment, tick=False):
        run("load_demo")
    clinic = Clinic.objects.get(slug="demo")
    sessions = Session.objects.filter(clinic=clinic)
    assert Patient.objects.filter(clinic=clinic).count() == 20
    assert sessions.filter(status=SessionStatus.COMPLETED).count() > 50
    booked = sessions.filter(status=SessionStatus.BOOKED, start__gte=moment)
    assert booked.count() >= 8
    assert sessions.filter(status=SessionStatus.BOOKED, start__lt=moment).count() == 1  # awaiting results
    assert not booked.filter(start__date__in=list(clinic.closures.values_list("date", flat=True))).exists()


def test_load_demo_with_a_taken_username_changes_nothing(run, settings, clinic):
    from tests.factories import UserFactory

    UserFactory(clinic=clinic, username="dr.weber")
    before = snapshot()
    with pytest.raises(CommandError, match=re.escape("Demo not loaded, nothing changed. username: User 'dr.weber' exists")):
        run("load_demo", "--allow-insecure")
    assert snapshot() == before
    assert not Clinic.objects.filter(slug="demo").exists()
