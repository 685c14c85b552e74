from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.text import slugify

from clinics.management.commands.create_staff import error_text
from clinics.models import validate_timezone
from core.languages import Language
from protocols.services import set_up_clinic


class Command(BaseCommand):
    help = "Create a clinic with default opening hours (Mon–Fri 09:00–17:00) and the standard protocol library."

    def add_arguments(self, parser):
        parser.add_argument("name", help="The clinic's name, e.g. 'Charité Skin'")
        parser.add_argument("--slug", help="Short unique name used in URLs (default: from the name)")
        parser.add_argument("--timezone", required=True, help="IANA time zone, e.g. Europe/Berlin")
        parser.add_argument("--sender-email", default="", help="From address of the clinic's reminder emails")
        parser.add_argument(
            "--language", choices=Language.values, default=Language.ENGLISH,
            help="The language the clinic writes to new patients in (default: en)",
        )

    def handle(self, *args, name, slug, timezone, sender_email, language, **options):
        name = name.strip()
        slug = (slug if slug is not None else slugify(name)).strip()
        if not name:
            raise CommandError("NAME must not be empty.")
        if not slug:
            raise CommandError("--slug must not be empty (and a slug could not be made from the name).")
        try:
            validate_timezone(timezone.strip())
        except ValidationError as error:
            raise CommandError(f"--timezone: {error_text(error)}") from None
        try:
            clinic = set_up_clinic(
                name=name, slug=slug, timezone=timezone.strip(), sender_email=sender_email.strip(), language=language
            )
        except ValidationError as error:
            raise CommandError(f"Clinic not created. {error_text(error)}") from None
        protocols = clinic.protocols.count()
        self.stdout.write(
            self.style.SUCCESS(
                f"Created clinic {clinic.name!r} (slug {clinic.slug}, {clinic.timezone}) "
                f"with {protocols} standard protocols; open Mon–Fri 09:00–17:00 until you change it."
            )
        )
