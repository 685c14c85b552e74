from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "patients"

    def ready(self):
        from audit.selectors import LOOKUPS

        from .selectors import audit_patient_names, audit_patient_search

        # The audit log names patients and finds them by name (issue 24).
        LOOKUPS["patient_names"] = audit_patient_names
        LOOKUPS["patient_search"] = audit_patient_search
