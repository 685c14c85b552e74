"""The HTTP API v1 router (SPEC §6): token login, the resources, the
OpenAPI 3 schema and the interactive docs."""

from django.urls import include, path
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.parsers import FormParser
from rest_framework.routers import DefaultRouter

from clinics.api import PractitionerViewSet, RoomViewSet
from core.api import JSONOnlyParser
from protocols.api import MeasureViewSet, ProtocolViewSet
from protocols.product_api import ProductViewSet
from reports.api import CohortReportView, OutcomesExportView, PatientFhirView
from sessions.adverse_event_api import AdverseEventViewSet
from sessions.api import ReminderViewSet, SessionViewSet
from sessions.clinic_api import ClinicView
from sessions.enrolments.api import EnrolmentViewSet
from sessions.lot_api import LotViewSet
from sessions.outcome_api import OutcomeViewSet
from sessions.patient_api import PatientCalendarViewSet, PatientViewSet
from sessions.photo_api import PhotoViewSet


class TokenView(ObtainAuthToken):
    """Trade a username and password for the API token (the same token on every call)."""

    parser_classes = [JSONOnlyParser, FormParser]
    authentication_classes = []  # a login, not an authenticated call (and no CSRF check)

    @extend_schema(
        request=AuthTokenSerializer,
        responses=inline_serializer("Token", {"token": serializers.CharField()}),
        description="Send `username` and `password`; use the answer as `Authorization: Token <token>` "
        "(in these docs: Authorize → tokenAuth → `Token <token>`).",
        tags=["auth"],
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


router = DefaultRouter()
router.include_root_view = False
router.register("measures", MeasureViewSet, basename="measure")
router.register("protocols", ProtocolViewSet, basename="protocol")
router.register("patients", PatientViewSet, basename="patient")
router.register("practitioners", PractitionerViewSet, basename="practitioner")
router.register("rooms", RoomViewSet, basename="room")
router.register("enrolments", EnrolmentViewSet, basename="enrolment")
router.register("sessions", SessionViewSet, basename="session")
router.register("reminders", ReminderViewSet, basename="reminder")
router.register("outcomes", OutcomeViewSet, basename="outcome")
router.register("products", ProductViewSet, basename="product")
router.register("lots", LotViewSet, basename="lot")
router.register("adverse-events", AdverseEventViewSet, basename="adverse-event")
router.register("photos", PhotoViewSet, basename="photo")

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("clinic/", ClinicView.as_view(), name="api-clinic"),
    path("reports/cohort/", CohortReportView.as_view(), name="api-report-cohort"),
    path("exports/outcomes.csv", OutcomesExportView.as_view(), name="api-export-outcomes"),
    path("patients/<str:pk>/fhir/", PatientFhirView.as_view(), name="api-patient-fhir"),
    path(
        "patients/<str:pk>/calendar.ics",
        PatientCalendarViewSet.as_view({"get": "retrieve"}),
        name="api-patient-calendar",
    ),
    path("lots/<str:pk>/recall.csv", LotViewSet.as_view({"get": "recall_csv"}), name="api-lot-recall-csv"),
    path("", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
