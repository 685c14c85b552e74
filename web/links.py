"""The pages a patient reaches from an email, without logging in (SPEC §13).

A signed link (messaging/links.py) opens a small page about one visit:
**I'll come**, **Cancel** (until the clinic's cut-off) and **Ask to rebook**;
a "time to book" email's link asks for a booking; the unsubscribe link
withdraws email consent. The pages have their own base template, with no
staff navigation and nothing about anyone but the visit the link was made for.

A tampered, expired or outdated link (the booking moved or was cancelled
since) gets one plain page that says nothing about anyone; refusals are
counted in the cache (`patient-link:invalid`), and logged without the token.
Every request counts against a per-address limit (PATIENT_LINK_RATE_PER_MINUTE).
A page about a patient is in the patient's language (SPEC §20); the pages
that know no patient (a bad link, too many requests) in the browser's.
Actions are POST forms with Django's CSRF token; only the RFC 8058 one-click
unsubscribe, which mail programs POST without cookies, is exempt: its
signed URL is the credential and it can only withdraw consent."""

import functools
import logging

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from core.addresses import client_address
from core.exceptions import Conflict
from core.languages import long_date, long_time
from messaging import links
from patients.models import Patient
from sessions.booking.responses import (
    TOO_LATE,
    cancel_by_patient,
    cancel_deadline,
    confirm_attendance,
    may_cancel_online,
    request_rebooking,
    withdraw_email_consent,
)
from sessions.models import Session, SessionStatus

log = logging.getLogger(__name__)

INVALID_COUNTER = "patient-link:invalid"


def invalid_link_count() -> int:
    return cache.get(INVALID_COUNTER, 0)


def _count_invalid(reason: str) -> None:
    try:
        cache.incr(INVALID_COUNTER)
    except ValueError:  # the first one
        cache.add(INVALID_COUNTER, 0, timeout=None)
        cache.incr(INVALID_COUNTER)
    log.warning("patient link refused: %s", reason)


def _over_limit(request) -> bool:
    """A fixed one-minute window per client address, as the trusted proxy
    reports it (core.addresses): enough to stop a script guessing tokens,
    and one client's requests never use up another's (behind the proxy,
    REMOTE_ADDR is the proxy for everyone)."""
    address = client_address(request) or "unknown"
    key = f"patient-link:rate:{address}:{int(timezone.now().timestamp() // 60)}"
    cache.add(key, 0, timeout=120)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        count = 1
    return count > settings.PATIENT_LINK_RATE_PER_MINUTE


def patient_page(view):
    """Rate limit, never cache, render in UTC until the clinic is known."""

    @functools.wraps(view)
    def wrapped(request, token, *args, **kwargs):
        if _over_limit(request):
            response = render(request, "sessions/patient/limited.html", status=429)
            response["Retry-After"] = "60"
            return _no_referrer(_unlogged(response))
        return _no_referrer(view(request, token, *args, **kwargs))

    return never_cache(wrapped)


def _no_referrer(response):
    # The page's address holds the token: its CSS and any link followed from
    # it must not carry it in a Referer (issue 30). Elsewhere: same-origin.
    response["Referrer-Policy"] = "no-referrer"
    return response


def _unlogged(response):
    # Django's request logger writes the path of every 4xx, and the path
    # here holds the token: this one is counted instead (_count_invalid).
    response._has_been_logged = True
    return response


def _invalid(request, reason: str):
    _count_invalid(reason)
    return _unlogged(render(request, "sessions/patient/invalid.html", status=404))


def in_patient_language(patient: Patient, respond):
    """The response `respond()` makes, rendered in the patient's language,
    and saying so in Content-Language (LocaleMiddleware would otherwise
    write the browser's)."""
    language = patient.reading_language
    with translation.override(language):
        response = respond()
    response["Content-Language"] = language
    return response


def _session_for(link: links.Link) -> Session | None:
    session = (
        Session.objects.select_related("clinic", "enrolment", "patient", "step", "step__protocol")
        .filter(pk=link.subject_id)
        .first()
    )
    if session is None or session.enrolment.status != "active":
        return None
    if link.purpose == links.VISIT:
        # Good only for the booking it was mailed for.
        if session.status != SessionStatus.BOOKED or links.booking_expiry(session) != link.expires:
            return None
        # Dead for good once the booking changed, even if booked at the same time again.
        if link.version is not None and link.version != links.booking_version(session):
            return None
    elif link.purpose == links.BOOK:
        if session.status != SessionStatus.PLANNED or not session.clinic.patients_may_request_booking:
            return None
    else:
        return None
    return session


# "cancel" asks again; "cancel_yes" cancels: a slip of the thumb must not
# give up a slot (and perhaps a thawed product).
ACTIONS = {
    links.VISIT: ("confirm", "cancel", "cancel_yes", "rebook"),
    links.BOOK: ("rebook",),
}


@patient_page
def visit(request, token):
    now = timezone.now()
    link = links.read(token, now=now)
    if link is None or link.purpose not in ACTIONS:
        return _invalid(request, "bad signature, expired or wrong purpose")
    session = _session_for(link)
    if session is None:
        return _invalid(request, "no longer matches its session")
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    return in_patient_language(session.patient, lambda: _visit(request, link, session, now))


def _visit(request, link: links.Link, session: Session, now):
    done = error = ""
    ask_cancel = False
    if request.method == "POST":
        action = request.POST.get("action", "")
        start = session.start
        try:
            if action not in ACTIONS[link.purpose]:
                error = _("Choose one of the buttons below.")
            elif action == "confirm":
                session = confirm_attendance(session=session, start=start, now=now)
                done = "confirmed"
            elif action == "cancel":
                ask_cancel = may_cancel_online(session, now)
                error = "" if ask_cancel else TOO_LATE
            elif action == "cancel_yes":
                cancel_by_patient(session=session, start=start, now=now)
                done = "cancelled"
            else:
                session = request_rebooking(session=session, now=now)
                done = "rebook"
        except Conflict as refusal:
            error = refusal.message
    with timezone.override(session.clinic.tz):
        context = {
            "session": session,
            "clinic": session.clinic,
            "purpose": link.purpose,
            "when": long_time(session.start, session.clinic.tz) if session.start else "",
            "window_from": long_date(session.window_start),
            "window_to": long_date(session.window_end),
            "may_cancel": session.start is not None and may_cancel_online(session, now),
            "cancel_until": long_time(cancel_deadline(session), session.clinic.tz) if session.start else "",
            "ask_cancel": ask_cancel,
            # SPEC §18: the page where the patient picks (or moves to) a time themselves.
            "self_book_url": links.self_book_url(session) if session.clinic.patients_may_book and done != "cancelled" else "",
            "done": done,
            "error": error,
        }
        return render(request, "sessions/patient/visit.html", context)


def _patient_for(token: str) -> Patient | None:
    link = links.read(token, now=timezone.now())
    if link is None or link.purpose != links.UNSUBSCRIBE:
        return None
    return Patient.objects.select_related("clinic").filter(pk=link.subject_id).first()


@patient_page
def unsubscribe(request, token):
    patient = _patient_for(token)
    if patient is None:
        return _invalid(request, "bad unsubscribe link")
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    done = False
    if request.method == "POST":
        withdraw_email_consent(patient=patient)
        done = True
    return in_patient_language(
        patient, lambda: render(request, "sessions/patient/unsubscribe.html", {"clinic": patient.clinic, "done": done})
    )


@csrf_exempt
@patient_page
def unsubscribe_one_click(request, token):
    """RFC 8058: the mail program POSTs `List-Unsubscribe=One-Click` here."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    patient = _patient_for(token)
    if patient is None:
        _count_invalid("bad one-click unsubscribe link")
        return _unlogged(HttpResponse("Unknown link.", status=404, content_type="text/plain"))
    withdraw_email_consent(patient=patient)
    return HttpResponse("Unsubscribed.", content_type="text/plain")
