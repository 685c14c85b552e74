from django import forms

from clinics.models import Clinic, User
from clinics.selectors import practitioners_of
from core.text import multi_line, single_line
from protocols.models import Protocol
from web.sessions.forms import PractitionerChoice, ProtocolChoice, date_input


class EnrolForm(forms.Form):
    protocol = ProtocolChoice(queryset=Protocol.objects.none(), label="Protocol", empty_label="Choose a protocol")
    start_date = forms.DateField(label="Start date", widget=date_input())
    clinician = PractitionerChoice(
        queryset=User.objects.none(), label="Treating clinician", required=False, empty_label="Not assigned yet"
    )
    area = forms.CharField(
        label="Treatment area", max_length=200, required=False, help_text="e.g. vertex scalp", validators=[single_line]
    )
    allow_concurrent = forms.BooleanField(
        label="Run alongside the patient's active course of this protocol",
        required=False,
        help_text="Only when a second, parallel course is intended (e.g. a different treatment area).",
    )

    def __init__(self, *args, clinic: Clinic, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["protocol"].queryset = Protocol.objects.filter(clinic=clinic, is_current=True, active=True)
        self.fields["clinician"].queryset = practitioners_of(clinic)


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label="Why is the patient withdrawn?",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say why the patient is withdrawn."},
        validators=[multi_line],
    )
