from django.apps import AppConfig


class WebConfig(AppConfig):
    """An app for its templates and context processor; it has no models."""

    name = "web"
