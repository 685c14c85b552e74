"""The enrol page: choose a protocol and start date, preview the dated
schedule, then enrol (SPEC §3)."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render

from audit.log import record_view
from core.pages import SERVICE_ERRORS, add_service_errors, clinic_today, staff_page
from patients.models import Patient
from protocols import schedule

from .forms import EnrolForm
from .services import enrol_patient


def _preview(protocol, start_date):
    steps = list(protocol.steps.order_by("position"))
    rules = [schedule.StepRule.of(s) for s in steps]
    try:
        planned = schedule.initial_schedule(start_date, rules)
    except OverflowError:
        return None
    return [{"planned": p, "step": steps[p.step_index]} for p in planned]


@staff_page()
def enrol(request, pk):
    clinic = request.user.clinic
    patient = get_object_or_404(Patient, pk=pk, clinic=clinic)
    if request.method == "GET":
        record_view(request, patient)
    initial = {"start_date": clinic_today(clinic)}
    if request.user.is_practitioner:
        initial["clinician"] = request.user.pk
    form = EnrolForm(request.POST or None, clinic=clinic, initial=initial)
    preview = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if request.POST.get("action") == "save":
            try:
                enrolment = enrol_patient(
                    patient=patient,
                    protocol=data["protocol"],
                    start_date=data["start_date"],
                    clinician=data["clinician"],
                    area=data["area"],
                    by=request.user,
                )
            except SERVICE_ERRORS as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    f"{patient.full_name} is enrolled in {enrolment.protocol.name}; "
                    f"{enrolment.sessions.count()} sessions were planned.",
                )
                return redirect("patient_detail", pk=patient.pk)
        if form.is_valid():
            preview = _preview(data["protocol"], data["start_date"])
            if preview is None:
                form.add_error("start_date", "This start date puts sessions past the year 9999.")
    return render(
        request, "sessions/enrol.html", {"nav": "patients", "patient": patient, "form": form, "preview": preview}
    )
