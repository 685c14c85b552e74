"""The patient emails' templates, rendered once per clinic and shape and
filled in for each email (sessions/stencils.py): every template, filled in,
reads exactly as the template engine renders it."""

import logging

import pytest
from django.template.loader import get_template

from sessions import stencils
from sessions.models import ReminderKind

KINDS = [kind.value for kind in ReminderKind]
WHEN = {"when": "Monday 30 March 2026, 09:00", "until": "09:15"}
WINDOW = {"window_from": "Monday 16 March 2026", "window_to": "Monday 30 March 2026", "target_day": "Monday 16 March 2026"}
# What each kind's email has (messaging/emails.py email_context).
FIELDS = {
    ReminderKind.BOOKED: {**WHEN, "visit_url": "https://regimen.example/p/visit/a:b/"},
    ReminderKind.CONFIRMATION: {**WHEN, "visit_url": "https://regimen.example/p/visit/a:b/"},
    ReminderKind.MOVED: {**WHEN, "previous_when": "Friday 27 March 2026, 11:00",
                         "visit_url": "https://regimen.example/p/visit/a:b/"},
    ReminderKind.CANCELLED: WHEN,
    ReminderKind.HOME: WINDOW,
    ReminderKind.WINDOW_OPEN: {**WINDOW, "book_request_url": "https://regimen.example/p/visit/c:d/"},
    ReminderKind.MISSED: {**WINDOW, "missed_when": "Monday 1 June 2026, 14:00",
                          "book_request_url": "https://regimen.example/p/visit/c:d/"},
}
# Another patient's values, with what HTML must escape and text must not.
TRICKY = {
    "patient_name": "Zoë O'Brien <b>&amp; \"Jr\"</b>",
    "step_name": "Injection & <i>booster</i>",
    "protocol_name": "Hair \"regeneration\"",
    "when": "Tuesday 31 March 2026, <10:00>",
    "visit_url": "https://regimen.example/p/visit/x&y=\"z\"/",
}


def email_fields(kind: str, **changes) -> dict[str, str]:
    fields = {"patient_name": "Anna Weber", "step_name": "Injection", "protocol_name": "Hair regeneration",
              **FIELDS[kind], "unsubscribe_url": "https://regimen.example/p/unsubscribe/u:v/",
              "one_click_unsubscribe_url": "https://regimen.example/p/unsubscribe/u:v/one-click/"}
    return {name: changes.get(name, value) for name, value in fields.items()}


def shared_of(clinic, kind: str) -> dict:
    return {"kind": kind, "clinic": clinic, "timezone": clinic.timezone, "contact_email": clinic.sender_email,
            "cancel_cutoff_hours": clinic.cancel_cutoff_hours}


def both_ways(name: str, clinic, kind: str, fields: dict[str, str]) -> tuple[str, str]:
    shared = shared_of(clinic, kind)
    return (stencils.render(name, clinic=clinic, shared=shared, fields=fields),
            get_template(name).render(shared | fields))


@pytest.fixture
def full_clinic(clinic):
    clinic.sender_email = "desk@charite-skin.example"
    clinic.phone = "+49 30 450 000"
    clinic.address = "Luisenstraße 2, 10117 Berlin"
    clinic.save()
    return clinic


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("extension", ["txt", "html"])
def test_every_template_filled_in_reads_as_rendered_for_the_next_patients_too(full_clinic, kind, extension, caplog):
    name = f"reminders/{kind}.{extension}"
    caplog.set_level(logging.WARNING, logger="sessions.stencils")
    first, expected = both_ways(name, full_clinic, kind, email_fields(kind))
    assert first == expected
    # The next patients meet the stencil the first one made.
    for changes in (TRICKY, {"patient_name": "Jan Kowalski", "step_name": "Baseline"}):
        filled, expected = both_ways(name, full_clinic, kind, email_fields(kind, **changes))
        assert filled == expected
    assert "Jan Kowalski" in filled
    assert caplog.records == [], "our own templates only print their fields or test them"


@pytest.mark.parametrize("kind", [ReminderKind.BOOKED, ReminderKind.MISSED])
def test_an_empty_field_is_a_shape_of_its_own(full_clinic, kind):
    """`until` and `missed_when` can be empty, and the templates leave out
    the words around them then."""
    field = "until" if kind == ReminderKind.BOOKED else "missed_when"
    for extension in ("txt", "html"):
        name = f"reminders/{kind}.{extension}"
        with_value, _ = both_ways(name, full_clinic, kind, email_fields(kind))
        without, expected = both_ways(name, full_clinic, kind, email_fields(kind, **{field: ""}))
        assert without == expected
        assert without != with_value
        again, expected = both_ways(name, full_clinic, kind, email_fields(kind, patient_name="Jan Kowalski"))
        assert again == expected


def test_a_clinic_that_changes_gets_new_stencils(full_clinic):
    name = "reminders/booked.txt"
    both_ways(name, full_clinic, ReminderKind.BOOKED, email_fields(ReminderKind.BOOKED))
    full_clinic.name, full_clinic.phone, full_clinic.address = "Skin Berlin Mitte", "", ""
    full_clinic.save()
    filled, expected = both_ways(name, full_clinic, ReminderKind.BOOKED, email_fields(ReminderKind.BOOKED))
    assert filled == expected
    assert "Skin Berlin Mitte" in filled
    assert "Charité" not in filled and "Luisenstraße" not in filled


LOCAL_TEMPLATES = {
    "reminders/booked.txt": "Dear {{ patient_name|upper }}, see you on {{ when }}.",
    "reminders/home.txt": "{% if patient_name == 'Anna Weber' %}Hello Anna{% else %}Dear {{ patient_name }}{% endif %}",
}


@pytest.fixture
def local_templates(settings):
    settings.TEMPLATES = [{
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "OPTIONS": {"loaders": [("django.template.loaders.locmem.Loader", LOCAL_TEMPLATES)]},
    }]  # fmt: skip


def test_a_template_that_filters_a_field_is_rendered_for_each_email_with_a_warning(
    full_clinic, local_templates, caplog
):
    kind = ReminderKind.BOOKED
    caplog.set_level(logging.WARNING, logger="sessions.stencils")
    assert both_ways("reminders/booked.txt", full_clinic, kind, email_fields(kind))[0].startswith("Dear ANNA WEBER,")
    filled, _ = both_ways("reminders/booked.txt", full_clinic, kind, email_fields(kind, patient_name="Jan Kowalski"))
    assert filled == "Dear JAN KOWALSKI, see you on Monday 30 March 2026, 09:00."
    assert "does more with a field than print it" in caplog.text


def test_a_template_that_compares_a_field_is_rendered_for_each_email(full_clinic, local_templates):
    kind = ReminderKind.HOME
    assert both_ways("reminders/home.txt", full_clinic, kind, email_fields(kind))[0] == "Hello Anna"
    assert both_ways("reminders/home.txt", full_clinic, kind, email_fields(kind, patient_name="Jan"))[0] == "Dear Jan"


def test_a_marker_in_the_clinics_own_text_does_not_break_an_email(full_clinic):
    """The marker is a private-use character no template writes; a clinic
    name holding one is rendered plainly, not cut there."""
    full_clinic.name = f"Odd {stencils.MARK}patient_name{stencils.MARK} {stencils.MARK}nothing{stencils.MARK}"
    full_clinic.save()
    for extension in ("txt", "html"):
        filled, expected = both_ways(f"reminders/booked.{extension}", full_clinic, ReminderKind.BOOKED,
                                     email_fields(ReminderKind.BOOKED))
        assert filled == expected


def test_a_process_keeps_at_most_so_many_stencils_the_oldest_go_first(full_clinic, monkeypatch):
    monkeypatch.setattr(stencils, "_stencils", {})
    monkeypatch.setattr(stencils, "KEPT", 3)
    kind = ReminderKind.BOOKED
    shapes = [{}, {"until": ""}, {"visit_url": ""}, {"until": "", "visit_url": ""}]
    for changes in shapes:
        both_ways("reminders/booked.txt", full_clinic, kind, email_fields(kind, **changes))
    kept = [dict(key[3]) for key in stencils._stencils]
    assert len(kept) == 3
    assert [shape["until"] == "" for shape in kept] == [True, False, True]  # the first shape went
    filled, expected = both_ways("reminders/booked.txt", full_clinic, kind, email_fields(kind))
    assert filled == expected
