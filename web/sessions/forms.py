"""Forms of the session pages. They parse and label the input; the rules
live in sessions.services, whose errors are put back beside these fields."""

import contextlib
import datetime as dt
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clinics.models import Clinic, Room, User
from clinics.selectors import practitioners_of
from core.text import multi_line, single_line
from core.timezones import localize
from protocols import instruments
from protocols.library import shown
from protocols.models import Lot, Protocol, ValueType
from sessions.models import (
    MOVE_LABELS,
    ActionTaken,
    AdverseEventOutcome,
    ChangeReason,
    PhotoView,
    ProductForm,
    Relatedness,
    SessionStatus,
    Severity,
)


class LotChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Lot) -> str:
        return _("{product} · lot {lot} · expires {expiry}").format(
            product=obj.product.name, lot=obj.lot_number, expiry=date_format(obj.expiry_date, _("d M Y"))
        )


class PractitionerChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.display_name


class ProtocolChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Protocol) -> str:
        return f"{obj.name} (v{obj.version})"


def date_input():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def staff_number_messages(low, high, unit: str = "", *, integer: bool = False) -> dict:
    """A number field's refusals as the front desk would say them: never
    "no more than 0 decimal places" or "less than or equal to 72.0000"."""
    def plain(number) -> str:
        return f"{Decimal(str(number)).normalize():f}"

    limits = {"low": plain(low), "high": f"{plain(high)}{unit}"}
    between = _("Enter a number between {low} and {high}.").format(**limits)
    return {
        "invalid": between,
        "min_value": _("Too low: enter a number between {low} and {high}.").format(**limits),
        "max_value": _("Too high: enter a number between {low} and {high}.").format(**limits),
        "max_decimal_places": _("Enter a whole number.") if integer else _("Use at most 4 digits after the decimal point."),
        "max_digits": between,
        "max_whole_digits": between,
    }


class CancelForm(forms.Form):
    """Cancel a booking: why (kept and counted), confirmed by its button."""

    reason = forms.ChoiceField(
        label=gettext_lazy("Why is it cancelled?"), choices=ChangeReason.choices, widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Choose why the booking is cancelled.")},
    )
    note = forms.CharField(validators=[multi_line], label=gettext_lazy("Note (optional)"), required=False, max_length=500)


REBOOK_REASONS = [("", gettext_lazy("Choose why it moves")), *((value, MOVE_LABELS[value]) for value in ChangeReason.values)]


class SlotForm(forms.Form):
    """One offered slot, posted by its button."""

    change_reason = forms.ChoiceField(choices=ChangeReason.choices, required=False, widget=forms.HiddenInput)
    start = forms.DateTimeField(widget=forms.HiddenInput)
    practitioner = forms.ModelChoiceField(queryset=User.objects.none(), widget=forms.HiddenInput)
    room = forms.ModelChoiceField(queryset=Room.objects.none(), widget=forms.HiddenInput, required=False)

    def __init__(self, *args, clinic: Clinic, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practitioner"].queryset = practitioners_of(clinic)
        self.fields["room"].queryset = clinic.rooms.filter(active=True)


class BookTimeForm(forms.Form):
    """A date and time typed in: inside the window for anyone, outside it
    with a reason for clinicians and managers."""

    date = forms.DateField(label=gettext_lazy("Date"), widget=date_input())
    time = forms.TimeField(label=gettext_lazy("Time"), widget=forms.TimeInput(attrs={"type": "time", "step": 60}, format="%H:%M"))
    practitioner = PractitionerChoice(
        queryset=User.objects.none(), label=gettext_lazy("Practitioner"), empty_label=gettext_lazy("Choose who")
    )
    room = forms.ModelChoiceField(
        queryset=Room.objects.none(), label=gettext_lazy("Room"), required=False, empty_label=gettext_lazy("No room")
    )
    change_reason = forms.ChoiceField(
        label=gettext_lazy("Why the booked time moves"), choices=REBOOK_REASONS, required=False
    )
    override_reason = forms.CharField(
        validators=[multi_line],
        label=gettext_lazy("Reason for booking outside the window"),
        required=False,
        max_length=500,
        help_text=gettext_lazy("Only needed when the date lies outside the window."),
    )

    def __init__(self, *args, clinic: Clinic, allow_override: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.clinic = clinic
        self.fields["practitioner"].queryset = practitioners_of(clinic)
        self.fields["room"].queryset = clinic.rooms.filter(active=True)
        if not allow_override:
            del self.fields["override_reason"]

    def clean(self):
        data = super().clean()
        if data.get("date") and data.get("time"):
            try:
                data["start"] = localize(dt.datetime.combine(data["date"], data["time"]), self.clinic.tz, field="time")
            except ValidationError as error:
                self.add_error("time", error.error_dict["time"][0])
        return data


class SkipForm(forms.Form):
    reason = forms.CharField(validators=[multi_line], label=gettext_lazy("Reason for skipping"), max_length=500)


def _item_field(item: instruments.Item) -> forms.Field:
    """The page's input for one instrument item (instruments.ITEM_LAYOUTS)."""
    if item.choices:
        return forms.TypedChoiceField(
            label=item.label, required=False, choices=[("", _("— unanswered")), *item.choices],
            coerce=lambda answer: int(answer) if answer.isdigit() else answer, empty_value=None,
        )
    if item.half:
        field = forms.DecimalField(label=item.label, required=False, min_value=0, max_value=item.high,
                                   max_digits=3, decimal_places=1, step_size=Decimal("0.5"))
        field.widget.attrs.update({"step": "0.5", "min": "0", "max": str(item.high)})
        return field
    if item.whole:
        field = forms.IntegerField(
            label=item.label, required=False, min_value=0, max_value=item.high,
            error_messages=staff_number_messages(0, item.high, integer=True),
        )
        field.widget.attrs["step"] = "1"
        return field
    field = forms.DecimalField(
        label=item.label, required=False, min_value=0, max_value=item.high, max_digits=6, decimal_places=2,
        error_messages={**staff_number_messages(0, item.high), "max_decimal_places": _("Use at most 2 digits after the decimal point.")},
    )
    field.widget.attrs.update({"step": "any", "min": "0", "max": str(item.high)})
    return field


class ScoredSection:
    """One instrument's "Score from items" disclosure on the page."""

    def __init__(self, form: "CompleteForm", measure):
        self.measure = measure
        self.name = instruments.INSTRUMENT_NAMES.get(measure.code, measure.code.upper())
        self.field = form[form.items_field(measure.code)]
        self.groups = [(legend, [form[name] for name in names]) for legend, names in form.item_groups[measure.code]]
        # Items are the only way to record a scored instrument (SPEC §10): the section is open.
        self.open = True


class CompleteForm(forms.Form):
    """The step's measures (one number input each, with the measure's range
    and unit; a scored instrument may instead be scored from its items), the
    product used and the notes."""

    lot = LotChoice(
        label=gettext_lazy("Product lot"), queryset=Lot.objects.none(), required=False, empty_label="—",
        help_text=gettext_lazy("Required for a treatment; received on or before the visit's date and not expired on it."),
    )
    product_form = forms.ChoiceField(
        label=gettext_lazy("Product form"), choices=[("", "—"), *ProductForm.choices], required=False
    )
    product_concentration = forms.CharField(validators=[single_line], label=gettext_lazy("Concentration"), max_length=80, required=False)
    notes = forms.CharField(validators=[multi_line], label=gettext_lazy("Notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    not_done_reason = forms.CharField(
        validators=[multi_line],
        label=gettext_lazy("Why measures were not recorded"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text=gettext_lazy("Leave empty when every measure above is recorded."),
    )

    def __init__(self, *args, measures, lots=None, age_years: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.age_years = age_years
        if lots is not None:
            self.fields["lot"].queryset = lots
        self.measures = list(measures)
        fields = {}
        # Per scored instrument: [(legend, [field name])], and each item field's path in the items dict.
        self.item_groups: dict[str, list[tuple[str, list[str]]]] = {}
        self.item_paths: dict[str, dict[str, tuple]] = {}
        self.item_optional: dict[str, bool] = {}
        for measure in self.measures:
            integer = measure.value_type in (ValueType.INTEGER, ValueType.SCORE)
            step = "1" if integer else "any"
            unit = f" ({shown(measure.unit)})" if measure.unit else ""
            low, high = measure.min_value.normalize(), measure.max_value.normalize()
            field = forms.DecimalField(
                label=f"{shown(measure.name)}{unit}",
                required=False,
                min_value=measure.min_value,
                max_value=measure.max_value,
                max_digits=12,
                decimal_places=0 if integer else 4,
                help_text=_("{low} to {high}").format(low=f"{low:f}", high=f"{high:f}{unit}"),
                error_messages=staff_number_messages(
                    low, high, f" {measure.unit}" if measure.unit else "", integer=integer
                ),
            )
            # The field would write its limits as 600.0000; the browser gets them plain.
            field.widget.attrs.update({"step": step, "min": f"{low:f}", "max": f"{high:f}"})
            fields[self.measure_field(measure.code)] = field
            if measure.code in instruments.SCORED_CODES:
                # A scored instrument's total is never typed (SPEC §10): shown, read-only, as
                # worked out from its items; a posted value is ignored (a disabled field).
                field.disabled = True
                field.widget.attrs["readonly"] = True
                field.help_text = _("Worked out from the items below; never typed in.")
                fields.update(self._add_items(measure.code))
        # The measures come first on the page.
        self.fields = {**fields, **self.fields}

    def _add_items(self, code: str) -> dict[str, forms.Field]:
        # The section's own (hidden, never filled) field carries its errors, so
        # they stand beside the section like any field's errors.
        fields = {self.items_field(code): forms.CharField(required=False, widget=forms.HiddenInput)}
        self.item_groups[code], self.item_paths[code] = [], {}
        for group in instruments.ITEM_LAYOUTS[code]:
            names = []
            for item in group.items:
                name = f"{self.items_field(code)}__{'__'.join(str(part) for part in item.path)}"
                fields[name] = _item_field(item)
                self.item_paths[code][name] = item.path
                self.item_optional[name] = item.optional
                names.append(name)
            self.item_groups[code].append((group.legend, names))
        return fields

    @staticmethod
    def measure_field(code: str) -> str:
        return f"measure_{code}"

    @staticmethod
    def items_field(code: str) -> str:
        return f"items_{code}"

    def measure_fields(self):
        return [self[self.measure_field(m.code)] for m in self.measures]

    def measure_rows(self):
        """(measure field, its ScoredSection or None) in page order."""
        return [
            (self[self.measure_field(m.code)], ScoredSection(self, m) if m.code in self.item_paths else None)
            for m in self.measures
        ]

    def other_fields(self):
        return [self[name] for name in self.fields if not name.startswith(("measure_", "items_"))]

    def is_filled(self, name: str) -> bool:
        return str(self[name].value() or "").strip() != ""

    def clean(self):
        data = super().clean()
        self.scored_items: dict[str, dict] = {}
        for code, paths in self.item_paths.items():
            filled = [name for name in paths if self.is_filled(name)]
            if not filled:
                continue
            required = [name for name in paths if not self.item_optional[name]]
            if any(not self.is_filled(name) for name in required):
                name = instruments.INSTRUMENT_NAMES.get(code, code)
                self.add_error(
                    self.items_field(code),
                    _("{empty} of {name}'s {total} items are empty; fill every item or none.").format(
                        empty=len(paths) - len(filled), name=name, total=len(paths)
                    ),
                )
                continue
            if any(name not in data for name in paths):
                continue  # an item is out of range; its error stands beside it
            # An optional item left empty (a DLQI question) goes on as null: the instrument rules on it.
            self.scored_items[code] = instruments.items_from_paths(
                {path: data[name] if self.is_filled(name) else None for name, path in paths.items()}
            )
            # The total the items give, shown in the read-only field (the service scores them
            # again, and names what is wrong with items that give none).
            with contextlib.suppress(ValidationError, ValueError, TypeError):
                self.initial[self.measure_field(code)] = instruments.score_items(
                    code, self.scored_items[code], age_years=self.age_years
                )
        for code, paths in self.item_paths.items():
            # A total typed in without its items: said here in the page's words (the service's
            # message lists the API's item keys).
            typed = data.get(self.measure_field(code))
            if typed is not None and not any(self.is_filled(name) for name in paths):
                name = instruments.INSTRUMENT_NAMES.get(code, code)
                self.add_error(
                    self.measure_field(code),
                    _(
                        "{name} is worked out from its items: fill them in under “Score {name} from items” "
                        "instead of typing a total."
                    ).format(name=name),
                )
        return data

    def outcomes(self) -> list[dict]:
        outcomes = []
        for measure in self.measures:
            value = self.cleaned_data.get(self.measure_field(measure.code))
            items = self.scored_items.get(measure.code)
            if items is not None:
                # A typed value too is passed on: the service refuses both at once.
                outcome = {"measure": measure.code, "items": items}
                if isinstance(value, Decimal):
                    outcome["value"] = value
                outcomes.append(outcome)
            elif isinstance(value, Decimal):
                outcomes.append({"measure": measure.code, "value": value})
        return outcomes

    def put_outcome_errors(self, messages: list[str]) -> None:
        """The service begins each outcome error with the measure's name; show
        it beside that measure, or beside its items when they were sent."""
        fields = {
            m.name: self.items_field(m.code) if m.code in self.scored_items else self.measure_field(m.code)
            for m in self.measures
        }
        for message in messages:
            # The longest name that begins the message ("Hair density" must not take "Hair density (women)").
            names = sorted((name for name in fields if message.startswith(name)), key=len, reverse=True)
            self.add_error(fields[names[0]] if names else None, message)


class AdverseEventForm(forms.Form):
    description = forms.CharField(validators=[multi_line], label=gettext_lazy("Adverse event"), required=False, max_length=2000)
    grade = forms.TypedChoiceField(
        label=gettext_lazy("CTCAE grade"), choices=[("", "—"), *[(g, str(g)) for g in range(1, 6)]], coerce=int,
        empty_value=None, required=False,
    )
    severity = forms.ChoiceField(label=gettext_lazy("Severity"), choices=[("", "—"), *Severity.choices], required=False)
    serious = forms.BooleanField(label=gettext_lazy("Serious"), required=False)
    related_to_treatment = forms.ChoiceField(
        label=gettext_lazy("Related to treatment"), choices=Relatedness.choices, initial=Relatedness.UNKNOWN, required=False
    )
    onset_date = forms.DateField(label=gettext_lazy("Onset"), required=False, widget=date_input(),
                                 help_text=gettext_lazy("Default: the visit's day."),
                                 error_messages={"invalid": gettext_lazy("Enter a date such as 2026-12-07.")})
    resolved_date = forms.DateField(label=gettext_lazy("Resolved"), required=False, widget=date_input(),
                                    error_messages={"invalid": gettext_lazy("Enter a date such as 2026-12-07.")})
    outcome = forms.ChoiceField(label=gettext_lazy("Outcome"), choices=AdverseEventOutcome.choices,
                                initial=AdverseEventOutcome.UNKNOWN, required=False)
    action_taken = forms.ChoiceField(label=gettext_lazy("Action taken"), choices=ActionTaken.choices,
                                     initial=ActionTaken.NONE, required=False)

    def event(self) -> dict:
        """The event as the completion service takes it (the API's keys)."""
        data = self.cleaned_data
        event = {
            "description": data["description"],
            "serious": data["serious"],
            "related_to_treatment": data["related_to_treatment"] or Relatedness.UNKNOWN,
            "outcome": data["outcome"] or AdverseEventOutcome.UNKNOWN,
            "action_taken": data["action_taken"] or ActionTaken.NONE,
        }
        for key in ("severity", "grade", "onset_date", "resolved_date"):
            if data.get(key):
                event[key] = data[key]
        return event

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not (data.get("description") or "").strip() and not data.get("severity") and not data.get("grade")

    def clean(self):
        data = super().clean()
        if self.is_blank():
            return data
        if not (data.get("description") or "").strip():
            self.add_error("description", _("Describe the event."))
        if not data.get("severity") and not data.get("grade"):
            self.add_error("grade", _("Choose a CTCAE grade (or a severity)."))
        return data


AdverseEventFormSet = forms.formset_factory(AdverseEventForm, extra=2, max_num=20, validate_max=True)


class PhotoForm(forms.Form):
    """A photograph of one of the patient's visits, as the API's upload takes it."""

    session = forms.ModelChoiceField(
        queryset=None, label=gettext_lazy("Visit"), empty_label=gettext_lazy("Choose the visit"),
        error_messages={"required": gettext_lazy("Choose the visit the photograph was taken at.")},
    )
    view = forms.ChoiceField(label=gettext_lazy("View"), choices=[("", gettext_lazy("Choose the view")), *PhotoView.choices],
                             error_messages={"required": gettext_lazy("Choose the view.")})
    image = forms.FileField(label=gettext_lazy("Photograph"),
                            error_messages={"required": gettext_lazy("Choose the photograph file."),
                                            "empty": gettext_lazy("The file is empty.")})

    def __init__(self, *args, patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["session"].queryset = (
            patient.sessions.filter(status__in=(SessionStatus.BOOKED, SessionStatus.COMPLETED))
            .select_related("step").order_by("sequence", "enrolment_id")
        )
        self.fields["session"].label_from_instance = lambda s: (
            f"#{s.sequence} {shown(s.step.name)}, {date_format(s.completed_at or s.start, _('d M Y'))}"
        )
        self.fields["image"].widget.attrs["accept"] = "image/jpeg,image/png,image/webp,image/tiff"

    def clean_image(self):
        from sessions.records.photos import MAX_UPLOAD_BYTES

        image = self.cleaned_data["image"]
        if image.size > MAX_UPLOAD_BYTES:
            raise ValidationError(
                _("The image is larger than {size} MB.").format(size=MAX_UPLOAD_BYTES // (1024 * 1024))
            )
        return image


class LotForm(forms.Form):
    """A new lot of one of the clinic's products (manager), as the API takes it."""

    product = forms.ModelChoiceField(queryset=None, label=gettext_lazy("Product"),
                                     empty_label=gettext_lazy("Choose the product"),
                                     error_messages={"required": gettext_lazy("Choose the product.")})
    lot_number = forms.CharField(validators=[single_line], label=gettext_lazy("Lot number"), max_length=80,
                                 error_messages={"required": gettext_lazy("Give the lot number.")})
    expiry_date = forms.DateField(label=gettext_lazy("Expires"), widget=date_input(),
                                  error_messages={"required": gettext_lazy("Give the expiry date."),
                                                  "invalid": gettext_lazy("Enter a date such as 2027-06-30.")})
    received_on = forms.DateField(label=gettext_lazy("Received"), required=False, widget=date_input(),
                                  error_messages={"invalid": gettext_lazy("Enter a date such as 2026-12-07.")})
    concentration = forms.DecimalField(label=gettext_lazy("Concentration"), required=False, min_value=0,
                                       max_digits=12, decimal_places=4)
    concentration_unit = forms.CharField(validators=[single_line], label=gettext_lazy("Unit"), max_length=40, required=False,
                                         help_text=gettext_lazy("e.g. µg/mL protein, particles/mL"))

    def __init__(self, *args, clinic: Clinic, **kwargs):
        from protocols.products import products_of

        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = products_of(clinic).filter(active=True)
