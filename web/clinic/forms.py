"""Forms of the manager's settings page (issue 13). They parse and label the
input; the rules live in sessions.clinic and clinics.services."""

from django import forms
from django.contrib.auth.password_validation import password_validators_help_texts
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from clinics.models import MAX_REMINDER_OFFSET_HOURS, Clinic, Role, TwoFactor, iana_zone_names
from core.languages import Language
from core.text import single_line

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DAY_NAMES = dict(zip(WEEKDAYS, (
    gettext_lazy("Monday"), gettext_lazy("Tuesday"), gettext_lazy("Wednesday"), gettext_lazy("Thursday"),
    gettext_lazy("Friday"), gettext_lazy("Saturday"), gettext_lazy("Sunday"),
), strict=True))
INTERVALS = 2  # a morning and an afternoon around a lunch break


def time_input():
    return forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class ClinicSettingsForm(forms.Form):
    name = forms.CharField(validators=[single_line], label=gettext_lazy("Name"), max_length=200,
                           error_messages={"required": gettext_lazy("Give the clinic's name.")})
    address = forms.CharField(validators=[single_line], label=gettext_lazy("Address"), max_length=300, required=False)
    phone = forms.CharField(validators=[single_line], label=gettext_lazy("Phone"), max_length=40, required=False)
    timezone = forms.ChoiceField(label=gettext_lazy("Time zone"), choices=())
    slot_minutes = forms.IntegerField(
        label=gettext_lazy("Slot length (minutes)"), min_value=5, max_value=240,
        error_messages={"invalid": gettext_lazy("Enter whole minutes between 5 and 240."),
                        "min_value": gettext_lazy("Too short: slots are at least 5 minutes."),
                        "max_value": gettext_lazy("Too long: slots are at most 240 minutes.")},
    )
    reminder_offsets = forms.CharField(
        label=gettext_lazy("Reminders (hours before the visit)"), required=False,
        help_text=gettext_lazy("Hours, separated by commas, e.g. 72, 24. Leave empty for no reminders."),
    )
    questionnaire_lead_hours = forms.IntegerField(
        label=gettext_lazy("Questionnaire (hours before the visit)"), min_value=1, max_value=24 * 14, required=False,
        help_text=gettext_lazy("The patient questionnaire is emailed this many hours before a visit with patient-reported "
                    "measures. Leave empty to keep it as it is."),
    )
    holiday_region = forms.CharField(
        label=gettext_lazy("Public holidays of"), max_length=12, required=False,
        help_text=gettext_lazy("A country, or country and region, e.g. DE-BE for Berlin: its holidays of the next "
                               "two years become closures. Leave empty for none."),
    )
    two_factor = forms.ChoiceField(
        label=gettext_lazy("Second factor required of"), choices=TwoFactor.choices, required=False,
        help_text=gettext_lazy("Whose sign-in needs a code from an authenticator app (pages, admin and API)."),
    )

    language = forms.ChoiceField(
        label=gettext_lazy("Patients' language"), choices=Language.choices, required=False,
        help_text=gettext_lazy("New patients get their emails and pages in this language; each patient's can be changed."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = [(z, z) for z in sorted(iana_zone_names()) if "/" in z or z == "UTC"]
        for weekday, day in enumerate(WEEKDAYS):
            for i in range(INTERVALS):
                for edge, label in self._interval_labels(i).items():
                    self.fields[f"d{weekday}_{i}_{edge}"] = forms.TimeField(
                        label=label.format(day=DAY_NAMES[day]),
                        required=False, widget=time_input(),
                        error_messages={"invalid": _("Enter a time such as 09:00.")},
                    )

    @staticmethod
    def _interval_labels(i: int) -> dict:
        if i == 0:
            return {"opens": _("{day} first interval opens"), "closes": _("{day} first interval closes")}
        return {"opens": _("{day} second interval opens"), "closes": _("{day} second interval closes")}

    @classmethod
    def initial_for(cls, clinic: Clinic) -> dict:
        initial = {
            "name": clinic.name, "address": clinic.address, "phone": clinic.phone,
            "timezone": clinic.timezone, "slot_minutes": clinic.slot_minutes,
            "reminder_offsets": ", ".join(str(h) for h in clinic.reminder_offsets_hours or []),
            "holiday_region": clinic.holiday_region, "two_factor": clinic.two_factor,
            "language": clinic.language,
            "questionnaire_lead_hours": clinic.questionnaire_lead_hours,
        }
        seen: dict[int, int] = {}
        for interval in clinic.opening_hours.all():
            i = seen.get(interval.weekday, 0)
            if i < INTERVALS:
                initial[f"d{interval.weekday}_{i}_opens"] = interval.opens
                initial[f"d{interval.weekday}_{i}_closes"] = interval.closes
            seen[interval.weekday] = i + 1
        return initial

    def grid(self):
        """The weekday grid for the template: one row per weekday, its intervals' bound fields."""
        return [
            {"day": day, "label": DAY_NAMES[day], "intervals": [(self[f"d{w}_{i}_opens"], self[f"d{w}_{i}_closes"]) for i in range(INTERVALS)]}
            for w, day in enumerate(WEEKDAYS)
        ]

    def clean_reminder_offsets(self) -> list[int]:
        raw = self.cleaned_data["reminder_offsets"].replace(";", ",")
        try:
            hours = [int(part) for part in raw.split(",") if part.strip()]
        except ValueError:
            raise ValidationError(_("Enter whole hours separated by commas, e.g. 72, 24.")) from None
        if any(not 1 <= h <= MAX_REMINDER_OFFSET_HOURS for h in hours):
            raise ValidationError(
                _("Each reminder is 1 to {hours} hours before the visit.").format(hours=MAX_REMINDER_OFFSET_HOURS)
            )
        if len(set(hours)) != len(hours):
            raise ValidationError(_("Each number of hours once, please."))
        return sorted(hours, reverse=True)

    def clean(self):
        data = super().clean()
        hours = []
        for weekday, day in enumerate(WEEKDAYS):
            for i in range(INTERVALS):
                opens, closes = data.get(f"d{weekday}_{i}_opens"), data.get(f"d{weekday}_{i}_closes")
                if opens is None and closes is None:
                    continue
                if opens is None or closes is None:
                    self.add_error(
                        f"d{weekday}_{i}_opens",
                        _("{day}: give both the opening and the closing time.").format(day=DAY_NAMES[day]),
                    )
                elif opens >= closes:
                    self.add_error(
                        f"d{weekday}_{i}_opens",
                        _("{day}: opens {opens} must be before closes {closes}.").format(
                            day=DAY_NAMES[day], opens=f"{opens:%H:%M}", closes=f"{closes:%H:%M}"
                        ),
                    )
                else:
                    hours.append((weekday, opens, closes))
        data["opening_hours"] = hours
        return data

    def settings_data(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"], "address": data["address"], "phone": data["phone"],
            "timezone": data["timezone"], "slot_minutes": data["slot_minutes"],
            "reminder_offsets_hours": data["reminder_offsets"],
            "holiday_region": data["holiday_region"].strip().upper(),
            # Left out of the post: unchanged.
            **({"two_factor": data["two_factor"]} if data.get("two_factor") else {}),
            **({"language": data["language"]} if data.get("language") else {}),
            **({"questionnaire_lead_hours": data["questionnaire_lead_hours"]}
               if data.get("questionnaire_lead_hours") else {}),
        }


# The page holds several forms: each has its own element ids (the posted names stay plain).


class ClosureForm(forms.Form):
    AUTO_ID = "closure_%s"

    date = forms.DateField(
        label=gettext_lazy("Close the clinic on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": gettext_lazy("Choose the day to close."),
                        "invalid": gettext_lazy("Enter a date such as 2026-12-24.")},
    )
    reason = forms.CharField(validators=[single_line], label=gettext_lazy("Why (optional)"), max_length=200, required=False)


class AbsenceForm(forms.Form):
    AUTO_ID = "absence_%s"

    practitioner = forms.ModelChoiceField(queryset=None, label=gettext_lazy("Who"),
                                          empty_label=gettext_lazy("Choose who"),
                                          error_messages={"required": gettext_lazy("Choose who is away.")})
    first_day = forms.DateField(label=pgettext_lazy("first day", "From"),
                                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                                error_messages={"required": gettext_lazy("Give the first day."),
                                                "invalid": gettext_lazy("Enter a date such as 2026-12-24.")})
    last_day = forms.DateField(label=pgettext_lazy("last day", "To"),
                               widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                               error_messages={"required": gettext_lazy("Give the last day."),
                                               "invalid": gettext_lazy("Enter a date such as 2026-12-24.")})
    reason = forms.CharField(validators=[single_line], label=gettext_lazy("Why (optional)"), max_length=200, required=False)

    def __init__(self, *args, clinic: Clinic, **kwargs):
        from clinics.selectors import practitioners_of

        super().__init__(*args, **kwargs)
        self.fields["practitioner"].queryset = practitioners_of(clinic)
        self.fields["practitioner"].label_from_instance = lambda user: user.display_name


class RoomForm(forms.Form):
    AUTO_ID = "room_%s"

    name = forms.CharField(validators=[single_line], label=gettext_lazy("Room name"), max_length=100,
                           error_messages={"required": gettext_lazy("Give the room a name.")})


class StaffForm(forms.Form):
    AUTO_ID = "staff_%s"

    username = forms.CharField(label=gettext_lazy("Username"), max_length=150,
                               error_messages={"required": gettext_lazy("Give a username to log in with.")})
    first_name = forms.CharField(validators=[single_line], label=gettext_lazy("First name"), max_length=150, required=False)
    last_name = forms.CharField(validators=[single_line], label=gettext_lazy("Last name"), max_length=150, required=False)
    email = forms.EmailField(validators=[single_line], label=gettext_lazy("Email"), required=False,
                             error_messages={"invalid": gettext_lazy("Enter an email address such as anna@example.com.")})
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=Role.choices)
    password = forms.CharField(label=gettext_lazy("Password"), widget=forms.PasswordInput,
                               error_messages={"required": gettext_lazy("Give a first password.")})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The site's own password rules (settings.AUTH_PASSWORD_VALIDATORS), said before they refuse.
        self.fields["password"].help_text = " ".join(password_validators_help_texts())


class WordingForm(forms.Form):
    """The licensed DLQI wording in one language (SPEC §17): the clinic's
    licence text, entered by the manager, used by the patient questionnaire."""

    language = forms.ChoiceField(label=gettext_lazy("Language"), choices=())
    instructions = forms.CharField(
        label=gettext_lazy("Instructions above the questions"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, languages, answer_keys, questions: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = languages
        self.answer_keys = answer_keys
        for n in range(1, questions + 1):
            self.fields[f"question_{n}"] = forms.CharField(
                label=_("Question %(number)s") % {"number": n}, max_length=1000,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
        labels = {
            "very_much": _("Answer “very much” (3)"), "a_lot": _("Answer “a lot” (2)"),
            "a_little": _("Answer “a little” (1)"), "not_at_all": _("Answer “not at all” (0)"),
            "not_relevant": _("Answer “not relevant”"), "yes": _("Question 7: “yes”"), "no": _("Question 7: “no”"),
        }
        for key in answer_keys:
            self.fields[f"answer_{key}"] = forms.CharField(label=labels.get(key, key), max_length=200)

    def question_fields(self):
        return [self[name] for name in self.fields if name.startswith("question_")]

    def answer_fields(self):
        return [self[name] for name in self.fields if name.startswith("answer_")]

    def wording(self) -> dict:
        data = self.cleaned_data
        return {
            "instructions": data["instructions"],
            "questions": [data[name] for name in self.fields if name.startswith("question_")],
            "answers": {key: data[f"answer_{key}"] for key in self.answer_keys},
        }
