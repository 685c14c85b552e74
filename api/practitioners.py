"""API: the clinic's practitioners and rooms (SPEC §6); the clinic's own
settings are api/clinic.py."""

from rest_framework import mixins, serializers

from clinics.models import Room, User
from clinics.selectors import practitioners_of
from core.api import ClinicViewSet


class PractitionerSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name", read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "name", "role"]


class PractitionerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ClinicViewSet):
    """The clinic's active clinicians and managers: whom a session can be booked with."""

    serializer_class = PractitionerSerializer

    def scoped_queryset(self, clinic):
        return practitioners_of(clinic).order_by("last_name", "first_name", "username")


class RoomSerializer(serializers.ModelSerializer):
    class Meta:
        model = Room
        fields = ["id", "name", "active"]


class RoomViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ClinicViewSet):
    serializer_class = RoomSerializer

    def scoped_queryset(self, clinic):
        return Room.objects.filter(clinic=clinic).order_by("name")
