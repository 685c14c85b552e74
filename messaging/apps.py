from django.apps import AppConfig


class MessagingConfig(AppConfig):
    """An app for its email templates, Celery tasks and management command; it has no models.
    (Not `messages`: django.contrib.messages owns that label.)"""

    name = "messaging"
