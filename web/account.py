"""The staff member's own account: their sign-ins and tokens, and ending
them all (SPEC §21)."""

from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from audit.log import record
from audit.models import Action
from clinics.tokens import active_sign_ins, active_tokens, end_sign_ins, expires_at, revoke_tokens


@login_required
def sign_ins(request):
    tokens = [(token, expires_at(token)) for token in active_tokens(request.user)]
    return render(
        request,
        "account/sign_ins.html",
        {
            "sessions": active_sign_ins(request.user),
            "tokens": tokens,
            "current_session": request.session.session_key,
            "nav": "account",
        },
    )


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
