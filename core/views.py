from datetime import datetime, time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.core.validators import MaxLengthValidator
from django.db import connection
from django.db.models import F, Q
from django.http import (
    HttpResponseBadRequest,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from . import audit, csvsafe, security_log, services, text
from .access import get_patient_for_user, patients_for_user, require_perm
from .forms import (
    AuditFilterForm,
    LabResultForm,
    MeasurementForm,
    PasswordChangeForm,
    PatientForm,
)
from .middleware import user_language
from .models import AuditEvent, MeasurementKind, Patient, Ward
from .paging import CountedAheadPaginator, page_number


@require_GET
def health(request):
    """Liveness and the load benchmark's floor: one trivial row read."""
    ward = Ward.objects.order_by("pk").values("pk").first()
    return JsonResponse({"ok": True, "wards": 1 if ward else 0})


@login_required
def home(request):
    return render(request, "core/home.html")


PATIENT_PAGES_COUNTED = 20  # past the page shown


@login_required
@require_perm("core.view_patient")
def patient_list(request):
    q = request.GET.get("q", "").strip()[:100]
    patients = patients_for_user(request.user).order_by("hospital_number")
    if q:
        patients = patients.filter(Q(hospital_number__icontains=q) | Q(name__icontains=q))
    asked = page_number(request.GET.get("page"))
    # Counted only so far past this page (a ward of 50,000 patients: "of more than").
    page = CountedAheadPaginator(patients, 25, asked, PATIENT_PAGES_COUNTED).get_page(asked)
    context = {"page": page, "q": q, "query": urlencode({"q": q}) if q else ""}
    if request.htmx and request.htmx.target == "patient-table":
        return render(request, "core/patient_list.html#patient-table", context)
    return render(request, "core/patient_list.html", context)


@login_required
@require_perm("core.view_patient")
def patient_detail(request, pk):
    patient = get_patient_for_user(request.user, pk)
    return render(request, "core/patient_detail.html", _detail_context(request, patient))


def _detail_context(request, patient, *, measurement_form=None, lab_form=None):
    can_add = request.user.has_perm("core.add_measurement")
    return {
        "patient": patient,
        "weight": services.latest_measurement(patient, MeasurementKind.WEIGHT_KG),
        "height": services.latest_measurement(patient, MeasurementKind.HEIGHT_CM),
        "measurements": patient.measurements.select_related("recorded_by")[:20],
        "lab_results": patient.lab_results.select_related("recorded_by")[:30],
        "can_add": can_add,
        "measurement_form": measurement_form or (MeasurementForm() if can_add else None),
        "lab_form": lab_form or (LabResultForm() if can_add else None),
        "can_edit": request.user.has_perm("core.change_patient"),
    }


@login_required
@require_perm("core.add_patient")
def patient_create(request):
    form = PatientForm(request.POST if request.method == "POST" else None, user=request.user)
    if request.method == "POST" and not form.is_valid():
        _audit_other_ward_number(request, form, "patient_create")
    if request.method == "POST" and form.is_valid():
        patient = services.patient_create(actor=request.user, data=form.cleaned_data)
        messages.success(
            request, _("Patient %(number)s created.") % {"number": patient.hospital_number}
        )
        return redirect("patient_detail", pk=patient.pk)
    return render(request, "core/patient_form.html", {"form": form})


def _audit_other_ward_number(request, form, action):
    """A hospital number held by another ward's patient was typed: the form says only that
    it cannot be registered; the attempt is audited as the access check audits a look at
    another ward's record."""
    if form.other_ward_holder is not None:
        audit.record(
            "access_denied",
            actor=request.user,
            object_type=Patient._meta.label,
            object_id=form.other_ward_holder,
            patient_id=form.other_ward_holder,
            new={"reason": "hospital number of another ward", "action": action},
        )


@login_required
@require_perm("core.change_patient")
def patient_edit(request, pk):
    patient = get_patient_for_user(request.user, pk)
    form = PatientForm(
        request.POST if request.method == "POST" else None, instance=patient, user=request.user
    )
    if request.method == "POST":
        reason = request.POST.get("reason", "").strip()
        if not reason:
            form.add_error(None, _("Give a reason for the change; it is kept in the audit trail."))
        elif len(reason) > text.REASON_MAX_LENGTH:
            form.add_error(
                None,
                _("The reason is longer than %(max)s characters.")
                % {"max": text.REASON_MAX_LENGTH},
            )
        if not form.is_valid():
            _audit_other_ward_number(request, form, "patient_update")
        if form.is_valid():
            data = {f: form.cleaned_data[f] for f in services.PATIENT_FIELDS}
            services.patient_update(actor=request.user, patient=patient, data=data, reason=reason)
            messages.success(request, _("Patient record updated."))
            return redirect("patient_detail", pk=patient.pk)
    return render(request, "core/patient_form.html", {"form": form, "patient": patient})


@login_required
@require_POST
@require_perm("core.add_measurement")
def measurement_add(request, pk):
    patient = get_patient_for_user(request.user, pk)
    form = MeasurementForm(request.POST)
    if form.is_valid():
        try:
            services.measurement_record(actor=request.user, patient=patient, **form.cleaned_data)
        except services.ClinicalTimeRefused as refused:  # C-TIME-1: shown on this form
            for name, errors in refused.field_errors.items():
                for error in errors:
                    form.add_error(name, error)
        else:
            form = None
    context = _detail_context(request, patient, measurement_form=form)
    if request.htmx:
        return render(request, "core/patient_detail.html#measurements", context)
    return render(request, "core/patient_detail.html", context, status=200 if form is None else 400)


@login_required
@require_POST
@require_perm("core.add_labresult")
def lab_add(request, pk):
    patient = get_patient_for_user(request.user, pk)
    form = LabResultForm(request.POST)
    if form.is_valid():
        try:
            services.lab_result_record(actor=request.user, patient=patient, **form.cleaned_data)
        except services.ClinicalTimeRefused as refused:  # C-TIME-1: shown on this form
            for name, errors in refused.field_errors.items():
                for error in errors:
                    form.add_error(name, error)
        except ValidationError as refused:  # C-UNIT-1 (the form refuses it first)
            for name, errors in refused.message_dict.items():
                for error in errors:
                    form.add_error(name, error)
        else:
            form = None
    context = _detail_context(request, patient, lab_form=form)
    if request.htmx:
        return render(request, "core/patient_detail.html#labs", context)
    return render(request, "core/patient_detail.html", context, status=200 if form is None else 400)


# The distinct object types, read by skipping through the (object_type, object_id) index:
# one probe per type (a few dozen), where a substring test reads every event.
_OBJECT_TYPES = """
WITH RECURSIVE t(v) AS (
    SELECT min(object_type) FROM core_auditevent
    UNION ALL
    SELECT (SELECT min(object_type) FROM core_auditevent WHERE object_type > t.v)
    FROM t WHERE t.v IS NOT NULL
)
SELECT v FROM t WHERE v IS NOT NULL
"""


def _object_types_containing(text):
    """The object types that contain `text`, case-insensitively (as ``icontains``)."""
    needle = text.strip().upper()
    with connection.cursor() as cursor:
        cursor.execute(_OBJECT_TYPES)
        return [v for (v,) in cursor.fetchall() if needle in v.upper()]


def _filtered_events(form):
    events = AuditEvent.objects.all()
    if not form.is_valid():
        return events.none()
    data = form.cleaned_data
    tz = timezone.get_current_timezone()
    if data["user"]:
        events = events.filter(actor_username__icontains=data["user"])
    if data["patient"]:
        ids = Patient.objects.filter(hospital_number__iexact=data["patient"].strip())
        # The ids first, as values: with a subquery PostgreSQL walks a million events by
        # seq testing each (seconds); with the ids it reads the (patient_id, seq) index.
        events = events.filter(patient_id__in=list(ids.values_list("pk", flat=True)))
    if data["action"]:
        events = events.filter(action__iexact=data["action"].strip())
    if data["object_type"]:
        events = events.filter(object_type__in=_object_types_containing(data["object_type"]))
    if data["object_id"]:
        events = events.filter(object_id=data["object_id"].strip())
    if data["date_from"]:
        events = events.filter(at__gte=datetime.combine(data["date_from"], time.min, tzinfo=tz))
    if data["date_to"]:
        events = events.filter(at__lte=datetime.combine(data["date_to"], time.max, tzinfo=tz))
    return events.order_by("-seq")


class _TrailPaginator(Paginator):
    """Pages of the whole trail. Its seq runs 1, 2, 3… without a gap (appended under the
    chain lock; `audit_verify` checks it), so the newest seq is the number of events: one
    index lookup where COUNT(*) would read a table that only grows."""

    @cached_property
    def count(self):
        return self.object_list.values_list("seq", flat=True).first() or 0

    def page(self, number):
        # Keyset, not OFFSET: page n starts at seq newest - 25(n - 1), one index range
        # scan however deep the page (a million events: page 40,000 as fast as page 1).
        number = self.validate_number(number)
        top = self.count - (number - 1) * self.per_page
        return self._get_page(self.object_list.filter(seq__lte=top)[: self.per_page], number, self)


# A filter matching half of a million events is counted no further than this many pages
# past the page shown ("Page 1 of more than 21"), not row by row on every page.
AUDIT_PAGES_COUNTED = 20
_FEW_EVENTS = 2000


@login_required
@require_perm("core.view_auditevent")
def audit_browser(request):
    form = AuditFilterForm(request.GET or None)
    if request.GET.keys() - {"page"}:
        asked = page_number(request.GET.get("page"))
        events = _filtered_events(form)
        if events.order_by()[: _FEW_EVENTS + 1].count() <= _FEW_EVENTS:
            # Few matches, perhaps all far back in a million events: read them by the
            # filter's own index and sort them, not walk the trail newest first to them.
            events = events.order_by((F("seq") + 0).desc())
        page = CountedAheadPaginator(events, 25, asked, AUDIT_PAGES_COUNTED).get_page(asked)
    else:
        events = AuditEvent.objects.order_by("-seq")
        page = _TrailPaginator(events, 25).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form if request.GET else AuditFilterForm(),
        "page": page,
        "query": query.urlencode(),
    }
    if request.htmx and request.htmx.target == "audit-table":
        return render(request, "core/audit_browser.html#audit-table", context)
    return render(request, "core/audit_browser.html", context)


@login_required
@require_perm("core.view_auditevent")
def audit_chain_status(request):
    # Only the events since the verified head (and the newest checkpoint): the full
    # verification is `manage.py audit_verify`'s, and the panel says when it last ran.
    return render(request, "core/_chain_status.html", {"status": audit.verify_new_events()})


class _Echo:
    def write(self, value):
        return value


@login_required
@require_perm("core.view_auditevent")
def audit_export(request):
    form = AuditFilterForm(request.GET or None)
    events = _filtered_events(form) if request.GET else AuditEvent.objects.order_by("-seq")
    if request.GET and not form.is_valid():
        return HttpResponseBadRequest(_("Invalid filter."))
    writer = csvsafe.writer(_Echo())  # formula prefixes neutralised (issue 16)
    header = [
        "seq",
        "at_utc",
        "actor",
        "actor_role",
        "action",
        "object_type",
        "object_id",
        "patient_id",
        "old_values",
        "new_values",
        "reason",
        "request_id",
        "client_ip",
        "app_version",
        "key_id",
        "entry_hash",
    ]

    def rows():
        yield writer.writerow(header)
        for e in events.iterator(chunk_size=1000):
            yield writer.writerow(
                [
                    e.seq,
                    e.at.isoformat(),
                    e.actor_username,
                    e.actor_role,
                    e.action,
                    e.object_type,
                    e.object_id,
                    e.patient_id or "",
                    audit._canonical(e.old_values),
                    audit._canonical(e.new_values),
                    e.reason,
                    e.request_id,
                    e.client_ip or "",
                    e.app_version,
                    e.key_id,
                    e.entry_hash,
                ]
            )

    audit.record(
        "export",
        actor=request.user,
        object_type="core.AuditEvent",
        new={"filter": request.GET.dict()},
    )
    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit-trail.csv"'
    return response


@require_POST
def set_language(request):
    """Switch the UI language; remembered on the user for reminders and PDFs too."""
    lang = request.POST.get("language", "")
    if lang not in dict(settings.LANGUAGES):
        return HttpResponseBadRequest("Unknown language.")
    nxt = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        nxt = "/"
    if request.user.is_authenticated and request.user.language != lang:
        request.user.language = lang
        request.user.save(update_fields=["language"])
    translation.activate(lang)
    response = HttpResponseRedirect(nxt)
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, lang, samesite="Lax", max_age=365 * 86400)
    return response


class BoundedAuthenticationForm(AuthenticationForm):
    """Issue 16: Django gives the username field a max_length but no validator, so a 1 MB
    username reached authenticate() and the lockout's log (varchar 255): a 500."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["username"]
        field.validators.append(MaxLengthValidator(field.max_length or 150))


class LoginView(auth_views.LoginView):
    """Django's sign-in, which also settles the user's language at the first sign-in."""

    authentication_form = BoundedAuthenticationForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.get_user()
        if not user_language(user):
            # First sign-in: keep the language the sign-in page was read in (the switch's
            # cookie, else the browser's), and say where to change it.
            language = translation.get_language()
            if language not in dict(settings.LANGUAGES):
                language = settings.LANGUAGE_CODE
            user.language = language
            user.save(update_fields=["language"])
            translation.activate(language)
            messages.info(
                self.request,
                _(
                    "Your language is set to %(language)s for pages, PDFs, e-mails and "
                    "reminders. Change it with the language menu at the top of every page."
                )
                % {"language": dict(settings.LANGUAGES)[language]},
            )
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change.html"
    form_class = PasswordChangeForm  # the old password counts towards the lockout (core.reauth)

    def get_success_url(self):
        return reverse("home")

    def form_valid(self, form):
        response = super().form_valid(form)
        audit.record("password_change", actor=self.request.user, obj=self.request.user)
        messages.success(self.request, _("Your password was changed."))
        return response


def _signed_in_user(request):
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def permission_denied(request, exception=None):
    # The 403 page tells the user their attempt is on record: a signed-in user's refusal goes to
    # the audit chain, an anonymous one to the security log.
    user = _signed_in_user(request)
    if user is None:
        security_log.record("permission_denied", path=request.path)
    else:
        audit.record(
            "permission_denied",
            actor=user,
            new={"path": request.path[:300], "method": request.method},
        )
    return TemplateResponse(request, "403.html", status=403)


def csrf_failure(request, reason=""):
    # Anonymous CSRF failures (a script posting without a token) are not clinical events:
    # the security log, rate-limited. A signed-in user's stays in the chain.
    user = _signed_in_user(request)
    if user is None:
        security_log.record("csrf_failure", path=request.path)
    else:
        audit.record("csrf_failure", actor=user, new={"path": request.path[:300]})
    return TemplateResponse(request, "403.html", {"csrf": True}, status=403)


def page_not_found(request, exception=None):
    return TemplateResponse(request, "404.html", status=404)
