"""Issue 13: the manager's protocol editor (/protocols/new/, /protocols/<id>/edit/)."""

import pytest
from django.test import Client
from django.urls import reverse

from protocols.models import Protocol
from protocols.services import load_measures
from tests.factories import make_protocol, step
from tests.web.conftest import login

pytestmark = pytest.mark.django_db


def editor_post(steps: list[dict], **fields) -> dict:
    data = {"name": "Scalp booster", "indication": "hair", "delivery": "injection", "product": "",
            "description": "", "active": "on"}
    data.update(fields)
    data.update({"steps-TOTAL_FORMS": str(len(steps)), "steps-INITIAL_FORMS": "0",
                 "steps-MIN_NUM_FORMS": "1", "steps-MAX_NUM_FORMS": "1000"})
    for i, s in enumerate(steps):
        row = {"name": "Injection", "kind": "treatment", "repeat": "1", "interval_days": "0", "anchor": "previous",
               "window_before_days": "0", "window_after_days": "0", "duration_minutes": "30", "adjunct": "none",
               "product": "", **s}
        data.update({f"steps-{i}-{k}": v for k, v in row.items()})
    return data


def test_only_the_manager_authors(receptionist, clinician, hair_protocol):
    for user in (receptionist, clinician):
        page = login(Client(), user)
        assert page.get(reverse("protocol_create")).status_code == 403
        assert page.post(reverse("protocol_edit", args=[hair_protocol.pk]), editor_post([{}])).status_code == 403
        assert "Edit protocol" not in page.get(reverse("protocol_detail", args=[hair_protocol.pk])).content.decode()


def test_a_new_protocol_is_previewed_then_saved(manager, clinic):
    load_measures()
    page = login(Client(), manager)
    steps = [{"name": "Baseline", "kind": "assessment", "measures": ["hair_density"]},
             {"name": "Injection", "repeat": "4", "interval_days": "14", "window_before_days": "2",
              "window_after_days": "3"}]
    preview = page.post(reverse("protocol_create"), {**editor_post(steps), "preview": "1"})
    body = preview.content.decode()
    assert preview.status_code == 200 and "5 sessions over 59 days" in body
    assert not Protocol.objects.filter(name="Scalp booster").exists()
    response = page.post(reverse("protocol_create"), {**editor_post(steps), "save": "1"})
    protocol = Protocol.objects.get(clinic=clinic, name="Scalp booster")
    assert response.status_code == 302 and response.url == reverse("protocol_detail", args=[protocol.pk])
    saved = list(protocol.steps.order_by("position"))
    assert [(s.name, s.repeat, s.interval_days) for s in saved] == [("Baseline", 1, 0), ("Injection", 4, 14)]
    assert [m.code for m in saved[0].measures.all()] == ["hair_density"]


def test_bad_steps_are_named_and_nothing_is_saved(manager, clinic):
    page = login(Client(), manager)
    response = page.post(reverse("protocol_create"), {**editor_post([{"name": "", "repeat": "0"}]), "save": "1"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Give the step a name." in body and "Too low: enter a whole number from 1 to 200." in body
    assert not Protocol.objects.filter(clinic=clinic, name="Scalp booster").exists()


def test_a_protocol_in_use_is_saved_as_a_new_version(manager, clinic, enrolment, hair_protocol):
    page = login(Client(), manager)
    url = reverse("protocol_edit", args=[hair_protocol.pk])
    body = page.get(url).content.decode()
    assert "Save as a new version" in body and "a course keeps the steps it started with" in body
    form = page.get(url).context["formset"]
    steps = [{k: ("on" if v is True else v) for k, v in f.initial.items() if v not in (False, None)} for f in form.forms if f.initial]
    for s in steps:
        s["measures"] = [m.code for m in s.get("measures", [])]
    steps[0]["window_after_days"] = "5"
    response = page.post(url, {**editor_post(steps, name=hair_protocol.name, indication=hair_protocol.indication,
                                             delivery=hair_protocol.delivery), "save": "1"})
    successor = Protocol.objects.get(lineage=hair_protocol.lineage, is_current=True)
    assert response.status_code == 302 and successor.version == hair_protocol.version + 1
    assert successor.steps.order_by("position").first().window_after_days == 5
    enrolment.refresh_from_db()
    assert enrolment.protocol_id == hair_protocol.pk


def test_an_unused_protocol_is_edited_in_place_and_another_clinics_is_a_404(manager, clinic, other_clinic):
    mine = make_protocol(clinic, steps=[step("Baseline", "assessment", measures=["hair_density"])], name="Mine")
    page = login(Client(), manager)
    url = reverse("protocol_edit", args=[mine.pk])
    assert "Save protocol" in page.get(url).content.decode()
    page.post(url, {**editor_post([{"name": "Baseline visit", "kind": "assessment"}], name="Mine renamed"), "save": "1"})
    mine.refresh_from_db()
    assert (mine.name, mine.version, mine.steps.get().name) == ("Mine renamed", 1, "Baseline visit")
    theirs = make_protocol(other_clinic, name="Theirs")
    assert page.get(reverse("protocol_edit", args=[theirs.pk])).status_code == 404


def test_rules_and_arms_are_shown_edited_and_validated(manager, clinic):
    """SPEC §19 in the editor: a step's arm and rules are kept through an
    edit, shown on the protocol page, and a bad rule is refused naming it."""
    from protocols.services import load_library

    load_library(clinic)
    psoriasis = Protocol.objects.get(clinic=clinic, library_key="psoriasis", is_current=True)
    page = login(Client(), manager)
    detail = page.get(reverse("protocol_detail", args=[psoriasis.pk])).content.decode()
    assert "arm: maintenance" in detail and "responder: pasi_75" in detail and "switch_to: extension" in detail
    url = reverse("protocol_edit", args=[psoriasis.pk])
    formset = page.get(url).context["formset"]
    steps = [{k: ("on" if v is True else v) for k, v in f.initial.items() if v not in (False, None)} for f in formset.forms if f.initial]
    import json

    for s in steps:
        s["measures"] = [m.code for m in s.get("measures", [])]
        if "decision" in s:
            s["decision"] = json.dumps(s["decision"])
    bad = [dict(s) for s in steps]
    week_12 = next(i for i, s in enumerate(bad) if s["name"] == "Week-12 assessment")
    bad[week_12]["decision"] = bad[week_12]["decision"].replace("switch_to: extension", "switch_to: extention")
    response = page.post(url, {**editor_post(bad, name=psoriasis.name, indication="psoriasis", delivery="topical"),
                               "save": "1"})
    assert response.status_code == 400
    assert "unknown arm &#x27;extention&#x27;" in response.content.decode()
    response = page.post(url, {**editor_post(steps, name=psoriasis.name, indication="psoriasis", delivery="topical",
                                             description="Edited"), "save": "1"})
    assert response.status_code == 302, response.content.decode()[:3000]
    psoriasis.refresh_from_db()
    assert list(psoriasis.steps.exclude(arm="").values_list("arm", flat=True)) == ["maintenance", "extension"]
    assert psoriasis.steps.exclude(decision=None).count() == 2
    assert psoriasis.steps.filter(follow_up=True).count() == 2  # the follow-up flags survive the editor


def test_the_enrolment_preview_shows_each_path(manager, clinic, patient):
    from protocols.services import load_library

    load_library(clinic)
    psoriasis = Protocol.objects.get(clinic=clinic, library_key="psoriasis", is_current=True)
    page = login(Client(), manager)
    response = page.post(reverse("enrol", args=[patient.pk]),
                         {"protocol": psoriasis.pk, "start_date": "2030-03-04", "action": "preview"})
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-arm="maintenance"' in body and 'data-arm="extension"' in body
    # Maintenance after week 12 (2030-05-27): 8, 16 and 24 weeks on.
    assert "Mon 22 Jul 2030" in body
    assert response.context["paths"][0]["when"] == "responder: pasi_75"
    assert [p["arm"] for p in response.context["paths"]] == ["maintenance", "extension"]
