from decimal import Decimal, DecimalException

from django import forms
from django.contrib.auth.forms import PasswordChangeForm as DjangoPasswordChangeForm
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from . import numbers, reauth, text
from .clinical_time import EARLIEST_YEAR, LATEST_YEAR
from .labs import ANALYTE_CHOICES, ANALYTES, UNIT_CHOICES, implausible_message
from .models import MeasurementKind, Patient, Ward

BOUNDED_NUMBER_MESSAGE = _(
    "Enter a number with at most 30 significant digits and an exponent within ±20."
)


class BoundedDecimalField(forms.DecimalField):
    """A DecimalField that refuses a number too long or beyond an exponent of ±20 before
    anything compares or formats it (core.numbers): "1e-999999999" is a field error, not
    a billion-digit string."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if self.localize:
            value = formats.sanitize_separators(value)
        try:
            return numbers.parse_decimal(str(value))
        except numbers.UnboundedNumber:
            raise forms.ValidationError(BOUNDED_NUMBER_MESSAGE, code="unbounded")
        except DecimalException:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


def validate_single_line(value):
    """A name, a number, a label: one line, no control character (core.text)."""
    char = text.control_character(value or "", single_line=True)
    if char is not None:
        raise forms.ValidationError(
            _("Remove the control character or line break (%(char)s): this is one line of text."),
            code="control_character",
            params={"char": text.describe(char)},
        )


def single_line(field):
    """The form field, refusing control characters and line breaks."""
    field.validators.append(validate_single_line)
    return field


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


TIME_RANGE_MESSAGE = _(
    "Enter a date between %(earliest)s and %(latest)s: this one (%(value)s) is not plausible."
)
TIME_AHEAD_MESSAGE = _("This is more than %(days)s days ahead (%(value)s): check the year.")


class _Bounded:
    """Issue 16: a date or time typed into any form lies between 1900 and 2199
    (core.clinical_time) and, with ``max_days_ahead``, no further ahead than that; else a
    field error on that field, the typed text kept. Checked on the value as typed, before
    anything converts it between zones (year 1 or 9999 overflows there)."""

    latest_year = LATEST_YEAR

    def __init__(self, *args, max_days_ahead=None, **kwargs):
        self.max_days_ahead = max_days_ahead
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        try:
            parsed = super().to_python(value)
        except OverflowError:  # a zone conversion at the edge of Python's range
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        if parsed is None:
            return None
        if not EARLIEST_YEAR <= parsed.year <= self.latest_year:
            raise forms.ValidationError(
                TIME_RANGE_MESSAGE,
                code="implausible",
                params={
                    "earliest": f"{EARLIEST_YEAR}-01-01",
                    "latest": f"{self.latest_year}-12-31",
                    "value": parsed.isoformat()[:16],
                },
            )
        if self.max_days_ahead is not None:
            today = timezone.localdate()
            day = timezone.localtime(parsed).date() if hasattr(parsed, "hour") else parsed
            if (day - today).days > self.max_days_ahead:
                raise forms.ValidationError(
                    TIME_AHEAD_MESSAGE,
                    code="too_far_ahead",
                    params={"days": self.max_days_ahead, "value": day.isoformat()},
                )
        return parsed


class BoundedDateField(_Bounded, forms.DateField):
    """A DateField between 1900 and 2199 (issue 16)."""


class BirthDateField(BoundedDateField):
    """From 1900; a later date is refused as "in the future" by the patient form."""

    latest_year = 9999


class BoundedDateTimeField(_Bounded, forms.DateTimeField):
    """A DateTimeField between 1900 and 2199 in the ward's zone (issue 16)."""


def not_in_future(value):
    if value and value > timezone.now() + timezone.timedelta(minutes=5):
        raise forms.ValidationError(_("This time is in the future."))
    return value


# The answer when a hospital number is held by another ward's patient: the same whatever
# that patient is, and nothing that says a record exists elsewhere or where.
NUMBER_NOT_REGISTRABLE = _(
    "This hospital number cannot be registered on your ward. Check the number; if it is "
    "right, contact the medical records office."
)


class PatientForm(forms.ModelForm):
    class Meta:
        model = Patient
        fields = ["hospital_number", "name", "sex", "date_of_birth", "ward"]
        widgets = {"date_of_birth": DateInput()}
        field_classes = {"date_of_birth": BirthDateField}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Names reach e-mail subjects, PDFs and exports: one line, no control character.
        for name in ("hospital_number", "name"):
            single_line(self.fields[name])
        # Staff create patients on their own ward only.
        self.fields["ward"].queryset = Ward.objects.filter(pk=user.ward_id)
        self.fields["ward"].initial = user.ward_id
        self.user_ward_id = user.ward_id
        # The patient of another ward who holds the hospital number typed, if any: the view
        # audits the attempt; the form says nothing about that patient.
        self.other_ward_holder = None

    def clean_date_of_birth(self):
        dob = self.cleaned_data["date_of_birth"]
        today = timezone.localdate()
        if dob > today:
            raise forms.ValidationError(_("The date of birth is in the future."))
        if dob.year < today.year - 120:
            raise forms.ValidationError(_("The date of birth is more than 120 years ago."))
        return dob

    def clean_hospital_number(self):
        number = self.cleaned_data["hospital_number"].strip().upper()
        holder = (
            Patient.objects.filter(hospital_number=number)
            .exclude(pk=self.instance.pk)
            .values("pk", "ward_id")
            .first()
        )
        if holder is None:
            return number
        if holder["ward_id"] == self.user_ward_id:
            raise forms.ValidationError(
                _("A patient with this hospital number is already on your ward."), code="unique"
            )
        # Another ward's patient: never say so (issue 17), nor whose number it is.
        self.other_ward_holder = holder["pk"]
        raise forms.ValidationError(NUMBER_NOT_REGISTRABLE, code="not_registrable")

    def validate_unique(self):
        # Django's own check would answer "Patient with this Hospital number already exists"
        # for any ward's patient; clean_hospital_number checks that field instead.
        exclude = {f.name for f in Patient._meta.fields} - set(self._meta.fields)
        exclude |= set(self.errors) | {"hospital_number"}
        try:
            self.instance.validate_unique(exclude=exclude)
        except forms.ValidationError as error:
            for field, messages in error.message_dict.items():
                for message in messages:
                    self.add_error(None if field == "__all__" else field, message)


class MeasurementForm(forms.Form):
    kind = forms.ChoiceField(label=_("Measurement"), choices=MeasurementKind.choices)
    value = BoundedDecimalField(label=_("Value"), max_digits=6, decimal_places=2)
    measured_at = BoundedDateTimeField(label=_("Measured at"), widget=DateTimeInput())

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
    value = BoundedDecimalField(label=_("Value"), max_digits=12, decimal_places=4, min_value=0)
    unit = forms.ChoiceField(label=_("Unit"), choices=[(u, u) for u in UNIT_CHOICES])
    lab = single_line(
        forms.CharField(label=_("Laboratory"), max_length=60, initial="Hospital central lab")
    )
    observed_at = BoundedDateTimeField(label=_("Observed at"), widget=DateTimeInput())

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
        elif analyte and unit and data.get("value") is not None:
            # C-UNIT-1: a value outside its analyte's physiological range (often a unit
            # mix-up: Hb 105 "g/dL") is refused, naming the unit it would fit.
            message = implausible_message(analyte, data["value"], unit)
            if message:
                self.add_error("value", message)
        return data


class AuditFilterForm(forms.Form):
    user = forms.CharField(label=_("User"), required=False, max_length=150)
    patient = forms.CharField(label=_("Patient (hospital number)"), required=False, max_length=30)
    action = forms.CharField(label=_("Action"), required=False, max_length=40)
    object_type = forms.CharField(label=_("Object type"), required=False, max_length=100)
    object_id = forms.CharField(label=_("Object ID"), required=False, max_length=64)
    date_from = BoundedDateField(label=_("From"), required=False, widget=DateInput())
    date_to = BoundedDateField(label=_("To"), required=False, widget=DateInput())

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return data


class PasswordChangeForm(DjangoPasswordChangeForm):
    """Django's form, with the old password checked by core.reauth: audited and counted
    towards the re-authentication lockout like a signature's password."""

    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        try:
            reauth.verify_password(
                self.user, old_password, obj=self.user, action="password_change", signing=False
            )
        except reauth.Refused as refused:
            raise forms.ValidationError(refused.message, code="password_incorrect") from None
        return old_password
