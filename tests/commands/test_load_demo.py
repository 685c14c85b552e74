"""load_demo builds a believable clinic through the services, on any day,
and a second run changes nothing."""

import datetime as dt
import re
import zoneinfo
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Count
from django.test import override_settings

from clinics.models import Clinic, Closure, OpeningHours, Role, Room, User
from patients.models import Enrolment, Patient
from protocols.library import PROTOCOLS, SEX_SPECIFIC_MEASURES
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
TODAY = WEDNESDAY.date()
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


@pytest.fixture(scope="class")
def demo_output(django_db_setup, django_db_blocker):
    """load_demo run once for all the tests of a class, on WEDNESDAY; what it
    printed. Its rows live in a transaction around the class, rolled back
    after the class's last test. Each test's own `db` transaction is a
    savepoint inside it, so what one test changes the next does not see,
    and tests outside the class never see the demo."""
    with django_db_blocker.unblock(), transaction.atomic():
        out = StringIO()
        with override_settings(DEBUG=True), time_machine.travel(WEDNESDAY, tick=False):
            call_command("load_demo", stdout=out, stderr=StringIO())
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def demo(demo_output, db):
    return Clinic.objects.get(slug="demo")


@pytest.fixture
def sessions(demo):
    return Session.objects.filter(clinic=demo)


@pytest.fixture
def hours(demo):
    return {(h.weekday, h.opens, h.closes) for h in demo.opening_hours.all()}


@pytest.fixture
def closures(demo):
    return list(demo.closures.values_list("date", flat=True))


@pytest.fixture
def upcoming(sessions):
    return sessions.filter(status=SessionStatus.BOOKED, start__gte=WEDNESDAY)


@pytest.fixture
def deviations(demo):
    return Deviation.objects.filter(session__clinic=demo)


# Every test of the class uses the database, so pytest-django keeps them
# together when it orders tests by database use: the demo is loaded once.
@pytest.mark.django_db
class TestTheDemoClinicOnAWednesdayMorning:
    """What load_demo builds, each part its own test on one shared load."""

    def test_clinic_is_named_and_in_berlin(self, demo):
        assert (demo.name, demo.timezone) == ("Regimen Demo Clinic", "Europe/Berlin")

    def test_opening_hours_are_weekdays_8_to_18_and_saturday_9_to_13(self, hours):
        assert hours == {(d, dt.time(8), dt.time(18)) for d in range(5)} | {(5, dt.time(9), dt.time(13))}

    def test_berlins_holidays_are_closures_and_the_clinic_has_a_phone_and_address(self, demo, closures):
        assert demo.holiday_region == "DE-BE" and demo.phone and demo.address
        assert all(day >= TODAY for day in closures)
        assert {dt.date(TODAY.year + 1, 1, 1), dt.date(TODAY.year + 1, 3, 8)} <= set(closures)

    def test_two_rooms(self, demo):
        assert demo.rooms.count() == 2

    def test_staff_are_the_four_demo_logins_with_their_roles(self, demo):
        assert {u.username: u.role for u in User.objects.filter(clinic=demo)} == DEMO_LOGINS

    def test_staff_share_the_demo_password(self, demo):
        assert all(u.check_password("regimen-demo") for u in User.objects.filter(clinic=demo))

    def test_manager_is_staff_but_not_superuser(self, demo):
        manager = User.objects.get(clinic=demo, username="manager")
        assert manager.is_staff and not manager.is_superuser

    def test_logins_and_password_are_printed(self, demo_output):
        for username in DEMO_LOGINS:
            assert username in demo_output
        assert "regimen-demo" in demo_output

    def test_twenty_patients_with_example_emails_and_skin_types(self, demo):
        patients = Patient.objects.filter(clinic=demo)
        assert patients.count() == 20
        assert all(p.email.endswith("@example.org") and p.skin_type in range(1, 7) for p in patients)

    def test_the_berlin_clinic_writes_german_to_all_but_one_english_speaking_patient(self, demo):
        """SPEC §20: the clinic and its patients German, one patient English,
        and the staff logins without a language of their own (their browser's)."""
        assert demo.language == "de"
        languages = list(Patient.objects.filter(clinic=demo).values_list("language", flat=True))
        assert languages.count("en") == 1 and languages.count("de") == 19
        assert set(User.objects.filter(clinic=demo).values_list("language", flat=True)) == {""}
        english = Patient.objects.get(clinic=demo, language="en")
        assert english.reminder_consent and english.email  # so the demo shows English emails too

    def test_some_but_not_all_patients_consent_to_reminders(self, demo):
        assert 10 < Patient.objects.filter(clinic=demo, reminder_consent=True).count() < 20

    def test_twenty_enrolments_cover_every_library_protocol(self, demo):
        enrolments = Enrolment.objects.filter(clinic=demo)
        assert enrolments.count() == 20
        assert set(enrolments.values_list("protocol__library_key", flat=True)) == {p["key"] for p in PROTOCOLS}

    def test_enrolments_started_over_60_days_ago_to_over_a_week_ahead(self, demo):
        starts = [e.start_date for e in Enrolment.objects.filter(clinic=demo)]
        assert min(starts) < TODAY - dt.timedelta(days=60) and max(starts) > TODAY + dt.timedelta(days=7)

    def test_some_enrolment_is_completed(self, demo):
        assert Enrolment.objects.filter(clinic=demo, status="completed").exists()

    def test_over_fifty_visits_are_completed(self, sessions):
        assert sessions.filter(status=SessionStatus.COMPLETED).count() > 50

    def test_completed_clinic_visits_lie_before_today(self, sessions):
        completed = sessions.filter(status=SessionStatus.COMPLETED).exclude(step__kind="home")
        assert completed.exists()
        for session in completed:
            assert session.start.astimezone(BERLIN).date() < TODAY, session

    def test_completed_clinic_visits_have_an_outcome_for_each_measure_of_their_step(self, sessions):
        completed = sessions.filter(status=SessionStatus.COMPLETED).exclude(step__kind="home")
        assert completed.exists()
        for session in completed.select_related("patient").prefetch_related("step__measures", "outcomes__measure"):
            # Norwood for men, Ludwig for women: the hair baseline records the one that applies.
            wanted = {
                m.code
                for m in session.step.measures.all()
                if SEX_SPECIFIC_MEASURES.get(m.code, session.patient.sex) == session.patient.sex
            }
            assert {o.measure.code for o in session.outcomes.all()} == wanted

    def test_showcase_hair_density_rises_29_percent_from_100_to_129(self, demo):
        # The showcase: hair density up 29 % over the course.
        mueller = OutcomeMeasurement.objects.filter(
            session__patient__last_name="Müller", measure__code="hair_density"
        ).order_by("session__sequence")
        assert [int(o.value) for o in mueller][:2] == [100, 129]

    def test_a_skipped_visit_has_its_reason_and_deviation(self, sessions, deviations):
        assert sessions.filter(status=SessionStatus.SKIPPED).exclude(skip_reason="").exists()
        assert deviations.filter(kind=DeviationKind.SKIPPED).exists()

    def test_a_no_show_has_its_deviation_and_missed_count(self, sessions, deviations):
        assert deviations.filter(kind=DeviationKind.NO_SHOW).exists()
        assert sessions.filter(missed_count__gt=0).exists()

    def test_late_visits_are_out_of_window_deviations_with_reasons(self, deviations):
        late = deviations.filter(kind=DeviationKind.OUT_OF_WINDOW)
        assert late.exists() and all(d.reason for d in late)

    def test_one_mild_adverse_event_related_to_treatment(self, demo):
        event = AdverseEvent.objects.get(session__clinic=demo)
        assert (event.severity, event.related_to_treatment) == ("mild", "yes")

    def test_one_past_visit_awaits_its_results_and_the_output_says_so(self, sessions, demo_output):
        # One past visit waits for its results, for a new user to complete.
        awaiting = sessions.filter(status=SessionStatus.BOOKED, start__lt=WEDNESDAY)
        assert [(s.patient.last_name, s.step.name) for s in awaiting] == [("Hartmann", "Assessment, weeks 4 and 8")]
        assert "Awaiting results" in demo_output

    def test_at_least_eight_bookings_lie_ahead(self, upcoming):
        assert upcoming.count() >= 8

    def test_todays_agenda_has_bookings_left(self, upcoming):
        assert upcoming.filter(start__date=TODAY).exists(), "today's agenda is empty"

    def test_bookings_lie_ahead_after_today(self, upcoming):
        assert upcoming.filter(start__date__gt=TODAY).exists()

    def test_no_booking_falls_on_a_closure(self, upcoming, closures):
        for session in upcoming:
            assert session.start.astimezone(BERLIN).date() not in closures, session

    def test_every_booking_fits_its_days_opening_hours(self, upcoming, hours):
        for session in upcoming:
            local = session.start.astimezone(BERLIN)
            assert any(o <= local.time() and session.end.astimezone(BERLIN).time() <= c
                       for w, o, c in hours if w == local.weekday()), session

    def test_no_window_open_or_home_reminder_is_left_overdue(self, demo):
        # The past was played with past clocks; no "time to book" email is left
        # overdue to go out the moment the worker starts.
        assert not Reminder.objects.filter(
            clinic=demo, status=ReminderStatus.PENDING, kind__in=(ReminderKind.WINDOW_OPEN, ReminderKind.HOME),
            due_at__lt=WEDNESDAY,
        ).exists()

    def test_reminders_are_pending_for_later(self, demo):
        assert Reminder.objects.filter(clinic=demo, status=ReminderStatus.PENDING, due_at__gt=WEDNESDAY).exists()

    def test_a_second_run_changes_nothing_and_prints_the_logins_again(self, demo, run, settings):
        settings.DEBUG = True
        before = snapshot()
        with time_machine.travel(WEDNESDAY, tick=False):
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
