"""Regimen's benchmarks: how long the timing-critical paths take.

Runs on PostgreSQL (config.test_settings) in a throwaway database and prints
a Markdown table; docs/benchmarks.md records the numbers with the machine
they were taken on. Speed is measured here, never asserted in tests.

    make bench            # or: python bench/run.py --repeat 5
"""

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402


def timed(fn, repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples), min(samples)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        rows = run(args.repeat)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    print("| benchmark | median | best |")
    print("|---|---|---|")
    for name, (median, best) in rows:
        print(f"| {name} | {median * 1000:.1f} ms | {best * 1000:.1f} ms |")
    return 0


def run(repeat: int):
    from django.utils import timezone

    from clinics.models import Role, Room, User
    from clinics.services import create_staff
    from patients.models import Patient
    from protocols import schedule
    from protocols.models import Protocol
    from protocols.services import set_up_clinic
    from sessions import selectors, services
    from sessions.clinic_settings import replan_reminders
    from sessions.models import Reminder, ReminderStatus, Session, SessionStatus

    results = []

    # 1. The pure cascade over a long enrolment (the worst case a protocol may have).
    rules = [schedule.StepRule(repeat=100, interval_days=3, anchor="previous", window_before_days=1,
                               window_after_days=2)] * 5
    planned = schedule.initial_schedule(dt.date(2026, 1, 5), rules)
    states = [
        schedule.SessionState(p.sequence, p.occurrence, rules[p.step_index],
                              "completed" if p.sequence <= 250 else "planned", p.dates.target_date,
                              completed_date=p.dates.target_date + dt.timedelta(days=1) if p.sequence <= 250 else None)
        for p in planned
    ]
    results.append(("cascade, 500-session enrolment (pure)",
                    timed(lambda: schedule.cascade(dt.date(2026, 1, 5), states), repeat * 20)))

    clinic = set_up_clinic(name="Bench", slug="bench", timezone="Europe/Berlin")
    from clinics.services import set_opening_hours
    set_opening_hours(clinic=clinic, hours=[(d, dt.time(8), dt.time(20)) for d in range(7)])
    Room.objects.bulk_create(Room(clinic=clinic, name=f"Room {n}") for n in range(3))
    desk = create_staff(username="bench-desk", clinic=clinic, role=Role.RECEPTION, password="x" * 12)
    for n in range(3):
        create_staff(username=f"bench-dr{n}", clinic=clinic, role=Role.CLINICIAN, password="x" * 12)
    hair = Protocol.objects.get(clinic=clinic, library_key="hair-aga")
    wound = Protocol.objects.get(clinic=clinic, library_key="chronic-wound")
    counter = iter(range(1_000_000))

    def new_patient():
        n = next(counter)
        return Patient.objects.create(clinic=clinic, record_number=f"B{n}", first_name="Bench", last_name=f"P{n}",
                                      date_of_birth=dt.date(1970, 1, 1), email=f"b{n}@example.org",
                                      reminder_consent=True)

    today = timezone.now().astimezone(clinic.tz).date()
    start = today + dt.timedelta(days=3)
    hair_n = sum(s.repeat for s in hair.steps.all())
    wound_n = sum(s.repeat for s in wound.steps.all())
    results.append((f"enrol_patient, hair protocol ({hair_n} sessions, reminders planned)",
                    timed(lambda: services.enrol_patient(patient=new_patient(), protocol=hair, start_date=start,
                                                         by=desk), repeat)))
    results.append((f"enrol_patient, wound protocol ({wound_n} sessions)",
                    timed(lambda: services.enrol_patient(patient=new_patient(), protocol=wound, start_date=start,
                                                         by=desk), repeat)))

    # Fill the diary: 150 bookings over the next three weeks.
    booked = 0
    for _ in range(60):
        enrolment = services.enrol_patient(patient=new_patient(), protocol=wound, start_date=start, by=desk)
        for session in enrolment.sessions.filter(step__kind="treatment").order_by("sequence")[:3]:
            session.refresh_from_db()
            slots = selectors.free_slots(session, limit=1)
            if slots:
                slot = slots[0]
                services.book_session(session=session, start=slot.start, practitioner=User.objects.get(pk=slot.practitioner_id),
                                      room=Room.objects.filter(pk=slot.room_id).first(), by=desk)
                booked += 1
    probe = services.enrol_patient(patient=new_patient(), protocol=hair, start_date=start, by=desk)
    treatment = probe.sessions.filter(step__kind="treatment").order_by("sequence").first()
    results.append((f"free_slots, 15-day window, 3 practitioners, 3 rooms, {booked} bookings",
                    timed(lambda: selectors.free_slots(treatment), repeat)))

    def book_and_cancel():
        slot = selectors.free_slots(treatment, limit=1)[0]
        practitioner = User.objects.get(pk=slot.practitioner_id)
        room = Room.objects.filter(pk=slot.room_id).first()
        booked_session = services.book_session(session=treatment, start=slot.start, practitioner=practitioner,
                                               room=room, by=desk)
        services.cancel_booking(session=booked_session, by=desk)

    results.append(("book_session + cancel_booking (with cascade and reminders)", timed(book_and_cancel, repeat)))

    listing = Session.objects.filter(clinic=clinic, status=SessionStatus.BOOKED)
    results.append((f"sessions list query, {listing.count()} booked rows",
                    timed(lambda: list(selectors.sessions_of(clinic).filter(status=SessionStatus.BOOKED)), repeat)))

    from django.test import override_settings

    from sessions import outbox

    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        # One offset of 720 hours: every booked session's reminder is then
        # already due (the last one before the session goes at once), planned
        # the way the services plan it, so the scan's send-time checks pass.
        clinic.reminder_offsets_hours = [720]
        clinic.save(update_fields=["reminder_offsets_hours"])
        replan_reminders(clinic)
        due = Reminder.objects.filter(status=ReminderStatus.PENDING, due_at__lte=timezone.now()).count()
        began = time.perf_counter()
        outbox.scan()
        elapsed = time.perf_counter() - began
        sent = Reminder.objects.filter(status=ReminderStatus.SENT).count()
        results.append((f"reminder scan in-process: {sent} of {due} due sent (locmem backend), per email",
                        (elapsed / max(sent, 1), elapsed / max(sent, 1))))
    return results


if __name__ == "__main__":
    sys.exit(main())
