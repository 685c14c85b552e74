"""The staff member's own account: their sign-ins and tokens, and ending
them all (SPEC §21); the language of their pages (SPEC §20)."""

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from audit.log import record
from audit.models import Action
from clinics.models import User
from clinics.tokens import active_sign_ins, active_tokens, end_sign_ins, expires_at, revoke_tokens
from core.languages import Language


class LanguageForm(forms.ModelForm):
    language = forms.ChoiceField(
        label=gettext_lazy("Language of these pages"),
        choices=[("", gettext_lazy("As my browser asks")), *Language.choices],
        required=False,
    )

    class Meta:
        model = User
        fields = ["language"]


@login_required
def sign_ins(request, language_form: LanguageForm | None = None, status: int = 200):
    tokens = [(token, expires_at(token)) for token in active_tokens(request.user)]
    return render(
        request,
        "account/sign_ins.html",
        {
            "sessions": active_sign_ins(request.user),
            "tokens": tokens,
            "current_session": request.session.session_key,
            "language_form": language_form or LanguageForm(instance=request.user),
            "nav": "account",
        },
        status=status,
    )


@login_required
@require_POST
def language(request):
    """The staff member's own language; blank: the browser's (core.middleware.UserLanguageMiddleware)."""
    form = LanguageForm(request.POST, instance=request.user)
    if not form.is_valid():
        return sign_ins(request, form, status=400)
    form.save()
    # This answer's message already in the new language.
    translation.activate(form.instance.language or translation.get_language_from_request(request))
    messages.success(request, _("Your language is saved."))
    return redirect("sign_ins")


@login_required
@require_POST
def logout_everywhere(request):
    user = request.user
    tokens = revoke_tokens(user)
    sessions = end_sign_ins(user)
    record(
        action=Action.LOGOUT,
        request=request,
        summary=f"Logged out everywhere: {tokens} API token(s), {sessions} browser session(s) ended",
    )
    logout(request)
    return redirect("login")
