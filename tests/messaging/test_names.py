"""Patients' names of every script in every kind of email (issue 23): each
one is delivered by a real SMTP server, parses under `email.policy.strict`,
and keeps within RFC 5322's 998 octets a line and RFC 2047's 75 characters
an encoded word. A name of 100 emoji once made a 1,081-octet `To:` line
that the server refused with a 500."""

import datetime as dt
import email
import email.policy
import re

import pytest
import time_machine
from django.core.mail import get_connection
from django.utils import timezone

from messaging import outbox
from messaging.emails import build_email
from sessions import services
from sessions.models import Reminder, ReminderKind, ReminderStatus
from tests.messaging.conftest import book_due_now

UTC = dt.UTC
NAMES = {
    "greek": ("Αλέξανδρος", "Παπαδόπουλος-Καραμανλής"),
    "chinese": ("小明", "欧阳" * 20),
    "arabic": ("محمد", "عبد الله بن عبد العزيز الهاشمي"),
    "comma and quotes": ('Hanna "Hanni"', "Weber, geb. Müller"),
    "ascii comma and quotes": ('Hanna "Hanni"', "Weber, Jr."),
    "100 emoji": ("😀", "🦄" * 99),
}
ENCODED_WORD = re.compile(rb"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")


def check_wire(raw: bytes) -> email.message.EmailMessage:
    """The message as the server got it: every header line within 998
    octets, every encoded word within 75 characters, and parsed strictly
    (any defect raises), headers and parts alike."""
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert max(len(line) for line in head.split(b"\r\n")) <= 998
    words = ENCODED_WORD.findall(head)
    assert all(len(word) <= 75 for word in words), [w for w in words if len(w) > 75]
    message = email.message_from_bytes(raw, policy=email.policy.strict)
    for name in ("From", "To", "Subject", "Reply-To", "List-Unsubscribe"):
        str(message[name])
    for part in message.walk():
        if not part.is_multipart():
            part.get_content()
    return message


def same_name(display_name: str, name: str) -> bool:
    # Python 3.11's parser puts a space between adjacent encoded words of a
    # display name (RFC 2047 §6.2 says to drop it), so spaces are not compared.
    return "".join(display_name.split()) == "".join(name.split())


@pytest.fixture
def every_kind(clinic, patient, quick_protocol, receptionist, clinician):
    """One row of every kind about one booked session."""
    clinic.sender_email = "desk@charite-skin.example"
    clinic.save()
    with time_machine.travel(dt.datetime(2026, 6, 1, 7, 0, tzinfo=UTC), tick=False):
        enrolment = services.enrol_patient(
            patient=patient, protocol=quick_protocol, start_date=dt.date(2026, 6, 1), by=receptionist
        )
        session = services.book_session(
            session=enrolment.sessions.get(), start=dt.datetime(2026, 6, 3, 8, 0, tzinfo=UTC),
            practitioner=clinician, by=receptionist,
        )
    due = dt.datetime(2026, 6, 1, 7, 0, tzinfo=UTC)
    rows = []
    for offset, kind in enumerate(ReminderKind):
        rows.append(Reminder.objects.create(
            clinic=clinic, session=session, kind=kind, due_at=due + dt.timedelta(minutes=offset),
            offset_hours=24 if kind == ReminderKind.BOOKED else None, event_start=session.start,
            event_end=session.end, previous_start=session.start - dt.timedelta(days=1)
            if kind == ReminderKind.MOVED else None, ics_sequence=session.ics_sequence,
        ))  # fmt: skip
    return rows


@pytest.mark.parametrize("script", NAMES)
def test_every_kind_of_email_with_this_name_is_delivered_and_within_the_limits(smtp, patient, every_kind, script):
    first, last = NAMES[script]
    type(patient).objects.filter(pk=patient.pk).update(first_name=first, last_name=last)
    rows = [Reminder.objects.select_related(*outbox.BATCH_READS).get(pk=row.pk) for row in every_kind]
    with get_connection(fail_silently=False) as connection:
        assert connection.send_messages([build_email(row) for row in rows]) == len(rows)
    assert len(smtp.raw) == len(rows) == len(ReminderKind)
    for raw in smtp.raw:
        message = check_wire(raw)
        [to] = message["To"].addresses
        assert to.addr_spec == patient.email
        assert same_name(to.display_name, f"{first} {last}")
        assert message["From"].addresses[0].display_name == "Charité Skin"
        assert str(message["Subject"]).strip().startswith("Charité Skin: ")


def test_a_patient_named_in_emoji_gets_the_reminder_the_outbox_sends(smtp, clinic, quick_protocol, receptionist,
                                                                     clinician):
    """The case of the issue, through the outbox: sent, not refused."""
    [reminder_id] = book_due_now(clinic, quick_protocol, 1, by=receptionist, practitioner=clinician,
                                 now=timezone.now())
    patient = Reminder.objects.get(pk=reminder_id).session.patient
    type(patient).objects.filter(pk=patient.pk).update(first_name="😀" * 100, last_name="🦄" * 100)
    assert outbox.scan()["sent"] == 1
    assert Reminder.objects.get(pk=reminder_id).status == ReminderStatus.SENT
    [raw] = smtp.raw
    assert same_name(check_wire(raw)["To"].addresses[0].display_name, "😀" * 100 + "🦄" * 100)
