"""SPEC §20: API error messages in the language of the client's
Accept-Language (DRF's own messages included), English without it; the
standard library's texts shown in the reader's language, while what staff
typed and what the database keeps stay as they are."""

import datetime as dt

import pytest

from protocols.models import Protocol
from protocols.services import load_library, load_measures
from sessions import services
from sessions.services import book_session
from tests.factories import PatientFactory

from .conftest import START, at

GERMAN = {"HTTP_ACCEPT_LANGUAGE": "de"}


def book_url(session):
    return f"/api/v1/sessions/{session.pk}/book/"


def test_a_missing_field_is_named_in_german_by_drf(client_as, receptionist):
    german = client_as(receptionist).post("/api/v1/patients/", {"first_name": "Hanna"}, format="json", **GERMAN)
    assert german.status_code == 400
    assert german.json()["last_name"] == ["Dieses Feld ist zwingend erforderlich."]
    english = client_as(receptionist).post("/api/v1/patients/", {"first_name": "Hanna"}, format="json")
    assert english.json()["last_name"] == ["This field is required."]


def test_our_field_messages_are_german_for_a_german_client(client_as, receptionist):
    body = {"first_name": "Hanna", "last_name": "Weber", "record_number": "R-77", "date_of_birth": "2999-01-01"}
    german = client_as(receptionist).post("/api/v1/patients/", body, format="json", **GERMAN)
    assert german.status_code == 400
    assert german.json()["date_of_birth"] == ["Ein Geburtsdatum kann nicht in der Zukunft liegen."]
    english = client_as(receptionist).post("/api/v1/patients/", body, format="json")
    assert english.json()["date_of_birth"] == ["A date of birth cannot be in the future."]


def test_a_taken_slot_is_a_german_409_naming_the_field(client_as, receptionist, clinician, clinic, hair_protocol,
                                                        frozen, first_injection):
    client = client_as(receptionist)
    assert client.post(book_url(first_injection), {"start": "2026-03-16T10:00", "practitioner": clinician.pk},
                       format="json").status_code == 200
    # Another patient's injection, at the same time with the same clinician.
    second = services.enrol_patient(patient=PatientFactory(clinic=clinic), protocol=hair_protocol, start_date=START,
                                    by=receptionist).sessions.get(sequence=2)
    body = {"start": "2026-03-16T10:30", "practitioner": clinician.pk}
    german = client.post(book_url(second), body, format="json", **GERMAN)
    assert german.status_code == 409
    assert german.json()["practitioner"] == [f"{clinician.display_name} ist zu dieser Zeit bereits gebucht."]
    english = client.post(book_url(second), body, format="json")
    assert english.json()["practitioner"] == [f"{clinician.display_name} is already booked at this time."]


def test_a_day_outside_the_window_has_german_weekdays_and_months(client_as, clinician, frozen, first_injection):
    day = first_injection.window_end + dt.timedelta(days=3)
    body = {"start": f"{day.isoformat()}T10:00", "practitioner": clinician.pk}
    german = client_as(clinician).post(book_url(first_injection), body, format="json", **GERMAN)
    assert german.status_code == 400
    [message] = german.json()["start"]
    weekday = ["Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"][day.weekday()]
    month = ["Jan", "Feb", "Mär", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Dez"][day.month - 1]
    assert message.startswith(f"{weekday} {day:%d} {month} {day:%Y} liegt außerhalb des Zeitfensters ")
    assert "Eine Ärztin oder ein Arzt kann den Termin mit Begründung trotzdem buchen." in message
    english = client_as(clinician).post(book_url(first_injection), body, format="json")
    [message] = english.json()["start"]
    assert message.startswith(f"{day:%a %d %b %Y} is outside the window, ")


def test_a_closure_on_a_booked_day_is_refused_in_german_naming_the_visit(client_as, manager, clinician, frozen,
                                                                        first_injection):
    book_session(session=first_injection, start=at(dt.date(2026, 3, 16), 10), practitioner=clinician, by=manager)
    german = client_as(manager).patch("/api/v1/clinic/", {"closures": ["2026-03-16"]}, format="json", **GERMAN)
    assert german.status_code == 409
    assert german.json()["closures"] == [
        "An diesen Tagen sind Termine gebucht: Hanna Weber, Injection #2 um 2026-03-16 10:00. Verschieben Sie sie "
        "(oder rufen Sie die Patienten an), bevor Sie schließen."
    ]
    english = client_as(manager).patch("/api/v1/clinic/", {"closures": ["2026-03-16"]}, format="json")
    assert english.json()["closures"] == [
        "These visits are booked then: Hanna Weber, Injection #2 at 2026-03-16 10:00. Rebook them (or call the "
        "patients) before closing."
    ]


@pytest.mark.parametrize(
    ("language", "expected"),
    [("de", "Geben Sie einen Tag zwischen 1900-01-01 und 2199-12-31 an."),
     (None, "Give a day between 1900-01-01 and 2199-12-31.")],
)
def test_an_out_of_range_date_filter_is_named_in_the_clients_language(client_as, receptionist, language, expected):
    headers = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}
    answer = client_as(receptionist).get("/api/v1/sessions/?date_from=0001-01-01", **headers)
    assert answer.status_code == 400
    assert answer.json()["date_from"] == [expected]


def test_a_session_state_refusal_names_the_state_in_german(client_as, clinician, frozen, first_injection):
    german = client_as(clinician).post(f"/api/v1/sessions/{first_injection.pk}/cancel-booking/", **GERMAN)
    assert german.status_code == 409
    assert german.json()["detail"] == (
        "Nur ein gebuchter Termin kann abgesagt werden; dieser hat den Status „geplant“."
    )
    english = client_as(clinician).post(f"/api/v1/sessions/{first_injection.pk}/cancel-booking/")
    assert english.json()["detail"] == "Only a booked session can be cancelled; this one is planned."


def test_the_measure_catalogue_reads_in_the_clients_language(client_as, receptionist, db):
    load_measures()
    german = {m["code"]: m for m in client_as(receptionist).get("/api/v1/measures/", **GERMAN).json()["results"]}
    assert german["dlqi"]["name"] == "DLQI, Dermatologischer Lebensqualitätsindex"
    assert german["dlqi"]["unit"] == "Punkte"
    assert german["dlqi"]["responders"][0] | {"label": german["dlqi"]["responders"][0]["label"]} == {
        "code": "dlqi_4", "label": "DLQI ≥ 4 Punkte", "kind": "points_reduction", "points": 4
    }
    assert german["scorad"]["name"] == "SCORAD"
    english = {m["code"]: m for m in client_as(receptionist).get("/api/v1/measures/").json()["results"]}
    assert (english["dlqi"]["name"], english["dlqi"]["unit"]) == ("Dermatology Life Quality Index", "score")
    assert english["dlqi"]["responders"][0]["label"] == "DLQI ≥ 4 points"


def test_library_protocols_show_german_texts_and_keep_english_stored(client_as, manager, clinic):
    load_library(clinic)
    own = Protocol.objects.filter(clinic=clinic, library_key="psoriasis").get()
    german = client_as(manager).get(f"/api/v1/protocols/{own.pk}/", **GERMAN).json()
    assert german["name"] == "Psoriasis, topical secretome"  # stored, and what PUT sends back
    assert german["display_name"] == "Psoriasis, topisches Sekretom"
    assert german["display_description"].startswith("Topisches MSC-Sekretom, beim ersten Termin ausgegeben")
    assert german["display_product"] == "Topisches MSC-Sekretom"
    steps = {s["name"]: s["display_name"] for s in german["steps"]}
    assert steps["Baseline assessment"] == "Ausgangsbefund"
    assert steps["Follow-up at 12 months"] == "Nachkontrolle nach 12 Monaten"
    english = client_as(manager).get(f"/api/v1/protocols/{own.pk}/").json()
    assert english["display_name"] == english["name"] == "Psoriasis, topical secretome"
    # Sending the German answer back changes nothing: the display fields are read-only.
    body = {k: german[k] for k in ("name", "indication", "delivery", "description", "product", "active", "steps")}
    again = client_as(manager).put(f"/api/v1/protocols/{own.pk}/", body, format="json", **GERMAN)
    assert again.status_code == 200, again.content
    assert again.json()["id"] == own.pk and Protocol.objects.get(pk=own.pk).name == "Psoriasis, topical secretome"


def test_what_staff_type_is_never_translated(client_as, manager, db):
    load_measures()
    body = {
        "name": "Psoriasis, topical secretome, our variant", "indication": "psoriasis", "delivery": "topical",
        "description": "Our own.", "product": "House secretome",
        # A step a manager names like a library step is the library's text, and is shown as such.
        "steps": [{"name": "Dressing change", "kind": "treatment"}, {"name": "Check", "kind": "assessment"}],
    }
    created = client_as(manager).post("/api/v1/protocols/", body, format="json", **GERMAN).json()
    assert created["display_name"] == "Psoriasis, topical secretome, our variant"
    assert created["display_description"] == "Our own."
    assert [s["display_name"] for s in created["steps"]] == ["Verbandwechsel", "Check"]
    assert [s["name"] for s in created["steps"]] == ["Dressing change", "Check"]


def test_sessions_and_enrolments_of_a_library_protocol_read_in_german(client_as, receptionist, patient, clinic,
                                                                      frozen):
    load_library(clinic)
    protocol = Protocol.objects.get(clinic=clinic, library_key="photoaging-4wk", is_current=True)
    enrolment = services.enrol_patient(patient=patient, protocol=protocol, start_date=START, by=receptionist)
    client = client_as(receptionist)
    german = client.get(f"/api/v1/sessions/?enrolment={enrolment.pk}", **GERMAN).json()["results"]
    english = client.get(f"/api/v1/sessions/?enrolment={enrolment.pk}").json()["results"]
    assert [s["step_name"] for s in german][:3] == ["Ausgangsbefund", "Ausgabetermin",
                                                    "Anwendung zu Hause, wöchentliche Rückmeldung"]
    assert [s["step_name"] for s in english][:3] == ["Baseline assessment", "Dispensing visit",
                                                     "Home application, weekly check-in"]
    one = client.get(f"/api/v1/enrolments/{enrolment.pk}/", **GERMAN).json()
    assert one["protocol_name"] == "Lichtalterung, 4-wöchige topische Kur"
