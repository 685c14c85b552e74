"""Password reset by email (SPEC §21) with Django's own views.

The form, the one-use token (Django's PasswordResetTokenGenerator hashes the
password and the last login into it, so a link stops working once the
password is set) and the pages are Django's. Added here:

- a throttle per client address (PASSWORD_RESET_RATE_PER_ADDRESS): over it,
  a 429 page; and per account, i.e. per address entered
  (PASSWORD_RESET_RATE_PER_ACCOUNT): over it, no further email, but the same
  "check your inbox" answer, so the answer never tells whether an address
  belongs to a staff member;
- the link is built from SITE_URL, not from the request's Host header.

The email goes through Django's mail (PasswordResetForm.send_mail, the
configured EMAIL_BACKEND) directly, not through the patients' outbox: the
outbox's retry and audit guarantees are for patient messages; a staff
member whose mail failed asks again.
"""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect
from django.shortcuts import render

from core.addresses import client_address
from core.throttle import hit, normalized_username, parse_rate


class PasswordResetView(auth_views.PasswordResetView):
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"

    def get_extra_email_context(self):
        return {"site_url": settings.SITE_URL.rstrip("/")}

    def form_valid(self, form):
        limit, seconds = parse_rate(settings.PASSWORD_RESET_RATE_PER_ADDRESS)
        if not hit("reset-address", client_address(self.request) or "unknown", limit=limit, seconds=seconds):
            response = render(self.request, "registration/password_reset_throttled.html", status=429)
            response["Retry-After"] = str(seconds)
            return response
        limit, seconds = parse_rate(settings.PASSWORD_RESET_RATE_PER_ACCOUNT)
        if not hit("reset-account", normalized_username(form.cleaned_data["email"]), limit=limit, seconds=seconds):
            # The same answer as a sent email: nothing tells the address apart.
            return HttpResponseRedirect(self.get_success_url())
        self.extra_email_context = self.get_extra_email_context()
        return super().form_valid(form)
