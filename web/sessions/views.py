"""The staff pages around sessions: agenda, due list, enrolment with a
preview, booking, the session actions, completion and failed reminders.

Views parse with a form, call one service, and put its ValidationError /
Conflict / PermissionDenied back on the page; actions are POST-redirect-GET
with a flash message.
"""

import datetime as dt
from collections import defaultdict
from itertools import groupby

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit.log import record_view
from clinics.models import Role
from core.exceptions import Conflict
from core.pages import SERVICE_ERRORS, add_service_errors, clinic_today, error_text, parse_date, safe_next, staff_page
from core.text import in_sentence
from core.timezones import at_local
from messaging.outbox import resend_reminder
from patients.models import EnrolmentStatus
from protocols.library import SEX_SPECIFIC_MEASURES
from protocols.products import suggested_lot, usable_lots
from sessions import questionnaires, selectors, services
from sessions.models import (
    MOVE_LABELS,
    OCCUPYING,
    AdverseEvent,
    ChangeReason,
    Decision,
    DecisionStatus,
    Reminder,
    ReminderStatus,
    Session,
    SessionStatus,
)
from sessions.patients import selectors as patient_selectors
from web.sessions import agenda_grid
from web.sessions.forms import AdverseEventFormSet, BookTimeForm, CancelForm, CompleteForm, SkipForm, SlotForm


def _session_or_404(request, pk) -> Session:
    session = get_object_or_404(selectors.sessions_of(request.user.clinic), pk=pk)
    if request.method == "GET":
        record_view(request, session)  # the page shows the patient's visit (SPEC §14)
    return session


# --- Agenda ---------------------------------------------------------------------------------------


def _agenda_days(day: dt.date, view: str) -> tuple[list[dt.date], dt.timedelta]:
    """The days shown (one, or the week holding `day`) and the step of the arrows."""
    if view == "week":
        monday = day - dt.timedelta(days=day.weekday())
        return [monday + dt.timedelta(days=n) for n in range(7)], dt.timedelta(days=7)
    return [day], dt.timedelta(days=1)


def _local_midnights(days: list[dt.date], tz) -> tuple[dt.datetime, dt.datetime]:
    # Computed per day, so a DST change inside the week is right.
    return at_local(days[0], dt.time(0), tz), at_local(days[-1] + dt.timedelta(days=1), dt.time(0), tz)


def _agenda_resources(clinic, sessions: list[Session], by: str) -> tuple[str, list[tuple]]:
    """The columns' (id, name) for `by` (room or practitioner), with any
    no longer active room or practitioner that still holds a booking."""
    if by == "room":
        resources = [(room.pk, room.name) for room in clinic.rooms.filter(active=True)]
        key, unassigned = "room_id", _("No room")
    else:
        resources = [(user.pk, user.display_name) for user in selectors.practitioners_of(clinic)]
        key, unassigned = "practitioner_id", _("No practitioner")
    known = {pk for pk, _ in resources}
    for session in sessions:
        pk = getattr(session, key)
        if pk not in known:
            name = unassigned if pk is None else (session.room.name if by == "room" else session.practitioner.display_name)
            resources.append((pk, name))
            known.add(pk)
    return key, resources


def _agenda_columns(clinic, sessions: list[Session], by: str, days: list[dt.date]) -> list[dict]:
    key, resources = _agenda_resources(clinic, sessions, by)
    cells: dict = defaultdict(list)
    for session in sessions:
        cells[(getattr(session, key), session.start.astimezone(clinic.tz).date())].append(session)
    return [{"name": name, "days": [{"day": d, "sessions": cells[(pk, d)]} for d in days]} for pk, name in resources]


def _grid(clinic, day: dt.date, sessions: list[Session], by: str, only=None) -> dict:
    key, resources = _agenda_resources(clinic, sessions, by)
    if only is not None:
        resources = [(only.pk, only.display_name)]
    hours = [(row.opens, row.closes) for row in clinic.opening_hours.all() if row.weekday == day.weekday()]
    closed = clinic.closures.filter(date=day).exists()
    rows = agenda_grid.build_grid(
        day=day, tz=clinic.tz, slot_minutes=clinic.slot_minutes, hours=hours, closed=closed,
        resources=resources, key=key, sessions=sessions,
    )
    return {"resources": resources, "rows": rows, "closed": closed or not hours, "bookable": by == "practitioner",
            "now": timezone.now()}


def _next_booked_day(clinic, after: dt.datetime) -> dt.date | None:
    upcoming = (
        selectors.sessions_of(clinic)
        .filter(status__in=OCCUPYING, start__gte=after)
        .order_by("start")
        .values_list("start", flat=True)
        .first()
    )
    return upcoming.astimezone(clinic.tz).date() if upcoming else None


def _agenda_link(target: dt.date, *, view: str, by: str) -> str:
    params = {"date": target.isoformat(), "view": view, "by": by}
    return reverse("agenda") + "?" + "&".join(f"{k}={v}" for k, v in params.items())


@staff_page()
def agenda(request):
    clinic = request.user.clinic
    today = clinic_today(clinic)
    day = parse_date(request.GET.get("date"), today)
    view = request.GET.get("view") if request.GET.get("view") in ("week", "grid", "list") else "day"
    by = "room" if request.GET.get("by") == "room" else "practitioner"
    # "My day": only the signed-in practitioner's column.
    mine = request.GET.get("mine") == "1" and request.user.is_practitioner and by == "practitioner"
    days, step = _agenda_days(day, view)
    range_start, range_end = _local_midnights(days, clinic.tz)
    sessions = list(
        selectors.sessions_of(clinic)
        .select_related("step__protocol")
        .filter(status__in=OCCUPYING, start__gte=range_start, start__lt=range_end)
        .filter(**({"practitioner": request.user} if mine else {}))
        .order_by("start")
    )
    # The patient questionnaire's state per visit that asks one (SPEC §17).
    states = questionnaires.badges(sessions)
    for session in sessions:
        session.questionnaire_state = states.get(session.pk, "")
    # On an empty day or week, point to the next one with bookings.
    next_booked = None if sessions else _next_booked_day(clinic, range_end)

    def link(target: dt.date, **overrides) -> str:
        return _agenda_link(target, **{"view": view, "by": by, **overrides}) + ("&mine=1" if mine else "")

    # Opening the agenda on a day with nothing booked (a Sunday, say) goes
    # straight to the next day with bookings; an explicit date is honoured.
    if "date" not in request.GET and next_booked is not None and view == "day" and not mine:
        messages.info(
            request,
            _("Nothing is booked today; this is the next day with bookings, {day}.").format(
                day=date_format(next_booked, _("l d F"))
            ),
        )
        return redirect(link(next_booked))

    context = {
        "nav": "myday" if mine else "agenda",
        "view": view,
        "by": by,
        "day": day,
        "days": days,
        "today": today,
        "columns": _agenda_columns(clinic, sessions, by, days) if view != "grid" else [],
        "grid": _grid(clinic, day, sessions, by, request.user if mine else None) if view == "grid" else None,
        "mine": mine,
        "day_list": sessions if view == "list" else [],
        "grid_url": link(day, view="grid"),
        "list_url": link(day, view="list"),
        "count": len(sessions),
        "next_booked": next_booked,
        "next_booked_url": link(next_booked) if next_booked else None,
        "prev_url": link(day - step),
        "next_url": link(day + step),
        "today_url": link(today),
        "day_url": link(day, view="day"),
        "week_url": link(day, view="week"),
        "by_practitioner_url": link(day, by="practitioner"),
        "by_room_url": link(day, by="room"),
        "has_rooms": clinic.rooms.exists(),
        "may_complete": request.user.has_role(Role.CLINICIAN),
        # Patients with an unresolved serious adverse event stand out (SPEC §12).
        "serious_patients": set(
            AdverseEvent.objects.filter(
                serious=True, resolved_date__isnull=True, enrolment__patient__in={s.patient_id for s in sessions}
            ).values_list("enrolment__patient_id", flat=True)
        ) if sessions else set(),
        "patient_cancellations": list(
            patient_selectors.patient_cancellations(clinic, start=range_start, end=range_end)
        ),
    }
    return render(request, "sessions/agenda.html", context)


# --- Due list -------------------------------------------------------------------------------------

DUE_HORIZON_DAYS = 7


@staff_page()
def due_list(request):
    """Planned, bookable sessions whose window is open or opens within a week,
    oldest window first. Windows that passed unbooked stay on the list
    (flagged) until someone books, skips or withdraws them."""
    clinic = request.user.clinic
    today = clinic_today(clinic)
    horizon = today + dt.timedelta(days=DUE_HORIZON_DAYS)
    sessions = (
        selectors.sessions_of(clinic)
        .select_related("enrolment__protocol")
        .filter(status=SessionStatus.PLANNED, window_start__lte=horizon)
        .filter(
            Q(enrolment__status=EnrolmentStatus.ACTIVE)
            | Q(enrolment__status=EnrolmentStatus.WITHDRAWN, enrolment__follow_up_kept=True, step__follow_up=True)
        )
        .exclude(step__kind="home")
        .order_by("window_start", "target_date", "patient__last_name", "sequence")
    )
    rows = []
    for session in sessions[:500]:
        if session.window_end < today:
            state = "passed"
        elif session.window_start > today:
            state = "opens"
        elif session.window_end <= horizon:
            state = "closing"
        else:
            state = "open"
        rows.append({"session": session, "state": state})
    context = {
        "nav": "due",
        "slot": _chosen_slot(request, clinic),
        "rows": rows,
        "today": today,
        "horizon": horizon,
        "awaiting": list(selectors.awaiting_results(clinic).select_related("enrolment__protocol")[:500]),
        "changes": selectors.booking_change_counts(clinic, since=timezone.now() - dt.timedelta(days=30)),
        "may_complete": request.user.has_role(Role.CLINICIAN),
        "rebook_requests": list(patient_selectors.rebook_requests(clinic)[:200]),
        # Visits in the next two days whose questionnaire has no answers (SPEC §17).
        "unanswered": list(questionnaires.unanswered_soon(clinic, now=timezone.now())[:200]),
        # Proposals made at decision visits and not yet decided, or flagged by a correction (SPEC §19).
        "proposals": list(
            Decision.objects.filter(clinic=clinic)
            .filter(Q(status=DecisionStatus.PENDING) | ~Q(review_reason=""))
            .select_related("session__step", "session__patient", "enrolment__protocol")
            .order_by("created_at")[:200]
        ),
    }
    return render(request, "sessions/due_list.html", context)


def _chosen_slot(request, clinic) -> dict | None:
    """A free cell of the agenda grid, carried to the Book buttons: its
    local date and time and the practitioner (None when absent or bad)."""
    try:
        # A clinic-local wall time, shown and passed on as such (not an instant).
        start = dt.datetime.strptime(request.GET.get("slot", ""), "%Y-%m-%dT%H:%M").replace(tzinfo=clinic.tz)
    except ValueError:
        return None
    who = next((p for p in selectors.practitioners_of(clinic) if str(p.pk) == request.GET.get("practitioner")), None)
    if who is None or not 1900 <= start.year <= 9000:
        return None
    query = f"?date={start:%Y-%m-%d}&time={start:%H:%M}&practitioner={who.pk}"
    return {"start": start, "practitioner": who, "query": query}


# --- Booking --------------------------------------------------------------------------------------

SLOT_DAYS = 3


def _slot_groups(session, slots, practitioners):
    """Slots grouped by local day, then practitioner, for the page."""
    tz = session.clinic.tz
    names = {p.pk: p.display_name for p in practitioners}
    groups = []
    for day, day_slots in groupby(slots, key=lambda s: s.start.astimezone(tz).date()):
        by_practitioner: dict[int, list] = defaultdict(list)
        for slot in day_slots:
            by_practitioner[slot.practitioner_id].append(slot)
        groups.append(
            {
                "day": day,
                "rows": [
                    {"name": names.get(pid, "?"), "practitioner_id": pid, "slots": items}
                    for pid, items in sorted(by_practitioner.items(), key=lambda kv: names.get(kv[0], ""))
                ],
            }
        )
    return groups


@staff_page()
def book(request, pk):
    """GET: the session, its free slots and the actions it allows. POST: book
    one offered slot (`slot` form) or a typed time (`time` form)."""
    clinic = request.user.clinic
    session = _session_or_404(request, pk)
    allow_override = request.user.has_role(Role.CLINICIAN)
    today = clinic_today(clinic)
    # The treating clinician of the course first (issue 24), unless the booking names another.
    treating = session.practitioner_id or session.enrolment.clinician_id
    initial = {"date": max(session.window_start, today), "practitioner": treating}
    # From a free cell of the agenda grid (through the due list): that time.
    if (day := parse_date(request.GET.get("date"), None)) and request.GET.get("time"):
        initial.update(date=day, time=request.GET["time"][:5], practitioner=request.GET.get("practitioner"))
    time_form = BookTimeForm(clinic=clinic, allow_override=allow_override, initial=initial, prefix="time")
    if request.method == "POST":
        if not session.can_book:
            messages.error(request, _("This session cannot be booked."))
            return redirect("session_book", pk=session.pk)
        if request.POST.get("form") == "time":
            time_form = BookTimeForm(request.POST, clinic=clinic, allow_override=allow_override, prefix="time")
            if time_form.is_valid() and session.status == SessionStatus.BOOKED and not time_form.cleaned_data[
                "change_reason"
            ]:
                time_form.add_error("change_reason", _("Choose why the booked time moves."))
            if time_form.is_valid():
                data = time_form.cleaned_data
                try:
                    booked = services.book_session(
                        session=session,
                        start=data["start"],
                        practitioner=data["practitioner"],
                        room=data["room"],
                        override_reason=data.get("override_reason", ""),
                        change_reason=data["change_reason"],
                        later_bookings=request.POST.get("later_bookings", ""),
                        by=request.user,
                    )
                except SERVICE_ERRORS as error:
                    if asking := _ask_about_later_bookings(request, session, error):
                        return asking
                    add_service_errors(time_form, error)
                    messages.error(request, _("Not booked: {error}").format(error=error_text(error)))
                else:
                    return _booked(request, booked)
        else:
            slot_form = SlotForm(request.POST, clinic=clinic)
            if not slot_form.is_valid():
                messages.error(request, _("That slot is no longer offered; choose another."))
                return redirect("session_book", pk=session.pk)
            data = slot_form.cleaned_data
            if session.status == SessionStatus.BOOKED and not data["change_reason"]:
                messages.error(request, _("Choose why the booked time moves before choosing the new slot."))
                return redirect(reverse("session_book", args=[session.pk]) + "#slots")
            try:
                booked = services.book_session(
                    session=session,
                    start=data["start"],
                    practitioner=data["practitioner"],
                    room=data["room"],
                    change_reason=data["change_reason"],
                    later_bookings=request.POST.get("later_bookings", ""),
                    by=request.user,
                )
            except SERVICE_ERRORS as error:
                if asking := _ask_about_later_bookings(request, session, error):
                    return asking
                messages.error(request, _("Not booked: {error} Choose another slot.").format(error=error_text(error)))
                return redirect(reverse("session_book", args=[session.pk]) + "#slots")
            return _booked(request, booked)

    practitioners = list(selectors.practitioners_of(clinic))
    practitioner = None
    if request.GET.get("practitioner"):
        practitioner = next((p for p in practitioners if str(p.pk) == request.GET["practitioner"]), None)
    elif "practitioner" not in request.GET:
        # First shown: the treating clinician's slots; "Anyone" shows everyone's.
        practitioner = next((p for p in practitioners if p.pk == treating), None)
    first_day = max(session.window_start, today)
    date_from = parse_date(request.GET.get("date"), first_day)
    date_from = max(date_from, first_day)
    date_to = min(date_from + dt.timedelta(days=SLOT_DAYS - 1), session.window_end)
    # A booked session's slots are offered once it is said why it moves.
    change_reason = request.GET.get("change_reason", "")
    change_reason = change_reason if change_reason in ChangeReason.values else ""
    slots = []
    if session.can_book and (session.status != SessionStatus.BOOKED or change_reason):
        slots = selectors.free_slots(session, date_from=date_from, date_to=date_to, practitioner=practitioner)
    later = date_to + dt.timedelta(days=1)
    context = {
        "nav": "patients",
        "session": session,
        "slot_groups": _slot_groups(session, slots, practitioners),
        "practitioners": practitioners,
        "practitioner": practitioner,
        "date_from": date_from,
        "date_to": date_to,
        "later": later if later <= session.window_end else None,
        "window_over": session.window_end < today,
        "time_form": time_form,
        "skip_form": SkipForm(prefix="skip"),
        "cancel_form": CancelForm(prefix="cancel"),
        "change_reason": change_reason,
        "change_reasons": [(value, MOVE_LABELS[value]) for value in ChangeReason.values],
        "allow_override": allow_override,
        "can_skip": request.user.has_role(Role.CLINICIAN),
        "may_complete": request.user.has_role(Role.CLINICIAN) and session.can_complete(timezone.now()),
        "may_mark_no_show": not session.no_show_refusal(timezone.now()),
    }
    return render(request, "sessions/book.html", context)


def _ask_about_later_bookings(request, session, error):
    """The move would push later bookings out of their windows: ask, before
    anything moves, whether to release them or keep them (the same question
    as the API's `later_bookings`), re-posting the same form."""
    later = getattr(error, "extra", {}).get("later_sessions")
    if not later or request.POST.get("later_bookings"):
        return None
    for row in later:
        row["start"] = dt.datetime.fromisoformat(row["start"])
        row["window_start"] = dt.date.fromisoformat(row["window_start"])
        row["window_end"] = dt.date.fromisoformat(row["window_end"])
    posted = [(k, v) for k, v in request.POST.items() if k not in ("csrfmiddlewaretoken", "later_bookings")]
    context = {"nav": "patients", "session": session, "later": later, "posted": posted}
    return render(request, "sessions/book_later.html", context)


def _booked(request, session):
    local = timezone.localtime(session.start)
    text = (
        _("Booked {step} #{sequence} ({protocol}) for {name} on {day} at {time} with {practitioner} (outside its window).")
        if session.out_of_window
        else _("Booked {step} #{sequence} ({protocol}) for {name} on {day} at {time} with {practitioner}.")
    )
    messages.success(
        request,
        text.format(
            step=session.step.name,
            sequence=session.sequence,
            protocol=session.step.protocol.name,
            name=session.patient.full_name,
            day=date_format(local, _("D d M Y")),
            time=f"{local:%H:%M}",
            practitioner=session.practitioner.display_name,
        ),
    )
    return redirect("patient_detail", pk=session.patient_id)


def _action(request, pk, run, done: str):
    session = _session_or_404(request, pk)
    try:
        run(session)
    except SERVICE_ERRORS as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, done.format(name=session.patient.full_name, step=session.step.name))
    return redirect(safe_next(request, reverse("patient_detail", args=[session.patient_id])))


@require_POST
@staff_page()
def cancel(request, pk):
    form = CancelForm(request.POST, prefix="cancel")
    if not form.is_valid():
        session = _session_or_404(request, pk)
        messages.error(request, _("Not cancelled:") + " " + " ".join(m for errors in form.errors.values() for m in errors))
        return redirect(reverse("session_book", args=[session.pk]) + "#booked")
    data = form.cleaned_data
    return _action(
        request,
        pk,
        lambda s: services.cancel_booking(session=s, reason=data["reason"], note=data["note"], by=request.user),
        _("The booking of {step} for {name} was cancelled."),
    )


@require_POST
@staff_page()
def no_show(request, pk):
    return _action(
        request, pk, lambda s: services.mark_no_show(session=s, by=request.user), _("{name} was marked a no-show.")
    )


@require_POST
@staff_page(Role.CLINICIAN)
def skip(request, pk):
    form = SkipForm(request.POST, prefix="skip")
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _action(
        request,
        pk,
        lambda s: services.skip_session(session=s, reason=reason, by=request.user),
        _("{step} for {name} was skipped."),
    )


# --- Completion -----------------------------------------------------------------------------------


def _show_completion_errors(form, events, error: ValidationError) -> None:
    """Put the service's messages where the clinician looks: outcome errors
    beside their measure, adverse-event errors above the events, the rest
    beside the field they name."""
    errors = getattr(error, "error_dict", {})
    for field, items in errors.items():
        texts = [m for e in items for m in e.messages]
        if field == "outcomes":
            form.put_outcome_errors(texts)
        elif field == "adverse_events":
            events._non_form_errors = events.error_class(texts)
        else:
            for text in texts:
                form.add_error(field if field in form.fields else None, text)
    if not errors:
        form.add_error(None, error_text(error))


def _complete_from_form(request, session: Session, form, events) -> bool:
    """Run the completion with what the page sent; False (with the errors on
    the forms) when the service refused it."""
    data = form.cleaned_data
    try:
        services.complete_session(
            session=session,
            by=request.user,
            outcomes=form.outcomes(),
            notes=data["notes"],
            not_done_reason=data["not_done_reason"],
            lot=data["lot"],
            product_form=data["product_form"],
            product_concentration=data["product_concentration"],
            adverse_events=[e.event() for e in events.forms if e.cleaned_data and not e.is_blank()],
        )
    except ValidationError as error:
        _show_completion_errors(form, events, error)
        return False
    except (Conflict, PermissionDenied) as error:
        form.add_error(None, error_text(error))
        return False
    return True


def measure_applies(code: str, patient) -> bool:
    """Whether the Complete page asks this patient for the measure: Norwood
    only for men, Ludwig only for women (SEX_SPECIFIC_MEASURES); with the sex
    unknown or "other", both are offered and neither is required."""
    wanted = SEX_SPECIFIC_MEASURES.get(code)
    return wanted is None or patient.sex not in SEX_SPECIFIC_MEASURES.values() or patient.sex == wanted


@staff_page(Role.CLINICIAN)
def complete(request, pk):
    session = _session_or_404(request, pk)
    if not session.may_be_completed:
        messages.error(
            request,
            _("This {status} session cannot be completed.").format(status=in_sentence(session.get_status_display())),
        )
        return redirect("patient_detail", pk=session.patient_id)
    # Said before the form is filled in: a visit that has not started yet
    # shows the form locked, with the reason (pages offer no link to it).
    not_yet = session.completion_refusal(timezone.now())
    visit_day = session.visit_date or clinic_today(session.clinic)
    lots = usable_lots(session.clinic, on=visit_day)
    born = session.patient.date_of_birth
    # Answered in the questionnaire (or typed in from a paper one): shown, not asked again (SPEC §17).
    answered = list(session.outcomes.select_related("measure", "recorded_by").order_by("measure__code"))
    known = {value.measure_id for value in answered}
    asks_patient = session.asks_questionnaire
    form = CompleteForm(
        request.POST or None,
        measures=[
            m for m in session.step.measures.order_by("code")
            if measure_applies(m.code, session.patient) and m.pk not in known
        ],
        lots=lots,
        age_years=visit_day.year - born.year - ((visit_day.month, visit_day.day) < (born.month, born.day)),
        initial={"lot": suggested_lot(lots, session.step.product or session.enrolment.protocol.product)},
    )
    events = AdverseEventFormSet(request.POST or None, prefix="ae")
    if request.method == "POST" and form.is_valid() and events.is_valid() and _complete_from_form(
        request, session, form, events
    ):
        messages.success(
            request, _("{step} for {name} is completed.").format(step=session.step.name, name=session.patient.full_name)
        )
        # A decision visit shows its proposal next (SPEC §19).
        proposal = Decision.objects.filter(session=session).first()
        if proposal is not None:
            return redirect("decision_detail", pk=proposal.pk)
        return redirect("patient_detail", pk=session.patient_id)
    context = {
        "nav": "patients", "session": session, "form": form, "events": events, "not_yet": not_yet,
        "answered": answered,
        "questionnaire": questionnaires.status(session) if asks_patient else None,
    }
    return render(request, "sessions/complete.html", context)


# --- Failed reminders -----------------------------------------------------------------------------


@staff_page(Role.MANAGER)
def failed_reminders(request):
    reminders = (
        Reminder.objects.filter(clinic=request.user.clinic, status=ReminderStatus.FAILED)
        .select_related("session", "session__patient", "session__step__protocol")
        .order_by("-due_at")
    )
    return render(request, "sessions/failed_reminders.html", {"nav": "reminders", "reminders": reminders[:500]})


@require_POST
@staff_page(Role.MANAGER)
def resend(request, pk):
    reminder = get_object_or_404(
        Reminder.objects.filter(clinic=request.user.clinic).select_related("session", "session__patient"), pk=pk
    )
    try:
        resend_reminder(reminder=reminder, by=request.user)
    except SERVICE_ERRORS as error:
        messages.error(request, _("Not resent: {error}").format(error=error_text(error)))
    else:
        messages.success(
            request,
            _("The reminder to {name} is queued to be sent again.").format(name=reminder.session.patient.full_name),
        )
    return redirect("failed_reminders")
