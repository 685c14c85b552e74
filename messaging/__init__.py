"""Messages to patients: the reminder outbox, email building, calendar files, link tokens and the Celery tasks."""
