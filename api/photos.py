"""API: photographs of a session (SPEC §12). Upload is multipart (`image`,
`view`); the files are served only here and on the staff pages, to the
clinic's staff, never from a public URL, and never cached."""

from django.http import FileResponse
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from api.helpers import FirstRendererNegotiation
from audit.log import record
from audit.models import Action
from core.api import ClinicTimeField, ClinicViewSet, FilterSet, IdFilter
from core.roles import Role
from sessions.models import PhotoView, SessionPhoto
from sessions.records.photos import MAX_UPLOAD_BYTES, add_photo, photos_of


class PhotoSerializer(serializers.ModelSerializer):
    taken_at = ClinicTimeField()
    image_url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()

    class Meta:
        model = SessionPhoto
        fields = ["id", "session", "patient", "view", "width", "height", "taken_by", "taken_at", "image_url", "thumbnail_url"]
        read_only_fields = fields

    def get_image_url(self, photo) -> str:
        return f"/api/v1/photos/{photo.pk}/image/"

    def get_thumbnail_url(self, photo) -> str:
        return f"/api/v1/photos/{photo.pk}/thumbnail/"


class PhotoUploadSerializer(serializers.Serializer):
    image = serializers.FileField(
        max_length=200, allow_empty_file=False,
        help_text=f"A JPEG, PNG, WebP or TIFF photograph, at most {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.",
    )
    view = serializers.ChoiceField(PhotoView.choices)

    def validate_image(self, upload):
        if upload.size > MAX_UPLOAD_BYTES:
            raise serializers.ValidationError(
                _("The image is larger than %(size)s MB.") % {"size": MAX_UPLOAD_BYTES // (1024 * 1024)}
            )
        return upload


def photo_file_response(field) -> FileResponse:
    response = FileResponse(field.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


class SessionPhotosMixin:
    """`/sessions/{id}/photos/` for the session viewset."""

    @extend_schema(methods=["GET"], responses=PhotoSerializer(many=True), description="The session's photographs.")
    @extend_schema(
        methods=["POST"],
        request={"multipart/form-data": PhotoUploadSerializer},
        responses={201: PhotoSerializer},
        description="Add a photograph (clinician; the patient must have photography consent). It is re-encoded "
        "as JPEG without EXIF, with a thumbnail.",
    )
    @action(
        detail=True, methods=["get", "post"], pagination_class=None, filterset_class=None,
        parser_classes=[MultiPartParser],
    )
    def photos(self, request, pk=None):
        if request.method == "POST" and not request.user.has_role(Role.CLINICIAN):
            raise PermissionDenied(_("This needs the %(role)s role or higher.") % {"role": Role.CLINICIAN})
        session = self.get_object()
        if request.method == "GET":
            return Response(PhotoSerializer(photos_of(self.clinic).filter(session=session), many=True).data)
        body = PhotoUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        photo = add_photo(session=session, view=data["view"], data=data["image"].read(), by=request.user)
        record(action=Action.CREATE, request=request, obj=photo, summary=f"photo {photo.view}")
        return Response(PhotoSerializer(photos_of(self.clinic).get(pk=photo.pk)).data, status=201)


class PhotoFilter(FilterSet):
    patient = IdFilter(field_name="patient_id")
    session = IdFilter(field_name="session_id")
    view = filters.ChoiceFilter(choices=PhotoView.choices)


class PhotoViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ClinicViewSet):
    """The clinic's photographs (filter `patient`, `session`, `view`); the image and its thumbnail."""

    serializer_class = PhotoSerializer
    filterset_class = PhotoFilter

    def scoped_queryset(self, clinic):
        return photos_of(clinic)

    @extend_schema(
        responses={(200, "image/jpeg"): OpenApiResponse(OpenApiTypes.BINARY)}, description="The photograph (JPEG)."
    )
    @action(
        detail=True, methods=["get"], filterset_class=None, pagination_class=None,
        content_negotiation_class=FirstRendererNegotiation,
    )
    def image(self, request, pk=None):
        return photo_file_response(self.get_object().image)

    @extend_schema(
        responses={(200, "image/jpeg"): OpenApiResponse(OpenApiTypes.BINARY)}, description="Its thumbnail (JPEG)."
    )
    @action(
        detail=True, methods=["get"], filterset_class=None, pagination_class=None,
        content_negotiation_class=FirstRendererNegotiation,
    )
    def thumbnail(self, request, pk=None):
        return photo_file_response(self.get_object().thumbnail)
