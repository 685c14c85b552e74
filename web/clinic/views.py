"""The manager's clinic settings page (issue 13): the clinic's details,
opening hours, closures, rooms and staff accounts. Settings go through
`clinic_settings.update_clinic`, rooms and staff through `clinics.services`;
a refusal is shown beside the field it concerns and changes nothing."""

import datetime as dt

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clinics import services as clinic_services
from clinics.models import Absence, Role, Room, User
from core.languages import Language
from core.pages import SERVICE_ERRORS, add_service_errors, clinic_today, error_text, staff_page
from core.text import in_sentence
from protocols import instruments
from protocols import questionnaires as wording_rules
from sessions.clinic import add_absence, update_clinic
from web.clinic.forms import AbsenceForm, ClinicSettingsForm, ClosureForm, RoomForm, StaffForm, WordingForm


def _page(request, *, status=200, **forms):
    clinic = request.user.clinic
    context = {
        "nav": "settings",
        "clinic": clinic,
        "form": forms.get("form") or ClinicSettingsForm(initial=ClinicSettingsForm.initial_for(clinic)),
        "closure_form": forms.get("closure_form") or ClosureForm(auto_id=ClosureForm.AUTO_ID),
        "room_form": forms.get("room_form") or RoomForm(auto_id=RoomForm.AUTO_ID),
        "staff_form": forms.get("staff_form") or StaffForm(auto_id=StaffForm.AUTO_ID),
        "closures": clinic.closures.filter(date__gte=clinic_today(clinic)),
        "absence_form": forms.get("absence_form") or AbsenceForm(auto_id=AbsenceForm.AUTO_ID, clinic=clinic),
        "absences": Absence.objects.filter(clinic=clinic, last_day__gte=clinic_today(clinic)).select_related("practitioner"),
        "clashes": forms.get("clashes", []),
        "rooms": Room.objects.filter(clinic=clinic).order_by("-active", "name"),
        "staff": User.objects.filter(clinic=clinic).order_by("-is_active", "last_name", "first_name", "username"),
    }
    return render(request, "sessions/settings.html", context, status=status)


@staff_page(Role.MANAGER)
def clinic_settings(request):
    if request.method != "POST":
        return _page(request)
    form = ClinicSettingsForm(request.POST)
    if form.is_valid():
        try:
            update_clinic(
                clinic=request.user.clinic, data=form.settings_data(),
                opening_hours=form.cleaned_data["opening_hours"], by=request.user,
            )
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The clinic's settings were saved."))
            return redirect("clinic_settings")
    return _page(request, form=form, status=400)


def _closures(clinic) -> list:
    return list(clinic.closures.values_list("date", flat=True))


@require_POST
@staff_page(Role.MANAGER)
def closures(request):
    clinic = request.user.clinic
    form = ClosureForm(request.POST, auto_id=ClosureForm.AUTO_ID)
    if form.is_valid():
        day = form.cleaned_data["date"]
        days = _closures(clinic)
        removing = request.POST.get("action") == "remove"
        wanted = [d for d in days if d != day] if removing else sorted(set(days) | {day})
        try:
            update_clinic(
                clinic=clinic, data={}, closures=wanted, closure_reasons={day: form.cleaned_data["reason"]},
                by=request.user,
            )
        except SERVICE_ERRORS as error:
            # The workflow names its "closures" argument; on this form that is the date.
            form.add_error("date", error_text(error))
            clashes = _clashes(error)
            return _page(request, closure_form=form, clashes=clashes, status=400)
        else:
            text = _("Reopened on {day}.") if removing else _("Closed on {day}.")
            messages.success(request, text.format(day=date_format(day, _("D d M Y"))))
            return redirect("clinic_settings")
    return _page(request, closure_form=form, status=400)


def _clashes(error) -> list[dict]:
    """The bookings a refused closure or absence meets, each with its rebook link."""
    rows = getattr(error, "extra", {}).get("bookings", [])
    return [{**row, "start": dt.datetime.fromisoformat(row["start"])} for row in rows]


@require_POST
@staff_page(Role.MANAGER)
def absences(request):
    clinic = request.user.clinic
    if request.POST.get("action") == "remove":
        absence_id = request.POST.get("absence", "")
        if absence_id.isdigit() and Absence.objects.filter(clinic=clinic, pk=int(absence_id)).delete()[0]:
            messages.success(request, _("The absence was removed."))
        return redirect("clinic_settings")
    form = AbsenceForm(request.POST, auto_id=AbsenceForm.AUTO_ID, clinic=clinic)
    if form.is_valid():
        try:
            absence = add_absence(clinic=clinic, by=request.user, **form.cleaned_data)
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
            clashes = _clashes(error)
            return _page(request, absence_form=form, clashes=clashes, status=400)
        messages.success(
            request,
            _("{name} is away {first} – {last}.").format(
                name=absence.practitioner.display_name,
                first=date_format(absence.first_day, _("d M")),
                last=date_format(absence.last_day, _("d M Y")),
            ),
        )
        return redirect("clinic_settings")
    return _page(request, absence_form=form, status=400)


@require_POST
@staff_page(Role.MANAGER)
def room_add(request):
    form = RoomForm(request.POST, auto_id=RoomForm.AUTO_ID)
    if form.is_valid():
        try:
            room = clinic_services.create_room(clinic=request.user.clinic, name=form.cleaned_data["name"], by=request.user)
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Room {name} was added.").format(name=room.name))
            return redirect("clinic_settings")
    return _page(request, room_form=form, status=400)


@require_POST
@staff_page(Role.MANAGER)
def room_change(request, pk):
    room = get_object_or_404(Room.objects.filter(clinic=request.user.clinic).select_related("clinic"), pk=pk)
    action = request.POST.get("action")
    try:
        if action == "rename":
            clinic_services.update_room(room=room, name=request.POST.get("name", ""), by=request.user)
            messages.success(request, _("The room is now called {name}.").format(name=room.name))
        else:
            clinic_services.update_room(room=room, active=action == "activate", by=request.user)
            text = _("Room {name} is in use.") if room.active else _("Room {name} is deactivated.")
            messages.success(request, text.format(name=room.name))
    except SERVICE_ERRORS as error:
        messages.error(request, _("Not changed: {error}").format(error=error_text(error)))
    return redirect("clinic_settings")


@require_POST
@staff_page(Role.MANAGER)
def staff_add(request):
    form = StaffForm(request.POST, auto_id=StaffForm.AUTO_ID)
    if form.is_valid():
        try:
            user = clinic_services.create_staff_account(clinic=request.user.clinic, by=request.user, **form.cleaned_data)
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("{name} can now log in as {role}.").format(
                    name=user.display_name, role=in_sentence(user.get_role_display())
                ),
            )
            return redirect("clinic_settings")
    return _page(request, staff_form=form, status=400)


@require_POST
@staff_page(Role.MANAGER)
def staff_change(request, pk):
    user = get_object_or_404(User.objects.filter(clinic=request.user.clinic).select_related("clinic"), pk=pk)
    active = request.POST.get("action") == "activate"
    try:
        clinic_services.set_staff_active(user=user, active=active, by=request.user)
    except SERVICE_ERRORS as error:
        messages.error(request, _("Not changed: {error}").format(error=error_text(error)))
    else:
        text = _("{name} can log in again.") if active else _("{name} can no longer log in.")
        messages.success(request, text.format(name=user.display_name))
    return redirect("clinic_settings")


@staff_page(Role.MANAGER)
def licensed_wording(request):
    """The licensed DLQI wording per language (SPEC §17): until it is entered
    for a patient's language, the questionnaire leaves DLQI out and the
    completion page asks staff for it."""
    clinic = request.user.clinic
    language = request.POST.get("language") or request.GET.get("language") or "en"
    language = language if language in wording_rules.WORDING_LANGUAGES else "en"
    options = {
        "languages": [(code, Language(code).label) for code in wording_rules.WORDING_LANGUAGES],
        "answer_keys": wording_rules.DLQI_ANSWER_KEYS,
        "questions": instruments.DLQI_QUESTIONS,
    }
    saved = wording_rules.wording_of(clinic.pk, "dlqi", language)
    initial = {"language": language}
    if saved is not None:
        initial["instructions"] = saved.instructions
        initial.update({f"question_{n}": text for n, text in enumerate(saved.questions, start=1)})
        initial.update({f"answer_{key}": label for key, label in saved.answers.items()})
    form = WordingForm(request.POST or None, initial=initial, **options)
    if request.method == "POST" and form.is_valid():
        try:
            wording_rules.set_wording(clinic=clinic, code="dlqi", language=language, by=request.user, **form.wording())
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The DLQI wording (%(language)s) was saved.") % {"language": Language(language).label})
            return redirect(f"{request.path}?language={language}")
    entered = {
        code: wording_rules.licensed_wording(clinic.pk, "dlqi", code) is not None
        for code in wording_rules.WORDING_LANGUAGES
    }
    context = {
        "nav": "settings", "clinic": clinic, "form": form, "language": language,
        "languages": [(code, Language(code).label, entered[code]) for code in wording_rules.WORDING_LANGUAGES],
    }
    return render(request, "sessions/settings_wording.html", context, status=400 if form.errors else 200)
