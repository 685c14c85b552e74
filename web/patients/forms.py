from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.text import single_line
from patients.models import ConsentKind, Patient
from patients.services import PATIENT_FIELDS

SKIN_TYPES = [
    ("", _("Not recorded")), *((str(n), label) for n, label in enumerate(("I", "II", "III", "IV", "V", "VI"), 1))
]


class PatientForm(forms.ModelForm):
    skin_type = forms.TypedChoiceField(
        label=_("Fitzpatrick skin type"), choices=SKIN_TYPES, coerce=int, empty_value=None, required=False
    )

    class Meta:
        model = Patient
        fields = list(PATIENT_FIELDS)
        labels = {
            "sex": _("Sex"),
            "record_number": _("Medical record number"),
            "first_name": _("First name"),
            "last_name": _("Last name"),
            "date_of_birth": _("Date of birth"),
            "email": _("Email"),
            "phone": _("Phone"),
            "reminder_consent": _("Consents to email reminders"),
        }
        widgets = {"date_of_birth": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
        help_texts = {"language": _("Emails and the patient's link pages are in this language.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A new patient: the clinic's language, unless staff choose another (SPEC §20).
        self.fields["language"].required = False
        if not self.instance.language:
            self.initial["language"] = self.instance.clinic.language

    def clean_language(self):
        return self.cleaned_data["language"] or self.instance.language or self.instance.clinic.language


class PatientSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search patients"),
        required=False,
        max_length=100,
        help_text=_(
            "Name (“Hartmann, Petra” or “petra hartmann”), record number, phone, email or birth date (17.05.1980)."
        ),
    )


class ConsentForm(forms.Form):
    """One consent statement, given or withdrawn, as the API's POST /consents/ takes it."""

    kind = forms.ChoiceField(label=_("Consent to"), choices=ConsentKind.choices)
    given = forms.TypedChoiceField(
        label=_("Statement"), choices=[("yes", pgettext_lazy("consent", "Given")), ("no", pgettext_lazy("consent", "Withdrawn"))], coerce=lambda v: v == "yes",
        widget=forms.RadioSelect, error_messages={"required": _("Say whether it is given or withdrawn.")},
    )
    on = forms.DateField(label=_("On"), required=False,
                         widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                         help_text=_("Default today."), error_messages={"invalid": _("Enter a date such as 2026-12-07.")})
    note = forms.CharField(validators=[single_line], label=_("Note (optional)"), max_length=500, required=False)
