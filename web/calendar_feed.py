"""A practitioner's calendar subscription (issue 13): a secret URL per user
whose iCalendar lists their bookings, for Google Calendar or Outlook. The
page shows, creates and revokes the URL; the feed itself needs no login
(calendar services cannot log in), only the unguessable token."""

import datetime as dt
import secrets

import icalendar
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit.log import record
from audit.models import Action
from clinics.models import Role
from core.pages import staff_page
from messaging.emails import ICS_PRODID, session_uid
from sessions.models import OCCUPYING, CalendarFeed, Session

# How far back the feed reaches (ahead: everything booked).
PAST_DAYS = 30


def create_feed(*, user) -> CalendarFeed:
    """A new secret URL for `user`; any old one stops working."""
    with transaction.atomic():
        CalendarFeed.objects.filter(user=user).delete()
        return CalendarFeed.objects.create(user=user, token=secrets.token_urlsafe(32))


def revoke_feed(*, user) -> None:
    CalendarFeed.objects.filter(user=user).delete()


def feed_ics(user, *, now: dt.datetime) -> bytes:
    """The user's bookings from PAST_DAYS ago on, one VEVENT each. The
    summary names the patient by first name and initial only: a calendar
    service is not the place for a medical record."""
    sessions = (
        Session.objects.filter(practitioner=user, status__in=OCCUPYING, start__gte=now - dt.timedelta(days=PAST_DAYS))
        .select_related("clinic", "patient", "step", "step__protocol", "room")
        .order_by("start")[:2000]
    )
    cal = icalendar.Calendar()
    cal.add("prodid", ICS_PRODID)
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"Regimen: {user.display_name}")
    for session in sessions:
        event = icalendar.Event()
        event.add("uid", "staff-" + session_uid(session))
        # In UTC, so no VTIMEZONE (icalendar 7.3.2's Timezone.from_tzid writes the
        # spring onset an hour late: tests/messaging/test_calendar.py).
        event.add("dtstart", session.start.astimezone(dt.UTC))
        event.add("dtend", session.end.astimezone(dt.UTC))
        event.add("dtstamp", now.astimezone(dt.UTC))
        who = f"{session.patient.first_name} {session.patient.last_name[:1]}."
        event.add("summary", f"{who} – {session.step.name} #{session.sequence} ({session.step.protocol.name})")
        if session.room:
            event.add("location", session.room.name)
        event.add("status", "CONFIRMED")
        cal.add_component(event)
    return cal.to_ical()


def feed(request, token: str):
    """The feed itself: no login, the token is the key; an unknown or revoked one is a 404."""
    subscription = CalendarFeed.objects.select_related("user").filter(token=token).first()
    if subscription is None or not subscription.user.is_active:
        raise Http404("No such calendar.")
    response = HttpResponse(feed_ics(subscription.user, now=timezone.now()), content_type="text/calendar; charset=utf-8")
    # The calendar service reads the practitioner's bookings, patients named by
    # first name and initial: a read of patient data, in the owner's name.
    record(
        action=Action.VIEW,
        request=request,
        user=subscription.user,
        object_type="calendar feed",
        object_id=str(subscription.pk),
        summary="A calendar service fetched the practitioner's calendar feed (bookings, patients by first name)",
    )
    response["Content-Disposition"] = 'inline; filename="regimen.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response


@staff_page(Role.CLINICIAN)
def my_calendar(request):
    subscription = CalendarFeed.objects.filter(user=request.user).first()
    url = settings.SITE_URL + reverse("calendar_feed", args=[subscription.token]) if subscription else ""
    return render(request, "sessions/my_calendar.html", {"nav": "calendar", "subscription": subscription, "url": url})


@require_POST
@staff_page(Role.CLINICIAN)
def my_calendar_change(request):
    if request.POST.get("action") == "revoke":
        revoke_feed(user=request.user)
        messages.success(request, _("The calendar link is revoked: calendars subscribed to it get nothing more."))
    else:
        create_feed(user=request.user)
        messages.success(request, _("A new calendar link was made; any earlier link no longer works."))
    return redirect("my_calendar")
