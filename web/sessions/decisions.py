"""The proposal a decision visit made (SPEC §19), on the page the
completion leads to: what the rules read and proposed, and a clinician's
accept or override (with a reason), which re-plans the course."""

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clinics.models import Role
from core.pages import SERVICE_ERRORS, add_service_errors, error_text, staff_page
from core.text import multi_line
from protocols import schedule
from sessions.decisions import accept_decision, override_decision
from sessions.models import Decision, DecisionStatus


def action_choices(protocol) -> list[tuple[str, str]]:
    arms = sorted(set(protocol.steps.exclude(arm="").values_list("arm", flat=True)))
    return [
        ("continue", _("Continue as planned")),
        *[(f"switch_to: {arm}", _("Switch to the {arm} arm").format(arm=arm)) for arm in arms],
        ("stop_treatments", _("Stop treatments (follow-ups kept)")),
        ("review", _("No change (review)")),
    ]


class OverrideForm(forms.Form):
    action = forms.ChoiceField(label=gettext_lazy("Instead"))
    reason = forms.CharField(validators=[multi_line], label=gettext_lazy("Why"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, protocol, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = action_choices(protocol)


def _decision_or_404(request, pk) -> Decision:
    return get_object_or_404(
        Decision.objects.filter(clinic=request.user.clinic).select_related(
            "session__step", "session__patient", "enrolment__protocol", "decided_by"
        ),
        pk=pk,
    )


def describe(action_text: str) -> str:
    action = schedule.parse_action(action_text)
    return {
        schedule.CONTINUE: _("continue the course as planned"),
        schedule.STOP_TREATMENTS: _("stop the remaining treatments (follow-ups stay)"),
        schedule.REVIEW: _("no change: the clinician reviews the course"),
    }.get(action.kind) or _("switch to the {arm} arm").format(arm=action.arm)


@staff_page()
def decision_detail(request, pk):
    decision = _decision_or_404(request, pk)
    protocol = decision.enrolment.protocol
    form = OverrideForm(request.POST or None, protocol=protocol, prefix="override")
    if request.method == "POST":
        if not request.user.has_role(Role.CLINICIAN):
            messages.error(request, _("Only a clinician or manager decides on a proposal."))
            return redirect("decision_detail", pk=decision.pk)
        try:
            if "accept" in request.POST:
                accept_decision(decision=decision, by=request.user)
                messages.success(
                    request,
                    _("Accepted: {action}. The course is re-planned.").format(action=describe(decision.proposed_action)),
                )
                return redirect("decision_detail", pk=decision.pk)
            if form.is_valid():
                override_decision(
                    decision=decision, action=form.cleaned_data["action"], reason=form.cleaned_data["reason"],
                    by=request.user,
                )
                messages.success(request, _("Overridden; the course is re-planned."))
                return redirect("decision_detail", pk=decision.pk)
        except SERVICE_ERRORS as error:
            if "accept" in request.POST:
                messages.error(request, error_text(error))
            else:
                add_service_errors(form, error)
    context = {
        "nav": "patients",
        "decision": decision,
        "session": decision.session,
        "proposal": describe(decision.proposed_action),
        "chosen": describe(decision.chosen_action) if decision.chosen_action else "",
        "pending": decision.status == DecisionStatus.PENDING,
        "may_decide": request.user.has_role(Role.CLINICIAN),
        "form": form,
        "measures": sorted(decision.values.get("measures", {}).items()),
        "responders": sorted(decision.values.get("responders", {}).items()),
    }
    return render(request, "sessions/decision.html", context)
