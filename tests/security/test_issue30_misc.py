"""Issue 30, the smaller findings: days out of range are a 400, /readyz keeps
its internals to staff and the inside, failed anonymous logins stay out of
a clinic's audit log."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from audit.models import Action, AuditEvent
from tests.factories import PASSWORD


@pytest.mark.parametrize("field,value", [("date_from", "0001-01-01"), ("date_to", "9999-12-31")])
def test_audit_days_out_of_range_are_a_400_naming_the_field(manager, client, field, value):
    api = APIClient()
    api.force_authenticate(manager)
    for path in ("/api/v1/audit/", "/api/v1/audit/csv/"):
        answer = api.get(path, {field: value})
        assert answer.status_code == 400 and field in answer.json(), path
    client.force_login(manager)
    for path in ("/audit/", "/audit/export.csv"):
        assert client.get(path, {field: value}).status_code < 500, path


def test_readyz_shows_internals_only_to_staff_and_the_inside(db, django_user_model):
    inside = Client().get("/readyz").json()
    assert "backlog" in inside["checks"]["outbox"]
    outside = Client(REMOTE_ADDR="172.18.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9").get("/readyz")
    assert outside.json()["checks"] == {name: {"ok": check["ok"]} for name, check in inside["checks"].items()}
    public = Client(REMOTE_ADDR="8.8.8.8").get("/readyz").json()
    assert set(public["checks"]["outbox"]) == {"ok"}
    staff = django_user_model.objects.create_user("ops", password=PASSWORD, is_staff=True)
    client = Client(REMOTE_ADDR="172.18.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9")
    client.force_login(staff)
    assert "backlog" in client.get("/readyz").json()["checks"]["outbox"]


def test_failed_anonymous_logins_write_nothing_into_the_clinics_log(manager):
    for n in range(3):
        APIClient().post(
            "/api/v1/auth/token/", {"username": "max", "password": f"wrong-{n}-password"}, format="json",
            HTTP_USER_AGENT="<script>attacker's words</script>",
        )
    assert not AuditEvent.objects.filter(clinic=manager.clinic, action=Action.LOGIN_FAILED).exists()
    assert AuditEvent.objects.filter(clinic__isnull=True, action=Action.LOGIN_FAILED, username="max").count() == 3
