from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """Reports and exports (SPEC §11): a consumer of the domain apps, above
    `sessions`; it has no models of its own."""

    name = "reports"
    verbose_name = _("Reports and exports")
