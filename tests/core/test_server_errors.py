"""An API failure nobody foresaw is still JSON (SPEC §16): a 500 with
`detail`, with DEBUG on (as under `make run`) or off; a page stays a page."""

import pytest
from django.urls import path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny


@api_view(["GET"])
@permission_classes([AllowAny])
def broken(request):
    raise RuntimeError("something nobody foresaw")


def broken_page(request):
    raise RuntimeError("something nobody foresaw")


urlpatterns = [path("api/v1/broken/", broken), path("broken/", broken_page)]


@pytest.mark.urls("tests.core.test_server_errors")
@pytest.mark.parametrize("debug", [True, False])
def test_an_unforeseen_api_failure_is_a_json_500(client, settings, debug, caplog):
    settings.DEBUG = debug
    client.raise_request_exception = False
    answer = client.get("/api/v1/broken/")
    assert answer.status_code == 500
    assert answer["Content-Type"] == "application/json"
    assert answer.json() == {"detail": "Server error: it has been logged."}
    assert any("Internal Server Error: /api/v1/broken/" in r.getMessage() for r in caplog.records)


@pytest.mark.urls("tests.core.test_server_errors")
def test_a_failing_page_is_left_to_django(client, settings):
    settings.DEBUG = False
    client.raise_request_exception = False
    answer = client.get("/broken/")
    assert answer.status_code == 500
    assert not answer["Content-Type"].startswith("application/json")
