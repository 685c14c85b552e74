"""`manage.py import_enrolments FILE --by MANAGER`: bulk enrolment from a
CSV (sessions/enrolments/bulk.py); every row checked, errors by line,
nothing written on any error."""

from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from clinics.models import User
from sessions.enrolments.bulk import import_enrolments


class Command(BaseCommand):
    help = "Enrol new patients from a CSV file (manager): all rows, or none when any row is wrong."

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV with a header line (see sessions/enrolments/bulk.py), or - for stdin")
        parser.add_argument("--by", required=True, help="The username of a manager; their clinic is imported into")

    def handle(self, *args, file, by, **options):
        manager = User.objects.select_related("clinic").filter(username=by).first()
        if manager is None or manager.clinic is None:
            raise CommandError(f"No staff member {by!r} of a clinic.")
        try:
            text = self.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {file}: {error}") from None
        try:
            imported = import_enrolments(clinic=manager.clinic, text=text, by=manager)
        except PermissionDenied as error:
            raise CommandError(str(error)) from None
        except ValidationError as error:
            lines = error.message_dict.get("csv", error.messages) if hasattr(error, "error_dict") else error.messages
            raise CommandError("Nothing imported:\n" + "\n".join(lines)) from None
        self.stdout.write(
            f"Imported {imported.patients} patients, {imported.enrolments} enrolments, {imported.sessions} sessions "
            f"and {imported.reminders} reminders into {manager.clinic.slug}."
        )
