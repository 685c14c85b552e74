"""Patients book their own visits inside the protocol's window (SPEC §18).

A signed link (`links.self_book_url`, purpose `self-book`) opens
`/p/<token>/book/`: the free slots of the session's window, from tomorrow,
at most SHOWN_DAYS days, grouped by day in the clinic's time, the patient's
last practitioner first. The page is a form that POSTs `start` (ISO 8601
with offset) and `practitioner` (an id) with the CSRF token; the booking
runs through the staff booking (`booking.book_locked`: window, opening
hours, closures, no double booking, cascade, confirmation email with its
`.ics`), marked `booked_by_patient`. A booked session may be moved the same
way until the clinic's `cancel_cutoff_hours` before it. A time that would
push a later booking of the course out of its window is not offered.

Two patients taking one slot: the exclusion constraints let one booking
commit; the other gets a Conflict and the page says the time was just
taken, with fresh slots. The link dies with the window (its expiry, and
the session's window as it is now) and when the session is done; a
tampered one gets the same plain page as every bad patient link, and every
request counts against the per-address limit (web/links.py).
Each change is a history row of the session, which the audit log records.
Which times are offered and the booking itself are sessions/booking/self_booking.py;
this module is the page."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from core.exceptions import Conflict
from core.languages import long_date, long_time
from messaging import links
from messaging.emails import calendar_ics
from sessions.booking.responses import cancel_deadline
from sessions.booking.self_booking import (
    TAKEN,
    Refusal,
    book_by_patient,
    grouped,
    is_open,
    may_move,
    offered_slots,
    parse_choice,
    shown_days,
)
from sessions.models import Session, SessionStatus
from web.links import _invalid, _unlogged, in_patient_language, patient_page

# --- The pages -----------------------------------------------------------------------------------


def _session_for(token: str, now: dt.datetime) -> Session | None:
    link = links.read(token, now=now)
    if link is None or link.purpose != links.SELF_BOOK:
        return None
    session = (
        Session.objects.select_related("clinic", "enrolment", "patient", "step", "step__protocol", "practitioner")
        .filter(pk=link.subject_id)
        .first()
    )
    if session is None or not is_open(session, now):
        return None
    return session


@patient_page
def book(request, token):
    now = timezone.now()
    session = _session_for(token, now)
    if session is None:
        return _invalid(request, "self-booking link: bad signature, expired, or the session is done")
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    return in_patient_language(session.patient, lambda: _book(request, token, session, now))


def _book(request, token: str, session: Session, now: dt.datetime):
    errors: dict[str, list[str]] = {}
    error = ""
    status = 200
    if request.method == "POST":
        try:
            start, practitioner = parse_choice(session, request.POST, now)
            book_by_patient(session=session, start=start, practitioner=practitioner, now=now)
        except ValidationError as invalid:
            errors = invalid.message_dict
            status = 400
        except Refusal as refusal:
            error, status = str(refusal.message), 409
        except Conflict:
            error, status = str(TAKEN), 409
        else:
            # Post/redirect/get: reloading the page does not book again.
            return HttpResponseRedirect(f"{request.path}?booked=1", status=303)
        session = _session_for(token, now)
        if session is None:
            return _invalid(request, "self-booking link: the session changed meanwhile")
    return _unlogged(
        render(
            request,
            "sessions/patient/self_book.html",
            _context(request, token, session, now, errors, error),
            status=status,
        )
    )


def _context(request, token: str, session: Session, now: dt.datetime, errors: dict, error: str) -> dict:
    tz = session.clinic.tz
    movable = may_move(session, now)
    days = grouped(session, offered_slots(session, now)) if movable else []
    first, last = shown_days(session, now)
    with timezone.override(tz):
        return {
            "session": session,
            "clinic": session.clinic,
            "ics_url": reverse("patient_self_book_ics", args=[token]),
            "booked": session.status == SessionStatus.BOOKED,
            "just_booked": request.GET.get("booked") == "1" and session.status == SessionStatus.BOOKED,
            "by_patient": session.booked_by_patient,
            "when": long_time(session.start, tz) if session.start else "",
            "practitioner_name": session.practitioner.display_name if session.practitioner_id else "",
            "window_from": long_date(session.window_start),
            "window_to": long_date(session.window_end),
            "shown_from": long_date(first) if first <= last else "",
            "shown_to": long_date(last) if first <= last else "",
            "movable": movable,
            "move_until": long_time(cancel_deadline(session), tz) if session.start else "",
            "days": days,
            "errors": errors,
            "error": error,
        }


@patient_page
def calendar(request, token):
    """The "add to calendar" link: the booked time as an `.ics` (the same entry as
    the confirmation email's, same UID)."""
    now = timezone.now()
    session = _session_for(token, now)
    if session is None or session.status != SessionStatus.BOOKED:
        return _invalid(request, "self-booking calendar link: bad, expired, or nothing booked")
    def respond():
        response = HttpResponse(calendar_ics([session], now=now), content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="appointment.ics"'
        return response

    return _unlogged(in_patient_language(session.patient, respond))
