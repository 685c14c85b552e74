"""Signed links for patients, no login (SPEC §13), made with Django's signing.

A token names what it is for (`purpose`) and what it is about, and the
visit links carry the booking's start: a link is good only for the booking it
was mailed for, so after a move or a cancellation the old link shows nothing.
Visit links expire at the session's start; "ask for a booking" links at the
end of the session's window; unsubscribe links never (RFC 8058 expects them
to work as long as the emails may be read)."""

import datetime as dt
import functools
from dataclasses import dataclass
from urllib.parse import urljoin

from django.conf import settings
from django.core import signing
from django.urls import get_script_prefix, get_urlconf, reverse

from core.timezones import at_local
from sessions.models import Session

SALT = "regimen.patient-links"
VISIT, BOOK, UNSUBSCRIBE = "visit", "book", "unsubscribe"
SELF_BOOK = "self-book"  # the patient picks a time themselves (SPEC §18)
QUESTIONNAIRE = "questionnaire"  # the questionnaire before a visit (SPEC §17)


@dataclass(frozen=True)
class Link:
    purpose: str
    subject_id: int  # a session's id, or a patient's for UNSUBSCRIBE
    expires: int | None  # a POSIX timestamp
    # A visit link: the booking it was mailed for (booking_version). Any later
    # change (a cancellation, a move) makes it dead for good, even when staff
    # book the same time again (issue 30). None in links mailed before this.
    version: int | None = None


def _dumps(link: Link) -> str:
    """The token: what signing.dumps writes (zlib never shortens so small a
    payload, so it is not tried), by a signer made once per key: an email
    carries two tokens, and making the signer and trying zlib took more
    than half of signing."""
    payload = {"p": link.purpose, "i": link.subject_id, "e": link.expires}
    if link.version is not None:
        payload["v"] = link.version
    return _signer(settings.SECRET_KEY).sign_object(payload)


@functools.lru_cache(maxsize=4)
def _signer(key: str) -> signing.TimestampSigner:
    return signing.TimestampSigner(key=key, salt=SALT)


def read(token: str, *, now: dt.datetime) -> Link | None:
    """The link a token stands for, or None when it was tampered with, is
    malformed or has expired."""
    try:
        data = signing.loads(token, salt=SALT)
        version = data.get("v")
        link = Link(
            purpose=data["p"],
            subject_id=int(data["i"]),
            expires=data["e"],
            version=None if version is None else int(version),
        )
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    if link.purpose not in (VISIT, BOOK, UNSUBSCRIBE, SELF_BOOK, QUESTIONNAIRE):
        return None
    if link.expires is not None and now.timestamp() >= link.expires:
        return None
    return link


def booking_expiry(session: Session) -> int:
    return int(session.start.timestamp())


def window_expiry(session: Session) -> int:
    # The end of the window's last clinic-local day.
    return int(at_local(session.window_end + dt.timedelta(days=1), dt.time(0), session.clinic.tz).timestamp())


def visit_day_expiry(session: Session) -> int:
    """The end of the booked visit's clinic-local day (SPEC §17: a
    questionnaire may be changed until the visit is completed, at the latest that day)."""
    day = session.start.astimezone(session.clinic.tz).date()
    return int(at_local(day + dt.timedelta(days=1), dt.time(0), session.clinic.tz).timestamp())


def link_url(name: str, token: str) -> str:
    """The absolute URL of the patient page `name` for `token`. The outbox
    makes two or three links an email, and resolving the route each time
    cost more than signing the token: the URL is resolved once with a
    stand-in for the token, and the token put in its place."""
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    return _url_around(name, settings.SITE_URL, get_script_prefix(), urlconf).replace(STAND_IN, token, 1)


# A token is URL-safe base64 and colons, which reverse() leaves as they are,
# as it leaves this.
STAND_IN = "token-stand-in"


@functools.lru_cache(maxsize=64)
def _url_around(name: str, site_url: str, script_prefix: str, urlconf) -> str:
    return urljoin(site_url, reverse(name, args=[STAND_IN], urlconf=urlconf))


def booking_version(session: Session) -> int:
    """Which booking of the session this is: its iCalendar sequence, which
    every booking, move and cancellation (by staff or the patient) raises
    (sessions.reminders.notices), and which the outbox reads anyway."""
    return session.ics_sequence


def visit_url(session: Session) -> str:
    return link_url(
        "patient_visit", _dumps(Link(VISIT, session.pk, booking_expiry(session), booking_version(session)))
    )


def questionnaire_url(session: Session) -> str:
    """The questionnaire page for the session's current booking; a move or a
    cancellation makes it dead (a new one is mailed for the new time)."""
    return link_url(
        "patient_questionnaire",
        _dumps(Link(QUESTIONNAIRE, session.pk, visit_day_expiry(session), booking_version(session))),
    )


def book_request_url(session: Session) -> str:
    return link_url("patient_visit", _dumps(Link(BOOK, session.pk, window_expiry(session))))


def self_book_url(session: Session) -> str:
    """The page where the patient books or moves the session themselves,
    good until the end of its window (web/self_booking.py)."""
    return link_url("patient_self_book", _dumps(Link(SELF_BOOK, session.pk, window_expiry(session))))


def unsubscribe_token(patient_id: int) -> str:
    return _dumps(Link(UNSUBSCRIBE, patient_id, None))


def unsubscribe_urls(patient_id: int) -> tuple[str, str]:
    """The unsubscribe page's link (in the body) and its one-click POST
    target (List-Unsubscribe, RFC 8058), both from one token: an email
    carries both, and signing costs more than the rest of a link."""
    token = unsubscribe_token(patient_id)
    return link_url("patient_unsubscribe", token), link_url("patient_unsubscribe_one_click", token)
