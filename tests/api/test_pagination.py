"""Every list is 50 rows a page, the sessions list 250 (a day's agenda in
one request); `page_size` asks for up to 500, and a bad one is a 400 that
names it."""

import pytest
from django.test import Client

from clinics.models import Role, User
from clinics.tokens import issue_token
from demo.load import generate
from sessions.models import Session


@pytest.fixture
def big(db):
    clinic = generate(slug="pages", patients=20, sessions=180, practitioners=2).clinic
    manager = User.objects.get(clinic=clinic, role=Role.MANAGER)
    token = issue_token(manager)
    return clinic, Client(HTTP_AUTHORIZATION=f"Token {token.key}")


def test_a_list_is_50_a_page_or_as_many_as_asked(big, django_assert_max_num_queries):
    clinic, client = big
    total = Session.objects.filter(clinic=clinic).count()
    assert total > 150
    first = client.get("/api/v1/sessions/", {"page_size": 50}).json()
    assert (first["count"], len(first["results"])) == (total, 50)
    assert "page=2" in first["next"]

    every = client.get("/api/v1/sessions/", {"page_size": 500}).json()
    assert (every["count"], len(every["results"]), every["next"]) == (total, total, None)
    some = client.get("/api/v1/sessions/", {"page_size": 70, "page": 2}).json()
    assert [r["id"] for r in some["results"]] == [r["id"] for r in every["results"][70:140]]
    assert "page_size=70" in some["next"]
    # Token, clinic and user in one query, then the page: a page short of
    # full is the last one, so the count needs no query of its own. Plus one:
    # the audit row of the read (issue 30), in every count below.
    with django_assert_max_num_queries(2 + 1):
        assert client.get("/api/v1/sessions/", {"page_size": 500}).json()["count"] == total
    # A full page counts; the last page (short) and one past the end do too.
    with django_assert_max_num_queries(3 + 1):
        assert client.get("/api/v1/sessions/", {"page": 2, "page_size": 50}).json()["count"] == total
    last = -(-total // 50)
    with django_assert_max_num_queries((2 if total % 50 else 3) + 1):
        end = client.get("/api/v1/sessions/", {"page": last, "page_size": 50}).json()
    assert (end["count"], len(end["results"]), end["next"]) == (total, total - 50 * (last - 1), None)
    assert client.get("/api/v1/sessions/", {"page": last + 1, "page_size": 50}).status_code == 404
    assert client.get("/api/v1/sessions/", {"page": "x"}).status_code == 404
    empty = client.get("/api/v1/sessions/", {"patient": 10**9}).json()
    assert (empty["count"], empty["results"]) == (0, [])


def test_the_sessions_list_is_250_a_page_and_the_others_50(big, django_assert_max_num_queries):
    """A day's agenda comes whole without page_size: the sessions list pages
    by 250 (here every session in one answer, and two queries and the audit
    row); the other lists by 50."""
    clinic, client = big
    total = Session.objects.filter(clinic=clinic).count()
    assert 50 < total <= 250
    with django_assert_max_num_queries(2 + 1):
        every = client.get("/api/v1/sessions/").json()
    assert (every["count"], len(every["results"]), every["next"]) == (total, total, None)
    reminders = client.get("/api/v1/reminders/").json()
    assert reminders["count"] > 50
    assert len(reminders["results"]) == 50 and "page=2" in reminders["next"]


@pytest.mark.parametrize("bad", ["0", "501", "-1", "ten", "1.5", "", "٣"])
def test_a_bad_page_size_is_a_400_naming_it(big, bad):
    _, client = big
    answer = client.get("/api/v1/sessions/", {"page_size": bad})
    assert answer.status_code == 400
    assert "page_size" in answer.json()


def test_a_filter_set_builds_its_form_class_once(rf, receptionist):
    """core.api.FilterSet: the form class is made on the first request and
    reused; each request's form still has fields of its own, and a bad value
    is still the field's error."""
    from django.http import QueryDict

    from api.sessions import SessionFilter
    from sessions.models import Session

    request = rf.get("/")
    request.user = receptionist
    first = SessionFilter(QueryDict("status=booked"), Session.objects.none(), request=request)
    second = SessionFilter(QueryDict("status=nonsense"), Session.objects.none(), request=request)
    assert type(first.form) is type(second.form)
    assert first.form.fields["status"] is not second.form.fields["status"]
    assert first.is_valid() and not second.is_valid()
    assert "status" in second.errors
