"""Bulk enrolment (SPEC §15): a CSV of new patients, each with the protocol
to start and its start date, enrolled in one transaction.

Every row is checked first, with the rules of `create_patient` and
`enrol_patient` (`plan_enrolment` is shared); any error is reported by its
line and nothing is written. Then patients, enrolments (each with a history
row, as the services leave), sessions and their reminder rows are written
with COPY (`core.bulk`) instead of calling the per-patient service 10,000
times: the same rows, a few statements.

Columns (a header line names them; order free): `record_number`,
`first_name`, `last_name`, `date_of_birth` (YYYY-MM-DD), `protocol` (the
library key, e.g. `hair-aga`, or the name of a current active protocol),
`start_date` (YYYY-MM-DD); optional `email`, `phone`, `skin_type` (1-6),
`reminder_consent` (true/false, yes/no, 1/0; blank is false), `clinician` (a username),
`area`.
"""

import csv
import datetime as dt
import io
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from clinics.models import Clinic, Role, User
from core.bulk import copy_rows, reserve_ids
from core.languages import Language
from core.services import now as now_or
from core.services import require_role, workflow
from core.text import single_line
from patients.models import Enrolment, Patient
from patients.services import PATIENT_FIELDS
from protocols.models import Protocol
from sessions.reminders.plan import wanted_reminders

from ..models import Reminder, Session, SessionStatus
from . import workable
from .services import MAX_START_DISTANCE, plan_enrolment

REQUIRED_COLUMNS = ("record_number", "first_name", "last_name", "date_of_birth", "protocol", "start_date")
OPTIONAL_COLUMNS = ("email", "phone", "skin_type", "reminder_consent", "clinician", "area", "language")
MAX_ROWS = 20_000
MAX_ERRORS = 200  # reported; the count of the rest is given
EARLIEST_BIRTH = dt.date(1900, 1, 1)

ISO = ["%Y-%m-%d"]
CONSENT = {"true": True, "false": False, "yes": True, "no": False, "1": True, "0": False}


class RowForm(forms.Form):
    """One CSV row's fields, with the patient model's lengths and formats
    (`_row_fields`). Uniqueness of record numbers is checked for the whole
    file at once."""

    def __init__(self, *args, today: dt.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_date_of_birth(self):
        value = self.cleaned_data["date_of_birth"]
        if value > self.today:
            raise ValidationError(_("A date of birth cannot be in the future."))
        if value < EARLIEST_BIRTH:
            raise ValidationError(_("A date of birth before 1900 is not plausible."))
        return value


def _row_fields() -> dict:
    fields = forms.fields_for_model(Patient, fields=PATIENT_FIELDS)
    fields["date_of_birth"] = forms.DateField(input_formats=ISO)
    fields["skin_type"] = forms.IntegerField(min_value=1, max_value=6, required=False)
    fields["reminder_consent"] = forms.TypedChoiceField(
        choices=[(v, v) for v in ("", *CONSENT)], coerce=CONSENT.get, empty_value=False, required=False
    )
    # Blank: the clinic's language (SPEC §20).
    fields["language"] = forms.ChoiceField(choices=[("", ""), *Language.choices], required=False)
    fields["protocol"] = forms.CharField(max_length=200)
    fields["start_date"] = forms.DateField(input_formats=ISO)
    fields["clinician"] = forms.CharField(max_length=150, required=False)
    fields["area"] = forms.CharField(max_length=200, required=False, validators=[single_line])
    return fields


class _SharedFields(dict):
    """A form's fields that no form changes, handed to each row's form as
    they are: Django deep-copies a form's fields for every instance, and
    making or copying them per row was a fifth of a 10,000-row import
    (docs/benchmarks.md). RowForm sets no field's choices, widget or
    attributes per instance; cleaning a value keeps no state on its field."""

    def __deepcopy__(self, memo):
        return dict(self)


RowForm.base_fields = _SharedFields(_row_fields())


@dataclass(frozen=True)
class Imported:
    patients: int
    enrolments: int
    sessions: int
    reminders: int


def _read(text: str) -> list[dict]:
    if "\x00" in text:
        raise ValidationError({"csv": [_("The file holds NUL characters.")]})
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise ValidationError({"csv": [_("line 1: missing column(s): %(columns)s") % {"columns": ", ".join(missing)}]})
    unknown = [c for c in columns if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        raise ValidationError({"csv": [_("line 1: unknown column(s): %(columns)s") % {"columns": ", ".join(unknown)}]})
    reader.fieldnames = columns
    rows = []
    try:
        for row in reader:
            if len(rows) >= MAX_ROWS:
                raise ValidationError({"csv": [_("At most %(count)s rows per import.") % {"count": f"{MAX_ROWS:,}"}]})
            if None in row:
                raise ValidationError({"csv": [_("line %(line)s: more values than columns.") % {"line": reader.line_num}]})
            rows.append((reader.line_num, {k: (v or "").strip() for k, v in row.items()}))
    except csv.Error as error:
        raise ValidationError({"csv": [_("line %(line)s: %(error)s") % {"line": reader.line_num, "error": error}]}) from None
    if not rows:
        raise ValidationError({"csv": [_("The file has no rows.")]})
    return rows


def _protocol_lookup(clinic: Clinic) -> dict[str, tuple[Protocol, list]]:
    """Current versions by library key and by name (case-insensitive), with
    their steps in order."""
    found = {}
    for protocol in Protocol.objects.filter(clinic=clinic, is_current=True).prefetch_related("steps"):
        entry = (protocol, sorted((s for s in protocol.steps.all() if not s.arm), key=lambda s: s.position))
        found[protocol.name.casefold()] = entry
        if protocol.library_key:
            found[protocol.library_key.casefold()] = entry
    return found


def _messages(error: ValidationError) -> list[tuple[str, str]]:
    if hasattr(error, "error_dict"):
        return [(name, message) for name, errors in error.message_dict.items() for message in errors]
    return [("row", message) for message in error.messages]


@workflow
def import_enrolments(*, clinic: Clinic, text: str, by: User, now: dt.datetime | None = None) -> Imported:
    """Check every row, then write them all, or raise ValidationError
    ({"csv": ["line N: field: message", ...]}) and write nothing."""
    now = now_or(now)
    require_role(by, Role.MANAGER, clinic_id=clinic.pk, what="clinic")
    tz = clinic.tz
    today = now.astimezone(tz).date()
    rows = _read(text)
    protocols = _protocol_lookup(clinic)
    staff = {u.username: u for u in User.objects.filter(clinic=clinic)}
    record_numbers = [row.get("record_number", "") for _, row in rows]
    taken = set(
        Patient.objects.filter(clinic=clinic, record_number__in=record_numbers).values_list("record_number", flat=True)
    )
    errors: list[str] = []
    seen: dict[str, int] = {}
    accepted = []
    answers: dict = {}
    # The clinic's open days are read once for the file, from the earliest
    # start plan_enrolment lets through (its rows' dates are not checked yet).
    is_open = workable.clinic_open_days(clinic, today - MAX_START_DISTANCE)

    def checked(clinic_, start_date, steps):
        # One answer per protocol and start date: a file enrols many
        # patients on the same day in the same course.
        key = (id(steps), start_date)
        if key not in answers:
            answers[key] = workable.check_schedule(clinic_, start_date, steps, is_open=is_open)
        return answers[key]

    for line, row in rows:
        form = RowForm(row, today=today)
        problems: list[tuple[str, str]] = []
        if not form.is_valid():
            problems += [(name, str(m)) for name, messages in form.errors.items() for m in messages]
        data = form.cleaned_data
        number = data.get("record_number")
        if number in taken:
            problems.append(("record_number", _("A patient with this record number already exists.")))
        elif number in seen:
            problems.append(("record_number", _("The record number is on line %(line)s too.") % {"line": seen[number]}))
        elif number:
            seen[number] = line
        protocol = protocols.get(data.get("protocol", "").casefold()) if data.get("protocol") else None
        if data.get("protocol") and protocol is None:
            problems.append(("protocol", _("No current protocol of this clinic has this library key or name.")))
        clinician = None
        if data.get("clinician"):
            clinician = staff.get(data["clinician"])
            if clinician is None:
                problems.append(("clinician", _("No staff member of this clinic has this username.")))
        planned = None
        if protocol is not None and "start_date" in data and not any(n == "clinician" for n, _ in problems):
            try:
                planned = plan_enrolment(protocol=protocol[0], steps=protocol[1], start_date=data["start_date"],
                                         clinician=clinician, by=by, today=today, check_schedule=checked)
            except ValidationError as error:
                problems += _messages(error)
        if problems:
            errors += [
                _("line %(line)s: %(field)s: %(message)s") % {"line": line, "field": name, "message": message}
                for name, message in problems
            ]
        elif not errors:
            accepted.append((data, protocol, clinician, planned))
    if errors:
        shown = errors[:MAX_ERRORS]
        if len(errors) > MAX_ERRORS:
            shown.append(_("… and %(count)s more errors.") % {"count": len(errors) - MAX_ERRORS})
        raise ValidationError({"csv": shown})
    return _write(clinic=clinic, accepted=accepted, by=by, now=now)


def _write(*, clinic: Clinic, accepted: list, by: User, now: dt.datetime) -> Imported:
    tz = clinic.tz
    offsets = clinic.reminder_offsets_hours or []
    patient_ids = reserve_ids(Patient, len(accepted))
    enrolment_ids = reserve_ids(Enrolment, len(accepted))
    patients, enrolments, sessions, reminders = [], [], [], []
    session_count = sum(len(planned) for *_, planned in accepted)
    session_ids = iter(reserve_ids(Session, session_count))
    for (data, (protocol, steps), clinician, planned), patient_id, enrolment_id in zip(
        accepted, patient_ids, enrolment_ids, strict=True
    ):
        consent = bool(data.get("reminder_consent"))
        patient = {f: data.get(f) for f in PATIENT_FIELDS}
        patient.update(id=patient_id, clinic_id=clinic.pk, reminder_consent=consent,
                       reminder_consent_changed_at=now if consent else None, created_at=now,
                       email=data.get("email") or "", phone=data.get("phone") or "",
                       language=data.get("language") or clinic.language)
        patients.append(patient)
        enrolments.append({
            "id": enrolment_id, "clinic_id": clinic.pk, "patient_id": patient_id, "protocol_id": protocol.pk,
            "start_date": data["start_date"], "clinician_id": clinician.pk if clinician else None,
            "area": data.get("area") or "", "created_by_id": by.pk, "created_at": now,
        })
        can_email = consent and bool(patient["email"])
        for p in planned:
            step = steps[p.step_index]
            session_id = next(session_ids)
            sessions.append({
                "id": session_id, "clinic_id": clinic.pk, "enrolment_id": enrolment_id, "patient_id": patient_id,
                "step_id": step.pk, "sequence": p.sequence, "occurrence": p.occurrence,
                "status": SessionStatus.PLANNED, "target_date": p.dates.target_date,
                "window_start": p.dates.window_start, "window_end": p.dates.window_end,
            })
            # The rows sync_reminders would add for a new planned session.
            for wanted in wanted_reminders(
                status=SessionStatus.PLANNED, is_home=step.kind == "home", start=None,
                target_date=p.dates.target_date, window_start=p.dates.window_start, tz=tz,
                offsets_hours=offsets, now=now, can_email=can_email,
            ):
                reminders.append({"clinic_id": clinic.pk, "session_id": session_id, "kind": wanted.kind,
                                  "due_at": wanted.due_at, "offset_hours": wanted.offset_hours, "created_at": now})
    history = {"history_date": now, "history_type": "+", "history_user_id": by.pk}
    copy_rows(Patient, patients, now=now)
    copy_rows(Patient.history.model, ({**row, **history} for row in patients), now=now)
    copy_rows(Enrolment, enrolments, now=now)
    copy_rows(Enrolment.history.model, ({**row, **history} for row in enrolments), now=now)
    copy_rows(Session, sessions, now=now)
    copy_rows(Reminder, reminders, now=now)
    return Imported(patients=len(patients), enrolments=len(enrolments), sessions=len(sessions),
                    reminders=len(reminders))
