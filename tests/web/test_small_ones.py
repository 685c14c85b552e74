"""Issue 13's small ones: the API root, the favicon."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_api_root_lists_the_resources_as_json(client):
    answer = client.get("/api/v1/")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/json"
    body = answer.json()
    assert body["patients"] == "http://testserver/api/v1/patients/"
    assert body["sessions"] == "http://testserver/api/v1/sessions/"
    assert body["auth_token"] == "http://testserver/api/v1/auth/token/"
    assert body["docs"] == "http://testserver/api/v1/docs/"
    assert len(answer.content) < 2000


def test_favicon_ico_leads_to_the_icon():
    answer = Client().get("/favicon.ico")
    assert answer.status_code == 301
    assert answer["Location"].endswith("regimen/favicon.svg")
