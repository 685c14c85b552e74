from django.core.management.base import BaseCommand

from messaging import outbox


class Command(BaseCommand):
    help = "Send every due reminder now, in this process (one scan of the outbox), and print the counts."

    def handle(self, *args, **options):
        counts = outbox.scan()
        order = ("released", "claimed", "sent", "retry", "failed", "void", "skipped")
        self.stdout.write(", ".join(f"{name} {counts.get(name, 0)}" for name in order))
