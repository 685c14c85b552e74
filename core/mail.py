"""Emails put on the wire directly (RFC 5322, 2045-2047).

Django's `EmailMessage.message()` builds the stdlib's `email` objects, and
`email.generator` then folds and encodes every header and draws every
boundary anew: for the reminder outbox, which sends its emails one after the
other, that cost more than the SMTP conversation itself (docs/benchmarks.md).
`wire` writes the same message straight to bytes: the same parts, in the
same nesting, the same headers, and the transfer encodings Django chooses
(7bit, 8bit, quoted-printable for a line over 998 octets). It knows the
shapes our emails have, a text body with text alternatives and text
attachments; for anything else it answers None and the caller leaves the
message to Django. The message object stays Django's, so the locmem, file
and console backends, and the tests, see what they always saw. `begin` and
`end` send the bytes over smtplib in two steps, so that the caller can work
while the server answers (the reminder outbox, messaging/outbox.py).
"""

import base64
import contextlib
import re
import secrets
import smtplib
import socket
from collections.abc import Callable
from dataclasses import dataclass
from email import quoprimime
from email.utils import formatdate, make_msgid

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import ADDRESS_HEADERS, RFC5322_EMAIL_LINE_LENGTH_LIMIT, BadHeaderError
from django.core.mail.utils import DNS_NAME
from django.utils.encoding import punycode

# Header lines are folded to this many characters where they have a space to
# fold at (RFC 5322 §2.1.1); an encoded word holds this many octets of text,
# so that a line with one stays within 76 characters (RFC 2047 §2).
FOLD_AT = 78
ENCODED_WORD_OCTETS = 30
# The headers message() writes itself; one of these among the extra headers
# replaces Django's value, a case left to Django.
OWN_HEADERS = frozenset({"from", "to", "cc", "reply-to"})


@dataclass(frozen=True)
class Wire:
    sender: str
    recipients: list[str]
    data: bytes


def smtp_of(connection) -> smtplib.SMTP | None:
    """The open smtplib connection behind Django's SMTP backend (one that
    raises its errors), for `begin` and `end`; None for any other backend.
    Its socket sends each write at once (TCP_NODELAY): the last segment of
    a message would otherwise wait for the ACK of the one before it, which
    the server may delay some 40 ms."""
    if not isinstance(connection, SMTPBackend) or connection.fail_silently:
        return None
    connection.open()  # a no-op once open
    smtp = connection.connection
    if smtp.sock is not None:
        smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return smtp


def begin(smtp: smtplib.SMTP, prepared: Wire, *, meanwhile: Callable[[], None] = lambda: None) -> None:
    """One SMTP transaction up to the message: MAIL, RCPT and DATA (RFC 5321
    §3.3); `end` sends the message. Nothing is delivered before `end`, and a
    connection dropped in between loses nothing (close it with
    `smtp.close()`). `begin` and `end` together send what `sendmail` sends,
    and raise what it raises at the same steps, after the same RSET or
    close, so a caller's handling of failures stays the same. `meanwhile` is
    called once while the server works on each command, after it is written
    and before its answer is read: the caller's own work, done in the time
    it would otherwise spend waiting."""
    smtp.ehlo_or_helo_if_needed()
    size = f" size={len(prepared.data)}" if smtp.does_esmtp and smtp.has_extn("size") else ""
    code, reply = _command(smtp, "mail", f"from:{_quoted(prepared.sender)}{size}", meanwhile)
    if code != 250:
        _abandon(smtp, code)
        raise smtplib.SMTPSenderRefused(code, reply, prepared.sender)
    refused = {}
    for recipient in prepared.recipients:
        code, reply = _command(smtp, "rcpt", f"to:{_quoted(recipient)}", meanwhile)
        if code not in (250, 251):
            refused[recipient] = (code, reply)
        if code == 421:
            smtp.close()
            raise smtplib.SMTPRecipientsRefused(refused)
    if len(refused) == len(prepared.recipients):
        _abandon(smtp, code)
        raise smtplib.SMTPRecipientsRefused(refused)
    code, reply = _command(smtp, "data", "", meanwhile)
    if code != 354:
        raise smtplib.SMTPDataError(code, reply)


def end(smtp: smtplib.SMTP, prepared: Wire, *, meanwhile: Callable[[], None] = lambda: None) -> None:
    """The message and the end of its data, in one write as `sendmail`
    writes them: from that moment the server may deliver it. Raises
    SMTPDataError for any answer but 250, as `sendmail` does; `meanwhile`
    as for `begin`."""
    # Transparency (RFC 5321 §4.5.2): a line that starts with a dot gets another.
    data = LEADING_DOT.sub(b"..", prepared.data)
    smtp.send((data if data.endswith(b"\r\n") else data + b"\r\n") + b".\r\n")
    meanwhile()
    code, reply = smtp.getreply()
    if code != 250:
        _abandon(smtp, code)
        raise smtplib.SMTPDataError(code, reply)


def _command(smtp: smtplib.SMTP, command: str, argument: str, meanwhile: Callable[[], None]) -> tuple[int, bytes]:
    smtp.putcmd(command, argument)
    meanwhile()
    return smtp.getreply()


LEADING_DOT = re.compile(rb"(?m)^\.")
# An address of atoms and dots only (RFC 5321 §4.1.2 Dot-string), which
# smtplib's quoteaddr would parse only to write it back as it is.
DOT_STRING_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9.-]+")


def _quoted(address: str) -> str:
    """The address in angle brackets, as `sendmail` puts it on the envelope."""
    return f"<{address}>" if DOT_STRING_ADDRESS.fullmatch(address) else smtplib.quoteaddr(address)


def _abandon(smtp: smtplib.SMTP, code: int) -> None:
    """After a refusal: a 421 means the server is closing the connection;
    otherwise RSET clears the transaction for the next message."""
    if code == 421:
        smtp.close()
        return
    with contextlib.suppress(smtplib.SMTPServerDisconnected):
        smtp.rset()


def wire(message: EmailMessage) -> Wire | None:
    """The envelope and the bytes of `message`, as Django's SMTP backend
    would send them; None for a message of a shape this does not write (Cc
    or Bcc, an address with a non-ASCII part, a non-text part, a file name
    that needs encoding, a charset other than UTF-8)."""
    if (message.encoding or settings.DEFAULT_CHARSET).lower() != "utf-8" or message.cc or message.bcc:
        return None
    extra = message.extra_headers
    names = {name.lower() for name in extra}
    if names & OWN_HEADERS:
        return None
    if any(name.lower() in ADDRESS_HEADERS and not str(value).isascii() for name, value in extra.items()):
        return None
    sender = _addr_spec(message.from_email)
    recipients = [_addr_spec(address) for address in message.to]
    if sender is None or not recipients or None in recipients:
        return None
    addresses = [("From", message.from_email), ("To", ", ".join(message.to))]
    if message.reply_to:
        addresses.append(("Reply-To", ", ".join(message.reply_to)))
    if not all(value.isascii() for _, value in addresses):
        return None

    body = _text_part(message.body, message.content_subtype)
    alternatives = getattr(message, "alternatives", [])
    if alternatives:
        parts = [body] if message.body else []
        for content, mimetype in alternatives:
            part = _mime_part(content, mimetype)
            if part is None:
                return None
            parts.append(part)
        body = _multipart(message.alternative_subtype, parts)
    if message.attachments:
        parts = [body] if message.body or alternatives else []
        for attachment in message.attachments:
            part = _attachment(attachment)
            if part is None:
                return None
            parts.append(part)
        body = _multipart(message.mixed_subtype, parts)

    headers, content = body
    lines = [*headers, _header("Subject", message.subject)]
    lines += [_header(name, value) for name, value in addresses]
    if "date" not in names:
        lines.append(f"Date: {formatdate(localtime=settings.EMAIL_USE_LOCALTIME)}")
    if "message-id" not in names:
        lines.append(f"Message-ID: {make_msgid(domain=DNS_NAME)}")
    lines += [_header(name, str(value)) for name, value in extra.items()]
    return Wire(sender, recipients, "\r\n".join(lines).encode("ascii") + b"\r\n\r\n" + content)


# A part is its header lines and its body, as `_text_part` and `_multipart` make them.
Part = tuple[list[str], bytes]


def _text_part(text: str, subtype: str, *, extra: tuple[str, ...] = ()) -> Part:
    """A text part in UTF-8 with the transfer encoding Django gives it:
    quoted-printable when a line is longer than SMTP allows, else 7bit or
    8bit; line breaks as CRLF."""
    data = text.encode()
    lines = data.splitlines()
    if max(map(len, lines), default=0) > RFC5322_EMAIL_LINE_LENGTH_LIMIT:
        encoding = "quoted-printable"
        lines = quoprimime.body_encode(data.decode("latin-1")).encode("ascii").splitlines()
    else:
        encoding = "7bit" if data.isascii() else "8bit"
    content = b"\r\n".join(lines)
    if text.endswith(("\n", "\r")):
        content += b"\r\n"
    headers = [
        f'Content-Type: text/{subtype}; charset="utf-8"',
        "MIME-Version: 1.0",
        f"Content-Transfer-Encoding: {encoding}",
        *extra,
    ]
    return headers, content


def _mime_part(content, mimetype: str, *, extra: tuple[str, ...] = ()) -> Part | None:
    basetype, _, subtype = mimetype.partition("/")
    if basetype != "text" or not isinstance(content, str):
        return None
    return _text_part(content, subtype, extra=extra)


def _attachment(attachment) -> Part | None:
    if not isinstance(attachment, tuple):  # a MIMEBase object
        return None
    filename, content, mimetype = attachment
    if filename and not _plain_filename(filename):
        return None
    disposition = (f'Content-Disposition: attachment; filename="{filename}"',) if filename else ()
    return _mime_part(content, mimetype or "application/octet-stream", extra=disposition)


def _plain_filename(filename: str) -> bool:
    """A name that may stand in quotes as it is: printable ASCII, no quote
    or backslash (others need RFC 2231 encoding, left to Django)."""
    return filename.isascii() and filename.isprintable() and '"' not in filename and "\\" not in filename


def _multipart(subtype: str, parts: list[Part]) -> Part:
    """The parts between boundaries (RFC 2046 §5.1). The boundary is drawn
    at random and drawn again in the unlikely case a part contains it."""
    bodies = [
        "\r\n".join(headers).encode("ascii") + b"\r\n\r\n" + content for headers, content in parts
    ]
    while True:
        boundary = f"=_{secrets.token_hex(16)}"
        delimiter = f"--{boundary}".encode("ascii")
        if not any(delimiter in body for body in bodies):
            break
    content = delimiter + b"\r\n" + (b"\r\n" + delimiter + b"\r\n").join(bodies) + b"\r\n" + delimiter + b"--\r\n"
    headers = [_fold(f'Content-Type: multipart/{subtype}; boundary="{boundary}"'), "MIME-Version: 1.0"]
    return headers, content


def _addr_spec(address: str) -> str | None:
    """The bare address for the SMTP envelope, from "addr" or "Name <addr>",
    its domain in IDNA form as Django sends it; None for anything less plain
    (a quoted local part, a non-ASCII one), left to Django."""
    spec = address[address.rfind("<") + 1 : -1] if address.endswith(">") else address
    local, at, domain = spec.rpartition("@")
    if not at or not local or not domain or not local.isascii() or any(c in spec for c in ' <>"\r\n'):
        return None
    return f"{local}@{domain if domain.isascii() else punycode(domain)}"


def _header(name: str, value: str) -> str:
    """One header field, folded; a non-ASCII value (not an address) as
    RFC 2047 encoded words. A line break in a value is refused, as Django
    refuses it: it would start a header of the sender's choosing."""
    if "\n" in value or "\r" in value:
        raise BadHeaderError(f"Header values can't contain newlines (got {value!r} for header {name!r})")
    if value.isascii():
        return _fold(f"{name}: {value}")
    return f"{name}: " + "\r\n ".join(_encoded_words(value))


def _encoded_words(value: str) -> list[str]:
    """Base64 encoded words of at most ENCODED_WORD_OCTETS octets of UTF-8
    each, never splitting a character (RFC 2047 §5); a reader joins
    adjacent words without the space between them."""
    data = value.encode()
    words, start = [], 0
    while start < len(data):
        end = min(start + ENCODED_WORD_OCTETS, len(data))
        while end < len(data) and 0x80 <= data[end] < 0xC0:  # inside a character: end before it
            end -= 1
        words.append(f"=?utf-8?b?{base64.b64encode(data[start:end]).decode('ascii')}?=")
        start = end
    return words


def _fold(line: str) -> str:
    """Fold a header line at its spaces into lines of at most FOLD_AT
    characters where it can; a longer word keeps a line of its own."""
    if len(line) <= FOLD_AT:
        return line
    lines, current = [], ""
    for word in line.split(" "):
        if current.strip() and word and len(current) + 1 + len(word) > FOLD_AT:
            lines.append(current)
            current = " " + word
        else:
            current = f"{current} {word}" if current else word
    lines.append(current)
    return "\r\n".join(lines)
