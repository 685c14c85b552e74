"""The HTTP API v1 router (SPEC §6): token login, the resources, the
OpenAPI 3 schema and the interactive docs."""

from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import include, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import serializers, status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView

from api.adverse_events import AdverseEventViewSet
from api.audit import AuditViewSet
from api.clinic import AbsenceViewSet, ClinicView, WordingView
from api.decisions import DecisionViewSet
from api.enrolments import EnrolmentViewSet
from api.lots import LotViewSet
from api.outcomes import OutcomeViewSet
from api.patients import PatientCalendarViewSet, PatientViewSet
from api.photos import PhotoViewSet
from api.practitioners import PractitionerViewSet, RoomViewSet
from api.privacy import PatientRightsViewSet
from api.products import ProductViewSet
from api.protocols import MeasureViewSet, ProtocolViewSet
from api.reports import CohortReportView, OutcomesExportView, PatientFhirView
from api.root import ApiRoot
from api.sessions import ReminderViewSet, SessionViewSet
from audit.log import record
from audit.models import Action
from clinics import two_factor
from clinics.tokens import active_sign_ins, active_tokens, end_sign_ins, expires_at, issue_token, revoke_tokens
from core.api import ErrorDetailSerializer, JSONOnlyParser
from core.auth import THROTTLED

LOCKED_OUT = gettext_lazy("Too many failed logins for this username: it is locked for a while. Try again later.")


class TokenView(ObtainAuthToken):
    """Trade a username and password for the API token: the same token until
    it expires (TOKEN_TTL_HOURS) or is revoked. Five failures for a username
    lock it (django-axes), and logins are throttled per address and per
    username on every door (core.throttle)."""

    parser_classes = [JSONOnlyParser, FormParser]
    authentication_classes = []  # a login, not an authenticated call (and no CSRF check)
    throttle_classes = []  # core.auth.LockoutBackend throttles every login door

    @extend_schema(
        request=inline_serializer(
            "TokenRequest",
            {
                "username": serializers.CharField(),
                "password": serializers.CharField(),
                "otp": serializers.CharField(
                    required=False,
                    help_text="With a second factor on (or required by the clinic): a current code from the "
                    "authenticator app, or an unused recovery code.",
                ),
            },
        ),
        responses={
            200: inline_serializer("Token", {"token": serializers.CharField(), "expires": serializers.DateTimeField()}),
            429: ErrorDetailSerializer,
        },
        description="Send `username` and `password`; use the answer as `Authorization: Token <token>` "
        "(in these docs: Authorize → tokenAuth → `Token <token>`). The token expires at `expires`; "
        "five failed logins lock the username for 15 minutes (429). With a second factor, send `otp` too; "
        "without it the answer is 400 naming `otp`.",
        tags=["auth"],
    )
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except ValidationError:
            # core.auth marks a throttled attempt; django-axes a username that is
            # (or has just become) locked.
            if getattr(request, "login_throttled", False):
                return Response(
                    {"detail": THROTTLED}, status=status.HTTP_429_TOO_MANY_REQUESTS, headers={"Retry-After": "60"}
                )
            if getattr(request, "axes_locked_out", False):
                return Response({"detail": LOCKED_OUT}, status=status.HTTP_429_TOO_MANY_REQUESTS)
            raise
        user = serializer.validated_data["user"]
        problem = second_factor_problem(user, request.data.get("otp"))  # a dict: the serializer took it
        if problem:
            raise ValidationError({"otp": [problem]})
        token = issue_token(user, request=request)
        # As a page login does: django-axes resets the username's failures,
        # the audit log gets its entry, last_login moves. The token is the
        # sign-in here: no browser session is recorded.
        request._request.regimen_token_login = True
        user_logged_in.send(sender=user.__class__, request=request, user=user)
        return Response({"token": token.key, "expires": expires_at(token)})


def second_factor_problem(user, otp) -> str:
    """Why the token endpoint refuses a right password without a right `otp` (SPEC §21); "" when it does not."""
    if not two_factor.needs_second_factor(user):
        return ""
    if not two_factor.has_second_factor(user):
        return _(
            "Your clinic requires a second factor and this account has none yet: set it up at "
            "/accounts/two-factor/ (or with a session, POST /api/v1/auth/totp/), then send otp."
        )
    if otp in (None, ""):
        return _("This account has a second factor: send otp, a current code from the app or an unused recovery code.")
    if not isinstance(otp, str) or two_factor.verify(user, otp) is None:
        return _("That code is wrong, or a recovery code already used.")
    return ""


class TotpStartView(APIView):
    """Start setting up the second factor: a secret for the authenticator app."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONOnlyParser]

    @extend_schema(
        request=None,
        responses={
            200: inline_serializer(
                "TotpSecret", {"secret": serializers.CharField(), "otpauth_uri": serializers.CharField()}
            ),
            401: ErrorDetailSerializer,
            409: ErrorDetailSerializer,
        },
        description="Answers the base32 `secret` and the `otpauth_uri` (for a QR code) of a new authenticator "
        "app entry; `POST /api/v1/auth/totp/confirm/` with a current code turns it on. 409 when it is on already.",
        tags=["auth"],
    )
    def post(self, request):
        if two_factor.has_second_factor(request.user):
            return Response(
                {
                    "detail": _(
                        "The second factor is on already: new recovery codes are on the page /accounts/two-factor/."
                    )
                },
                status=status.HTTP_409_CONFLICT,
            )
        device = two_factor.start_enrolment(request.user)
        return Response({"secret": two_factor.secret_of(device), "otpauth_uri": two_factor.otpauth_uri(device)})


class TotpConfirmView(APIView):
    """Turn the second factor on with a current code; answers the recovery codes."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONOnlyParser]

    @extend_schema(
        request=inline_serializer("TotpConfirm", {"code": serializers.CharField()}),
        responses={
            200: inline_serializer(
                "RecoveryCodes", {"recovery_codes": serializers.ListField(child=serializers.CharField())}
            ),
            400: OpenApiResponse(description='The field errors, e.g. `{"code": ["…"]}`.'),
            401: ErrorDetailSerializer,
        },
        description="Send `code`, the app's current six digits. Answers ten one-time `recovery_codes`, shown "
        "only now; from then on `POST /api/v1/auth/token/` needs `otp`.",
        tags=["auth"],
    )
    def post(self, request):
        try:
            data = request.data if isinstance(request.data, dict) else {}
            codes = two_factor.confirm_enrolment(request.user, data.get("code"))
        except DjangoValidationError as error:
            raise ValidationError({"code": error.messages}) from None
        record(action=Action.CHANGE, request=request, obj=request.user, summary="Second factor turned on")
        return Response({"recovery_codes": codes})


class LogoutView(APIView):
    """Revoke the caller's API token (and end the session, for a browser)."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONOnlyParser]

    @extend_schema(
        request=None,
        responses={204: None, 401: ErrorDetailSerializer, 403: ErrorDetailSerializer},
        description="Revokes the caller's API token at once: later calls with it are 401.",
        tags=["auth"],
    )
    def post(self, request):
        revoke_tokens(request.user)
        record(action=Action.LOGOUT, request=request, summary="API token revoked")
        return Response(status=status.HTTP_204_NO_CONTENT)


class SignInsView(APIView):
    """The caller's live sign-ins: browser sessions and API tokens (SPEC §21)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses={
            200: inline_serializer(
                "SignIns",
                {
                    "sessions": inline_serializer(
                        "BrowserSignIn",
                        {
                            "id": serializers.IntegerField(),
                            "created": serializers.DateTimeField(),
                            "address": serializers.CharField(allow_null=True),
                            "user_agent": serializers.CharField(),
                            "current": serializers.BooleanField(),
                        },
                        many=True,
                    ),
                    "tokens": inline_serializer(
                        "TokenSignIn",
                        {
                            "id": serializers.IntegerField(),
                            "prefix": serializers.CharField(),
                            "created": serializers.DateTimeField(),
                            "expires": serializers.DateTimeField(),
                            "address": serializers.CharField(allow_null=True),
                            "user_agent": serializers.CharField(),
                            "current": serializers.BooleanField(),
                        },
                        many=True,
                    ),
                },
            ),
            401: ErrorDetailSerializer,
        },
        description="Your sign-ins that are still live: browser sessions (login page, admin) and API tokens "
        "(only their first eight characters: the keys themselves are kept nowhere).",
        tags=["auth"],
    )
    def get(self, request):
        current_session = request.session.session_key if hasattr(request, "session") else None
        current_token = request.auth.pk if getattr(request.auth, "pk", None) else None
        return Response(
            {
                "sessions": [
                    {
                        "id": s.pk,
                        "created": s.created,
                        "address": s.address,
                        "user_agent": s.user_agent,
                        "current": s.session_key == current_session and request.auth is None,
                    }
                    for s in active_sign_ins(request.user)
                ],
                "tokens": [
                    {
                        "id": t.pk,
                        "prefix": t.prefix,
                        "created": t.created,
                        "expires": expires_at(t),
                        "address": t.address,
                        "user_agent": t.user_agent,
                        "current": t.pk == current_token,
                    }
                    for t in active_tokens(request.user)
                ],
            }
        )


class LogoutEverywhereView(APIView):
    """End every sign-in of the caller: all API tokens and all browser sessions."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONOnlyParser]

    @extend_schema(
        request=None,
        responses={204: None, 401: ErrorDetailSerializer},
        description="Revokes all your API tokens and ends all your browser sessions, this one included.",
        tags=["auth"],
    )
    def post(self, request):
        tokens = revoke_tokens(request.user)
        sessions = end_sign_ins(request.user)
        record(
            action=Action.LOGOUT,
            request=request,
            summary=f"Logged out everywhere: {tokens} API token(s), {sessions} browser session(s) ended",
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


router = DefaultRouter()
router.include_root_view = False
router.register("measures", MeasureViewSet, basename="measure")
router.register("protocols", ProtocolViewSet, basename="protocol")
router.register("patients", PatientViewSet, basename="patient")
router.register("practitioners", PractitionerViewSet, basename="practitioner")
router.register("rooms", RoomViewSet, basename="room")
router.register("absences", AbsenceViewSet, basename="absence")
router.register("enrolments", EnrolmentViewSet, basename="enrolment")
router.register("sessions", SessionViewSet, basename="session")
router.register("reminders", ReminderViewSet, basename="reminder")
router.register("outcomes", OutcomeViewSet, basename="outcome")
router.register("products", ProductViewSet, basename="product")
router.register("lots", LotViewSet, basename="lot")
router.register("adverse-events", AdverseEventViewSet, basename="adverse-event")
router.register("decisions", DecisionViewSet, basename="decision")
router.register("photos", PhotoViewSet, basename="photo")
router.register("audit", AuditViewSet, basename="audit")

ROOT_LINKS = {
    "auth_token": "api-token",
    "clinic": "api-clinic",
    # Resources that can be listed (an outcome is reached through its enrolment).
    **{prefix: f"{basename}-list" for prefix, viewset, basename in router.registry if hasattr(viewset, "list")},
    "schema": "api-schema",
    "docs": "api-docs",
}

urlpatterns = [
    path("", ApiRoot.as_view(resources=ROOT_LINKS), name="api-root"),
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("auth/logout/", LogoutView.as_view(), name="api-logout"),
    path("auth/totp/", TotpStartView.as_view(), name="api-totp"),
    path("auth/totp/confirm/", TotpConfirmView.as_view(), name="api-totp-confirm"),
    path("auth/sessions/", SignInsView.as_view(), name="api-sign-ins"),
    path("auth/logout-everywhere/", LogoutEverywhereView.as_view(), name="api-logout-everywhere"),
    path("patients/<str:pk>/export/", PatientRightsViewSet.as_view({"get": "export"}), name="api-patient-export"),
    path("patients/<str:pk>/erase/", PatientRightsViewSet.as_view({"post": "erase"}), name="api-patient-erase"),
    path("clinic/", ClinicView.as_view(), name="api-clinic"),
    path("clinic/dlqi-wording/", WordingView.as_view(), name="api-clinic-dlqi-wording"),
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
    # The split view serves Swagger UI's start-up script as a file: no inline script under the CSP.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
