"""Every report read and export is an audited access (SPEC §11, §14)."""

from audit.models import Action, AuditEvent

from .test_fhir import course, fhir  # noqa: F401 (the course fixture)


def test_reading_the_cohort_report_and_exporting_are_audited(client_as, manager, course):  # noqa: F811
    client = client_as(manager)
    assert client.get("/api/v1/reports/cohort/", {"indication": "hair"}).status_code == 200
    answer = client.get("/api/v1/exports/outcomes.csv")
    assert answer.status_code == 200
    b"".join(answer.streaming_content)
    assert fhir(client, course.patient_id).status_code == 200

    events = list(AuditEvent.objects.filter(user=manager).values_list("action", "object_type", "patient_ref"))
    assert (Action.REPORT, "report.cohort", None) in events
    assert (Action.EXPORT, "export.outcomes", None) in events
    assert any(action == Action.EXPORT and patient == course.patient_id for action, _, patient in events)


def test_a_refused_report_read_leaves_no_report_entry(client_as, receptionist):
    assert client_as(receptionist).get("/api/v1/reports/cohort/").status_code == 403
    assert not AuditEvent.objects.filter(action=Action.REPORT).exists()
