"""The correction page of one outcome value (SPEC §10): a clinician enters
the right value (or a scored instrument's items) and why; every version
stays listed below."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clinics.models import Role
from core.pages import staff_page
from core.text import single_line
from sessions import services
from sessions.models import OutcomeMeasurement
from sessions.outcomes.completion import REASON_MAX
from web.sessions.forms import CompleteForm


class CorrectionForm(CompleteForm):
    """The Complete page's input for one measure (its items too), and a reason."""

    reason = forms.CharField(validators=[single_line], label=gettext_lazy("Reason for the correction"), max_length=REASON_MAX)


def _current_values(measurement: OutcomeMeasurement) -> dict:
    """The form filled with what is recorded now: the value, or a scored
    instrument's items (its total is worked out from them)."""
    code = measurement.measure.code
    initial = {CompleteForm.measure_field(code): measurement.value}
    items = measurement.items or {}
    for name, path in CompleteForm(measures=[measurement.measure]).item_paths.get(code, {}).items():
        node = items
        for part in path:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                node = None
                break
        if node is not None:
            initial[name] = node
    return initial


@staff_page(Role.CLINICIAN)
def outcome_correct(request, pk):
    measurement = get_object_or_404(
        OutcomeMeasurement.objects.select_related("measure", "session__step", "session__patient", "session__clinic"),
        pk=pk,
        session__clinic=request.user.clinic,
    )
    form = CorrectionForm(
        request.POST or None, measures=[measurement.measure], initial=_current_values(measurement)
    )
    if request.method == "POST" and form.is_valid():
        [outcome] = form.outcomes() or [{}]
        try:
            services.correct_outcome(
                measurement=measurement,
                value=outcome.get("value"),
                items=outcome.get("items"),
                reason=form.cleaned_data["reason"],
                by=request.user,
            )
        except ValidationError as error:
            for field, texts in getattr(error, "message_dict", {"": error.messages}).items():
                target = "reason" if field == "reason" else CompleteForm.measure_field(measurement.measure.code)
                for text in texts:
                    form.add_error(target, text)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("{measure} at {session} was corrected.").format(
                    measure=measurement.measure.name, session=measurement.session
                ),
            )
            return redirect("patient_detail", pk=measurement.session.patient_id)
    versions = measurement.history.select_related("history_user").order_by("-history_date", "-history_id")
    return render(
        request,
        "sessions/outcome_correct.html",
        {"nav": "patients", "measurement": measurement, "form": form, "versions": versions},
    )
