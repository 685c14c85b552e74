from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClinicsConfig(AppConfig):
    name = "clinics"
    verbose_name = _("Clinics and staff")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in, user_logged_out
        from django.db.models.signals import post_save

        import core.checks  # noqa: F401 - registers the settings checks
        from core.auth import clear_claims_on_login

        from .models import User
        from .tokens import record_sign_in, revoke_on_logout, revoke_on_password_change

        # A new password, a deactivation or a logout ends the user's API token at once.
        post_save.connect(revoke_on_password_change, sender=User, dispatch_uid="revoke-token-password")
        user_logged_out.connect(revoke_on_logout, dispatch_uid="revoke-token-logout")
        # Browser sign-ins are listed and can be ended from elsewhere (SPEC §21).
        user_logged_in.connect(record_sign_in, dispatch_uid="record-sign-in")
        user_logged_in.connect(clear_claims_on_login, dispatch_uid="clear-login-claims")
