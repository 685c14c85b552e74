"""The patient's questionnaire page before a visit (SPEC §17), reached from
the `questionnaire` email's signed link without logging in.

One instrument at a time (a radio group per question, in the instrument's
own words), then a page to send them. Every step saves what is chosen so
far, so the patient may stop and come back; sending makes the answers the
visit's outcome values (sessions.questionnaires). After sending, the
answers may be changed until the visit is completed. The link is good for
the booking it was mailed for and dies at the end of the visit's day; a
tampered, expired or outdated one gets the same plain page as every other
patient link (web/links.py), which says nothing about anyone.
"""

from django.core.exceptions import ValidationError
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.exceptions import Conflict
from core.languages import long_time
from messaging import links
from protocols.questionnaires import answers_from_outcome
from sessions import questionnaires
from sessions.models import Session, SessionStatus
from web.links import _invalid, in_patient_language, patient_page


def _session_for(link: links.Link) -> Session | None:
    session = (
        Session.objects.select_related("clinic", "enrolment", "patient", "step", "step__protocol")
        .filter(pk=link.subject_id)
        .first()
    )
    if session is None or session.start is None:
        return None
    # A completed visit shows the answers (its enrolment may have completed with it).
    if session.status != SessionStatus.COMPLETED and (session.status != SessionStatus.BOOKED or session.enrolment_refusal()):
        return None
    # Good only for the booking it was mailed for (a move mails a new one).
    if links.visit_day_expiry(session) != link.expires or link.version != links.booking_version(session):
        return None
    return session


def _step_number(raw, last: int) -> int:
    try:
        return min(max(int(raw), 1), last)
    except (TypeError, ValueError):
        return 1


@patient_page
def questionnaire(request, token):
    now = timezone.now()
    link = links.read(token, now=now)
    if link is None or link.purpose != links.QUESTIONNAIRE:
        return _invalid(request, "bad signature, expired or wrong purpose")
    session = _session_for(link)
    if session is None:
        return _invalid(request, "no longer matches its session")
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    with timezone.override(session.clinic.tz):
        return in_patient_language(session.patient, lambda: _page(request, token, session, now))


def _page(request, token, session, now):
    asked, _left_out = questionnaires.instruments_for(session, translation.get_language())
    review = len(asked) + 1  # the last step: check and send
    step = _step_number(request.POST.get("step") or request.GET.get("step"), review)
    url = reverse("patient_questionnaire", args=[token])
    locked = questionnaires.change_refusal(session)
    error = ""
    errors: dict = {}
    if request.method == "POST" and not locked:
        action = request.POST.get("action", "")
        try:
            if step < review:
                questionnaires.save_answers(session, asked[step - 1], request.POST, now=now)
                if action == "back":
                    return redirect(f"{url}?step={max(step - 1, 1)}")
                if action == "later":
                    return redirect(f"{url}?step={step}&saved=1")
                return redirect(f"{url}?step={step + 1}")
            if action == "send":
                questionnaires.send_answers(session, now=now, language=translation.get_language())
                return redirect(f"{url}?step={review}&sent=1")
        except ValidationError as refusal:
            errors = refusal.message_dict
            error = _("Some answers are missing or not valid; see below.")
        except Conflict as refusal:
            error = refusal.message
    elif request.method == "GET":
        questionnaires.mark_opened(session, now=now)
    row = questionnaires.questionnaire_of(session)
    draft = row.draft if row else {}
    if row and row.answered_at and not draft:
        # Staff typed in a paper questionnaire: show those answers.
        draft = {
            v.measure.code: answers_from_outcome(v.measure.code, v.value, v.items)
            for v in session.outcomes.select_related("measure")
        }
    context = {
        "clinic": session.clinic,
        "session": session,
        "when": long_time(session.start, session.clinic.tz),
        "url": url,
        "step": step,
        "steps": len(asked),
        "review": review,
        "locked": locked,
        "answered_at": row.answered_at if row else None,
        "error": error,
        "saved": request.GET.get("saved") == "1",
        "sent": request.GET.get("sent") == "1",
    }
    if step < review:
        instrument = asked[step - 1]
        chosen = {str(k): str(v) for k, v in draft.get(instrument.code, {}).items()}
        if request.method == "POST":
            chosen = {q.key: request.POST.get(q.key, "") for q in instrument.questions}
        context.update(
            instrument=instrument,
            questions=[
                {"number": n, "question": q, "chosen": chosen.get(q.key, ""), "name": q.key}
                for n, q in enumerate(instrument.questions, start=1)
            ],
            errors=errors.get(instrument.code, []),
        )
    else:
        context["summary"] = [
            {
                "step": n,
                "instrument": i,
                "answered": sum(1 for q in i.questions if str(draft.get(i.code, {}).get(q.key, "")) != ""),
                "errors": errors.get(i.code, []),
            }
            for n, i in enumerate(asked, start=1)
        ]
    return render(request, "sessions/patient/questionnaire.html", context)
