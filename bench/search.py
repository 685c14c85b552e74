"""Patient search at 100,000 patients (issue 13): how long the searches the
front desk types take on PostgreSQL, with the trigram index of migration
patients 0002. Runs in a throwaway database; prints a Markdown table and
the plan of one search. Speed is measured here, never asserted in tests.

    python bench/search.py --patients 100000 --repeat 5
"""

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from bench.run import timed  # noqa: E402

LAST = ["Müller", "Schmidt", "Yılmaz", "Krüger", "Hartmann", "Weber", "Öztürk", "Schäfer", "Nowak", "Dubois",
        "Fischer", "Wagner", "Becker", "Hoffmann", "Schulz", "Koch", "Richter", "Klein", "Wolf", "Neumann"]
FIRST = ["Petra", "Jürgen", "Ayşe", "Renée", "Hanna", "Lukas", "Zoë", "Mehmet", "Anna", "François"]

FILL = """
INSERT INTO patients_patient (clinic_id, record_number, first_name, last_name, date_of_birth, email, phone,
                              skin_type, reminder_consent, created_at)
SELECT %(clinic)s, 'MRN-' || lpad(n::text, 6, '0'),
       (%(first)s::text[])[1 + n %% 10] || CASE WHEN n %% 7 = 0 THEN '' ELSE ' ' || n::text END,
       (%(last)s::text[])[1 + (n / 10) %% 20] || CASE WHEN n %% 3 = 0 THEN '' ELSE '-' || (n %% 997)::text END,
       date '1940-01-01' + (n %% 25000), 'p' || n || '@example.org', '+49 30 ' || (5000000 + n)::text,
       1 + n %% 6, true, now()
FROM generate_series(1, %(count)s) AS n
"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        rows, plan = run(args.patients, args.repeat)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    print(f"| search over {args.patients:,} patients | rows | median | best |")
    print("|---|---|---|---|")
    for name, count, (median, best) in rows:
        print(f"| `{name}` | {count} | {median * 1000:.1f} ms | {best * 1000:.1f} ms |")
    print("\nPlan of `muller`:\n")
    print(plan)
    return 0


def run(count: int, repeat: int):
    from clinics.models import Clinic
    from patients.selectors import patients_of, search_patients

    clinic = Clinic.objects.create(name="Bench", slug="bench", timezone="Europe/Berlin")
    with connection.cursor() as cursor:
        cursor.execute(FILL, {"clinic": clinic.pk, "first": FIRST, "last": LAST, "count": count})
        cursor.execute("ANALYZE patients_patient")
    rows = []
    for text in ["muller", "Hartmann, Petra", "yilmaz ayse", "MRN-054321", "030 505 4321", "17.05.1965",
                 "p54321@example.org", "zz-nobody"]:
        def page(text=text):
            return list(search_patients(patients_of(clinic), text)[:200])

        rows.append((text, len(page()), timed(page, repeat)))
    plan = search_patients(patients_of(clinic), "muller")[:200].explain(analyze=True)
    return rows, plan


if __name__ == "__main__":
    sys.exit(main())
