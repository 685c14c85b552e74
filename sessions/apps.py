from django.apps import AppConfig


class TreatmentSessionsConfig(AppConfig):
    name = "sessions"
    # django.contrib.sessions owns the label "sessions"; ours was set before
    # the first migration and must never change.
    label = "treatment_sessions"
    verbose_name = "Treatment sessions"
