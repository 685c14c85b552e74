"""The sessions list writes its rows out by hand (the agenda's hot path):
they must be exactly what the declared fields give, for sessions in every
state, in a zone with an offset and in UTC ("Z")."""

import datetime as dt
import json

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import F
from django.test import Client
from rest_framework import serializers

from api.sessions import SessionDetailSerializer, SessionSerializer
from clinics.models import Role, User
from clinics.tokens import issue_token
from demo.load import generate
from sessions.models import ProductForm, ProductSource, Session, SessionStatus
from sessions.selectors import session_list_of


def declared(session) -> dict:
    """What DRF's walk over the declared fields gives."""
    serializer = SessionSerializer(session)
    return dict(serializers.ModelSerializer.to_representation(serializer, session))


@pytest.mark.django_db
@pytest.mark.parametrize("zone", ["Europe/Berlin", "UTC", "America/St_Johns"])
def test_the_written_out_rows_are_the_declared_fields(zone):
    clinic = generate(slug="rows", patients=25, sessions=450, practitioners=3, timezone_name=zone).clinic
    # Product details, notes and reasons as the completion and skip workflows leave them.
    done = Session.objects.filter(clinic=clinic, status=SessionStatus.COMPLETED)
    done.filter(pk__in=done.values("pk")[:5]).update(
        notes="Tolerated well.", not_done_reason="Camera broken", product_source=ProductSource.choices[0][0],
        product_form=ProductForm.choices[0][0], product_concentration="2 mL",
    )
    # A completion with microseconds (the list reads instants as whole
    # microseconds since 1970; DRF writes the fraction when there is one).
    done.filter(pk__in=done.values("pk")[5:10]).update(completed_at=F("completed_at") + dt.timedelta(microseconds=123457))
    sessions = list(session_list_of(clinic))
    assert {s.status for s in sessions} >= {SessionStatus.COMPLETED, SessionStatus.BOOKED, SessionStatus.PLANNED,
                                            SessionStatus.SKIPPED}
    assert any(s.lot_id for s in sessions) and any(s.notes for s in sessions)
    assert any(s.completed_at and s.completed_at.microsecond for s in sessions)
    for session in sessions:
        written = SessionSerializer(session).data
        assert list(written) == SessionSerializer.Meta.fields
        assert written == declared(session), session.pk

    # The list over the API: the same rows, as JSON.
    manager = User.objects.get(clinic=clinic, role=Role.MANAGER)
    client = Client(HTTP_AUTHORIZATION=f"Token {issue_token(manager).key}")
    listed = client.get("/api/v1/sessions/", {"page_size": 500}).json()["results"]
    assert listed == [json.loads(json.dumps(declared(s), cls=DjangoJSONEncoder)) for s in sessions]


@pytest.mark.django_db
def test_the_detail_serializer_still_walks_its_fields():
    clinic = generate(slug="detail", patients=5, sessions=60, practitioners=2).clinic
    session = Session.objects.filter(clinic=clinic).first()
    data = SessionDetailSerializer(session).data
    assert "outcomes" in data and "adverse_events" in data
