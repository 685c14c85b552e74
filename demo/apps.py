from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo clinic (`manage.py load_demo`): a consumer of every domain
    app, so it sits above them all."""

    name = "demo"
    verbose_name = "Demo data"
