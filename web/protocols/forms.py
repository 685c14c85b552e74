"""Forms of the protocol editor (issue 13). They parse and label the input;
the rules live in protocols.services (clean_steps), whose errors are shown
above the steps."""

from django import forms

from core.text import multi_line, single_line
from protocols import schedule
from protocols.models import Adjunct, Anchor, Delivery, Indication, OutcomeMeasure, StepKind


def whole(label: str, low: int, high: int, **kwargs) -> forms.IntegerField:
    between = f"a whole number from {low} to {high}"
    return forms.IntegerField(
        label=label, min_value=low, max_value=high,
        error_messages={"invalid": f"Enter {between}.", "min_value": f"Too low: enter {between}.",
                        "max_value": f"Too high: enter {between}.", "required": f"Enter {between}."},
        **kwargs,
    )


class ProtocolForm(forms.Form):
    name = forms.CharField(
        max_length=200, error_messages={"required": "Give the protocol a name."}, validators=[single_line]
    )
    indication = forms.ChoiceField(choices=Indication.choices)
    delivery = forms.ChoiceField(choices=Delivery.choices)
    product = forms.CharField(
        max_length=300, required=False, help_text="The product the course uses.", validators=[single_line]
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, validators=[multi_line])
    active = forms.BooleanField(required=False, initial=True, label="Open for new enrolments")


class StepForm(forms.Form):
    name = forms.CharField(
        max_length=200, label="Step", error_messages={"required": "Give the step a name."}, validators=[single_line]
    )
    kind = forms.ChoiceField(choices=StepKind.choices, initial=StepKind.TREATMENT)
    repeat = whole("Times", 1, schedule.MAX_REPEAT, initial=1)
    interval_days = whole("Interval (days)", 0, schedule.MAX_INTERVAL_DAYS, initial=0)
    anchor = forms.ChoiceField(label="Counted", choices=Anchor.choices, initial=Anchor.PREVIOUS)
    window_before_days = whole("Window before (days)", 0, schedule.MAX_WINDOW_DAYS, initial=0)
    window_after_days = whole("Window after (days)", 0, schedule.MAX_WINDOW_DAYS, initial=0)
    duration_minutes = whole("Duration (min)", 0, 720, initial=30)
    measures = forms.ModelMultipleChoiceField(
        queryset=OutcomeMeasure.objects.order_by("name"), to_field_name="code", required=False, widget=forms.CheckboxSelectMultiple
    )
    product = forms.CharField(max_length=300, required=False, validators=[single_line])
    adjunct = forms.ChoiceField(choices=Adjunct.choices, initial=Adjunct.NONE)
    primary_endpoint = forms.BooleanField(required=False, label="Primary end point")
    follow_up = forms.BooleanField(required=False, label="Follow-up (kept when treatment stops)")
    # SPEC §19: rules and arms, checked by protocols.services on save.
    arm = forms.CharField(
        max_length=40, required=False, label="Arm",
        help_text="Blank: the main path. A name (e.g. maintenance): a step of that arm, scheduled only by a switch_to.",
    )
    decision = forms.JSONField(
        required=False, label="Decision rules",
        widget=forms.Textarea(attrs={"rows": 4, "class": "code", "spellcheck": "false"}),
        help_text='Blank: no decision. {"rules": [{"if": "responder: pasi_75" or "pasi percent_change <= -50", '
        '"then": "continue" | "switch_to: <arm>" | "stop_treatments" | "review", "reason": "..."}], '
        '"default": {"then": "review"}, "at": "last" or "every"}; the first rule that holds wins.',
        error_messages={"invalid": "Write the rules as JSON (see the example below the box)."},
    )

    def as_step(self) -> dict:
        """The step as protocols.services takes it (measure codes)."""
        data = dict(self.cleaned_data)
        data.pop("DELETE", None)
        data["measures"] = [m.code for m in data["measures"]]
        return data


StepFormSet = forms.formset_factory(StepForm, extra=1, can_delete=True, min_num=1, validate_min=True)
