from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """Reports and exports (SPEC §11): a consumer of the domain apps, above
    `sessions`; it has no models of its own."""

    name = "reports"
    verbose_name = "Reports and exports"
