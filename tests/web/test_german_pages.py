"""The staff pages in German (SPEC §20): a browser that asks for German
(`Accept-Language: de`) gets every heading, column, label and button in
German, and no German button label is too wide for its button at 800 px."""

import os
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import trans_real

from tests.factories import PASSWORD
from tests.web.conftest import login, no_horizontal_scroll
from tests.web.test_screenshots import Demo

GERMAN = {"HTTP_ACCEPT_LANGUAGE": "de-DE,de;q=0.9,en;q=0.5"}
# What a person reads as a page's labels: headings, column heads, form labels, buttons, links styled as buttons.
LABEL_TAGS = {"h1", "h2", "h3", "th", "label", "legend", "button", "summary", "caption", "title"}


@pytest.fixture(scope="module", autouse=True)
def german_catalogue():
    """The compiled catalogue (the commands that run the site compile it; a
    fresh checkout may not have done so yet)."""
    locale = Path(settings.LOCALE_PATHS[0]) / "de" / "LC_MESSAGES"
    po, mo = locale / "django.po", locale / "django.mo"
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
        call_command("compilemessages", locale=["de"], verbosity=0)
        # Catalogues already loaded in this process are read again.
        trans_real._translations = {}
        trans_real._default = None
        trans_real._active = trans_real.Local()


def english_labels() -> set[str]:
    """Every English text of the catalogue whose German differs."""
    with translation.override("de"):
        catalog = dict(trans_real.translation("de")._catalog.items())
        german_words = {german for german in catalog.values() if isinstance(german, str)}
        return {
            key.replace("%%", "%")
            for key, german in catalog.items()
            if isinstance(key, str) and key and german and german != key and "%(" not in key
        } - german_words


class Labels(HTMLParser):
    """The text of each label-like element (and of <a class="button">), whitespace squeezed."""

    def __init__(self):
        super().__init__()
        self.open: list[list] = []  # [tag, text parts]
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if tag in LABEL_TAGS or (tag == "a" and "button" in classes):
            self.open.append([tag, []])

    def handle_endtag(self, tag):
        for i in range(len(self.open) - 1, -1, -1):
            if self.open[i][0] == tag:
                _, parts = self.open.pop(i)
                text = " ".join("".join(parts).split())
                if text:
                    self.found.append(text)
                    for outer in self.open:
                        outer[1].append(" ")
                break

    def handle_data(self, data):
        for entry in self.open:
            entry[1].append(data)


def labels_of(html: str) -> list[str]:
    parser = Labels()
    parser.feed(html)
    return parser.found


def german_page(client, path, *words):
    response = client.get(path, **GERMAN)
    assert response.status_code == 200, path
    html = response.content.decode()
    assert '<html lang="de"' in html, path
    for word in words:
        assert word in html, f"{path}: no “{word}”"
    english = english_labels()
    left = [label for label in labels_of(html) if label in english]
    assert left == [], f"{path}: English labels left: {left}"
    return html


@pytest.fixture
def desk(receptionist):
    return login(Client(), receptionist)


@pytest.fixture
def doctor(clinician):
    return login(Client(), clinician)


@pytest.fixture
def boss(manager):
    return login(Client(), manager)


def test_the_agenda_and_my_day_are_german(desk, doctor, booked):
    day = booked.target_date.isoformat()
    agenda = reverse("agenda")
    german_page(desk, f"{agenda}?date={day}", "Voriger Tag", "Nächster Tag", "Heute",
                "Behandler", "Räume", "gebucht", "1 Sitzung")
    german_page(desk, f"{agenda}?date={day}&view=week", "Vorige Woche", "Woche ", "Sitzungen je Behandler und Tag")
    german_page(desk, f"{agenda}?date={day}&view=list", "Tagesliste", "Patient", "Raum")
    german_page(doctor, f"{agenda}?date={day}&view=grid&mine=1", "Mein Tag:", "Uhrzeit")


def test_the_patient_list_and_page_are_german(desk, patient, booked):
    german_page(desk, reverse("patient_list"), "Neuer Patient", "Patienten suchen", "Geburtsdatum", "Suchen")
    html = german_page(desk, reverse("patient_detail", args=[patient.pk]), "Patient bearbeiten",
                       "In Protokoll aufnehmen", "Kontakt und Einwilligung", "Ablauf", "Zieltag", "Fenster",
                       "Verwalten", "Unerwünschte Ereignisse", "Verlauf der Erinnerungen")
    # The patient's own data stays as typed.
    assert patient.full_name in html
    german_page(desk, reverse("patient_edit", args=[patient.pk]), "Vorname", "Speichern", "Abbrechen")
    german_page(desk, reverse("patient_create"), "Neuer Patient", "Patientennummer")


def test_booking_completing_and_the_due_list_are_german(desk, doctor, booked, enrolment):
    german_page(desk, reverse("session_book", args=[booked.pk]), "Gebucht", "Termin absagen",
                "Umbuchen: freie Zeiten", "Grund der Verschiebung wählen", "Bestimmte Zeit buchen", "Diese Zeit buchen")
    later = enrolment.sessions.get(sequence=2)
    german_page(desk, reverse("session_book", args=[later.pk]), "Freie Zeiten", "Zeigen", "Behandler")
    german_page(doctor, reverse("session_complete", args=[booked.pk]), "abschließen", "Messwerte",
                "Unerwünschte Ereignisse", "Sitzung abschließen", "CTCAE-Grad")
    german_page(desk, reverse("due"), "Fällige Termine", "Warten auf Ergebnisse", "Zu buchen",
                "Abgesagte und verschobene Termine")
    german_page(desk, reverse("enrol", args=[booked.patient_id]), "Protokoll wählen", "Ablauf ansehen")


def test_protocols_reports_audit_and_settings_are_german(boss, hair_protocol, patient):
    german_page(boss, reverse("protocol_list"), "Protokollbibliothek", "Neues Protokoll", "Indikation")
    german_page(boss, reverse("protocol_detail", args=[hair_protocol.pk]), "Protokoll bearbeiten", "Schritte",
                "Zeitleiste", "Tage ab Start")
    german_page(boss, reverse("protocol_edit", args=[hair_protocol.pk]), "Das Protokoll", "Schritt 1",
                "Zeitleiste ansehen", "Protokoll speichern")
    german_page(boss, reverse("report_cohort"), "Wirkt ein Protokoll bei uns?", "CSV herunterladen", "Serien",
                "Termintreue", "Unerwünschte Ereignisse")
    boss.get(reverse("patient_detail", args=[patient.pk]))  # an entry for the audit log
    german_page(boss, reverse("audit_log"), "Zugriffsprotokoll", "Filtern", "Wann", "Was",
                f"Akte von {patient.full_name} angesehen")
    german_page(boss, reverse("clinic_settings"), "Praxiseinstellungen", "Öffnungszeiten", "Montag",
                "Schließtage", "Abwesenheiten", "Räume", "Mitarbeiterkonten", "Einstellungen speichern")
    german_page(boss, reverse("lot_list"), "Produktchargen", "Charge anlegen")
    german_page(boss, reverse("failed_reminders"), "Fehlgeschlagene Erinnerungen")
    german_page(boss, reverse("my_calendar"), "Mein Kalender-Abo")
    german_page(boss, reverse("sign_ins"), "Meine Anmeldungen", "Überall abmelden")


def test_the_login_and_password_reset_pages_are_german(client, db):
    german_page(client, reverse("login"), "Anmelden", "Passwort vergessen?", "Benutzername", "Passwort")
    german_page(client, reverse("password_reset"), "Passwort zurücksetzen", "Link senden")


def test_a_flash_message_and_a_form_error_are_german_too(boss):
    response = boss.post(reverse("settings_room_add"), {"name": "Laser 2"}, follow=True, **GERMAN)
    assert "Raum Laser 2 wurde angelegt." in response.content.decode()
    response = boss.post(reverse("settings_room_add"), {"name": ""}, **GERMAN)
    assert "Geben Sie dem Raum einen Namen." in response.content.decode()


def test_english_stays_english(desk, booked):
    response = desk.get(reverse("due"), HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert '<html lang="en' in html
    assert "Due list" in html and "Fällige Termine" not in html


# --- Browser: German words fit their buttons at 800 px ------------------------------------------

OVERFLOWING = """() => [...document.querySelectorAll(
    'button, a.button, summary.button, .segmented a, nav a, input[type=submit]')]
  .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
  .map(e => e.textContent.trim())"""


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_german_buttons_fit_at_800_px(live_server, browser, clinic, patient, receptionist, clinician, manager):
    """On a clinic's week of demo data (tests/web/test_screenshots.py), no
    German button label overflows its button and no page or table scrolls
    sideways at 800 px."""
    demo = Demo(clinic, receptionist, clinician, manager).build()
    context = browser.new_context(viewport={"width": 800, "height": 900}, locale="de-DE")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", manager.username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/agenda/**")
        tomorrow = demo.tomorrow.isoformat()
        first = demo.mehmet_course.sessions.get(sequence=1)
        pages = [
            ("agenda-day", f"/agenda/?date={tomorrow}"),
            ("agenda-week", f"/agenda/?date={tomorrow}&view=week"),
            ("agenda-grid", f"/agenda/?date={tomorrow}&view=grid"),
            ("agenda-day-list", f"/agenda/?date={tomorrow}&view=list"),
            ("due-list", "/due/"),
            ("patients", "/patients/"),
            ("patient-page", f"/patients/{demo.hanna.pk}/"),
            ("enrol", f"/patients/{demo.mehmet.pk}/enrol/"),
            ("book", f"/sessions/{first.pk}/book/"),
            ("book-booked", f"/sessions/{demo.jonas_session.pk}/book/"),
            ("complete", f"/sessions/{demo.jonas_session.pk}/complete/"),
            ("protocol-detail", f"/protocols/{demo.hair.pk}/"),
            ("protocol-edit", f"/protocols/{demo.hair.pk}/edit/"),
            ("reports", "/reports/"),
            ("audit-log", "/audit/"),
            ("settings", "/settings/"),
            ("lots", "/lots/"),
            ("failed-reminders", "/reminders/failed/"),
        ]
        # `make screenshots` keeps each German page under docs/screenshots/de/.
        shots = os.environ.get("REGIMEN_SCREENSHOTS")
        for name, path in pages:
            page.goto(live_server.url + path)
            assert page.locator("html").get_attribute("lang") == "de", path
            # Closed disclosures hold buttons too: open them to measure.
            page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
            assert page.evaluate(OVERFLOWING) == [], path
            assert no_horizontal_scroll(page), f"{path} scrolls sideways at 800 px"
            if shots:
                (Path(shots) / "de").mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(Path(shots) / "de" / f"{name}-800px.png"), full_page=True)
    finally:
        context.close()


def test_dates_of_the_agenda_follow_the_language(desk, booked):
    """Day and month names come from Django's formats, not the English calendar."""
    day = booked.target_date
    html = desk.get(f"{reverse('agenda')}?date={day.isoformat()}", **GERMAN).content.decode()
    with translation.override("de"):
        weekday, month = date_format(day, "l"), date_format(day, "F")
    assert weekday in html and month in html
    assert day.strftime("%A") not in html


def test_dates_are_written_the_german_way(desk, patient):
    born = patient.date_of_birth
    german = desk.get(reverse("patient_list"), **GERMAN).content.decode()
    english = desk.get(reverse("patient_list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"<td>{born:%d.%m.%Y}</td>" in german
    assert f"<td>{born:%d %b %Y}</td>" in english


def test_a_refused_page_says_why_in_german(desk):
    response = desk.get(reverse("failed_reminders"), **GERMAN)
    assert response.status_code == 403
    html = response.content.decode()
    assert "Nicht erlaubt" in html
    assert "Diese Seite braucht mindestens die Rolle „Praxisleitung“." in html
    english = desk.get(reverse("failed_reminders"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "This page needs the manager role or higher." in english


def test_the_password_reset_email_is_german_for_a_german_browser(client, receptionist):
    receptionist.email = "rita@clinic.example"
    receptionist.save()
    client.post(reverse("password_reset"), {"email": "rita@clinic.example"}, **GERMAN)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "Regimen: neues Passwort festlegen"
    assert "hoffentlich Sie" in message.body and f"„{receptionist.username}“" in message.body
    assert "/accounts/reset/" in message.body
