"""Protocol authoring and the standard library.

A protocol version that has enrolments is never changed in place: editing it
makes the next version of the same lineage, and existing enrolments keep the
version (and the steps) they started on.
"""

import re
from collections.abc import Mapping, Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from clinics.models import Clinic, Role, User
from clinics.services import create_clinic
from core.exceptions import Conflict
from core.services import model_update
from core.text import check_text

from . import schedule
from .library import EDITION, MEASURES, PROTOCOLS, RESPONDERS
from .models import Adjunct, Anchor, OutcomeMeasure, Protocol, Step, StepKind

PROTOCOL_FIELDS = ("name", "indication", "delivery", "description", "product", "active")
STEP_FIELDS = (
    "name",
    "kind",
    "repeat",
    "interval_days",
    "anchor",
    "window_before_days",
    "window_after_days",
    "duration_minutes",
    "product",
    "adjunct",
    "primary_endpoint",
    "follow_up",
    "arm",
    "decision",
)
STEP_DEFAULTS = {
    "repeat": 1,
    "interval_days": 0,
    "anchor": Anchor.PREVIOUS,
    "window_before_days": 0,
    "window_after_days": 0,
    "duration_minutes": 30,
    "product": "",
    "adjunct": Adjunct.NONE,
    "primary_endpoint": False,
    "follow_up": False,
    "arm": "",
    "decision": None,
}


def _bounded(step: Mapping, field: str, low: int, high: int, errors: dict, index: int) -> None:
    value = step.get(field)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors.setdefault("steps", []).append(_("Step %(index)s: %(field)s must be a whole number from %(low)s to %(high)s.") % {"index": index, "field": field, "low": low, "high": high})


def clean_steps(steps: Sequence[Mapping]) -> list[dict]:
    """Check step dicts (as from the API or the library) and resolve measure
    codes. Raises ValidationError on the `steps` field, naming step and rule."""
    errors: dict[str, list[str]] = {}
    if not steps:
        raise ValidationError({"steps": [_("A protocol needs at least one step.")]})
    codes = {code for step in steps for code in step.get("measures", ())}
    catalogue = {m.code: m for m in OutcomeMeasure.objects.filter(code__in=codes)}
    cleaned = []
    total = 0
    for index, raw in enumerate(steps, start=1):
        step = {**STEP_DEFAULTS, **raw}
        if not str(step.get("name") or "").strip():
            errors.setdefault("steps", []).append(_("Step %(index)s: a name is required.") % {"index": index})
        try:
            check_text(Step, {f: step[f] for f in ("name", "product") if isinstance(step.get(f), str)})
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                errors.setdefault("steps", []).extend(f"Step {index}, {field}: {m}" for m in messages)
        if step.get("kind") not in StepKind.values:
            errors.setdefault("steps", []).append(_("Step %(index)s: kind must be one of %(choices)s.") % {"index": index, "choices": ", ".join(StepKind.values)})
        if step.get("anchor") not in Anchor.values:
            errors.setdefault("steps", []).append(_("Step %(index)s: anchor must be one of %(choices)s.") % {"index": index, "choices": ", ".join(Anchor.values)})
        if step.get("adjunct") not in Adjunct.values:
            errors.setdefault("steps", []).append(_("Step %(index)s: adjunct must be one of %(choices)s.") % {"index": index, "choices": ", ".join(Adjunct.values)})
        for flag in ("primary_endpoint", "follow_up"):
            if not isinstance(step.get(flag), bool):
                errors.setdefault("steps", []).append(_("Step %(index)s: %(field)s must be true or false.") % {"index": index, "field": flag})
        if step.get("follow_up") and step.get("kind") != StepKind.ASSESSMENT:
            errors.setdefault("steps", []).append(_("Step %(index)s: only an assessment can be a follow-up.") % {"index": index})
        _bounded(step, "repeat", 1, schedule.MAX_REPEAT, errors, index)
        _bounded(step, "interval_days", 0, schedule.MAX_INTERVAL_DAYS, errors, index)
        _bounded(step, "window_before_days", 0, schedule.MAX_WINDOW_DAYS, errors, index)
        _bounded(step, "window_after_days", 0, schedule.MAX_WINDOW_DAYS, errors, index)
        low_duration = 0 if step.get("kind") == StepKind.HOME else 5
        _bounded(step, "duration_minutes", low_duration, 12 * 60, errors, index)
        unknown = sorted(str(c) for c in step.get("measures", ()) if c not in catalogue)
        if unknown:
            errors.setdefault("steps", []).append(_("Step %(index)s: unknown measure code(s) %(codes)s.") % {"index": index, "codes": ", ".join(unknown)})
        if isinstance(step.get("repeat"), int):
            total += step["repeat"]
        cleaned.append(
            {**{f: step.get(f) for f in STEP_FIELDS}, "measures": [catalogue[c] for c in step.get("measures", ()) if c in catalogue]}
        )
    _check_decisions(steps, cleaned, catalogue, errors)
    if total > schedule.MAX_SESSIONS:
        errors.setdefault("steps", []).append(_("A protocol may generate at most %(count)s sessions.") % {"count": schedule.MAX_SESSIONS})
    if errors:
        raise ValidationError(errors)
    return cleaned


ARM_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def _responder_codes() -> dict[str, str]:
    """Responder code -> the code of the measure it judges, over the catalogue."""
    return {r["code"]: m.code for m in OutcomeMeasure.objects.all() for r in (m.responders or [])}


def _check_decisions(raw_steps: Sequence[Mapping], cleaned: list[dict], catalogue: dict, errors: dict) -> None:
    """SPEC §19: arms are named, the main path has a step, and every rule names
    a measure the decision step records, a responder of one of them and an
    arm of this version. Errors go on `steps`, naming step, rule and the
    unknown name."""
    def fail(message: str) -> None:
        errors.setdefault("steps", []).append(message)

    arms = set()
    for index, step in enumerate(cleaned, start=1):
        arm = step.get("arm")
        if arm is None:
            step["arm"] = arm = ""
        if not isinstance(arm, str) or (arm and not ARM_NAME.match(arm)):
            fail(_("Step %(index)s: arm must be a short lower-case name (letters, digits, - and _).") % {"index": index})
            continue
        arms.add(arm)
    if cleaned and "" not in arms:
        fail(_("The main path (steps without an arm) needs at least one step."))
    responders = None
    for index, step in enumerate(cleaned, start=1):
        data = step.get("decision")
        if data in (None, {}):
            step["decision"] = None
            continue
        try:
            rule_set = schedule.parse_rule_set(data)
        except schedule.RuleError as error:
            fail(_("Step %(index)s: %(error)s.") % {"index": index, "error": error})
            continue
        recorded = {code for code in raw_steps[index - 1].get("measures", ()) if code in catalogue}
        if responders is None:
            responders = _responder_codes()
        verdicts = [(f"rule {n}", r.condition, r.action) for n, r in enumerate(rule_set.rules, start=1)]
        verdicts.append(("default", None, rule_set.default))
        for label, condition, action in verdicts:
            if action.kind == schedule.SWITCH_TO and action.arm not in arms - {""}:
                fail(_("Step %(index)s, %(rule)s: unknown arm %(arm)s.") % {"index": index, "rule": label, "arm": repr(action.arm)})
            if condition is None:
                continue
            if condition.responder:
                measure = responders.get(condition.responder)
                if measure is None:
                    fail(
                        _("Step %(index)s, %(rule)s: unknown responder %(responder)s.")
                        % {"index": index, "rule": label, "responder": repr(condition.responder)}
                    )
                elif measure not in recorded:
                    fail(
                        _("Step %(index)s, %(rule)s: responder %(responder)s needs %(measure)s, not recorded at this step.")
                        % {"index": index, "rule": label, "responder": repr(condition.responder), "measure": measure}
                    )
            elif condition.measure not in catalogue and not OutcomeMeasure.objects.filter(code=condition.measure).exists():
                fail(
                    _("Step %(index)s, %(rule)s: unknown measure %(measure)s.")
                    % {"index": index, "rule": label, "measure": repr(condition.measure)}
                )
            elif condition.measure not in recorded:
                fail(
                    _("Step %(index)s, %(rule)s: measure %(measure)s is not recorded at this step.")
                    % {"index": index, "rule": label, "measure": repr(condition.measure)}
                )
            elif condition.basis == "percent_change" and catalogue[condition.measure].ordinal:
                fail(
                    _(
                        "Step %(index)s, %(rule)s: %(measure)s is a grade or class: "
                        "use its change in points, never a percent change."
                    )
                    % {"index": index, "rule": label, "measure": condition.measure}
                )
        step["decision"] = data


def _write_steps(protocol: Protocol, steps: list[dict]) -> None:
    for position, step in enumerate(steps, start=1):
        measures = step["measures"]
        row = Step.objects.create(protocol=protocol, position=position, **{f: step[f] for f in STEP_FIELDS})
        row.measures.set(measures)


def _steps_as_data(protocol: Protocol) -> list[dict]:
    return [
        {**{f: getattr(s, f) for f in STEP_FIELDS}, "measures": list(s.measures.all())}
        for s in protocol.steps.order_by("position").prefetch_related("measures")
    ]


def _comparable(steps: Sequence[Mapping]) -> list[tuple]:
    return [(*(step[f] for f in STEP_FIELDS), sorted(m.code for m in step["measures"])) for step in steps]


@transaction.atomic
def create_protocol(*, clinic: Clinic, data: Mapping, steps: Sequence[Mapping], by: User | None) -> Protocol:
    if by is not None and not by.has_role(Role.MANAGER):
        raise PermissionDenied(_("Only a manager may author protocols."))
    check_text(Protocol, {f: data[f] for f in PROTOCOL_FIELDS if f in data})
    cleaned = clean_steps(steps)
    protocol = Protocol.objects.create(
        clinic=clinic, created_by=by, **{f: data[f] for f in PROTOCOL_FIELDS if f in data}
    )
    _write_steps(protocol, cleaned)
    return protocol


@transaction.atomic
def update_protocol(
    *, protocol: Protocol, data: Mapping, steps: Sequence[Mapping] | None, by: User
) -> Protocol:
    """Edit in place while nobody is enrolled; otherwise make the next
    version (returned) and retire this one from new enrolments."""
    if not by.has_role(Role.MANAGER):
        raise PermissionDenied(_("Only a manager may author protocols."))
    check_text(Protocol, {f: data[f] for f in PROTOCOL_FIELDS if f in data})
    protocol = Protocol.objects.select_for_update().get(pk=protocol.pk)
    if not protocol.is_current:
        raise Conflict(_("This is an old version; edit the current version of the protocol."))
    cleaned = clean_steps(steps) if steps is not None else None
    fields = {f: data[f] for f in PROTOCOL_FIELDS if f in data}
    content_changed = any(f != "active" and getattr(protocol, f) != v for f, v in fields.items()) or (
        cleaned is not None and _comparable(cleaned) != _comparable(_steps_as_data(protocol))
    )
    # What enrolled patients follow never changes in place; `active` only
    # says whether new patients may start on this version, so it may.
    if not content_changed or not protocol.enrolments.exists():
        model_update(protocol, fields, PROTOCOL_FIELDS)
        protocol._history_user = by
        protocol.save()
        if cleaned is not None and content_changed:
            protocol.steps.all().delete()
            _write_steps(protocol, cleaned)
        return protocol
    kept_steps = cleaned if cleaned is not None else _steps_as_data(protocol)
    protocol.is_current = False
    protocol._history_user = by
    protocol.save(update_fields=["is_current"])
    successor = Protocol.objects.create(
        clinic=protocol.clinic,
        lineage=protocol.lineage,
        version=protocol.version + 1,
        library_key=protocol.library_key,
        library_edition=protocol.library_edition,
        created_by=by,
        **{f: fields.get(f, getattr(protocol, f)) for f in PROTOCOL_FIELDS},
    )
    _write_steps(successor, kept_steps)
    return successor


def load_measures() -> int:
    """Create or update the shared catalogue; returns how many changed."""
    changed = 0
    for spec in MEASURES:
        defaults = {**{k: v for k, v in spec.items() if k != "code"}, "responders": RESPONDERS.get(spec["code"], [])}
        measure, created = OutcomeMeasure.objects.get_or_create(code=spec["code"], defaults=defaults)
        if not created and model_update(measure, defaults, defaults):
            measure.save()
            changed += 1
        changed += created
    return changed


@transaction.atomic
def load_library(clinic: Clinic) -> int:
    """Bring a clinic's standard protocols to the library's current edition;
    returns how many protocols were added or given a new version.

    A key the clinic does not have is added. A key whose current version came
    from an older edition (edited by the clinic or not) gets the new edition as
    the next version of the same lineage, keeping its `active` flag; the old
    version stays as it is, with its enrolments. Idempotent: a clinic already
    on this edition is left alone, its own edits included."""
    load_measures()
    current = {
        p.library_key: p
        for p in Protocol.objects.select_for_update().filter(clinic=clinic, is_current=True).exclude(library_key="")
    }
    changed = 0
    for spec in PROTOCOLS:
        fields = {f: spec[f] for f in PROTOCOL_FIELDS if f in spec}
        steps = clean_steps(spec["steps"])
        old = current.get(spec["key"])
        edition = spec.get("edition", EDITION)
        if old is None:
            protocol = Protocol.objects.create(clinic=clinic, library_key=spec["key"], library_edition=EDITION, **fields)
        elif old.library_edition < edition:
            old.is_current = False
            old.save(update_fields=["is_current"])
            protocol = Protocol.objects.create(
                clinic=clinic,
                lineage=old.lineage,
                version=old.version + 1,
                library_key=spec["key"],
                library_edition=EDITION,
                **{**fields, "active": old.active},
            )
        else:
            continue
        _write_steps(protocol, steps)
        changed += 1
    return changed


@transaction.atomic
def set_up_clinic(*, name: str, slug: str, timezone: str, sender_email: str = "", language: str = "") -> Clinic:
    """A new clinic as `create_clinic` makes it, with its own copy of the
    standard protocol library."""
    clinic = create_clinic(name=name, slug=slug, timezone=timezone, sender_email=sender_email, language=language)
    load_library(clinic)
    return clinic
