from django.apps import AppConfig


class ClinicsConfig(AppConfig):
    name = "clinics"
    verbose_name = "Clinics and staff"

    def ready(self):
        from django.contrib.auth.signals import user_logged_out
        from django.db.models.signals import post_save

        from core.tokens import revoke_on_logout, revoke_on_password_change

        from .models import User

        # A new password, a deactivation or a logout ends the user's API token at once.
        post_save.connect(revoke_on_password_change, sender=User, dispatch_uid="revoke-token-password")
        user_logged_out.connect(revoke_on_logout, dispatch_uid="revoke-token-logout")
