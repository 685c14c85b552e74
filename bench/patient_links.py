"""The signed links the simulated patients of `make load` follow
(bench/locustfile.py, Patient): run by bench/load.py with the server's
environment (the same SECRET_KEY), it writes {"visit": [...], "book": [...]}
as paths to the JSON file named on the command line.

- "visit": the confirm/cancel page of bookings two or more days ahead, as
  the confirmation and reminder emails carry it;
- "book": the self-booking page (SPEC §18) of planned sessions whose window
  has days from tomorrow on, as the "time to book" email carries it.

    python bench/patient_links.py var/load/patient_links.json [count]
"""

import datetime as dt
import json
import os
import sys
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.utils import timezone  # noqa: E402

from messaging import links  # noqa: E402
from sessions.models import Session, SessionStatus  # noqa: E402


def main(out: Path, count: int) -> None:
    now = timezone.now()
    sessions = Session.objects.select_related("clinic").filter(enrolment__status="active").exclude(step__kind="home")
    tomorrow = now.date() + dt.timedelta(days=1)
    visit = sessions.filter(status=SessionStatus.BOOKED, start__gte=now + dt.timedelta(days=2)).order_by("?")[:count]
    book = sessions.filter(
        status=SessionStatus.PLANNED, clinic__patients_may_book=True, window_end__gte=tomorrow,
        window_start__lte=tomorrow + dt.timedelta(days=14),
    ).order_by("?")[:count]
    found = {
        "visit": [urlparse(links.visit_url(s)).path for s in visit],
        "book": [urlparse(links.self_book_url(s)).path for s in book],
    }
    out.write_text(json.dumps(found))
    print(f"patient links: {len(found['visit'])} visit pages, {len(found['book'])} booking pages")


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 400)
