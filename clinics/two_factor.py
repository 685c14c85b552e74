"""A second factor for staff (SPEC §21), with django-otp: a TOTP app, and ten
one-time recovery codes (django-otp's static device).

A user needs the second factor at sign-in when they turned it on (a
confirmed TOTP device) or when their clinic's `two_factor` setting requires
it for their role. The pages and the admin enforce it through
`SecondFactorMiddleware` (a signed-in session that is not verified reaches
only the sign-in, set-up and verify pages); the API's token endpoint asks
for `otp` (api/urls.py).
"""

import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.roles import Role

from .models import TwoFactor

RECOVERY_CODES = 10
TOTP_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"


def required_for(user) -> bool:
    """Whether the user's clinic requires a second factor of them."""
    clinic = getattr(user, "clinic", None) if getattr(user, "clinic_id", None) else None
    if clinic is None:
        return False
    if clinic.two_factor == TwoFactor.EVERYONE:
        return True
    return clinic.two_factor == TwoFactor.MANAGERS and user.role == Role.MANAGER


def totp_device(user, *, confirmed: bool = True) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).first()


def has_second_factor(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def needs_second_factor(user) -> bool:
    return has_second_factor(user) or required_for(user)


def start_enrolment(user) -> TOTPDevice:
    """A new, unconfirmed TOTP device: its secret goes into the app, a code from
    the app confirms it. An earlier unconfirmed one is dropped."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)


def secret_of(device: TOTPDevice) -> str:
    """The base32 secret an app accepts when typed in."""
    from base64 import b32encode

    return b32encode(device.bin_key).decode()


def otpauth_uri(device: TOTPDevice) -> str:
    return device.config_url


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth URI as an inline SVG QR code (segno), for the set-up page."""
    import segno

    return segno.make(otpauth_uri(device), error="m").svg_inline(scale=5, title="QR code for your authenticator app")


def clean_code(code) -> str:
    if not isinstance(code, str) or not code.strip() or len(code) > 32:
        raise ValidationError(_("Enter the six-digit code from your app, or a recovery code."))
    return "".join(code.split()).replace("-", "").lower()


@transaction.atomic
def confirm_enrolment(user, code) -> list[str]:
    """Turn the second factor on with a current code of the unconfirmed
    device; answers the ten new recovery codes (shown once)."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
    if device is None:
        raise ValidationError(_("There is no set-up to confirm: start one first."))
    if not device.verify_token(clean_code(code)):
        raise ValidationError(_("That code is not the current one: check the app's clock and try the next code."))
    TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return new_recovery_codes(user)


def new_recovery_codes(user) -> list[str]:
    """Ten new one-time recovery codes; the old ones stop working."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [secrets.token_hex(5) for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def verify(user, code):
    """The device that accepts `code` (a current TOTP code, or an unused
    recovery code, which is used up), or None. django-otp throttles each
    device after failures."""
    try:
        code = clean_code(code)
    except ValidationError:
        return None
    if code.isdigit() and len(code) == 6:
        device = totp_device(user)
        return device if device is not None and device.verify_token(code) else None
    for device in StaticDevice.objects.filter(user=user, confirmed=True):
        if device.verify_token(code):
            return device
    return None


def mark_verified(request, device) -> None:
    otp_login(request, device)


# --- Pages and the admin -------------------------------------------------------------------------

EXEMPT_NAMES = ("login", "logout", "two_factor", "two_factor_verify", "admin:login", "admin:logout")
EXEMPT_PREFIXES = ("/static/", "/healthz", "/readyz", "/favicon.ico")


class SecondFactorMiddleware:
    """A signed-in session that owes a second factor reaches only the pages
    that settle it: verify (with a device) or set up (required, none yet).
    API calls with such a session get a JSON 403; token calls are checked at
    the token endpoint instead."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(EXEMPT_PREFIXES)
            and request.path not in self._exempt_paths()
            and not user.is_verified()
            and needs_second_factor(user)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"detail": _("This sign-in needs its second factor: verify at /accounts/two-factor/verify/.")},
                    status=403,
                )
            name = "two_factor_verify" if has_second_factor(user) else "two_factor"
            return HttpResponseRedirect(f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)

    @staticmethod
    def _exempt_paths() -> set[str]:
        return {reverse(name) for name in EXEMPT_NAMES}
