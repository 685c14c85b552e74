"""An email backend that writes one `.eml` file per message, for `make run`
and any machine without an SMTP server: `var/emails/<UTC time>-<kind>-<id>.eml`,
which a mail program opens as it would a received message.

Django's own file backend appends every message of a connection to one
`.log` file; this one differs only in the file per message and its name. The
kind and id come from the headers the outbox sets (X-Regimen-Kind,
X-Regimen-Reminder); other mail (a password reset) is `email-<random>`.
"""

import os
import secrets
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone


def _safe(text: str) -> str:
    return "".join(c for c in text if c.isalnum() or c in "-_")[:40] or "x"


class EmlFileBackend(BaseEmailBackend):
    def __init__(self, *args, file_path: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.folder = Path(file_path or settings.EMAIL_FILE_PATH)

    def send_messages(self, email_messages) -> int:
        self.folder.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            try:
                self._write(message)
            except Exception:
                if not self.fail_silently:
                    raise
            else:
                sent += 1
        return sent

    def _write(self, message) -> None:
        headers = message.extra_headers
        kind = _safe(str(headers.get("X-Regimen-Kind", "email")))
        ident = _safe(str(headers.get("X-Regimen-Reminder", "") or secrets.token_hex(4)))
        stamp = timezone.now().strftime("%Y%m%dT%H%M%S.%fZ")
        data = message.message().as_bytes(linesep="\r\n")
        # Written aside, then renamed: a reader never sees half a message,
        # and a retry of the same reminder leaves a second, whole file.
        fd, temporary = tempfile.mkstemp(dir=self.folder, prefix=".writing-")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temporary, self.folder / f"{stamp}-{kind}-{ident}.eml")
