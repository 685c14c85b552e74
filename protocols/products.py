"""Products and their lots (SPEC §12): the manager maintains them, every
member of staff reads them; sessions name the lot they used."""

import datetime as dt
from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from clinics.models import Clinic, Role, User
from core.services import model_update, require_role, workflow
from core.text import check_text

from .models import Lot, Product

PRODUCT_FIELDS = ("name", "source_tissue", "form", "manufacturer", "active")
LOT_FIELDS = ("lot_number", "expiry_date", "received_on", "concentration", "concentration_unit")


def products_of(clinic: Clinic | None) -> QuerySet[Product]:
    return Product.objects.filter(clinic=clinic).order_by("name", "id")


def lots_of(clinic: Clinic | None) -> QuerySet[Lot]:
    return Lot.objects.filter(product__clinic=clinic).select_related("product").order_by("-expiry_date", "lot_number", "id")


def _save(instance, by: User, *, field: str, message: str):
    instance._history_user = by
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        raise ValidationError({field: [message]}) from None
    return instance


@workflow
def create_product(*, clinic: Clinic, data: Mapping, by: User) -> Product:
    require_role(by, Role.MANAGER, clinic_id=clinic.pk, what="clinic")
    check_text(Product, {f: data[f] for f in PRODUCT_FIELDS if f in data})
    product = Product(clinic=clinic, **{f: data[f] for f in PRODUCT_FIELDS if f in data})
    return _save(product, by, field="name", message=_("The clinic already has a product of this name."))


@workflow
def update_product(*, product: Product, data: Mapping, by: User) -> Product:
    require_role(by, Role.MANAGER, clinic_id=product.clinic_id, what="product")
    check_text(Product, {f: data[f] for f in PRODUCT_FIELDS if f in data})
    product = Product.objects.select_for_update().get(pk=product.pk)
    if model_update(product, data, PRODUCT_FIELDS):
        _save(product, by, field="name", message=_("The clinic already has a product of this name."))
    return product


def _check_dates(lot: Lot) -> None:
    if lot.received_on and lot.expiry_date and lot.received_on > lot.expiry_date:
        raise ValidationError({"received_on": [_("A lot cannot be received after its expiry date.")]})


@workflow
def create_lot(*, product: Product, data: Mapping, by: User) -> Lot:
    require_role(by, Role.MANAGER, clinic_id=product.clinic_id, what="product")
    check_text(Lot, {f: data[f] for f in LOT_FIELDS if f in data})
    lot = Lot(product=product, **{f: data[f] for f in LOT_FIELDS if f in data})
    _check_dates(lot)
    return _save(lot, by, field="lot_number", message=_("This product already has a lot with this number."))


@workflow
def update_lot(*, lot: Lot, data: Mapping, by: User) -> Lot:
    """Correct a lot's details. Its number stays once a session has used it:
    the recall list must keep finding those patients under that number."""
    require_role(by, Role.MANAGER, clinic_id=lot.product.clinic_id, what="lot")
    check_text(Lot, {f: data[f] for f in LOT_FIELDS if f in data})
    lot = Lot.objects.select_for_update().select_related("product").get(pk=lot.pk)
    before = lot.lot_number
    changed = model_update(lot, data, LOT_FIELDS)
    if "lot_number" in changed and lot.sessions.exists():
        raise ValidationError({"lot_number": [_("Lot %(lot)s has been used; its number cannot change.") % {"lot": before}]})
    _check_dates(lot)
    if changed:
        _save(lot, by, field="lot_number", message=_("This product already has a lot with this number."))
    return lot


def check_lot_for(lot: Lot, *, clinic_id: int, on: dt.date) -> None:
    """A lot a session of `clinic_id` may use on `on`: the clinic's own,
    received on or before that day, not expired."""
    if lot.product.clinic_id != clinic_id:
        raise ValidationError({"lot": [_("Unknown lot %(id)s.") % {"id": lot.pk}]})
    if lot.received_on is not None and lot.received_on > on:
        raise ValidationError(
            {
                "lot": [
                    _("Lot %(lot)s was received on %(received)s, after the visit on %(day)s.")
                    % {"lot": lot.lot_number, "received": lot.received_on.isoformat(), "day": on.isoformat()}
                ]
            }
        )
    if lot.expired_on(on):
        raise ValidationError(
            {
                "lot": [
                    _("Lot %(lot)s expired on %(expiry)s, before the visit on %(day)s.")
                    % {"lot": lot.lot_number, "expiry": lot.expiry_date.isoformat(), "day": on.isoformat()}
                ]
            }
        )


def usable_lots(clinic: Clinic, *, on: dt.date) -> QuerySet[Lot]:
    """The clinic's lots of active products in stock and not expired on `on`, first to expire first."""
    return (
        Lot.objects.filter(product__clinic=clinic, product__active=True, expiry_date__gte=on)
        .filter(Q(received_on__isnull=True) | Q(received_on__lte=on))
        .select_related("product")
        .order_by("expiry_date", "product__name", "lot_number")
    )


def suggested_lot(lots, product_text: str) -> Lot | None:
    """The lot to pre-fill for a step or protocol that names its product in
    words: the first to expire of the one product whose name those words
    contain (first expired, first out); None when it is not clear which."""
    text = (product_text or "").casefold()
    if not text:
        return None
    matching = [lot for lot in lots if lot.product.name.casefold() in text]
    if len({lot.product_id for lot in matching}) != 1:
        return None
    return matching[0]
