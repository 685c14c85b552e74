from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TreatmentSessionsConfig(AppConfig):
    name = "sessions"
    # django.contrib.sessions owns the label "sessions"; ours was set before
    # the first migration and must never change.
    label = "treatment_sessions"
    verbose_name = _("Treatment sessions")

    def ready(self):
        from audit.selectors import LOOKUPS

        from .selectors import correction_reasons

        # The audit log shows why an outcome was corrected (issue 24).
        LOOKUPS["correction_reasons"] = correction_reasons
