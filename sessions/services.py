"""The session workflows in one import, for callers that use several of
them. Each lives with its own concern:

- sessions/enrolments/services.py: enrol a patient, withdraw an enrolment;
- sessions/booking/services.py: book or rebook, cancel a booking, no-show, skip;
- sessions/outcomes/completion.py: complete a session, correct an outcome value;
- sessions/workflows.py: what they share (locking, the cascade).
"""

from sessions.booking.services import book_session, cancel_booking, mark_no_show, skip_session
from sessions.outcomes.completion import complete_session, correct_outcome

from .enrolments.services import enrol_patient, withdraw_enrolment
from .workflows import recascade

__all__ = [
    "book_session",
    "cancel_booking",
    "complete_session",
    "correct_outcome",
    "enrol_patient",
    "mark_no_show",
    "recascade",
    "skip_session",
    "withdraw_enrolment",
]
