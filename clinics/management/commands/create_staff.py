from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from clinics.models import Clinic, Role, User
from clinics.services import create_staff


def error_text(error: ValidationError) -> str:
    """One readable line per field, for a CommandError instead of a traceback."""
    if hasattr(error, "error_dict"):
        return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items())
    return " ".join(error.messages)

class Command(BaseCommand):
    help = "Create a staff member of a clinic: reception, clinician or manager (managers may use the admin)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--clinic", required=True, help="The clinic's slug")
        parser.add_argument("--role", required=True, help=f"One of {', '.join(Role.values)}")
        parser.add_argument("--password", required=True)
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--email", default="")

    def handle(self, *args, username, clinic, role, password, first_name, last_name, email, **options):
        username = username.strip()
        try:
            User.username_validator(username)
        except ValidationError as error:
            raise CommandError(f"Username {username!r}: {error_text(error)}") from None
        found = Clinic.objects.filter(slug=clinic.strip()).first()
        if found is None:
            known = ", ".join(Clinic.objects.values_list("slug", flat=True)[:20]) or "none yet; run create_clinic"
            raise CommandError(f"No clinic with slug {clinic!r} (known: {known}).")
        role = role.strip().lower()
        if role not in Role.values:
            raise CommandError(f"Unknown role {role!r}: choose one of {', '.join(Role.values)}.")
        if email:
            try:
                validate_email(email)
            except ValidationError as error:
                raise CommandError(f"--email: {error_text(error)}") from None
        try:
            validate_password(password, User(username=username, first_name=first_name, last_name=last_name, email=email))
        except ValidationError as error:
            raise CommandError(f"--password: {error_text(error)}") from None
        try:
            user = create_staff(
                username=username,
                clinic=found,
                role=role,
                password=password,
                first_name=first_name.strip(),
                last_name=last_name.strip(),
                email=email.strip(),
            )
        except ValidationError as error:
            raise CommandError(f"Staff member not created. {error_text(error)}") from None
        admin_note = " (may sign in to the admin)" if user.is_staff else ""
        self.stdout.write(
            self.style.SUCCESS(f"Created {user.role} {user.username!r} of {found.name}{admin_note}.")
        )
