"""A local SMTP server for `make load`: accepts every message and appends its
X-Regimen-Reminder id (one line per delivery) to a file, so that a reminder
sent twice shows up as a repeated line.

    python bench/smtp_counter.py PORT FILE
"""

import sys
import threading

from aiosmtpd.controller import Controller


class Counter:
    def __init__(self, path: str):
        self.path = path
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        ident = ""
        for line in envelope.content.decode("utf-8", "replace").splitlines():
            if line.lower().startswith("x-regimen-reminder:"):
                ident = line.split(":", 1)[1].strip()
                break
            if not line:
                break
        with self.lock, open(self.path, "a") as out:
            out.write(ident + "\n")
        return "250 Message accepted for delivery"


if __name__ == "__main__":
    port, path = int(sys.argv[1]), sys.argv[2]
    controller = Controller(Counter(path), hostname="127.0.0.1", port=port)
    controller.start()
    threading.Event().wait()
