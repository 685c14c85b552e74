"""The Celery app. Broker: Redis when REDIS_URL is set, otherwise kombu's
filesystem transport under var/broker (settings decide, see CELERY_*)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("regimen")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def schedule_reminder_scan(sender: Celery, **kwargs) -> None:
    """Beat claims due reminder rows every REMINDER_SCAN_SECONDS. A scan that
    waited in the queue longer than one interval is dropped (`expires`): the
    next one does the same work."""
    from django.conf import settings

    every = settings.REMINDER_SCAN_SECONDS
    sender.add_periodic_task(
        every, sender.signature("sessions.scan_due_reminders"), name="scan due reminders", expires=every
    )


@app.on_after_configure.connect
def schedule_holiday_sync(sender: Celery, **kwargs) -> None:
    """Once a day, each clinic's public holidays become closures (issue 24):
    a new year's holidays appear well ahead, and a changed region is followed."""
    sender.add_periodic_task(
        24 * 3600, sender.signature("sessions.sync_holiday_closures"), name="sync holiday closures", expires=3600
    )
