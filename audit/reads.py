"""Every read of patient data leaves one audit row (SPEC §14, issue 30).

Views that know what they showed write their own 'view', 'export' or
'report' row (audit.log.record marks the request). For every other
successful GET or HEAD by a signed-in user — lists, searches, histories,
photos, recall lists, the admin's change and history pages — this
middleware writes one 'view' row after the answer, unless the URL is one of
those below that show no patient data. A read is audited unless it is known
not to need it: a new page is covered before anyone thinks of it, and
tests/audit/test_every_read_audited.py fails for a read of patient data
without a row.

The row says, in words: what was looked at, the filters (the query string;
of a search, its length, never its words), and for an API list the ids it
returned (at most MAX_IDS)."""

from .log import record
from .models import Action

MAX_IDS = 20

# URL names whose answers hold no patient data: the clinic's own setup,
# the catalogue, staff and the caller's own account. The audit log is not
# here: its summaries name patients, so reading it is audited too.
NOT_PATIENT_DATA = frozenset(
    {
        # API
        "api-root", "api-token", "api-logout", "api-totp", "api-totp-confirm", "api-sign-ins",
        "api-logout-everywhere", "api-clinic", "api-schema", "api-docs",
        "measure-list", "protocol-list", "protocol-detail", "practitioner-list", "practitioner-detail",
        "room-list", "room-detail", "absence-list", "absence-detail", "product-list", "product-detail",
        "lot-list", "lot-detail",
        # Pages
        "home", "login", "logout", "password_reset", "password_reset_done", "password_reset_confirm",
        "password_reset_complete", "two_factor", "two_factor_verify", "two_factor_recovery_codes", "sign_ins",
        "logout_everywhere", "my_calendar", "my_calendar_change", "protocol_list", "protocol_detail",
        "protocol_create", "protocol_edit", "clinic_settings", "settings_closures", "settings_absences",
        "settings_room_add", "settings_room", "settings_staff_add", "settings_staff",
        "lot_list", "lot_add", "patient_create",
        # The admin's own pages
        "index", "app_list", "jsi18n", "password_change", "password_change_done", "autocomplete", "view_on_site",
    }
)  # fmt: skip

# Admin models (url names "<app>_<model>_<view>") that hold no patient data.
NOT_PATIENT_ADMIN_APPS = ("clinics_", "protocols_", "auth_", "otp_totp_", "otp_static_", "axes_", "authtoken_")

# Search words may be a patient's name: the row says a search was made and
# which ids it returned, never the words (an erasure leaves no name behind in
# the log, which is append-only).
SEARCH_KEYS = frozenset({"q", "search", "name", "first_name", "last_name", "email", "phone", "record_number"})

# What a manager reads for the commonest names; others are spelled from the URL name.
WORDS = {
    "patient-list": "the patient list",
    "patient_list": "the patient list",
    "patient-detail": "a patient's record",
    "patient_detail": "a patient's page",
    "session-list": "the session list",
    "agenda": "the agenda",
    "due": "the due list",
    "photo-list": "the photo list",
    "photo-image": "a photo",
    "photo-thumbnail": "a photo's thumbnail",
    "outcome-detail": "an outcome",
    "outcome-history": "an outcome's history of corrections",
    "adverse-event-list": "the adverse events list",
    "adverse-event-history": "an adverse event's history",
    "lot-recall": "a lot's recall list (patients treated with it)",
    "api-lot-recall-csv": "a lot's recall list as CSV (patients treated with it)",
    "lot_recall": "a lot's recall page (patients treated with it)",
    "outcome_correct": "an outcome's correction page",
    "failed_reminders": "the failed reminders",
    "reminder-list": "the reminder list",
    "enrolment-list": "the enrolment list",
    "api-patient-calendar": "a patient's calendar file",
}



def is_patient_read(request) -> bool:
    match = getattr(request, "resolver_match", None)
    if match is None or match.url_name is None:
        return False
    if "admin" in match.namespaces:
        return match.url_name not in NOT_PATIENT_DATA and not match.url_name.startswith(NOT_PATIENT_ADMIN_APPS)
    return match.url_name not in NOT_PATIENT_DATA


def describe(request, response) -> tuple[str, dict]:
    """The row's summary in words, and what it is about (object and patient)."""
    match = request.resolver_match
    name = match.url_name
    kwargs = match.kwargs
    if "admin" in match.namespaces:
        what = "the admin's " + name.replace("_", " ")
    else:
        what = WORDS.get(name) or name.replace("-", " ").replace("_", " ")
    parts = [f"Viewed {what}"]
    query = {
        key: (f"({len(value)} characters)" if key in SEARCH_KEYS else value)
        for key, value in request.GET.items()
        if key not in ("format",)
    }
    if query:
        parts.append("with " + "&".join(f"{key}={value}" for key, value in query.items())[:120])
    ids = _ids_in(getattr(response, "data", None))
    if ids:
        more = f" and {len(ids) - MAX_IDS} more" if len(ids) > MAX_IDS else ""
        parts.append(f"ids {', '.join(str(i) for i in ids[:MAX_IDS])}{more}")
    about = {}
    pk = kwargs.get("pk") or kwargs.get("object_id")
    if pk is not None:
        about["object_type"] = name
        about["object_id"] = "".join(char for char in str(pk) if char.isprintable())[:64]
        if str(pk).isdigit() and (name.startswith(("patient", "api-patient")) or "patients_patient" in name):
            about["patient_ref"] = int(pk)
    # The query string is the client's: no NUL or other control character
    # reaches the row (PostgreSQL refuses NUL in text).
    return "".join(char for char in "; ".join(parts) if char.isprintable()), about


def _ids_in(data) -> list:
    if isinstance(data, dict) and isinstance(data.get("results"), list):
        data = data["results"]
    if isinstance(data, list):
        return [item["id"] for item in data if isinstance(item, dict) and "id" in item]
    return []


class ReadAuditMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (
            request.method in ("GET", "HEAD")
            and 200 <= response.status_code < 300
            and user is not None
            and user.is_authenticated
            and not getattr(request, "_audit_read_recorded", False)
            and is_patient_read(request)
        ):
            summary, about = describe(request, response)
            record(action=Action.VIEW, request=request, summary=summary, **about)
        return response
