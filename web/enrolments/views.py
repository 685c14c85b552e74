"""The enrol page: choose a protocol and start date, preview the dated
schedule, then enrol (SPEC §3)."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from audit.log import record_view
from clinics.models import Role
from core.pages import SERVICE_ERRORS, add_service_errors, clinic_today, error_text, staff_page
from patients.models import Patient
from protocols import schedule
from sessions.enrolments import workable
from sessions.enrolments.selectors import enrolments_of
from sessions.enrolments.services import enrol_patient, withdraw_enrolment
from web.enrolments.forms import EnrolForm, WithdrawForm


def _preview(clinic, protocol, start_date):
    """The planned rows (each marked when its window holds no open day) and
    the next start date that works, or (None, None) past the year 9999."""
    steps = list(protocol.steps.filter(arm="").order_by("position"))
    rules = [schedule.StepRule.of(s) for s in steps]
    try:
        planned = schedule.initial_schedule(start_date, rules)
        faults, suggestion = workable.check_schedule(clinic, start_date, steps)
    except OverflowError:
        return None, None
    rows = [{"planned": p, "step": steps[p.step_index], "unbookable": p.sequence in faults} for p in planned]
    return rows, {"faults": faults, "suggestion": suggestion, "text": workable.refusal(faults, suggestion)} if faults else None


def _paths(protocol, main_steps, planned) -> list[dict]:
    """Each path a decision may switch to (SPEC §19), planned as if every
    visit fell on its target date: the arm's sessions from its decision
    visit's target, and the paths an arm's own decision leads to, once each."""
    arms: dict[str, list] = {}
    for step in protocol.steps.exclude(arm="").order_by("position"):
        arms.setdefault(step.arm, []).append(step)
    paths, seen = [], set()
    queue = [(main_steps, planned, "")]
    while queue:
        steps, sessions, via = queue.pop(0)
        for p in sessions:
            step = steps[p.step_index]
            if not step.decision or (p.occurrence != step.repeat and step.decision.get("at") != "every"):
                continue
            try:
                rules = schedule.parse_rule_set(step.decision)
            except schedule.RuleError:
                continue
            for verdict in [*[(r.action, r.condition.text()) for r in rules.rules], (rules.default, _("otherwise"))]:
                action, when = verdict
                if action.kind != schedule.SWITCH_TO or action.arm in seen or action.arm not in arms:
                    continue
                seen.add(action.arm)
                arm_steps = arms[action.arm]
                arm_planned = schedule.plan_arm(
                    p.dates.target_date, [schedule.StepRule.of(s) for s in arm_steps], first_sequence=1
                )
                paths.append({
                    "arm": action.arm, "when": when, "at": f"{via}{step.name}", "rows": [
                        {"planned": a, "step": arm_steps[a.step_index]} for a in arm_planned
                    ],
                })
                queue.append((arm_steps, arm_planned, f"{action.arm}: "))
    return paths


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
    preview = problem = None
    paths = []
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        if request.POST.get("action") == "save":
            try:
                enrolment = enrol_patient(
                    patient=patient,
                    protocol=data["protocol"],
                    start_date=data["start_date"],
                    clinician=data["clinician"],
                    area=data["area"],
                    allow_concurrent=data["allow_concurrent"],
                    by=request.user,
                )
            except SERVICE_ERRORS as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    ngettext(
                        "{name} is enrolled in {protocol}; {count} session was planned.",
                        "{name} is enrolled in {protocol}; {count} sessions were planned.",
                        count := enrolment.sessions.count(),
                    ).format(name=patient.full_name, protocol=enrolment.protocol.name, count=count),
                )
                return redirect("patient_detail", pk=patient.pk)
        # Shown after a refused "Enrol" too, so the page says what to change.
        protocol, start_date = data.get("protocol"), data.get("start_date")
        if protocol is not None and start_date is not None:
            preview, problem = _preview(clinic, protocol, start_date)
            if preview is None:
                form.add_error("start_date", _("This start date puts sessions past the year 9999."))
            else:
                main = [row["step"] for row in preview]
                steps = list(protocol.steps.filter(arm="").order_by("position"))
                try:
                    paths = _paths(protocol, steps, [row["planned"] for row in preview]) if main else []
                except OverflowError:
                    paths = []
    context = {
        "nav": "patients", "patient": patient, "form": form, "preview": preview, "problem": problem,
        "paths": paths,
    }
    return render(request, "sessions/enrol.html", context)


@require_POST
@staff_page(Role.CLINICIAN)
def withdraw(request, pk):
    """Withdraw an enrolment from the patient page, with the reason."""
    enrolment = get_object_or_404(enrolments_of(request.user.clinic), pk=pk)
    form = WithdrawForm(request.POST, prefix=f"withdraw-{enrolment.pk}")
    if not form.is_valid():
        messages.error(request, _("Not withdrawn:") + " " + " ".join(m for errors in form.errors.values() for m in errors))
    else:
        try:
            withdraw_enrolment(enrolment=enrolment, reason=form.cleaned_data["reason"], by=request.user)
        except SERVICE_ERRORS as error:
            messages.error(request, _("Not withdrawn: {error}").format(error=error_text(error)))
        else:
            messages.success(
                request,
                _(
                    "{name} is withdrawn from {protocol}; planned and booked visits are cancelled and their "
                    "reminders stopped."
                ).format(name=enrolment.patient.full_name, protocol=enrolment.protocol.name),
            )
    return redirect("patient_detail", pk=enrolment.patient_id)
