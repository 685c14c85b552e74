"""Every list is 50 rows a page; `page_size` asks for up to 500, and a bad
one is a 400 that names it."""

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from clinics.models import Role, User
from demo.load import generate
from sessions.models import Session


@pytest.fixture
def big(db):
    clinic = generate(slug="pages", patients=20, sessions=180, practitioners=2).clinic
    manager = User.objects.get(clinic=clinic, role=Role.MANAGER)
    token = Token.objects.create(user=manager)
    return clinic, Client(HTTP_AUTHORIZATION=f"Token {token.key}")


def test_a_list_is_50_a_page_or_as_many_as_asked(big, django_assert_max_num_queries):
    clinic, client = big
    total = Session.objects.filter(clinic=clinic).count()
    assert total > 150
    first = client.get("/api/v1/sessions/").json()
    assert (first["count"], len(first["results"])) == (total, 50)
    assert "page=2" in first["next"]

    every = client.get("/api/v1/sessions/", {"page_size": 500}).json()
    assert (every["count"], len(every["results"]), every["next"]) == (total, total, None)
    some = client.get("/api/v1/sessions/", {"page_size": 70, "page": 2}).json()
    assert [r["id"] for r in some["results"]] == [r["id"] for r in every["results"][70:140]]
    assert "page_size=70" in some["next"]
    # Token, clinic and user in one query, then the page: a page short of
    # full is the last one, so the count needs no query of its own.
    with django_assert_max_num_queries(2):
        assert client.get("/api/v1/sessions/", {"page_size": 500}).json()["count"] == total
    # A full page counts; the last page (short) and one past the end do too.
    with django_assert_max_num_queries(3):
        assert client.get("/api/v1/sessions/", {"page": 2}).json()["count"] == total
    last = -(-total // 50)
    with django_assert_max_num_queries(2 if total % 50 else 3):
        end = client.get("/api/v1/sessions/", {"page": last}).json()
    assert (end["count"], len(end["results"]), end["next"]) == (total, total - 50 * (last - 1), None)
    assert client.get("/api/v1/sessions/", {"page": last + 1}).status_code == 404
    assert client.get("/api/v1/sessions/", {"page": "x"}).status_code == 404
    empty = client.get("/api/v1/sessions/", {"patient": 10**9}).json()
    assert (empty["count"], empty["results"]) == (0, [])


@pytest.mark.parametrize("bad", ["0", "501", "-1", "ten", "1.5", "", "٣"])
def test_a_bad_page_size_is_a_400_naming_it(big, bad):
    _, client = big
    answer = client.get("/api/v1/sessions/", {"page_size": bad})
    assert answer.status_code == 400
    assert "page_size" in answer.json()
