from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .labs import ANALYTE_CHOICES, ANALYTES, UNIT_CHOICES
from .models import MeasurementKind, Patient, Ward

MEASUREMENT_LIMITS = {
    MeasurementKind.WEIGHT_KG: (Decimal("1"), Decimal("400")),
    MeasurementKind.HEIGHT_CM: (Decimal("30"), Decimal("250")),
}


class DateInput(forms.DateInput):
    input_type = "date"


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def format_value(self, value):
        if hasattr(value, "strftime"):
            value = timezone.localtime(value) if timezone.is_aware(value) else value
            return value.strftime("%Y-%m-%dT%H:%M")
        return value


def not_in_future(value):
    if value and value > timezone.now() + timezone.timedelta(minutes=5):
        raise forms.ValidationError(_("This time is in the future."))
    return value


class PatientForm(forms.ModelForm):
    class Meta:
        model = Patient
        fields = ["hospital_number", "name", "sex", "date_of_birth", "ward"]
        widgets = {"date_of_birth": DateInput()}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Staff create patients on their own ward only.
        self.fields["ward"].queryset = Ward.objects.filter(pk=user.ward_id)
        self.fields["ward"].initial = user.ward_id

    def clean_date_of_birth(self):
        dob = self.cleaned_data["date_of_birth"]
        today = timezone.localdate()
        if dob > today:
            raise forms.ValidationError(_("The date of birth is in the future."))
        if dob.year < today.year - 120:
            raise forms.ValidationError(_("The date of birth is more than 120 years ago."))
        return dob

    def clean_hospital_number(self):
        return self.cleaned_data["hospital_number"].strip().upper()


class MeasurementForm(forms.Form):
    kind = forms.ChoiceField(label=_("Measurement"), choices=MeasurementKind.choices)
    value = forms.DecimalField(label=_("Value"), max_digits=6, decimal_places=2)
    measured_at = forms.DateTimeField(label=_("Measured at"), widget=DateTimeInput())

    def clean_measured_at(self):
        return not_in_future(self.cleaned_data["measured_at"])

    def clean(self):
        data = super().clean()
        kind, value = data.get("kind"), data.get("value")
        if kind and value is not None:
            low, high = MEASUREMENT_LIMITS[kind]
            if not (low <= value <= high):
                self.add_error(
                    "value",
                    _("%(kind)s must be between %(low)s and %(high)s.")
                    % {"kind": MeasurementKind(kind).label, "low": low, "high": high},
                )
        return data


class LabResultForm(forms.Form):
    analyte = forms.ChoiceField(label=_("Analyte"), choices=ANALYTE_CHOICES)
    value = forms.DecimalField(label=_("Value"), max_digits=12, decimal_places=4, min_value=0)
    unit = forms.ChoiceField(label=_("Unit"), choices=[(u, u) for u in UNIT_CHOICES])
    lab = forms.CharField(label=_("Laboratory"), max_length=60, initial="Hospital central lab")
    observed_at = forms.DateTimeField(label=_("Observed at"), widget=DateTimeInput())

    def clean_observed_at(self):
        return not_in_future(self.cleaned_data["observed_at"])

    def clean(self):
        data = super().clean()
        analyte, unit = data.get("analyte"), data.get("unit")
        if analyte and unit and unit not in ANALYTES[analyte][1]:
            self.add_error(
                "unit",
                _("%(unit)s is not a unit for %(analyte)s; use one of: %(units)s.")
                % {
                    "unit": unit,
                    "analyte": ANALYTES[analyte][0],
                    "units": ", ".join(ANALYTES[analyte][1]),
                },
            )
        return data


class AuditFilterForm(forms.Form):
    user = forms.CharField(label=_("User"), required=False)
    patient = forms.CharField(label=_("Patient (hospital number)"), required=False)
    action = forms.CharField(label=_("Action"), required=False)
    object_type = forms.CharField(label=_("Object type"), required=False)
    object_id = forms.CharField(label=_("Object ID"), required=False, max_length=64)
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput())
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput())

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return data
