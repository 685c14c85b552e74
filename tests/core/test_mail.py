"""core/mail.py: the bytes it writes read back as the message Django's own
message() makes, header for header and part for part."""

import email
import email.policy

import pytest
from django.core import mail as django_mail
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import BadHeaderError

from core import mail

ICS = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nSUMMARY:Injektion – Charité\r\nEND:VCALENDAR\r\n"


def reminder_like(*, name="Hanna Weber", clinic="Charite Skin", subject=None, body="Dear Hanna,\n\nSee you.\n",
                  html="<p>Dear Hanna,</p>\n", ics=ICS, reply_to=("desk@charite.example",)):
    from email.utils import formataddr

    message = EmailMultiAlternatives(
        subject=subject or f"{clinic}: your appointment on Monday 30 March 2026, 09:00",
        body=body,
        from_email=formataddr((clinic, "desk@charite.example")),
        to=[formataddr((name, "hanna@patients.example"))],
        reply_to=list(reply_to),
        headers={
            "Message-ID": "<reminder-7@charite.example>",
            "X-Regimen-Reminder": "7",
            "Auto-Submitted": "auto-generated",
            "List-Unsubscribe": "<https://regimen.example/u/" + "t" * 90 + "/one-click/>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    if html is not None:
        message.attach_alternative(html, "text/html")
    if ics is not None:
        message.attach("appointment.ics", ics, "text/calendar")
    return message


def parsed(data: bytes):
    return email.message_from_bytes(data, policy=email.policy.default)


def outline(message) -> dict:
    """What a reader sees: the headers (Date aside, which is the moment of
    writing) and each part's type, parameters, encoding, disposition and text."""
    headers = [
        (name, message.get_content_type() if name == "Content-Type" else str(value).strip())
        for name, value in message.items()
        if name != "Date"
    ]
    parts = []
    for part in message.walk():
        params = [(k, v) for k, v in part.get_params() if k != "boundary"]
        parts.append((part.get_content_type(), params, part.get("Content-Transfer-Encoding"),
                      part.get("Content-Disposition"), None if part.is_multipart() else part.get_content()))
    return {"headers": headers, "parts": parts}


def assert_same_as_django(message):
    ours = mail.wire(message)
    assert ours is not None
    theirs = message.message().as_bytes(linesep="\r\n")
    assert outline(parsed(ours.data)) == outline(parsed(theirs))
    head = ours.data.partition(b"\r\n\r\n")[0]
    assert head.isascii()
    for line in ours.data.split(b"\r\n"):
        assert len(line) <= 998
    for line in head.split(b"\r\n"):
        assert len(line) <= 78 or b" " not in line.strip(), line
    return ours


def test_an_ascii_reminder_reads_back_as_djangos():
    ours = assert_same_as_django(reminder_like())
    assert ours.sender == "desk@charite.example"
    assert ours.recipients == ["hanna@patients.example"]
    message = parsed(ours.data)
    assert message["Date"] is not None
    assert [p.get_content_type() for p in message.walk()] == [
        "multipart/mixed", "multipart/alternative", "text/plain", "text/html", "text/calendar"
    ]


def test_non_ascii_names_and_subject_are_encoded_words():
    ours = assert_same_as_django(reminder_like(name="Jürgen Müller-Lüdenscheidt", clinic="Charité Hautklinik"))
    message = parsed(ours.data)
    assert message["To"].addresses[0].display_name == "Jürgen Müller-Lüdenscheidt"
    assert message["From"].addresses[0].display_name == "Charité Hautklinik"
    assert str(message["Subject"]) == "Charité Hautklinik: your appointment on Monday 30 March 2026, 09:00"
    assert b"=?utf-8?" in ours.data.partition(b"\r\n\r\n")[0]


def test_a_long_subject_in_many_scripts_folds_without_splitting_a_character():
    subject = "Клиника «Здоровье» 東京クリニック: " + ", ".join(["your appointment on Monday 30 March 2026"] * 3)
    ours = assert_same_as_django(reminder_like(subject=subject))
    assert str(parsed(ours.data)["Subject"]) == subject


@pytest.mark.parametrize("body", ["ascii only\n", "Grüße\n", "x" * 1200 + "\nGrüße " + "y" * 999 + "\n"])
def test_transfer_encodings_are_djangos(body):
    """7bit for ASCII, 8bit for UTF-8, quoted-printable once a line is over
    998 octets, as Django chooses them."""
    ours = assert_same_as_django(reminder_like(body=body, html=body))
    [plain] = [p for p in parsed(ours.data).walk() if p.get_content_type() == "text/plain"]
    expected = "quoted-printable" if len(body) > 1000 else "7bit" if body.isascii() else "8bit"
    assert plain["Content-Transfer-Encoding"] == expected


def test_the_shapes_django_makes_without_alternatives_or_attachments():
    assert_same_as_django(reminder_like(html=None))
    assert_same_as_django(reminder_like(ics=None))
    assert_same_as_django(reminder_like(html=None, ics=None))


def test_a_line_break_in_a_header_is_refused_as_django_refuses_it():
    message = reminder_like(subject="Hello\r\nBcc: spy@example.org")
    with pytest.raises(BadHeaderError):
        message.message()
    with pytest.raises(BadHeaderError):
        mail.wire(message)


def test_an_international_domain_goes_on_the_envelope_in_idna():
    message = reminder_like()
    message.to = ["Hanna <hanna@bücher.example>"]
    assert mail.wire(message) is None  # a non-ASCII address header: Django writes it
    message.to = ["hanna@xn--bcher-kva.example"]
    assert mail.wire(message).recipients == ["hanna@xn--bcher-kva.example"]


@pytest.mark.parametrize(
    "change",
    [
        lambda m: setattr(m, "cc", ["a@example.org"]),
        lambda m: setattr(m, "bcc", ["a@example.org"]),
        lambda m: setattr(m, "reply_to", ["info@bücher.example"]),
        lambda m: m.attach("photo.jpg", b"\xff\xd8", "image/jpeg"),
        lambda m: m.attach("Übersicht.ics", ICS, "text/calendar"),
        lambda m: m.extra_headers.update({"To": "x@example.org"}),
    ],
)
def test_other_shapes_are_left_to_django(change):
    message = reminder_like()
    change(message)
    assert mail.wire(message) is None


# --- begin and end: one SMTP transaction in two steps ------------------------------------------------


class Recording:
    """An aiosmtpd handler that keeps each message's envelope and bytes, and
    gives the replies it is told to (by the recipient's address)."""

    def __init__(self):
        self.received = []
        self.rcpt_replies = {}
        self.data_replies = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        [recipient] = envelope.rcpt_tos
        if recipient in self.data_replies:
            return self.data_replies[recipient]
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 Message accepted for delivery"


@pytest.fixture
def server(settings):
    from aiosmtpd.controller import Controller

    from tests.messaging.conftest import free_port

    handler = Recording()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS, settings.EMAIL_TIMEOUT = (
        "127.0.0.1", controller.port, False, 5)
    try:
        yield handler
    finally:
        controller.stop()


def wire_to(address: str, body: str = "Dear Hanna,\n\nSee you.\n"):
    message = reminder_like(body=body)
    message.to = [f"Hanna <{address}>"]
    return mail.wire(message)


def begin_and_end(smtp, address: str) -> None:
    prepared = wire_to(address)
    mail.begin(smtp, prepared)
    mail.end(smtp, prepared)


def test_begin_and_end_put_on_the_wire_what_sendmail_does_with_the_caller_working_in_between(server):
    """Lines starting with a dot are doubled on the wire and read back whole,
    and `meanwhile` runs once a command: MAIL, RCPT, DATA, and the message with its final dot."""
    body = ".hidden line\n..two dots\nlast line without a break"
    prepared = wire_to("hanna@patients.example", body)
    connection = django_mail.get_connection()
    calls = []
    try:
        smtp = mail.smtp_of(connection)
        mail.begin(smtp, prepared, meanwhile=lambda: calls.append("begin"))
        assert server.received == []  # nothing is delivered before the end of the data
        mail.end(smtp, prepared, meanwhile=lambda: calls.append("end"))
        smtp.sendmail(prepared.sender, prepared.recipients, prepared.data)  # the same message, as smtplib sends it
    finally:
        connection.close()
    assert calls == ["begin"] * 3 + ["end"]
    ours, smtplibs = server.received
    assert ours == smtplibs
    assert ours[0] == prepared.sender and ours[1] == prepared.recipients
    assert parsed(ours[2]).get_body(("plain",)).get_content().replace("\r\n", "\n") == body


@pytest.mark.parametrize(
    ("setting", "reply", "raised"),
    [
        ("rcpt_replies", "550 5.1.1 no such mailbox", "SMTPRecipientsRefused"),
        ("rcpt_replies", "451 4.3.0 try again", "SMTPRecipientsRefused"),
        ("data_replies", "451 4.3.0 try again later", "SMTPDataError"),
        ("data_replies", "554 5.7.1 rejected", "SMTPDataError"),
    ],
)
def test_a_refusal_raises_what_sendmail_raises_and_the_connection_carries_on(server, setting, reply, raised):
    import smtplib

    getattr(server, setting)["refused@patients.example"] = reply
    connection = django_mail.get_connection()
    try:
        smtp = mail.smtp_of(connection)
        with pytest.raises(getattr(smtplib, raised)) as failure:
            begin_and_end(smtp, "refused@patients.example")
        with pytest.raises(getattr(smtplib, raised)) as smtplibs:
            prepared = wire_to("refused@patients.example")
            smtp.sendmail(prepared.sender, prepared.recipients, prepared.data)
        assert str(failure.value) == str(smtplibs.value)
        # After the RSET, the next message goes through on the same connection.
        begin_and_end(smtp, "hanna@patients.example")
    finally:
        connection.close()
    assert [recipients for _, recipients, _ in server.received] == [["hanna@patients.example"]]


def test_a_connection_closed_before_the_end_of_the_data_delivers_nothing(server):
    connection = django_mail.get_connection()
    smtp = mail.smtp_of(connection)
    mail.begin(smtp, wire_to("hanna@patients.example"))
    smtp.close()
    connection.close()
    # A fresh connection: the server is at work and took nothing from the first.
    connection = django_mail.get_connection()
    try:
        begin_and_end(mail.smtp_of(connection), "second@patients.example")
    finally:
        connection.close()
    assert [recipients for _, recipients, _ in server.received] == [["second@patients.example"]]


@pytest.mark.parametrize(
    "address",
    ["hanna@patients.example", "o'neil+x@a-b.example", "a.b.c@x.y", "x(comment)@y.example", "a..b@c.example",
     '"quoted"@x.example', "a@xn--mller-kva.example", "~{}|@x.example", ""],
)
def test_the_envelope_address_is_the_one_sendmail_writes(address):
    import smtplib

    assert mail._quoted(address) == smtplib.quoteaddr(address)
