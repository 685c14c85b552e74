"""`manage.py generate_load --patients N --sessions M`: a clinic the size of
years of a chain's use, written with COPY (demo/load.py says what it holds)."""

import datetime as dt
import time
import zoneinfo

from django.core.management.base import BaseCommand, CommandError

from clinics.models import Clinic
from demo.load import generate


class Command(BaseCommand):
    help = "Generate a large clinic (patients, enrolments, sessions, outcomes, reminders) for benchmarks."

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=int, default=1000)
        parser.add_argument("--sessions", type=int, default=10_000)
        parser.add_argument("--seed", type=int, default=15, help="The same seed, sizes and --today give the same rows.")
        parser.add_argument("--slug", default="load", help="The new clinic's slug (it must not exist).")
        parser.add_argument("--practitioners", type=int, default=20, help="Clinicians, each with a room.")
        parser.add_argument("--today", type=dt.date.fromisoformat, default=None,
                            help="The day the data is built around (YYYY-MM-DD; default: today in the clinic).")
        parser.add_argument("--password", default=None, help="The staff's password (default: none can log in).")
        parser.add_argument("--timezone", default="Europe/Berlin", help="The clinic's IANA time zone.")
        parser.add_argument("--open-weekdays", default="012345",
                            help="The days the clinic opens, as digits 0 (Monday) to 6 (Sunday); default Monday to Saturday.")

    def handle(self, *args, patients, sessions, seed, slug, practitioners, today, password, timezone, open_weekdays,
               **options):
        if patients < 1 or sessions < 1 or practitioners < 1:
            raise CommandError("--patients, --sessions and --practitioners must be at least 1.")
        if timezone not in zoneinfo.available_timezones():
            raise CommandError(f"--timezone: {timezone!r} is not an IANA time zone (e.g. Europe/Berlin).")
        if not open_weekdays or not set(open_weekdays) <= set("0123456"):
            raise CommandError("--open-weekdays: digits 0 (Monday) to 6 (Sunday), e.g. 012345.")
        if Clinic.objects.filter(slug=slug).exists():
            raise CommandError(f"A clinic {slug!r} exists; choose another --slug.")
        began = time.perf_counter()

        def progress(summary):
            self.stderr.write(f"  {summary.sessions:,} sessions after {time.perf_counter() - began:.0f} s")

        summary = generate(slug=slug, patients=patients, sessions=sessions, seed=seed, practitioners=practitioners,
                           today=today, password=password, timezone_name=timezone,
                           open_weekdays=tuple(sorted({int(d) for d in open_weekdays})),
                           progress=progress if options["verbosity"] > 1 else None)
        elapsed = time.perf_counter() - began
        statuses = ", ".join(f"{k} {v:,}" for k, v in sorted(summary.by_status.items()))
        self.stdout.write(
            f"Clinic {slug!r}: {summary.patients:,} patients, {summary.enrolments:,} enrolments, "
            f"{summary.sessions:,} sessions ({statuses}), {summary.outcomes:,} outcomes, "
            f"{summary.reminders:,} reminders, {summary.adverse_events:,} adverse events in {elapsed:.1f} s."
        )
