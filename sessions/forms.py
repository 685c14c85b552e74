"""Forms of the session pages. They parse and label the input; the rules
live in sessions.services, whose errors are put back beside these fields."""

import datetime as dt
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError

from clinics.models import Clinic, Room, User
from clinics.timezones import localize
from protocols.models import Protocol, ValueType

from .models import ProductForm, ProductSource, Relatedness, Severity
from .selectors import practitioners_of


class PractitionerChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.display_name


class ProtocolChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Protocol) -> str:
        return f"{obj.name} (v{obj.version})"


def _date_input():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class EnrolForm(forms.Form):
    protocol = ProtocolChoice(queryset=Protocol.objects.none(), label="Protocol")
    start_date = forms.DateField(label="Start date", widget=_date_input())
    clinician = PractitionerChoice(
        queryset=User.objects.none(), label="Treating clinician", required=False, empty_label="Not assigned yet"
    )
    area = forms.CharField(label="Treatment area", max_length=200, required=False, help_text="e.g. vertex scalp")

    def __init__(self, *args, clinic: Clinic, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["protocol"].queryset = Protocol.objects.filter(clinic=clinic, is_current=True, active=True)
        self.fields["clinician"].queryset = practitioners_of(clinic)


class SlotForm(forms.Form):
    """One offered slot, posted by its button."""

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

    date = forms.DateField(label="Date", widget=_date_input())
    time = forms.TimeField(label="Time", widget=forms.TimeInput(attrs={"type": "time", "step": 60}, format="%H:%M"))
    practitioner = PractitionerChoice(queryset=User.objects.none(), label="Practitioner")
    room = forms.ModelChoiceField(queryset=Room.objects.none(), label="Room", required=False, empty_label="No room")
    override_reason = forms.CharField(
        label="Reason for booking outside the window",
        required=False,
        max_length=500,
        help_text="Only needed when the date lies outside the window.",
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
    reason = forms.CharField(label="Reason for skipping", max_length=500)


class CompleteForm(forms.Form):
    """The step's measures (one number input each, with the measure's range
    and unit), the product used and the notes."""

    product_lot = forms.CharField(label="Product lot", max_length=80, required=False)
    product_source = forms.ChoiceField(
        label="Product source", choices=[("", "—"), *ProductSource.choices], required=False
    )
    product_form = forms.ChoiceField(label="Product form", choices=[("", "—"), *ProductForm.choices], required=False)
    product_concentration = forms.CharField(label="Concentration", max_length=80, required=False)
    notes = forms.CharField(label="Notes", widget=forms.Textarea(attrs={"rows": 3}), required=False)
    not_done_reason = forms.CharField(
        label="Why measures were not recorded",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="Leave empty when every measure above is recorded.",
    )

    def __init__(self, *args, measures, **kwargs):
        super().__init__(*args, **kwargs)
        self.measures = list(measures)
        fields = {}
        for measure in self.measures:
            integer = measure.value_type == ValueType.INTEGER
            step = "1" if integer else "any"
            unit = f" ({measure.unit})" if measure.unit else ""
            low, high = measure.min_value.normalize(), measure.max_value.normalize()
            field = forms.DecimalField(
                label=f"{measure.name}{unit}",
                required=False,
                min_value=measure.min_value,
                max_value=measure.max_value,
                max_digits=12,
                decimal_places=0 if integer else 4,
                help_text=f"{low:f} to {high:f}{unit}",
            )
            # The field would write its limits as 600.0000; the browser gets them plain.
            field.widget.attrs.update({"step": step, "min": f"{low:f}", "max": f"{high:f}"})
            fields[self.measure_field(measure.code)] = field
        # The measures come first on the page.
        self.fields = {**fields, **self.fields}

    @staticmethod
    def measure_field(code: str) -> str:
        return f"measure_{code}"

    def measure_fields(self):
        return [self[self.measure_field(m.code)] for m in self.measures]

    def other_fields(self):
        return [self[name] for name in self.fields if not name.startswith("measure_")]

    def outcomes(self) -> list[dict]:
        values = ((m.code, self.cleaned_data.get(self.measure_field(m.code))) for m in self.measures)
        return [{"measure": code, "value": value} for code, value in values if isinstance(value, Decimal)]

    def put_outcome_errors(self, messages: list[str]) -> None:
        """The service words each outcome error as '<code>: ...'; show it beside that measure."""
        by_code = {m.code: self.measure_field(m.code) for m in self.measures}
        for message in messages:
            code, _, _ = message.partition(":")
            self.add_error(by_code.get(code.strip()), message)


class AdverseEventForm(forms.Form):
    description = forms.CharField(label="Adverse event", required=False, max_length=2000)
    severity = forms.ChoiceField(label="Severity", choices=[("", "—"), *Severity.choices], required=False)
    related_to_treatment = forms.ChoiceField(
        label="Related to treatment", choices=Relatedness.choices, initial=Relatedness.UNKNOWN, required=False
    )

    def is_blank(self) -> bool:
        return not (self.cleaned_data.get("description") or "").strip() and not self.cleaned_data.get("severity")

    def clean(self):
        data = super().clean()
        if self.is_blank():
            return data
        if not (data.get("description") or "").strip():
            self.add_error("description", "Describe the event.")
        if not data.get("severity"):
            self.add_error("severity", "Choose a severity.")
        return data


AdverseEventFormSet = forms.formset_factory(AdverseEventForm, extra=2, max_num=20, validate_max=True)
