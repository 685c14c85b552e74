"""What `make run` does before it serves, in one process (each manage.py
start costs a second or two of imports): migrate, load the protocol library,
load the demo clinic."""

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Migrate, load the protocol library and the demo clinic (make run's set-up)."

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("load_protocol_library", stdout=self.stdout)
        call_command("load_demo", stdout=self.stdout)
