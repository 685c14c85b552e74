"""Patient pages: the list with search, create and edit, and the patient page
with every enrolment's schedule, outcome charts, adverse events, deviations
and reminder history. Here, above the patients app, because the patient
page shows their courses and an edit re-plans their reminders."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit.log import record, record_view
from audit.models import Action
from clinics.models import Role
from core.pages import SERVICE_ERRORS, add_service_errors, clinic_today, staff_page
from core.text import in_sentence
from patients import services
from patients.consents import consents_of, current_consents
from patients.models import ConsentKind, Patient
from patients.selectors import search_patients
from sessions.enrolments.selectors import enrolments_of
from sessions.models import AdverseEvent, Decision, Deviation, Reminder, ReminderStatus, SessionPhoto, SessionStatus
from sessions.outcomes.selectors import outcomes_by_enrolment
from sessions.patients.changes import change_consent, update_patient
from sessions.records.photos import add_photo, baseline_and_latest
from web.enrolments.forms import WithdrawForm
from web.patients.charts import outcome_chart
from web.patients.forms import ConsentForm, PatientForm, PatientSearchForm
from web.sessions.forms import PhotoForm


@staff_page()
def patient_list(request):
    clinic = request.user.clinic
    search = PatientSearchForm(request.GET or None)
    patients = Patient.objects.filter(clinic=clinic)
    query = ""
    if search.is_valid():
        query = search.cleaned_data["q"].strip().replace("\x00", "")
        if query:
            patients = search_patients(patients, query)
    return render(
        request,
        "patients/patient_list.html",
        {"nav": "patients", "search": search, "query": query, "patients": patients[:200]},
    )


def _save_patient(request, form, patient=None):
    data = form.cleaned_data
    try:
        if patient is None:
            return services.create_patient(clinic=request.user.clinic, data=data, by=request.user)
        return update_patient(patient=patient, data=data, by=request.user)
    except ValidationError as error:
        add_service_errors(form, error)
        return None


@staff_page()
def patient_create(request):
    form = PatientForm(request.POST or None, instance=Patient(clinic=request.user.clinic))
    if request.method == "POST" and form.is_valid():
        patient = _save_patient(request, form)
        if patient is not None:
            messages.success(request, _("{name} was added.").format(name=patient.full_name))
            return redirect("patient_detail", pk=patient.pk)
    return render(request, "patients/patient_form.html", {"nav": "patients", "form": form, "patient": None})


@staff_page()
def patient_edit(request, pk):
    patient = get_object_or_404(Patient, pk=pk, clinic=request.user.clinic)
    if request.method == "GET":
        record_view(request, patient)
    # The form edits a copy, so a rejected change never shows on the page header.
    form = PatientForm(request.POST or None, instance=Patient.objects.get(pk=patient.pk))
    if request.method == "POST" and form.is_valid():
        saved = _save_patient(request, form, patient)
        if saved is not None:
            messages.success(request, _("{name} was saved.").format(name=saved.full_name))
            return redirect("patient_detail", pk=saved.pk)
    return render(request, "patients/patient_form.html", {"nav": "patients", "form": form, "patient": patient})


def _span(enrolment):
    """The first and last day the enrolment's timeline bands are drawn over."""
    days = [d for s in enrolment.sessions.all() for d in (s.window_start, s.window_end)]
    days += [
        (s.completed_at or s.start).astimezone(enrolment.clinic.tz).date()
        for s in enrolment.sessions.all()
        if s.completed_at or s.start
    ]
    first, last = min(days), max(days)
    return first, max((last - first).days, 1)


def _timeline_rows(enrolment, *, today, now):
    first, length = _span(enrolment)

    def pos(day):
        return round((day - first).days / length * 100, 2)

    rows = []
    for session in enrolment.sessions.all():
        # The dot marks when it happened (completed) or will (booked).
        moment = session.completed_at or session.start
        booked_day = moment.astimezone(enrolment.clinic.tz).date() if moment else None
        missed = session.missed_count > 0
        overdue = session.status == SessionStatus.PLANNED and session.window_end < today
        rows.append(
            {
                "session": session,
                "window_left": pos(session.window_start),
                "window_width": max(pos(session.window_end) - pos(session.window_start), 0.8),
                "target_left": pos(session.target_date),
                "booked_left": pos(booked_day) if booked_day else None,
                "missed": missed,
                "overdue": overdue,
                "completable": session.can_complete(now),
            }
        )
    return rows


@staff_page()
def patient_detail(request, pk):
    patient = get_object_or_404(Patient, pk=pk, clinic=request.user.clinic)
    return _detail(request, patient)


def _detail(request, patient, *, status=200, **forms):
    clinic = request.user.clinic
    today = clinic_today(clinic)
    now = timezone.now()
    enrolments = []
    courses = list(enrolments_of(clinic).filter(patient=patient))
    summaries = outcomes_by_enrolment(courses)  # two queries for every course together
    decisions = {}  # SPEC §19: the proposals of every course, in one query
    for decision in (
        Decision.objects.filter(enrolment__in=courses).select_related("session__step").order_by("created_at", "pk")
    ):
        decisions.setdefault(decision.enrolment_id, []).append(decision)
    for enrolment in courses:
        charts = [outcome_chart(summary) for summary in summaries.get(enrolment.pk, [])]
        enrolments.append(
            {
                "enrolment": enrolment,
                "rows": _timeline_rows(enrolment, today=today, now=now) if enrolment.sessions.all() else [],
                "charts": charts,
                "withdraw_form": WithdrawForm(prefix=f"withdraw-{enrolment.pk}"),
                "decisions": decisions.get(enrolment.pk, []),
            }
        )
    # Voided reminders (superseded by a rebooking or a cascade) are noise
    # unless asked for.
    reminders = Reminder.objects.filter(session__patient=patient)
    show_all = request.GET.get("reminders") == "all"
    void_count = 0
    if not show_all:
        void_count = reminders.filter(status=ReminderStatus.VOID).count()
        reminders = reminders.exclude(status=ReminderStatus.VOID)
    context = {
        "nav": "patients",
        "patient": patient,
        "enrolments": enrolments,
        "adverse_events": (events := list(
            AdverseEvent.objects.filter(enrolment__patient=patient)
            .select_related("session", "session__step", "reported_by")
            .order_by("-onset_date", "-reported_at")
        )),
        "serious_events": [event for event in events if event.serious],
        "consents": [(ConsentKind(kind).label, c) for kind, c in current_consents(patient).items()],
        "photo_pairs": baseline_and_latest(SessionPhoto.objects.filter(patient=patient).select_related("session")),
        "deviations": Deviation.objects.filter(session__patient=patient)
        .select_related("session", "session__step__protocol", "by")
        .order_by("-at"),
        "reminders": reminders.select_related("session", "session__step__protocol").order_by("-due_at")[:100],
        "all_reminders": show_all,
        "void_reminders": void_count,
        "may_complete": request.user.has_role(Role.CLINICIAN),
        "may_correct": request.user.has_role(Role.CLINICIAN),
        "today": today,
        "consent_form": forms.get("consent_form") or ConsentForm(auto_id="consent_%s"),
        "consent_history": consents_of(patient),
        "photo_form": forms.get("photo_form") or PhotoForm(auto_id="photo_%s", patient=patient),
    }
    response = render(request, "patients/patient_detail.html", context, status=status)
    record_view(request, patient)  # once the page was built: only a successful read is logged
    return response


@require_POST
@staff_page()
def patient_consent(request, pk):
    """Record a consent statement (given or withdrawn), as POST /api/v1/patients/{id}/consents/ does."""
    patient = get_object_or_404(Patient, pk=pk, clinic=request.user.clinic)
    form = ConsentForm(request.POST, auto_id="consent_%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            consent = change_consent(patient=patient, kind=data["kind"], given=data["given"], on=data["on"],
                                     note=data["note"], by=request.user)
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            record(action=Action.CREATE, request=request, obj=consent, summary=f"consent {consent.kind}")
            messages.success(
                request,
                (
                    _("{kind} consent given on {on}, recorded by {name}.")
                    if consent.given
                    else _("{kind} consent withdrawn on {on}, recorded by {name}.")
                ).format(kind=consent.get_kind_display(), on=date_format(consent.on, _("d M Y")), name=request.user.display_name),
            )
            return redirect(reverse("patient_detail", args=[patient.pk]) + "#consent")
    return _detail(request, patient, status=400, consent_form=form)


@require_POST
@staff_page(Role.CLINICIAN)
def patient_photo(request, pk):
    """Upload a photograph of a visit, with the API's checks (photography consent, a real image, the size)."""
    patient = get_object_or_404(Patient, pk=pk, clinic=request.user.clinic)
    form = PhotoForm(request.POST, request.FILES, auto_id="photo_%s", patient=patient)
    if form.is_valid():
        data = form.cleaned_data
        try:
            photo = add_photo(session=data["session"], view=data["view"], data=data["image"].read(), by=request.user)
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            record(action=Action.CREATE, request=request, obj=photo, summary=f"photo {photo.view}")
            messages.success(
                request, _("The {view} photograph was added.").format(view=in_sentence(photo.get_view_display()))
            )
            return redirect(reverse("patient_detail", args=[patient.pk]) + "#photos")
    return _detail(request, patient, status=400, photo_form=form)
