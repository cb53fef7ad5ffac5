from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import BoundedDateField
from core.models import Ward

from .models import INDICATION_CHOICES, Outcome, Status


class StartForm(forms.Form):
    indication = forms.ChoiceField(label=_("Indication"), choices=INDICATION_CHOICES)


class SignForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        strip=False,
    )
    content_hash = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)


class AmendForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the amendment"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_("Kept with the new version and in the audit trail."),
    )


class LogFilterForm(forms.Form):
    indication = forms.ChoiceField(
        label=_("Indication"), required=False, choices=[("", _("All"))] + INDICATION_CHOICES
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"), required=False, choices=[("", _("All"))] + list(Outcome.choices)
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), (Status.DRAFT, _("Draft")), (Status.SIGNED, _("Signed"))],
    )
    date_from = BoundedDateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = BoundedDateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    ward = forms.ModelChoiceField(
        label=_("Ward"), required=False, queryset=Ward.objects.none(), empty_label=_("All")
    )

    def __init__(self, *args, wards=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ward"].queryset = wards if wards is not None else Ward.objects.none()

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return data
