from django.core.management.base import BaseCommand
from django.db import transaction

from clinics.models import Clinic
from protocols.library import EDITION, MEASURES, PROTOCOLS
from protocols.services import load_library, load_measures


class Command(BaseCommand):
    help = (
        "Load the standard outcome-measure catalogue and bring every clinic's standard protocols to the "
        "library's current edition: missing ones are added, older editions get a new version (enrolments keep "
        "theirs). Running it again changes nothing."
    )

    @transaction.atomic
    def handle(self, *args, **options):
        measures = load_measures()
        self.stdout.write(f"Outcome measures: {measures} created or updated ({len(MEASURES)} in the catalogue).")
        clinics = list(Clinic.objects.order_by("slug"))
        added_total = 0
        for clinic in clinics:
            added = load_library(clinic)
            added_total += added
            if added:
                self.stdout.write(
                    f"{clinic.name} ({clinic.slug}): added or gave a new version to {added} of the "
                    f"{len(PROTOCOLS)} standard protocols (edition {EDITION})."
                )
        if not clinics:
            self.stdout.write("No clinic yet: protocols are loaded into each clinic when it is created.")
        elif not added_total:
            self.stdout.write(
                f"Every clinic ({len(clinics)}) has the {len(PROTOCOLS)} standard protocols of edition {EDITION} already."
            )
        if measures or added_total:
            self.stdout.write(self.style.SUCCESS("Protocol library loaded."))
        else:
            self.stdout.write(self.style.SUCCESS("Nothing changed."))
