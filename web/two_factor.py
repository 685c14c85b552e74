"""The second factor's pages (SPEC §21): set it up with an authenticator app
(a QR code, or the secret typed in), see the ten recovery codes once, and
verify a sign-in. The rules are in clinics/two_factor.py."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from audit.log import record
from audit.models import Action
from clinics import two_factor


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text"}),
    )


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    return target if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}) else "/"


@login_required
def set_up(request):
    user = request.user
    if two_factor.has_second_factor(user):
        return render(request, "account/two_factor_on.html", {"required": two_factor.required_for(user)})
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = two_factor.confirm_enrolment(user, form.cleaned_data["code"])
        except ValidationError as error:
            form.add_error("code", error)
        else:
            two_factor.mark_verified(request, two_factor.totp_device(user))
            record(action=Action.CHANGE, request=request, obj=user, summary="Second factor turned on")
            return render(request, "account/recovery_codes.html", {"codes": codes, "next": _next(request)})
    device = two_factor.totp_device(user, confirmed=False) or two_factor.start_enrolment(user)
    return render(
        request,
        "account/two_factor_set_up.html",
        {
            "form": form,
            "secret": two_factor.secret_of(device),
            "uri": two_factor.otpauth_uri(device),
            "qr": two_factor.qr_svg(device),
            "required": two_factor.required_for(user),
            "next": _next(request),
        },
    )


@login_required
def verify(request):
    user = request.user
    if not two_factor.has_second_factor(user):
        return redirect("two_factor")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = two_factor.verify(user, form.cleaned_data["code"])
        if device is not None:
            two_factor.mark_verified(request, device)
            return redirect(_next(request))
        form.add_error(
            "code", _("That code is wrong, or a recovery code already used. Wait for the next code.")
        )
    return render(request, "account/two_factor_verify.html", {"form": form, "next": _next(request)}, status=200)


@login_required
@require_POST
def recovery_codes(request):
    user = request.user
    if not two_factor.has_second_factor(user):
        return redirect("two_factor")
    codes = two_factor.new_recovery_codes(user)
    record(action=Action.CHANGE, request=request, obj=user, summary="New recovery codes made")
    return render(request, "account/recovery_codes.html", {"codes": codes, "next": "/"})
