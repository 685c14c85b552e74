"""The parts every API module shares: the base viewset, the fields that turn
clinic-local times and scoped ids into values, and the schema class that
documents the error responses (SPEC §6, §7)."""

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from django_filters.filters import QuerySetRequestMixin
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny

from .permissions import ClinicScoped
from .timezones import UTC, as_clinic_time

# Far from date.min and date.max, so that converting an instant between
# zones or adding a session's duration can never overflow.
EARLIEST_YEAR, LATEST_YEAR = 1900, 9000
MAX_ID = 2**63 - 1


NUL_MESSAGE = _("Null characters are not allowed.")


def _holds_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


class JSONOnlyParser(JSONParser):
    """JSON bodies only (SPEC §6: JSON over /api/v1/). A body nested deeper
    than Python's recursion limit is a 400 like any other malformed JSON.

    PostgreSQL cannot store a NUL character, and Python's ISO date parsing
    quietly stops at one, so a NUL anywhere in the body is refused here, for
    every field at once, naming the top-level field that holds it."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
            if isinstance(data, dict):
                fields = sorted(
                    str(key).replace("\x00", "") or "non_field_errors"
                    for key, value in data.items()
                    if _holds_nul(key) or _holds_nul(value)
                )
            else:
                fields = ["non_field_errors"] if _holds_nul(data) else []
        except RecursionError:
            raise ParseError(_("JSON parse error - nested too deeply.")) from None
        if fields:
            raise serializers.ValidationError({field: [NUL_MESSAGE] for field in fields})
        return data


class ClinicViewSet(ClinicScoped, viewsets.GenericViewSet):
    """Base of every API viewset: JSON in, staff of one clinic only, rows of
    that clinic only. Filters apply to lists; a retrieve or an action finds
    its object by id alone (an old protocol version is still found)."""

    parser_classes = [JSONOnlyParser]

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "clinic": self.clinic}


# --- Fields ---------------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.INT)
class ClinicRelatedField(serializers.PrimaryKeyRelatedField):
    """An id in a request body, looked up among the caller's clinic's rows
    only: another clinic's id reads exactly like an id that does not exist."""

    default_error_messages = {
        "does_not_exist": _("Unknown id {pk_value}."),
        "incorrect_type": _("Expected an id (a whole number), got {data_type}."),
    }

    def __init__(self, *, scope, **kwargs):
        self.scope = scope  # clinic -> queryset
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.scope(self.context["clinic"])

    def to_internal_value(self, data):
        # Whole numbers only (a query string's "12" too): a float such as 1e400
        # would reach the database as infinity.
        if isinstance(data, str) and data.isascii() and data.isdigit() and len(data) <= 20:
            data = int(data)
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 1 <= data <= MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


@extend_schema_field(OpenApiTypes.DATETIME)
class ClinicTimeField(serializers.DateTimeField):
    """Read-only: an instant shown in the zone of the row's clinic, with its
    offset (a booked 09:00 in Berlin reads 09:00+01:00 or 09:00+02:00)."""

    def __init__(self, *, clinic_path: str = "clinic", **kwargs):
        self.clinic_path = clinic_path.split(".")  # from the row to its clinic
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        value = super().get_attribute(instance)
        if value is None:
            return None
        if self.clinic_path == [""]:
            return value  # already in the clinic's zone
        clinic = instance
        for name in self.clinic_path:
            clinic = getattr(clinic, name)
        return value.astimezone(clinic.tz)

    def enforce_timezone(self, value):
        return value


class BoundedYearMixin:
    """ISO 8601 only, no NUL byte, and a year far enough from 1 and 9999 that
    date arithmetic on it never overflows."""

    def to_internal_value(self, value):
        if isinstance(value, str) and "\x00" in value:
            self.fail("invalid", format="ISO 8601")
        parsed = super().to_internal_value(value)
        if not EARLIEST_YEAR <= parsed.year <= LATEST_YEAR:
            self.fail("range", earliest=EARLIEST_YEAR, latest=LATEST_YEAR)
        return parsed


class LocalDateTimeField(BoundedYearMixin, serializers.DateTimeField):
    """An ISO 8601 datetime as sent. One without an offset stays naive here:
    it is clinic-local time, and `to_clinic_time` attaches the zone."""

    default_error_messages = {"range": _("Give a time between the years {earliest} and {latest}.")}

    def enforce_timezone(self, value):
        return value


def to_clinic_time(value: dt.datetime, clinic) -> dt.datetime:
    """A naive time in the clinic's zone; one in a daylight-saving gap does not
    exist there and is refused (a 400 on the field)."""
    try:
        return as_clinic_time(value, clinic.tz).astimezone(UTC)
    except DjangoValidationError as error:
        raise serializers.ValidationError(error.message_dict.get("start", error.messages)) from None


class BoundedDateField(BoundedYearMixin, serializers.DateField):
    default_error_messages = {"range": _("Give a date between the years {earliest} and {latest}.")}


class FilterSet(filters.FilterSet):
    """django-filter's FilterSet with its form class made once per filter set
    rather than on every request: django-filter builds a new form class, and
    a form field with its label for each filter, each time it is asked, which
    cost the day agenda more than the filtering itself (docs/benchmarks.md).
    A form deep-copies its class's fields, so requests share nothing mutable.
    A filter whose choices come from a queryset (made per request) opts the
    set out."""

    def get_form_class(self):
        cls = type(self)
        form_class = cls.__dict__.get("_form_class")
        if form_class is None:
            form_class = super().get_form_class()
            if any(isinstance(f, QuerySetRequestMixin) for f in self.filters.values()):
                return form_class
            cls._form_class = form_class
        return form_class


class IdFilter(filters.NumberFilter):
    """A whole-number id in a query string (not a decimal, not out of range)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


EARLIEST_DAY = dt.date(1900, 1, 1)
LATEST_DAY = dt.date(2199, 12, 31)


def sensible_day(value: dt.date) -> None:
    """Days a clinic's data can hold: 0001-01-01 or 9999-12-31 overflowed
    turning into an instant in the clinic's zone (a 500, issue 30)."""
    if not EARLIEST_DAY <= value <= LATEST_DAY:
        raise DjangoValidationError(
            _("Give a day between %(earliest)s and %(latest)s.") % {"earliest": EARLIEST_DAY, "latest": LATEST_DAY}
        )


class IsoDateFilter(filters.DateFilter):
    """YYYY-MM-DD only: the locale's 13/03/2026 would be ambiguous; a day out
    of range is a 400 naming the filter."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("input_formats", ["%Y-%m-%d"])
        kwargs.setdefault("validators", [sensible_day])
        super().__init__(*args, **kwargs)


class StrictBooleanFilter(filters.TypedChoiceFilter):
    """`true` or `false`; anything else is a 400 (django-filter's own boolean
    filter would quietly ignore `?active=maybe`)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", [("true", "true"), ("false", "false")])
        kwargs.setdefault("coerce", lambda value: value == "true")
        super().__init__(*args, **kwargs)


# --- Schema ---------------------------------------------------------------------------------------


class ErrorDetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


FIELD_ERRORS = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description='Invalid input: `{"field": ["message", ...]}` naming each field and rule, or `{"detail": "..."}`.',
)
CONFLICT = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="Conflicts with the current state (slot taken, wrong state): "
    '`{"detail": "..."}` or `{"field": ["message"]}`.',
)
ERROR_RESPONSES = {
    "400": FIELD_ERRORS,
    "401": OpenApiResponse(ErrorDetailSerializer, description="Not authenticated: send `Authorization: Token <key>`."),
    "403": OpenApiResponse(ErrorDetailSerializer, description="Your role may not do this, or you belong to no clinic."),
    "404": OpenApiResponse(ErrorDetailSerializer, description="Not found (or another clinic's)."),
    "409": CONFLICT,
    "415": OpenApiResponse(ErrorDetailSerializer, description="The body must be JSON."),
}


class RegimenAutoSchema(AutoSchema):
    """drf-spectacular's schema, plus the error responses each operation can
    give, so clients (and schemathesis' conformance check) know their shape."""

    def _error_codes(self) -> list[str]:
        public = all(isinstance(p, AllowAny) for p in self.view.get_permissions())
        codes = ["400"] if public else ["400", "401", "403", "404"]
        if self.method in ("POST", "PUT", "PATCH"):
            codes += ["415"] if public else ["409", "415"]
        return codes

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self._error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(ERROR_RESPONSES[code], code, direction=direction)
        return responses
