"""SPEC §21 / issue 30: password reset by email through Django's own views at
/accounts/password_reset/, throttled per address and per account, the same
answer for unknown addresses, a link that works once."""

import re

import pytest
from django.core import mail
from django.test import Client

from tests.factories import PASSWORD

NEW_PASSWORD = "a-fresh-long-password-42"


@pytest.fixture
def rita(receptionist):
    receptionist.email = "rita@clinic.example"
    receptionist.save()
    return receptionist


def ask(client, email):
    return client.post("/accounts/password_reset/", {"email": email})


def link_in(message) -> str:
    return re.search(r"https?://\S+/accounts/reset/\S+/", message.body).group(0)


def test_the_link_arrives_works_once_and_ends_other_sign_ins(client, rita, settings):
    settings.SITE_URL = "https://regimen.clinic.example"
    token = (
        Client()
        .post("/api/v1/auth/token/", {"username": "rita", "password": PASSWORD}, content_type="application/json")
        .json()["token"]
    )
    answer = ask(client, "Rita@clinic.example")
    assert answer.status_code == 302 and answer["Location"] == "/accounts/password_reset/done/"
    assert len(mail.outbox) == 1
    link = link_in(mail.outbox[0])
    assert link.startswith("https://regimen.clinic.example/accounts/reset/"), "built from SITE_URL, not Host"
    path = link.removeprefix(settings.SITE_URL)
    form = client.get(path, follow=True)
    assert "Set a new password" in form.content.decode()
    done = client.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == "/accounts/reset/done/"
    assert Client().login(username="rita", password=NEW_PASSWORD)
    # Once: the same link again shows that it no longer works.
    again = Client().get(path, follow=True)
    assert "This link no longer works" in again.content.decode()
    assert Client(HTTP_AUTHORIZATION=f"Token {token}").get("/api/v1/patients/").status_code == 401


def test_an_unknown_address_gets_the_same_answer_and_no_email(client, rita):
    known = ask(client, "rita@clinic.example")
    unknown = ask(Client(), "nobody@clinic.example")
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert len(mail.outbox) == 1
    assert client.get(known["Location"]).content == Client().get(unknown["Location"]).content


def test_throttled_per_account_with_the_same_answer(rita, settings):
    settings.PASSWORD_RESET_RATE_PER_ACCOUNT = "2/hour"
    answers = [ask(Client(REMOTE_ADDR=f"198.51.100.{n}"), "rita@clinic.example") for n in range(4)]
    assert {(a.status_code, a["Location"]) for a in answers} == {(302, "/accounts/password_reset/done/")}
    assert len(mail.outbox) == 2


def test_throttled_per_address(rita, settings):
    settings.PASSWORD_RESET_RATE_PER_ADDRESS = "3/hour"
    client = Client()
    codes = [ask(client, f"someone{n}@clinic.example").status_code for n in range(4)]
    assert codes == [302, 302, 302, 429]
    assert ask(client, "rita@clinic.example").status_code == 429
    assert not mail.outbox


def test_a_bad_address_is_a_form_error_not_a_500(db):
    answer = Client().post("/accounts/password_reset/", {"email": "not an address\x00"})
    assert answer.status_code == 200 and "email" in answer.context["form"].errors


def test_the_login_page_links_to_the_reset(db):
    assert "/accounts/password_reset/" in Client().get("/accounts/login/").content.decode()
