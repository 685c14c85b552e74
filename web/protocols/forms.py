"""Forms of the protocol editor (issue 13). They parse and label the input;
the rules live in protocols.services (clean_steps), whose errors are shown
above the steps."""

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from core.text import multi_line, single_line
from protocols import schedule
from protocols.models import Adjunct, Anchor, Delivery, Indication, OutcomeMeasure, StepKind


def whole(label: str, low: int, high: int, **kwargs) -> forms.IntegerField:
    enter = format_lazy(_("Enter a whole number from {low} to {high}."), low=low, high=high)
    return forms.IntegerField(
        label=label, min_value=low, max_value=high,
        error_messages={
            "invalid": enter, "required": enter,
            "min_value": format_lazy(_("Too low: enter a whole number from {low} to {high}."), low=low, high=high),
            "max_value": format_lazy(_("Too high: enter a whole number from {low} to {high}."), low=low, high=high),
        },
        **kwargs,
    )


class ProtocolForm(forms.Form):
    name = forms.CharField(validators=[single_line], label=_("Name"), max_length=200, error_messages={"required": _("Give the protocol a name.")})
    indication = forms.ChoiceField(label=_("Indication"), choices=Indication.choices)
    delivery = forms.ChoiceField(label=_("Delivery"), choices=Delivery.choices)
    product = forms.CharField(validators=[single_line], label=_("Product"), max_length=300, required=False,
                              help_text=_("The product the course uses."))
    description = forms.CharField(validators=[multi_line], label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    active = forms.BooleanField(required=False, initial=True, label=_("Open for new enrolments"))


class StepForm(forms.Form):
    name = forms.CharField(validators=[single_line], max_length=200, label=_("Step"), error_messages={"required": _("Give the step a name.")})
    kind = forms.ChoiceField(label=_("Kind"), choices=StepKind.choices, initial=StepKind.TREATMENT)
    repeat = whole(_("Times"), 1, schedule.MAX_REPEAT, initial=1)
    interval_days = whole(_("Interval (days)"), 0, schedule.MAX_INTERVAL_DAYS, initial=0)
    anchor = forms.ChoiceField(label=_("Counted"), choices=Anchor.choices, initial=Anchor.PREVIOUS)
    window_before_days = whole(_("Window before (days)"), 0, schedule.MAX_WINDOW_DAYS, initial=0)
    window_after_days = whole(_("Window after (days)"), 0, schedule.MAX_WINDOW_DAYS, initial=0)
    duration_minutes = whole(_("Duration (min)"), 0, 720, initial=30)
    measures = forms.ModelMultipleChoiceField(
        queryset=OutcomeMeasure.objects.order_by("name"), to_field_name="code", required=False, widget=forms.CheckboxSelectMultiple
    )
    product = forms.CharField(validators=[single_line], label=_("Product"), max_length=300, required=False)
    adjunct = forms.ChoiceField(label=_("Adjunct"), choices=Adjunct.choices, initial=Adjunct.NONE)
    primary_endpoint = forms.BooleanField(required=False, label=_("Primary end point"))
    follow_up = forms.BooleanField(required=False, label=_("Follow-up (kept when treatment stops)"))
    # SPEC §19: rules and arms, checked by protocols.services on save.
    arm = forms.CharField(
        max_length=40, required=False, label=_("Arm"),
        help_text=_("Blank: the main path. A name (e.g. maintenance): a step of that arm, scheduled only by a "
                    "switch_to."),
    )
    decision = forms.JSONField(
        required=False, label=_("Decision rules"),
        widget=forms.Textarea(attrs={"rows": 4, "class": "code", "spellcheck": "false"}),
        help_text=_('Blank: no decision. {"rules": [{"if": "responder: pasi_75" or "pasi percent_change <= -50", '
                    '"then": "continue" | "switch_to: <arm>" | "stop_treatments" | "review", "reason": "..."}], '
                    '"default": {"then": "review"}, "at": "last" or "every"}; the first rule that holds wins.'),
        error_messages={"invalid": _("Write the rules as JSON (see the example below the box).")},
    )

    def as_step(self) -> dict:
        """The step as protocols.services takes it (measure codes)."""
        data = dict(self.cleaned_data)
        data.pop("DELETE", None)
        data["measures"] = [m.code for m in data["measures"]]
        return data


StepFormSet = forms.formset_factory(StepForm, extra=1, can_delete=True, min_num=1, validate_min=True)
