from django import forms
from django.utils.translation import gettext_lazy as _

from clinics.models import Clinic, User
from clinics.selectors import practitioners_of
from core.text import multi_line, single_line
from protocols.models import Protocol
from web.sessions.forms import PractitionerChoice, ProtocolChoice, date_input


class EnrolForm(forms.Form):
    protocol = ProtocolChoice(
        queryset=Protocol.objects.none(), label=_("Protocol"), empty_label=_("Choose a protocol")
    )
    start_date = forms.DateField(label=_("Start date"), widget=date_input())
    clinician = PractitionerChoice(
        queryset=User.objects.none(), label=_("Treating clinician"), required=False, empty_label=_("Not assigned yet")
    )
    area = forms.CharField(
        validators=[single_line],
        label=_("Treatment area"), max_length=200, required=False, help_text=_("e.g. vertex scalp")
    )
    allow_concurrent = forms.BooleanField(
        label=_("Run alongside the patient's active course of this protocol"),
        required=False,
        help_text=_("Only when a second, parallel course is intended (e.g. a different treatment area)."),
    )

    def __init__(self, *args, clinic: Clinic, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["protocol"].queryset = Protocol.objects.filter(clinic=clinic, is_current=True, active=True)
        self.fields["clinician"].queryset = practitioners_of(clinic)


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        validators=[multi_line],
        label=_("Why is the patient withdrawn?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say why the patient is withdrawn.")},
    )
