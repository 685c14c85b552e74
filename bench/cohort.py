"""The cohort report (SPEC §11) over 10,000 enrolments, against one
hand-written SQL statement that computes the same measure figures.

Builds the cohort with bulk inserts in a throwaway PostgreSQL database (the
services would take an hour for 10,000 courses; the report only reads rows),
checks that both answers agree, and prints a Markdown table for
docs/benchmarks.md.

    python bench/cohort.py --enrolments 10000 --repeat 5

`make bench` (bench/run.py) measures the same report over the API with the
pieces here: `cohort_clinic` builds the clinic once in the bench database and
reuses it, `hand_written` is the floor, `agree` checks the two answers.
"""

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")

import django
from django.db import connection
from django.test.utils import setup_test_environment

# One statement: the baseline visit per enrolment (first occurrence of the
# first assessment step), each value joined to its baseline value, grouped by
# measure and time point; n, mean, sd and median change, mean percent change,
# and the responder count of peak itch (a fall of at least 4 points).
HAND_WRITTEN = """
WITH cohort AS (
    SELECT e.id FROM patients_enrolment e WHERE e.clinic_id = %(clinic)s
), baseline AS (
    SELECT DISTINCT ON (s.enrolment_id) s.enrolment_id, s.id AS session_id
    FROM treatment_sessions_session s JOIN protocols_step st ON st.id = s.step_id
    WHERE s.enrolment_id IN (SELECT id FROM cohort) AND st.kind = 'assessment' AND s.occurrence = 1
    ORDER BY s.enrolment_id, st.position
), paired AS (
    SELECT o.measure_id, st.position, st.name, s.occurrence, o.value, b.value AS baseline, m.ordinal
    FROM treatment_sessions_outcomemeasurement o
    JOIN treatment_sessions_session s ON s.id = o.session_id
    JOIN protocols_step st ON st.id = s.step_id
    JOIN protocols_outcomemeasure m ON m.id = o.measure_id
    JOIN baseline bl ON bl.enrolment_id = s.enrolment_id
    JOIN treatment_sessions_outcomemeasurement b ON b.session_id = bl.session_id AND b.measure_id = o.measure_id
    WHERE s.status = 'completed' AND s.enrolment_id IN (SELECT id FROM cohort)
)
SELECT measure_id, position, name, occurrence,
       count(*) AS n,
       avg((value - baseline)::float8) AS mean_change,
       stddev_samp((value - baseline)::float8) AS sd_change,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY (value - baseline)::float8) AS median_change,
       avg((value - baseline)::float8 * 100 / baseline::float8)
           FILTER (WHERE baseline > 0 AND value >= 0 AND NOT ordinal) AS mean_percent_change,
       count(*) FILTER (WHERE baseline - value >= 4) AS itch_responders
FROM paired
GROUP BY measure_id, position, name, occurrence
ORDER BY measure_id, position, occurrence
"""


def build(enrolments: int, slug: str = "bench"):
    """A hair course (baseline, 4 injections, end-of-course, 6-month follow-up):
    density at the 3 assessments, peak itch and pain at each visit: about
    10 values per course."""
    from django.utils import timezone

    from clinics.models import Role, User
    from patients.models import Enrolment, EnrolmentStatus, Patient
    from protocols.models import OutcomeMeasure
    from sessions.models import OutcomeMeasurement, Session, SessionStatus
    from tests.factories import ClinicFactory, make_protocol, step

    rng = random.Random(11)
    clinic = ClinicFactory(name=f"Bench ({slug})", slug=slug)
    user = User.objects.create(username=slug, clinic=clinic, role=Role.MANAGER)
    protocol = make_protocol(
        clinic,
        name="Hair (bench)",
        steps=[
            step("Baseline", "assessment", measures=["hair_density", "itch_nrs"]),
            step("Injection", repeat=4, interval_days=14, window_after_days=14, measures=["pain_vas"]),
            step("End of course", "assessment", interval_days=14, measures=["hair_density", "itch_nrs"]),
            step("Follow-up", "assessment", interval_days=180, anchor="start", measures=["hair_density"]),
        ],
    )
    steps = list(protocol.steps.order_by("position"))
    measures = {m.code: m for m in OutcomeMeasure.objects.all()}
    now = timezone.now()
    start = dt.date(2025, 1, 6)
    patients = Patient.objects.bulk_create(
        [
            Patient(clinic=clinic, record_number=f"B{i:06d}", first_name="B", last_name=f"P{i}",
                    date_of_birth=dt.date(1970 + i % 30, 1 + i % 12, 1 + i % 28), sex=("female", "male")[i % 2])
            for i in range(enrolments)
        ],
        batch_size=2000,
    )
    courses = Enrolment.objects.bulk_create(
        [
            Enrolment(clinic=clinic, patient=p, protocol=protocol, start_date=start + dt.timedelta(days=i % 300),
                      status=EnrolmentStatus.COMPLETED if i % 10 else EnrolmentStatus.WITHDRAWN)
            for i, p in enumerate(patients)
        ],
        batch_size=2000,
    )
    sessions = []
    for course in courses:
        sequence = 0
        day = course.start_date
        for st in steps:
            for occurrence in range(1, st.repeat + 1):
                sequence += 1
                day = course.start_date + dt.timedelta(days=180) if st.name == "Follow-up" else day + dt.timedelta(
                    days=st.interval_days if sequence > 1 else 0
                )
                status = SessionStatus.SKIPPED if rng.random() < 0.03 else SessionStatus.COMPLETED
                sessions.append(
                    Session(clinic=clinic, enrolment=course, patient_id=course.patient_id, step=st, sequence=sequence,
                            occurrence=occurrence, status=status, target_date=day, window_start=day,
                            window_end=day + dt.timedelta(days=st.window_after_days),
                            out_of_window=rng.random() < 0.05, completed_at=now if status == "completed" else None,
                            missed_count=1 if rng.random() < 0.02 else 0)
                )
    Session.objects.bulk_create(sessions, batch_size=5000)
    values = []
    for session in Session.objects.filter(clinic=clinic, status=SessionStatus.COMPLETED).select_related("step"):
        for code in {"Baseline": ("hair_density", "itch_nrs"), "Injection": ("pain_vas", "itch_nrs"),
                     "End of course": ("hair_density", "itch_nrs"), "Follow-up": ("hair_density",)}[session.step.name]:
            if code == "hair_density":
                value = Decimal(rng.randint(90, 180))
            elif code == "itch_nrs":
                value = Decimal(rng.randint(0, 10))
            else:
                value = Decimal(rng.randint(0, 10))
            values.append(
                OutcomeMeasurement(session=session, measure=measures[code], value=value, recorded_by=user,
                                   recorded_at=now, observed_on=session.target_date)
            )
    OutcomeMeasurement.objects.bulk_create(values, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return clinic, len(values)


def cohort_clinic(enrolments: int) -> tuple:
    """The clinic of `enrolments` hair courses and its count of values: built
    the first time (slug cohort-N), reused afterwards."""
    from clinics.models import Clinic
    from sessions.models import OutcomeMeasurement

    slug = f"cohort-{enrolments}"
    found = Clinic.objects.filter(slug=slug).first()
    if found:
        return found, OutcomeMeasurement.objects.filter(session__clinic=found).count()
    return build(enrolments, slug=slug)


def hand_written(clinic) -> list[tuple]:
    """The floor: the hand-written statement's rows."""
    with connection.cursor() as cursor:
        cursor.execute(HAND_WRITTEN, {"clinic": clinic.pk})
        return cursor.fetchall()


def agree(report: dict, rows: list[tuple]) -> int:
    """Asserts that the report (from `cohort_report` or the API's JSON) and the
    hand-written rows give the same n, mean change and itch responders at every
    time point with a baseline; returns how many time points were compared."""
    from protocols.models import OutcomeMeasure

    codes = dict(OutcomeMeasure.objects.values_list("pk", "code"))
    sql = {(codes[row[0]], row[1], row[3]): row for row in rows}
    checked = 0
    for measure in report["measures"]:
        for point in measure["time_points"]:
            if point["n"] == 0:  # no baseline anywhere (procedure pain): no row in the inner join
                continue
            row = sql[(measure["code"], point["step_position"], point["occurrence"])]
            assert row[4] == point["n"], (measure["code"], point, row)
            if measure["code"] == "itch_nrs":
                assert row[9] == point["responders"][0]["responders"], (point, row)
            mean_change = Decimal(str(point["mean_change"]))
            assert round(Decimal(str(row[5])), 2) == mean_change, (measure["code"], point, row)
            checked += 1
    assert checked == len(sql), (checked, len(sql))
    return checked


def timed(fn, repeat):
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples), min(samples)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--enrolments", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        from reports.selectors import cohort_report

        clinic, count = build(args.enrolments)
        today = dt.date(2026, 6, 1)
        checked = agree(cohort_report(clinic, today=today), hand_written(clinic))
        report_time = timed(lambda: cohort_report(clinic, today=today), args.repeat)
        sql_time = timed(lambda: hand_written(clinic), args.repeat)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    print(f"{args.enrolments} enrolments, {count} values; {checked} time points agree\n")
    print("| benchmark | median | best |")
    print("|---|---|---|")
    print(f"| cohort_report (every figure, ORM) | {report_time[0] * 1000:.0f} ms | {report_time[1] * 1000:.0f} ms |")
    print(f"| one hand-written SQL (measure figures only) | {sql_time[0] * 1000:.0f} ms | {sql_time[1] * 1000:.0f} ms |")
    print(f"\nratio (median): {report_time[0] / sql_time[0]:.2f}")
    return 0


if __name__ == "__main__":
    django.setup()
    sys.exit(main())
