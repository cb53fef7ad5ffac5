"""Issue 16: the system administrator's page of implausible clinical times
(core.time_corrections): list them, correct one with a reason."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from . import text, time_corrections
from .access import require_role
from .forms import BoundedDateField, BoundedDateTimeField
from .models import Role


class TimeCorrectionForm(forms.Form):
    key = forms.ChoiceField(
        choices=[(k, k) for k in time_corrections._KEYS], widget=forms.HiddenInput
    )
    pk = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    value = forms.CharField(
        label=gettext_lazy("Corrected value (ward time, YYYY-MM-DD or YYYY-MM-DD HH:MM)"),
        max_length=40,
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason for the change"), max_length=text.REASON_MAX_LENGTH
    )

    def clean(self):
        data = super().clean()
        key, raw = data.get("key"), data.get("value")
        if key and raw:
            is_date = key.endswith("date_of_birth")
            field = BoundedDateField() if is_date else BoundedDateTimeField()
            try:
                data["value"] = field.clean(raw.replace("T", " ") if not is_date else raw)
            except forms.ValidationError as error:
                self.add_error("value", error)
        return data


@login_required
@require_role(Role.SYSADMIN)
@require_http_methods(["GET", "POST"])
def implausible_times(request):
    form = TimeCorrectionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                time_corrections.clinical_time_correct(
                    actor=request.user,
                    key=data["key"],
                    pk=data["pk"],
                    value=data["value"],
                    reason=data["reason"],
                )
            except time_corrections.CorrectionRefused as refused:
                for name, errors in refused.field_errors.items():
                    for error in errors:
                        form.add_error(name if name in form.fields else None, error)
            else:
                messages.success(request, _("Corrected; the audit trail keeps both values."))
                return redirect("implausible_times")
    context = {"rows": time_corrections.implausible_times(), "form": form}
    return render(request, "core/implausible_times.html", context, status=status)
