"""The system administrator's Django admin: users, wards, reference ranges and the
reference-range changes waiting for a second administrator.

Every save goes through ``core.administration`` (audited with the reason typed in the
form). A reference range is never saved from its form: saving, adding or deleting one
proposes the change, which takes effect when another system administrator approves it
on the change's page. The auditor sees these pages read-only (view permissions only).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import administration, text
from .administration import AdminRefused
from .labs import ANALYTES
from .models import ReferenceRange, ReferenceRangeChange, Role, SignedRecord, User, Ward


def _reason_field(help_text):
    # Not a model field: the reason goes to the audit trail with the values before and after.
    return forms.CharField(
        label=gettext_lazy("Reason for the change"),
        max_length=text.REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=help_text,
    )


class _NoAdminLog:
    """Django's own admin history (LogEntry) is not written: the audit trail is the record,
    and for reference ranges nothing was saved (a proposal was made)."""

    def log_addition(self, request, obj, message):
        return None

    def log_change(self, request, obj, message):
        return None

    def log_deletions(self, request, queryset):
        return None


# --- Reference ranges -------------------------------------------------------------------


class ReferenceRangeForm(forms.ModelForm):
    reason = _reason_field(
        gettext_lazy(
            "Kept in the audit trail with the values before and after. The change takes "
            "effect when another system administrator approves it."
        )
    )

    class Meta:
        model = ReferenceRange
        fields = ["lab", "analyte", "sex", "unit", "lower", "upper"]

    def clean(self):
        data = super().clean()
        self._check_units(data)
        keys = {(data.get("lab"), data.get("analyte"), data.get("sex") or "")}
        if self.instance.pk is not None:
            keys.add((self.instance.lab, self.instance.analyte, self.instance.sex))
        for key in sorted(keys, key=str):
            refusal = administration.pending_refusal(*key)
            if refusal:
                raise forms.ValidationError(refusal)
        return data

    def _check_units(self, data):
        """C-UNIT-1: a ward analyte's range is in one of its units, so screening can
        convert it to the unit of any value. (An upper limit that is no plausible ULN is
        refused where screening reads it: ``screening.reference.fill_ulns``.)"""
        analyte, unit = data.get("analyte"), data.get("unit")
        if analyte in ANALYTES and unit and unit not in ANALYTES[analyte][1]:
            self.add_error(
                "unit",
                _("%(unit)s is not a unit for %(analyte)s; use one of: %(units)s.")
                % {
                    "unit": unit,
                    "analyte": ANALYTES[analyte][0],
                    "units": ", ".join(ANALYTES[analyte][1]),
                },
            )


@admin.register(ReferenceRange)
class ReferenceRangeAdmin(_NoAdminLog, admin.ModelAdmin):
    """ULNs decide screening verdicts. Saving or deleting here proposes the change, with a
    reason; the ranges listed are the approved ones, which screening reads."""

    form = ReferenceRangeForm
    list_display = ("lab", "analyte", "sex", "lower", "upper", "unit")
    list_filter = ("lab", "analyte")

    def get_actions(self, request):
        # The bulk "delete selected" action would delete without a reason per row.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def _propose(self, request, obj, reason, *, delete=False):
        try:
            obj.proposal = administration.reference_range_propose(
                actor=request.user, reference_range=obj, reason=reason, delete=delete
            )
        except AdminRefused as refused:
            obj.proposal, obj.refused = None, refused.message

    def save_model(self, request, obj, form, change):
        # Never obj.save(): nothing takes effect before a second administrator approves.
        self._propose(request, obj, form.cleaned_data["reason"])

    def save_related(self, request, form, formsets, change):
        return None

    def _after_proposal(self, request, obj):
        if getattr(obj, "refused", None):
            messages.error(request, obj.refused)
            return HttpResponseRedirect(reverse("admin:core_referencerange_changelist"))
        if obj.proposal is None:
            messages.info(request, _("Nothing changed: these are the values in effect."))
            return HttpResponseRedirect(reverse("admin:core_referencerange_changelist"))
        messages.success(
            request,
            _(
                "Your change is waiting for another system administrator's approval; the "
                "values in effect stay until then."
            ),
        )
        return HttpResponseRedirect(
            reverse("admin:core_referencerangechange_change", args=[obj.proposal.pk])
        )

    def response_add(self, request, obj, post_url_continue=None):
        return self._after_proposal(request, obj)

    def response_change(self, request, obj):
        return self._after_proposal(request, obj)

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
        self._propose(request, obj, request.POST["reason"], delete=True)
        request.reference_range_proposal = obj

    def response_delete(self, request, obj_display, obj_id):
        return self._after_proposal(request, request.reference_range_proposal)

    def delete_queryset(self, request, queryset):
        raise NotImplementedError("reference ranges are deleted one at a time, with a reason")


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[
            ("approve", gettext_lazy("Approve: the change takes effect now")),
            ("reject", gettext_lazy("Reject: nothing changes")),
        ],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=gettext_lazy("Comment"),
        required=False,
        max_length=text.REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Kept in the audit trail; required to reject."),
    )


@admin.register(ReferenceRangeChange)
class ReferenceRangeChangeAdmin(admin.ModelAdmin):
    """Proposed changes, read-only; a pending one is approved or rejected on its page by a
    system administrator other than the one who proposed it."""

    list_display = (
        "proposed_at",
        "action",
        "lab",
        "analyte",
        "sex",
        "lower",
        "upper",
        "unit",
        "status",
        "proposed_by",
        "decided_by",
    )
    list_filter = ("status", "action")
    change_form_template = "admin/core/referencerangechange/change_form.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # decided through decide_view, never edited

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "<path:object_id>/decide/",
                self.admin_site.admin_view(self.decide_view),
                name="core_referencerangechange_decide",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        change = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if change is not None and change.status == ReferenceRangeChange.Status.PENDING:
            extra["refusal"] = administration.approval_refusal(request.user, change)
            extra["decision_form"] = DecisionForm()
        return super().change_view(request, object_id, form_url, extra)

    def decide_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        change = get_object_or_404(ReferenceRangeChange, pk=object_id)
        if not request.user.has_perm("core.approve_referencerangechange"):
            raise PermissionDenied("approve_referencerangechange")
        here = reverse("admin:core_referencerangechange_change", args=[change.pk])
        form = DecisionForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose approve or reject."))
            return HttpResponseRedirect(here)
        try:
            if form.cleaned_data["decision"] == "approve":
                administration.reference_range_change_approve(
                    actor=request.user, change=change, comment=form.cleaned_data["comment"]
                )
                messages.success(request, _("Approved: the change is in effect."))
            else:
                administration.reference_range_change_reject(
                    actor=request.user, change=change, comment=form.cleaned_data["comment"]
                )
                messages.success(request, _("Rejected: nothing changed."))
        except AdminRefused as refused:
            messages.error(request, refused.message)
        return HttpResponseRedirect(here)


# --- Users ------------------------------------------------------------------------------


class UserAdminForm(forms.ModelForm):
    actor = None  # the administrator, set per request by UserAdmin.get_form
    role = forms.ChoiceField(label=gettext_lazy("Role"))
    password1 = forms.CharField(
        label=gettext_lazy("Password"), strip=False, widget=forms.PasswordInput, required=False
    )
    password2 = forms.CharField(
        label=gettext_lazy("Password again"),
        strip=False,
        widget=forms.PasswordInput,
        required=False,
    )
    reason = _reason_field(
        gettext_lazy("Kept in the audit trail with the values before and after.")
    )

    class Meta:
        model = User
        fields = [
            "username",
            "first_name",
            "last_name",
            "email",
            "ward",
            "is_investigator",
            "is_active",
            "language",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [
            (role, Role(role).label) for role in administration.assignable_roles(self.actor)
        ]
        if self.instance.pk is not None:
            self.fields["role"].initial = self.instance.role
            # A role the actor may not give (the user is a sysadmin): shown, not offered.
            if self.instance.role and self.instance.role not in dict(self.fields["role"].choices):
                self.fields["role"].choices.append(
                    (self.instance.role, Role(self.instance.role).label)
                )
        else:
            self.fields["password1"].required = self.fields["password2"].required = True

    def clean(self):
        data = super().clean()
        ward = data.get("ward")
        problem = administration.user_role_problem(
            data.get("role"), ward.pk if ward else None, data.get("is_investigator")
        ) or administration.user_edit_refusal(self.actor, self.instance, role=data.get("role"))
        if problem:
            raise forms.ValidationError(problem)
        if self.instance.pk is None and data.get("password1") is not None:
            if data.get("password1") != data.get("password2"):
                self.add_error("password2", _("The two passwords do not match."))
            else:
                from django.contrib.auth import password_validation

                try:
                    password_validation.validate_password(data["password1"], self.instance)
                except forms.ValidationError as error:
                    self.add_error("password1", error)
        return data


class AdminSetPasswordForm(SetPasswordForm):
    reason = _reason_field(gettext_lazy("Kept in the audit trail (the password is not)."))


@admin.register(User)
class UserAdmin(_NoAdminLog, admin.ModelAdmin):
    """Accounts of the ward staff and auditors: role, ward, investigator flag, active. No
    deletion (records name their authors): deactivate instead."""

    form = UserAdminForm
    list_display = ("username", "first_name", "last_name", "ward", "role_label", "is_active")
    list_filter = ("ward", "is_active", "groups")
    search_fields = ("username", "first_name", "last_name", "email")
    ordering = ("username",)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def get_fieldsets(self, request, obj=None):
        account = ["username", "first_name", "last_name", "email", "language"]
        if obj is None:
            account += ["password1", "password2"]
        else:
            account += ["password_link", "last_login", "date_joined"]
        return [
            (None, {"fields": account}),
            (_("Role"), {"fields": ["role", "ward", "is_investigator", "is_active"]}),
            (None, {"fields": ["reason"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        return ("username", "password_link", "last_login", "date_joined") if obj else ()

    @admin.display(description=gettext_lazy("Password"))
    def password_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:core_user_password", args=[obj.pk]),
            _("Set a new password"),
        )

    def has_change_permission(self, request, obj=None):
        # Another system administrator, a superuser or oneself: read-only here.
        allowed = super().has_change_permission(request, obj)
        if allowed and obj is not None:
            allowed = administration.user_edit_refusal(request.user, obj) is None
        return allowed

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            if change:
                administration.user_update(
                    actor=request.user, user=obj, role=data["role"], reason=data["reason"]
                )
            else:
                administration.user_create(
                    actor=request.user,
                    user=obj,
                    role=data["role"],
                    password=data["password1"],
                    reason=data["reason"],
                )
        except AdminRefused as refused:
            raise PermissionDenied(refused.message)

    def save_related(self, request, form, formsets, change):
        return None  # the role (a group) is set by the service

    def get_urls(self):
        return [
            path(
                "<path:object_id>/password/",
                self.admin_site.admin_view(self.password_view),
                name="core_user_password",
            ),
            *super().get_urls(),
        ]

    def password_view(self, request, object_id):
        user = get_object_or_404(User, pk=object_id)
        if not self.has_change_permission(request, user):
            raise PermissionDenied("change_user")
        form = AdminSetPasswordForm(user, request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                administration.user_set_password(
                    actor=request.user,
                    user=user,
                    password=form.cleaned_data["new_password1"],
                    reason=form.cleaned_data["reason"],
                )
            except AdminRefused as refused:
                raise PermissionDenied(refused.message)
            messages.success(request, _("The password was set."))
            return HttpResponseRedirect(reverse("admin:core_user_change", args=[user.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Set a new password: %(user)s") % {"user": user.get_username()},
            "form": form,
            "original": user,
            "opts": self.opts,
        }
        return TemplateResponse(request, "admin/core/user/set_password.html", context)


# --- Wards ------------------------------------------------------------------------------


class WardAdminForm(forms.ModelForm):
    reason = _reason_field(
        gettext_lazy("Kept in the audit trail with the values before and after.")
    )

    class Meta:
        model = Ward
        fields = ["code", "name", "physician_on_duty"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The physician on duty is one of the ward's own physicians.
        self.fields["physician_on_duty"].queryset = User.objects.filter(
            ward_id=self.instance.pk, groups__name=Role.PHYSICIAN, is_active=True
        ).order_by("username")


@admin.register(Ward)
class WardAdmin(_NoAdminLog, admin.ModelAdmin):
    form = WardAdminForm
    list_display = ("code", "name", "physician_on_duty")

    def has_delete_permission(self, request, obj=None):
        return False  # patients and staff belong to wards

    def save_model(self, request, obj, form, change):
        try:
            administration.ward_save(
                actor=request.user, ward=obj, reason=form.cleaned_data["reason"]
            )
        except AdminRefused as refused:
            raise PermissionDenied(refused.message)


# --- Signed records (read-only) ---------------------------------------------------------


@admin.register(SignedRecord)
class SignedRecordAdmin(admin.ModelAdmin):
    """The stored PDF/A copies of signed records, for the auditor: what was stored, when,
    and the hashes to check a printed or downloaded copy against. Never edited."""

    list_display = (
        "created_at",
        "kind",
        "object_id",
        "language",
        "signed_sha256",
        "pdf_sha256",
        "software_version",
    )
    list_filter = ("kind", "language")
    search_fields = ("signed_sha256", "pdf_sha256")
    fields = (
        "kind",
        "object_id",
        "patient",
        "language",
        "signed_sha256",
        "pdf_sha256",
        "html_sha256",
        "software_version",
        "created_at",
        "signed_json",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
