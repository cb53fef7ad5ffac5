from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from . import services
from .models import AuditEvent, ReferenceRange


class ReferenceRangeForm(forms.ModelForm):
    # Not a model field: the reason goes to the audit trail with the old and new values.
    reason = forms.CharField(
        label=_("Reason for the change"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Kept in the audit trail with the values before and after."),
    )

    class Meta:
        model = ReferenceRange
        fields = ["lab", "analyte", "sex", "unit", "lower", "upper"]


@admin.register(ReferenceRange)
class ReferenceRangeAdmin(admin.ModelAdmin):
    """ULNs decide screening verdicts: every save and delete here goes through the audited
    services, with a reason."""

    form = ReferenceRangeForm
    list_display = ("lab", "analyte", "sex", "lower", "upper", "unit")
    list_filter = ("lab", "analyte")

    def get_actions(self, request):
        # The bulk "delete selected" action would delete without a reason per row.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request, obj, form, change):
        services.reference_range_save(
            actor=request.user, reference_range=obj, reason=form.cleaned_data["reason"]
        )

    def delete_view(self, request, object_id, extra_context=None):
        if request.method == "POST" and not request.POST.get("reason", "").strip():
            messages.error(
                request,
                _(
                    "Give a reason for deleting this reference range; it is kept in the audit trail."
                ),
            )
            return HttpResponseRedirect(request.get_full_path())
        return super().delete_view(request, object_id, extra_context)

    def delete_model(self, request, obj):
        services.reference_range_delete(
            actor=request.user, reference_range=obj, reason=request.POST["reason"].strip()
        )

    def delete_queryset(self, request, queryset):
        raise NotImplementedError("reference ranges are deleted one at a time, with a reason")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit trail is never edited or deleted, here or anywhere."""

    list_display = ("seq", "at", "actor_username", "action", "object_type", "object_id")
    list_filter = ("action",)
    search_fields = ("actor_username", "object_id")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
