"""The manager's protocol editor (issue 13): the protocol's fields and its
steps, a timeline preview of the unsaved steps, and saving through
protocols.services. A protocol with enrolments is saved as a new version:
the patients already on it keep the steps they started on."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from core.pages import SERVICE_ERRORS, add_service_errors, staff_page
from core.roles import Role
from protocols import services
from protocols.models import Protocol, Step
from protocols.services import PROTOCOL_FIELDS, STEP_FIELDS
from web.protocols.forms import ProtocolForm, StepFormSet
from web.protocols.views import _timeline


def _initial(protocol: Protocol) -> tuple[dict, list[dict]]:
    steps = [
        {**{f: getattr(s, f) for f in STEP_FIELDS}, "measures": list(s.measures.all())}
        for s in protocol.steps.order_by("position").prefetch_related("measures")
    ]
    return {f: getattr(protocol, f) for f in PROTOCOL_FIELDS}, steps


@staff_page(Role.MANAGER)
def protocol_edit(request, pk=None):
    protocol = None
    if pk is not None:
        protocol = get_object_or_404(Protocol.objects.filter(clinic=request.user.clinic), pk=pk)
    in_use = protocol is not None and protocol.enrolments.exists()
    timeline = None
    if request.method == "POST":
        form = ProtocolForm(request.POST)
        formset = StepFormSet(request.POST, prefix="steps")
        if form.is_valid() and formset.is_valid():
            steps = [f.as_step() for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
            if "preview" in request.POST:
                if steps:
                    main = [s for s in steps if not s.get("arm")]
                    timeline = _timeline([Step(**{k: v for k, v in s.items() if k != "measures"}) for s in main]) if main else None
            else:
                try:
                    if protocol is None:
                        saved = services.create_protocol(
                            clinic=request.user.clinic, data=form.cleaned_data, steps=steps, by=request.user
                        )
                    else:
                        saved = services.update_protocol(
                            protocol=protocol, data=form.cleaned_data, steps=steps, by=request.user
                        )
                except SERVICE_ERRORS as error:
                    add_service_errors(form, error)
                else:
                    new_version = protocol is not None and saved.pk != protocol.pk
                    messages.success(
                        request,
                        _("Saved as version {new}; patients already enrolled stay on version {old}.").format(
                            new=saved.version, old=protocol.version
                        )
                        if new_version
                        else _("{name} was saved.").format(name=saved.name),
                    )
                    return redirect("protocol_detail", saved.pk)
    elif protocol is not None:
        data, steps = _initial(protocol)
        form = ProtocolForm(initial=data)
        formset = StepFormSet(initial=steps, prefix="steps")
        main = list(protocol.steps.filter(arm="").order_by("position"))
        timeline = _timeline(main) if main else None
    else:
        form = ProtocolForm()
        formset = StepFormSet(prefix="steps")
    context = {
        "nav": "protocols", "protocol": protocol, "in_use": in_use, "form": form, "formset": formset,
        "timeline": timeline,
    }
    status = 400 if request.method == "POST" and (form.errors or formset.total_error_count()) else 200
    return render(request, "protocols/protocol_edit.html", context, status=status)
