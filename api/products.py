"""API: the clinic's products and their lots (SPEC §12). Everyone reads;
the manager creates and corrects them. A lot's recall list is
api.lots's (it reads sessions)."""

from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from clinics.models import Role
from core.api import BoundedDateField, ClinicRelatedField, ClinicViewSet, FilterSet, IdFilter, StrictBooleanFilter
from protocols.models import Lot, Product, ProductKind, SourceTissue
from protocols.products import create_lot, create_product, lots_of, products_of, update_lot, update_product

MANAGER_WRITES = {"create": Role.MANAGER, "update": Role.MANAGER, "partial_update": Role.MANAGER}


class ProductSerializer(serializers.ModelSerializer):
    source_tissue = serializers.ChoiceField(SourceTissue.choices)
    form = serializers.ChoiceField(ProductKind.choices, help_text="Conditioned medium, secretome or exosomes.")

    class Meta:
        model = Product
        fields = ["id", "name", "source_tissue", "form", "manufacturer", "active"]
        read_only_fields = ["id"]


class LotSerializer(serializers.ModelSerializer):
    product = ClinicRelatedField(scope=products_of)
    product_name = serializers.CharField(source="product.name", read_only=True)
    expiry_date = BoundedDateField()
    received_on = BoundedDateField(required=False, allow_null=True)
    concentration = serializers.DecimalField(
        max_digits=12, decimal_places=4, min_value=0, coerce_to_string=False, required=False, allow_null=True
    )

    class Meta:
        model = Lot
        fields = [
            "id",
            "product",
            "product_name",
            "lot_number",
            "expiry_date",
            "received_on",
            "concentration",
            "concentration_unit",
        ]
        read_only_fields = ["id"]
        validators = []  # the service says which field a duplicate is about


class ProductFilter(FilterSet):
    active = StrictBooleanFilter()


class LotFilter(FilterSet):
    product = IdFilter(field_name="product_id")
    usable_on = filters.DateFilter(
        field_name="expiry_date", lookup_expr="gte", input_formats=["%Y-%m-%d"],
        help_text="Only lots not yet expired on this date.",
    )


class ProductViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, ClinicViewSet
):
    """The clinic's products (everyone reads; the manager creates and edits)."""

    serializer_class = ProductSerializer
    filterset_class = ProductFilter
    action_roles = MANAGER_WRITES
    http_method_names = ["get", "post", "patch", "head", "options"]

    def scoped_queryset(self, clinic):
        return products_of(clinic)

    def perform_create(self, serializer):
        serializer.instance = create_product(clinic=self.clinic, data=serializer.validated_data, by=self.request.user)

    def perform_update(self, serializer):
        serializer.instance = update_product(
            product=serializer.instance, data=serializer.validated_data, by=self.request.user
        )


class LotViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, ClinicViewSet
):
    """Lots of the clinic's products, latest expiry first (everyone reads; the manager creates and corrects)."""

    serializer_class = LotSerializer
    filterset_class = LotFilter
    action_roles = MANAGER_WRITES
    http_method_names = ["get", "post", "patch", "head", "options"]

    def scoped_queryset(self, clinic):
        return lots_of(clinic)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        lot = create_lot(product=data.pop("product"), data=data, by=request.user)
        return Response(self.get_serializer(lot).data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        if "product" in data and data["product"].pk != serializer.instance.product_id:
            raise serializers.ValidationError({"product": [_("A lot cannot move to another product.")]})
        data.pop("product", None)
        serializer.instance = update_lot(lot=serializer.instance, data=data, by=self.request.user)
