"""Pages of the infusion app. Small function views: access check, form, one service call.

Access: a permission decides the role (403), then the object must be on the user's ward
(404, audited). htmx requests get only the partial they target; the same URL without
htmx renders (or redirects to) the full page.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import signed_records
from core.access import get_patient_for_user, require_perm
from core.models import Role
from core.paging import page_number
from core.pdf import render_pdf

from . import mar, records, selectors, services, timeline, verification
from .forms import (
    AdministerForm,
    ChartTimeForm,
    CheckOverrideForm,
    ColdChainDeviationForm,
    ColdChainViabilityForm,
    ConfirmForm,
    ConsentForm,
    CyclophosphamideForm,
    EndForm,
    EpisodeForm,
    FollowUpForm,
    OrderEditForm,
    PasswordForm,
    RateForm,
    ReactionForm,
    ReasonForm,
    SaeForm,
    VitalsForm,
)
from .inputs import field_for_path, record_item_for_path, record_values
from .models import EpisodeStatus, OrderKind, OrderStatus, Severity
from .services import ActionRefused, InvalidPlanInput

# --- Lists -----------------------------------------------------------------------------


@login_required
@require_GET
@require_perm("infusion.view_episode")
def episode_list(request):
    show = request.GET.get("show", "open")
    episodes = selectors.episodes_for_user(request.user).defer("plan", "plan_input")
    if show == "open":
        episodes = episodes.filter(
            status__in=(EpisodeStatus.PLANNED, EpisodeStatus.IN_PROGRESS)
        ) | episodes.filter(
            status=EpisodeStatus.INFUSED,
            ended_at__gte=timezone.now() - timezone.timedelta(days=14),
        )
    episodes = episodes.order_by("-planned_start", "-pk")[:200]
    return render(request, "infusion/episode_list.html", {"episodes": episodes, "show": show})


@login_required
@require_GET
@require_perm("infusion.view_order")
def queue(request):
    if request.user.role not in (Role.PHARMACIST, Role.AUDITOR):
        raise PermissionDenied("pharmacy queue")
    page = page_number(request.GET.get("page"))  # an absurd one: the last page, no 500
    items, total, page = selectors.pharmacy_queue(request.user, page)
    total, more = selectors.queue_count_shown(total, page)  # more: "more than" the total
    pages = selectors.queue_pages(total)
    context = {
        "items": items,
        "episode_id": None,  # the card's id when an htmx answer has no item left
        "total": total,
        "more": more,
        "page": page,
        "pages": pages,
        "can_verify": request.user.has_perm("infusion.verify_order"),
    }
    return render(request, "infusion/queue.html", context)


# --- Opening and changing an episode ---------------------------------------------------

RECORD_ITEM_LABELS = {
    "weight": gettext_lazy("latest weight"),
    "platelets": gettext_lazy("latest platelet count"),
    "date_of_birth": gettext_lazy("date of birth"),
    "sex": gettext_lazy("sex"),
    "consent": gettext_lazy("informed consent record (B-CONSENT-1)"),
    "prior_infusion": gettext_lazy("earlier MSC infusion (B-REP-1)"),
}


def _apply_errors(form, exc):
    """Put the engine's field errors on the form fields they belong to."""
    for error in exc.errors:
        name = field_for_path(error.path)
        if name == "dose_cells":
            name = "dose_cells_e6"
        elif name in ("coa_cell_count_measured", "coa_cell_count_labelled"):
            name = f"{name}_e6"
        if name in form.fields:
            form.add_error(name, error.message)
        else:
            item = record_item_for_path(error.path)
            if item == "weight" and error.message == "is required":
                form.add_error(None, _("Record the patient's body weight first (B-DOSE-1)."))
            elif item is not None:
                form.add_error(
                    None,
                    _("The patient record's %(item)s cannot be used (%(path)s %(message)s).")
                    % {
                        "item": RECORD_ITEM_LABELS.get(item, item),
                        "path": error.path,
                        "message": error.message,
                    },
                )
            else:
                form.add_error(None, f"{error.path}: {error.message}")


def _episode_form_page(request, *, patient, episode=None):
    editing = episode is not None
    if request.method == "POST":
        form = EpisodeForm(request.POST, editing=editing)
        confirm = ConfirmForm(request.POST, editing=editing, actor=request.user)
    else:
        initial = (
            EpisodeForm.initial_from_document(episode.plan_input, episode.product_lot)
            if editing
            else {"drop_factor_gtt_per_ml": 20, "antiplatelet_dose_mg": 100}
        )
        form = EpisodeForm(initial=initial, editing=editing)
        confirm = ConfirmForm(editing=editing, actor=request.user)
    preview = refusal = None
    status = 200
    if request.method == "POST" and form.is_valid() and confirm.is_valid():
        data = form.episode_data()
        # A change keeps the episode's consent (B-CONSENT-1) in the plan it previews.
        consent = services.consent_of(episode) if editing else None
        preview = services.episode_preview(patient=patient, data=data, consent=consent)
        if preview.errors:
            _apply_errors(form, InvalidPlanInput(preview.errors))
            status = 400
        elif "preview" not in request.POST:
            try:
                kwargs = {
                    "actor": request.user,
                    "data": data,
                    "override_reason": confirm.cleaned_data["override_reason"],
                    "acknowledged": confirm.cleaned_data["acknowledge"],
                    "second_physician": confirm.cleaned_data["second_physician"],
                    "second_password": confirm.cleaned_data["second_password"],
                }
                if editing:
                    episode = services.episode_update(
                        episode=episode, reason=confirm.cleaned_data.get("reason", ""), **kwargs
                    )
                    messages.success(
                        request, _("Episode updated; changed orders need signing again.")
                    )
                else:
                    episode = services.episode_open(
                        patient=patient,
                        antiplatelet_from_today=confirm.cleaned_data["antiplatelet_from_today"],
                        **kwargs,
                    )
                    messages.success(request, _("MSC episode opened; sign the draft orders."))
                return redirect("infusion:episode_detail", pk=episode.pk)
            except ActionRefused as exc:
                refusal = exc
                status = 409
    elif request.method == "POST":
        status = 400
    context = {
        "patient": patient,
        "episode": episode,
        "form": form,
        "confirm": confirm,
        "preview": preview,
        "refusal": refusal,
        "editing": editing,
        "record": preview.record if preview else record_values(patient),
        # One active episode per patient: the page points to it (the service refuses).
        "active_episode": None if editing else selectors.active_episode(patient),
    }
    if request.htmx and request.htmx.target == "plan-preview":
        return render(request, "infusion/episode_form.html#plan-preview", context, status=200)
    return render(request, "infusion/episode_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
@require_perm("infusion.add_episode")
def episode_open(request, patient_pk):
    patient = get_patient_for_user(request.user, patient_pk)
    return _episode_form_page(request, patient=patient)


@login_required
@require_http_methods(["GET", "POST"])
@require_perm("infusion.change_episode")
def episode_edit(request, pk):
    episode = selectors.get_episode_for_user(request.user, pk)
    if episode.status != EpisodeStatus.PLANNED:
        messages.error(request, _("Only a planned episode can be changed."))
        return redirect("infusion:episode_detail", pk=episode.pk)
    return _episode_form_page(request, patient=episode.patient, episode=episode)


@login_required
@require_POST
@require_perm("infusion.change_episode")
def episode_cancel(request, pk):
    episode = selectors.get_episode_for_user(request.user, pk)
    form = ReasonForm(request.POST)
    return _act(
        request,
        form,
        lambda: services.episode_cancel(
            episode=episode, actor=request.user, reason=form.cleaned_data["reason"]
        ),
        done=_("Episode cancelled."),
        url=reverse("infusion:episode_detail", args=[episode.pk]),
    )


def _act(request, form, call, *, done, url):
    """Run a service for a plain form POST; the result and any refusal as a message."""
    if not form.is_valid():
        for field, errors in form.errors.items():
            for error in errors:
                messages.error(
                    request, f"{form[field].label if field in form.fields else ''} {error}".strip()
                )
        return redirect(_next(request, url))
    try:
        call()
    except ActionRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect(_next(request, url))


def _next(request, default):
    nxt = request.POST.get("next") or request.GET.get("next")
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return nxt
    return default


# --- The episode page ------------------------------------------------------------------


@login_required
@require_GET
@require_perm("infusion.view_episode")
def episode_detail(request, pk):
    episode = selectors.get_episode_for_user(request.user, pk)
    return render(request, "infusion/episode_detail.html", _episode_context(request, episode))


def _episode_context(
    request,
    episode,
    *,
    follow_up_form=None,
    alert=None,
    alert_ok=False,
    override_form=None,
    override_alert=None,
    override_ok=False,
):
    orders = selectors.episode_orders(episode)
    checks, overrides = verification.episode_check_views(episode.pk)
    can_override = (
        request.user.has_perm("infusion.add_checkoverride")
        and episode.status != EpisodeStatus.CANCELLED
    )
    if can_override:
        for c in checks:
            if c.status != "failed":
                continue
            key = c.check.key
            bound = override_form is not None and override_form.data.get("check_key") == key
            c.form = (
                override_form
                if bound
                else CheckOverrideForm(
                    actor=request.user, initial={"check_key": key}, auto_id=f"ovr-{key}-%s"
                )
            )
    plan = episode.plan
    user = request.user
    context = {
        "episode": episode,
        "patient": episode.patient,
        "plan": plan,
        "rows": selectors.order_rows([o for o in orders if o.kind != OrderKind.CYCLOPHOSPHAMIDE]),
        "cyc_rows": selectors.order_rows(
            [o for o in orders if o.kind == OrderKind.CYCLOPHOSPHAMIDE]
        ),
        "timeline": timeline.build(episode, orders),
        "can_sign": user.has_perm("infusion.sign_order")
        and episode.status != EpisodeStatus.CANCELLED,
        "can_change": user.has_perm("infusion.change_episode")
        and episode.status == EpisodeStatus.PLANNED,
        "has_drafts": any(o.status == OrderStatus.DRAFT for o in orders),
        # B-REP-1: the response and relapse are documented on an infused episode.
        "can_follow_up": user.has_perm("infusion.change_episode")
        and episode.status == EpisodeStatus.INFUSED,
        "follow_up_form": follow_up_form or FollowUpForm(initial=FollowUpForm.initial_for(episode)),
        "follow_up_alert": alert,
        "follow_up_ok": alert_ok,
        # C-VERIFY-1: what the pharmacist's verification enforces, and the overrides.
        "checks": checks,
        "overrides": overrides,
        "can_override": can_override,
        "override_alert": override_alert,
        "override_ok": override_ok,
    }
    context.update(_consent_context(request, episode))  # B-CONSENT-1: the consent panel
    context.update(_cold_chain_context(request, episode))  # B-ADM-1 deviation (issue 19)
    return context


@login_required
@require_POST
@require_perm("infusion.add_checkoverride")
def check_override(request, pk):
    """C-VERIFY-1: a physician overrides a failing check with a reason and a second
    physician's password signature. The form keeps what was typed (not the password)."""
    episode = selectors.get_episode_for_user(request.user, pk)
    key = request.POST.get("check_key", "")[:30]
    form = CheckOverrideForm(request.POST, actor=request.user, auto_id=f"ovr-{key}-%s")
    status, alert = 400, _("Check the values.")
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.check_override(
                episode=episode,
                actor=request.user,
                check_key=data["check_key"],
                reason=data["reason"],
                second_physician=data["second_physician"],
                second_password=data["second_password"],
            )
        except ActionRefused as exc:
            _put_refusal_on_form(form, exc)
            status, alert = 409, exc.message
        else:
            messages.success(
                request, _("Override recorded; the check no longer stops verification.")
            )
            return redirect(reverse("infusion:episode_detail", args=[pk]) + "#checks")
    context = _episode_context(
        request, episode, override_form=form, override_alert=alert, override_ok=False
    )
    return render(request, "infusion/episode_detail.html", context, status=status)


def _cold_chain_page(request, episode, *, viability_form=None, deviation_form=None, alert=None):
    context = _episode_context(request, episode)
    context.update(
        _cold_chain_context(
            request, episode, viability_form=viability_form, deviation_form=deviation_form
        )
    )
    context["cold_chain_alert"] = alert
    return render(request, "infusion/episode_detail.html", context, status=400 if alert else 200)


@login_required
@require_POST
@require_perm("infusion.verify_order")
def cold_chain_viability(request, pk):
    """B-ADM-1 (issue 19): a pharmacist confirms the product's viability after the
    cold-chain limit, with a password signature."""
    episode = selectors.get_episode_for_user(request.user, pk)
    form = ColdChainViabilityForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.cold_chain_viability_confirm(
                episode=episode,
                actor=request.user,
                until=data["until"],
                note=data["note"],
                password=data["password"],
            )
        except ActionRefused as exc:
            _put_refusal_on_form(form, exc)
            response = _cold_chain_page(request, episode, viability_form=form, alert=exc.message)
            response.status_code = 409
            return response
        messages.success(request, _("Viability confirmed; a physician may record the deviation."))
        return redirect(reverse("infusion:episode_detail", args=[pk]) + "#cold-chain")
    return _cold_chain_page(request, episode, viability_form=form, alert=_("Check the values."))


@login_required
@require_POST
@require_perm("infusion.add_checkoverride")
def cold_chain_deviation(request, pk):
    """B-ADM-1 / C-OVR-1 (issue 19): a physician records the reasoned deviation, co-signed
    by a second physician, after the pharmacist's viability confirmation."""
    episode = selectors.get_episode_for_user(request.user, pk)
    form = ColdChainDeviationForm(request.POST, actor=request.user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.cold_chain_deviation_record(
                episode=episode,
                actor=request.user,
                reason=data["reason"],
                second_physician=data["second_physician"],
                second_password=data["second_password"],
            )
        except ActionRefused as exc:
            _put_refusal_on_form(form, exc)
            response = _cold_chain_page(request, episode, deviation_form=form, alert=exc.message)
            response.status_code = 409
            return response
        messages.success(request, _("Cold-chain deviation recorded (B-ADM-1)."))
        return redirect(reverse("infusion:episode_detail", args=[pk]) + "#cold-chain")
    return _cold_chain_page(request, episode, deviation_form=form, alert=_("Check the values."))


def _cold_chain_context(request, episode, *, viability_form=None, deviation_form=None):
    """B-ADM-1 deviation panel: shown on a planned episode to pharmacists and physicians."""
    user = request.user
    planned = episode.status == EpisodeStatus.PLANNED
    deviation = services.live_cold_chain_deviation(episode) if planned else None
    can_confirm = planned and user.has_perm("infusion.verify_order")
    can_deviate = (
        planned
        and deviation is not None
        and deviation.recorded_at is None
        and user.has_perm("infusion.add_checkoverride")
    )
    return {
        "cold_chain_deviation": deviation,
        "can_confirm_viability": can_confirm,
        "can_record_deviation": can_deviate,
        "viability_form": viability_form or (ColdChainViabilityForm() if can_confirm else None),
        "deviation_form": deviation_form
        or (ColdChainDeviationForm(actor=user) if can_deviate else None),
    }


@login_required
@require_POST
@require_perm("infusion.change_episode")
def episode_follow_up(request, pk):
    """B-REP-1: a physician documents the response to the infusion and a later relapse."""
    episode = selectors.get_episode_for_user(request.user, pk)
    form = FollowUpForm(request.POST)
    status, alert, ok = 400, _("Check the values."), False
    if form.is_valid():
        try:
            services.episode_follow_up_record(
                episode=episode, actor=request.user, **form.cleaned_data
            )
        except ActionRefused as exc:
            _put_refusal_on_form(form, exc)
            status, alert = 409, exc.message
        else:
            done = _("Response and relapse recorded (B-REP-1).")
            if not request.htmx:
                messages.success(request, done)
                return redirect(reverse("infusion:episode_detail", args=[pk]) + "#follow-up")
            episode.refresh_from_db()
            form = FollowUpForm(initial=FollowUpForm.initial_for(episode))
            status, alert, ok = 200, done, True
    context = _episode_context(request, episode, follow_up_form=form, alert=alert, alert_ok=ok)
    if request.htmx:  # htmx swaps 200 answers only: the form comes back with its errors
        return render(request, "infusion/episode_detail.html#follow-up-record", context)
    return render(request, "infusion/episode_detail.html", context, status=status)


# --- Informed consent (B-CONSENT-1) ----------------------------------------------------


def _consent_context(request, episode, *, form=None, alert=None, ok=False):
    """The consent panel of the episode page: the record, the site's ethics approval and,
    for a physician, the form to record (or correct) it."""
    consent = services.consent_of(episode)
    user = request.user
    can_consent = (
        user.has_perm("infusion.add_consent")
        and (consent is None or user.has_perm("infusion.change_consent"))
        and episode.status in (EpisodeStatus.PLANNED, EpisodeStatus.IN_PROGRESS)
    )
    if can_consent and form is None:
        form = ConsentForm(
            ward_id=episode.patient.ward_id,
            correcting=consent is not None,
            initial=ConsentForm.initial_for(consent, user),
        )
    return {
        "consent": consent,
        "can_consent": can_consent,
        "consent_form": form,
        "consent_alert": alert,
        "consent_ok": ok,
        "ethics_approval_number": settings.ETHICS_APPROVAL_NUMBER,
    }


@login_required
@require_POST
@require_perm("infusion.add_consent")
def consent_record(request, pk):
    """B-CONSENT-1: a physician records the informed consent (or corrects it, with a
    reason). The form keeps what was typed and shows the errors; never a 500."""
    episode = selectors.get_episode_for_user(request.user, pk)
    existing = services.consent_of(episode)
    form = ConsentForm(
        request.POST,
        request.FILES,
        ward_id=episode.patient.ward_id,
        correcting=existing is not None,
    )
    status, alert, ok = 400, _("Check the values."), False
    if form.is_valid():
        try:
            services.consent_record(episode=episode, actor=request.user, **form.cleaned_data)
        except ActionRefused as exc:
            _put_refusal_on_form(form, exc)
            status, alert = 409, exc.message
        else:
            done = _("Consent recorded (B-CONSENT-1).")
            if not request.htmx:
                messages.success(request, done)
                return redirect(reverse("infusion:episode_detail", args=[pk]) + "#consent")
            episode.refresh_from_db()
            form, status, alert, ok = None, 200, done, True
    context = _episode_context(request, episode)
    context.update(_consent_context(request, episode, form=form, alert=alert, ok=ok))
    if request.htmx:  # htmx swaps 200 answers only: the form comes back with its errors
        return render(request, "infusion/episode_detail.html#consent-panel", context)
    return render(request, "infusion/episode_detail.html", context, status=status)


@login_required
@require_GET
@require_perm("infusion.view_consent")
def consent_scan(request, pk):
    """The scanned consent form, as a download: only through the episode's access check
    (another ward's episode is a 404), never cached."""
    episode = selectors.get_episode_for_user(request.user, pk)
    consent = services.consent_of(episode)
    if consent is None or not consent.scan:
        raise Http404("no scanned consent form")
    try:
        handle = consent.scan.open("rb")
    except FileNotFoundError as exc:
        raise Http404("the scanned consent form is missing") from exc
    extension = consent.scan.name.rsplit(".", 1)[-1].lower()
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"consent-episode-{episode.pk}.{extension}",
        content_type=SCAN_CONTENT_TYPES.get(extension, "application/octet-stream"),
    )
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


SCAN_CONTENT_TYPES = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png"}


# --- Orders ----------------------------------------------------------------------------


@login_required
@require_POST
@require_perm("infusion.sign_order")
def episode_sign_all(request, pk):
    episode = selectors.get_episode_for_user(request.user, pk)
    form = PasswordForm(request.POST)
    return _act(
        request,
        form,
        lambda: services.orders_sign_all(
            episode=episode, actor=request.user, password=form.cleaned_data["password"]
        ),
        done=_("Orders signed; they now wait for pharmacist verification."),
        url=reverse("infusion:episode_detail", args=[episode.pk]),
    )


@login_required
@require_POST
@require_perm("infusion.sign_order")
def order_sign(request, pk):
    order = selectors.get_order_for_user(request.user, pk)
    form = PasswordForm(request.POST)
    return _act(
        request,
        form,
        lambda: services.order_sign(
            order=order, actor=request.user, password=form.cleaned_data["password"]
        ),
        done=_("Order signed."),
        url=reverse("infusion:episode_detail", args=[order.episode_id]),
    )


@login_required
@require_POST
@require_perm("infusion.sign_order")
def order_cancel(request, pk):
    order = selectors.get_order_for_user(request.user, pk)
    form = ReasonForm(request.POST)
    return _act(
        request,
        form,
        lambda: services.order_cancel(
            order=order, actor=request.user, reason=form.cleaned_data["reason"]
        ),
        done=_("Order cancelled."),
        url=reverse("infusion:episode_detail", args=[order.episode_id]),
    )


@login_required
@require_http_methods(["GET", "POST"])
@require_perm("infusion.sign_order")
def order_edit(request, pk):
    order = selectors.get_order_for_user(request.user, pk)
    initial = {"note": order.note, "scheduled_at": order.scheduled_at, "dose": order.dose}
    form = OrderEditForm(
        request.POST if request.method == "POST" else None, order=order, initial=initial
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.order_edit(
                    order=order,
                    actor=request.user,
                    changes=form.changes(order),
                    reason=form.cleaned_data["reason"],
                )
            except ActionRefused as exc:
                form.add_error(None, exc.message)
                status = 409
            else:
                messages.success(request, _("Order changed; it must be signed again."))
                return redirect("infusion:episode_detail", pk=order.episode_id)
    return render(
        request, "infusion/order_edit.html", {"order": order, "form": form}, status=status
    )


def _queue_item_response(request, order, alert, ok, *, episode_id=None):
    """After verify/reject from the queue: the episode's card (htmx), with the page
    header's count of waiting episodes swapped out of band, or the queue page."""
    episode_id = episode_id or order.episode_id
    if request.htmx:
        item = selectors.pharmacy_queue_item(request.user, episode_id)
        total, more = selectors.queue_count_shown(selectors.queue_total(request.user))
        context = {
            "item": item,
            "episode_id": episode_id,
            "alert": alert,
            "alert_ok": ok,
            "can_verify": True,
            "oob_count": True,
            "total": total,
            "more": more,
        }
        return render(request, "infusion/queue.html#queue-item", context)
    (messages.success if ok else messages.error)(request, alert)
    return redirect(_next(request, reverse("infusion:queue")))


@login_required
@require_POST
@require_perm("infusion.verify_order")
def order_verify(request, pk):
    order = selectors.get_order_for_user(request.user, pk)
    form = PasswordForm(request.POST)
    if not form.is_valid():
        return _queue_item_response(request, order, _("Enter your password to verify."), False)
    try:
        services.order_verify(
            order=order, actor=request.user, password=form.cleaned_data["password"]
        )
    except ActionRefused as exc:
        return _queue_item_response(request, order, exc.message, False)
    return _queue_item_response(request, order, _("Order verified."), True)


def _reviewed(values):
    """The ticked ``pk:version`` values as {pk: version}; None when one is malformed."""
    out = {}
    for value in values:
        pk, sep, version = value.partition(":")
        if not (sep and pk.isascii() and pk.isdigit() and version.isascii() and version.isdigit()):
            return None
        if len(pk) > 18 or len(version) > 9:
            return None
        out[int(pk)] = int(version)
    return out


@login_required
@require_POST
@require_perm("infusion.verify_order")
def episode_verify(request, pk):
    """Verify the ticked orders of an episode with one password (C-VERIFY-1 applies)."""
    episode = selectors.get_episode_for_user(request.user, pk)
    form = PasswordForm(request.POST)
    reviewed = _reviewed(request.POST.getlist("reviewed"))

    def answer(alert, ok):
        return _queue_item_response(request, None, alert, ok, episode_id=episode.pk)

    if reviewed is None:
        return answer(_("The ticked orders could not be read; reload the page."), False)
    if not reviewed:
        return answer(_("Tick each order you have reviewed, then verify."), False)
    if not form.is_valid():
        return answer(_("Enter your password to verify."), False)
    try:
        done = services.orders_verify(
            episode=episode,
            actor=request.user,
            password=form.cleaned_data["password"],
            reviewed=reviewed,
        )
    except ActionRefused as exc:
        return answer(exc.message, False)
    return answer(
        ngettext("%(n)s order verified.", "%(n)s orders verified.", len(done)) % {"n": len(done)},
        True,
    )


@login_required
@require_POST
@require_perm("infusion.verify_order")
def order_reject(request, pk):
    order = selectors.get_order_for_user(request.user, pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _queue_item_response(
            request, order, _("Give a reason for rejecting the order."), False
        )
    try:
        services.order_reject(order=order, actor=request.user, reason=form.cleaned_data["reason"])
    except ActionRefused as exc:
        return _queue_item_response(request, order, exc.message, False)
    return _queue_item_response(request, order, _("Order rejected."), True)


# --- Cyclophosphamide ------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@require_perm("infusion.sign_order")
def cyclophosphamide_new(request, pk):
    episode = selectors.get_episode_for_user(request.user, pk)
    form = CyclophosphamideForm(
        request.POST if request.method == "POST" else None, actor=request.user
    )
    check = refusal = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            check = services.cyclophosphamide_order_check(
                patient=episode.patient, at=data["scheduled_at"]
            )
            if "check" not in request.POST:
                try:
                    services.cyclophosphamide_order_create(
                        episode=episode,
                        actor=request.user,
                        scheduled_at=data["scheduled_at"],
                        dose_mg=data["dose_mg"],
                        note=data["note"],
                        acknowledged=data["acknowledge"],
                        override_reason=data["override_reason"],
                        second_physician=data["second_physician"],
                        second_password=data["second_password"],
                    )
                except ActionRefused as exc:
                    refusal = exc
                    status = 409
                else:
                    messages.success(request, _("Cyclophosphamide order drafted; sign it."))
                    return redirect("infusion:episode_detail", pk=episode.pk)
            else:
                status = 200
    context = {"episode": episode, "form": form, "check": check, "refusal": refusal}
    if request.htmx and request.htmx.target == "cyc-check":
        return render(request, "infusion/cyc_form.html#cyc-check", context)
    return render(request, "infusion/cyc_form.html", context, status=status)


# --- Bedside chart ---------------------------------------------------------------------


def _chart_context(request, episode, *, forms=None, alert=None, alert_ok=False, prompt=None):
    orders = selectors.episode_orders(episode)
    msc = next(
        (
            o
            for o in orders
            if o.kind == OrderKind.MSC_IV
            and o.status not in (OrderStatus.CANCELLED, OrderStatus.REJECTED)
        ),
        None,
    )
    state = selectors.chart_state(episode, msc)
    forms = forms or {}
    user = request.user
    rate_initial = {"rate_ml_per_min": state.next_step["rate"]} if state.next_step else {}
    reactions = list(episode.reactions.select_related("recorded_by", "sae_report"))
    if prompt is None:
        # A severe reaction without a report keeps the prompt on the chart until reported.
        unreported = [r for r in reactions if r.severity == Severity.SEVERE and not _has_report(r)]
        if unreported:
            prompt = unreported[-1]
    return {
        "episode": episode,
        "patient": episode.patient,
        "state": state,
        "msc": msc,
        "mar": selectors.mar_lines(orders),
        # C-VERIFY-1 / C-OVR-1: the overrides this episode's orders were verified under.
        "overrides": [
            (verification.override_label(o), o)
            for o in verification.live_overrides([episode.pk])[episode.pk]
        ],
        "vitals": selectors.vitals_rows(episode),
        "ranges": selectors.vital_ranges(),
        "reactions": reactions,
        "rate_steps": list(episode.rate_steps.select_related("recorded_by")),
        "can_chart": user.has_perm("infusion.chart_infusion") and episode.is_open,
        "can_give": user.has_perm("infusion.administer_order")
        and episode.status != EpisodeStatus.CANCELLED,
        "can_report": user.has_perm("infusion.add_adversereaction")
        and episode.status != EpisodeStatus.CANCELLED,
        "time_form": forms.get("time") or ChartTimeForm(),
        "rate_form": forms.get("rate") or RateForm(initial=rate_initial),
        "end_form": forms.get("end") or EndForm(),
        "vitals_form": forms.get("vitals") or VitalsForm(),
        "reaction_form": forms.get("reaction") or ReactionForm(),
        "sae_form": SaeForm(initial={"informed_at": timezone.localtime()}),
        "administer_form": AdministerForm(),
        "alert": alert,
        "alert_ok": alert_ok,
        "alert_at": _feedback_anchor(request, episode, user) if alert else "",
        "prompt": prompt,
        "now": state.now,
    }


def _feedback_anchor(request, episode, user):
    """Where the chart shows the result of the action just posted: next to the control
    that caused it (the nurse's tablet is scrolled there), in a section that the page
    renders in the episode's new state; "" puts it at the top (a full-page load)."""
    match = request.resolver_match
    name = match.url_name if match else ""
    can_chart = user.has_perm("infusion.chart_infusion") and episode.is_open
    if name == "chart_record":
        event = match.kwargs.get("event")
        if can_chart and episode.status == EpisodeStatus.IN_PROGRESS and event in ("rate", "end"):
            return event
        return "actions" if can_chart else ""
    return {
        "vitals_add": "vitals",
        "reaction_add": "reactions",
        "order_administer": "mar",
        "order_complete": "mar",
    }.get(name, "")


def _has_report(reaction):
    try:
        return reaction.sae_report is not None
    except ObjectDoesNotExist:
        return False


def _chart_response(request, episode, *, status=200, **kwargs):
    context = _chart_context(request, episode, **kwargs)
    if request.htmx:
        return render(request, "infusion/chart.html#chart-body", context)
    return render(request, "infusion/chart.html", context, status=status)


@login_required
@require_GET
@require_perm("infusion.view_episode")
def chart(request, pk):
    episode = selectors.get_episode_for_user(request.user, pk)
    context = _chart_context(request, episode)
    if request.htmx and request.htmx.target == "chart-status":
        return render(request, "infusion/chart.html#chart-status", context)
    return render(request, "infusion/chart.html", context)


def _put_refusal_on_form(form, refused):
    """A service refusal's field errors on the form (on the field when the form has it,
    else on the form itself): the form comes back with what was typed."""
    for name, errors in refused.field_errors.items():
        for error in errors:
            form.add_error(name if name in form.fields else None, error)


def _add_field_errors(form, refused):
    """C-TIME-1 and other service refusals: each message on the field that caused it."""
    added = False
    for name, errors in refused.field_errors.items():
        if name in form.fields:
            for error in errors:
                form.add_error(name, error)
                added = True
    return added


CHART_EVENTS = {
    "received": (ChartTimeForm, "time", _("Product received.")),
    "out-of-fridge": (
        ChartTimeForm,
        "time",
        _("Out of the refrigerator: the room-temperature time runs."),
    ),
    "start": (ChartTimeForm, "time", _("Infusion started.")),
    "rate": (RateForm, "rate", _("Rate recorded.")),
    "end": (EndForm, "end", _("Infusion end recorded; the cyclophosphamide hold runs from it.")),
}


@login_required
@require_POST
@require_perm("infusion.chart_infusion")
def chart_record(request, pk, event):
    episode = selectors.get_episode_for_user(request.user, pk)
    if event not in CHART_EVENTS:
        return HttpResponse(status=404)
    form_class, key, done = CHART_EVENTS[event]
    form = form_class(request.POST)
    if not form.is_valid():
        return _chart_response(
            request, episode, status=400, forms={key: form}, alert=_("Check the values.")
        )
    data = form.cleaned_data
    at = data.get("at")
    done_ok = True
    try:
        if event == "received":
            services.infusion_record_received(episode=episode, actor=request.user, at=at)
        elif event == "out-of-fridge":
            services.infusion_record_out_of_fridge(episode=episode, actor=request.user, at=at)
        elif event == "start":
            result = services.infusion_start(episode=episode, actor=request.user, at=at)
            if result.warnings:  # B-ADM-2/B-ADM-1 warnings: never a green banner
                done = " ".join([str(done), *result.warnings])
                done_ok = False
        elif event == "rate":
            services.infusion_rate_step(
                episode=episode, actor=request.user, at=at, rate_ml_per_min=data["rate_ml_per_min"]
            )
        elif event == "end":
            services.infusion_end(
                episode=episode,
                actor=request.user,
                at=at,
                stopped=data["stopped"],
                reason=data["reason"],
                volume_given_ml=data.get("volume_given_ml"),
            )
    except ActionRefused as exc:
        episode.refresh_from_db()
        _add_field_errors(form, exc)
        return _chart_response(request, episode, status=409, forms={key: form}, alert=exc.message)
    episode.refresh_from_db()
    if request.htmx:
        return _chart_response(request, episode, alert=done, alert_ok=done_ok)
    (messages.success if done_ok else messages.warning)(request, done)
    return redirect("infusion:chart", pk=episode.pk)


@login_required
@require_POST
@require_perm("infusion.chart_infusion")
def vitals_add(request, pk):
    episode = selectors.get_episode_for_user(request.user, pk)
    form = VitalsForm(request.POST)
    if not form.is_valid():
        return _chart_response(
            request, episode, status=400, forms={"vitals": form}, alert=_("Check the values.")
        )
    try:
        record = services.vitals_record(
            episode=episode,
            actor=request.user,
            at=form.cleaned_data["at"],
            values=form.values(),
            on_demand=form.cleaned_data["on_demand"],
        )
    except ActionRefused as exc:
        for name, errors in exc.field_errors.items():
            for error in errors:
                form.add_error(name, error)
        return _chart_response(
            request, episode, status=409, forms={"vitals": form}, alert=exc.message
        )
    if record.out_of_range:
        labels = selectors.vital_ranges()
        done = _("Vital signs recorded. Outside the ward's range: %(names)s.") % {
            "names": ", ".join(str(labels[n].label) for n in record.out_of_range)
        }
    else:
        done = _("Vital signs recorded.")
    if request.htmx:
        return _chart_response(request, episode, alert=done, alert_ok=not record.out_of_range)
    messages.success(request, done)
    return redirect("infusion:chart", pk=episode.pk)


@login_required
@require_POST
@require_perm("infusion.add_adversereaction")
def reaction_add(request, pk):
    episode = selectors.get_episode_for_user(request.user, pk)
    form = ReactionForm(request.POST)
    if not form.is_valid():
        return _chart_response(
            request, episode, status=400, forms={"reaction": form}, alert=_("Check the values.")
        )
    data = form.cleaned_data
    try:
        reaction = services.adverse_reaction_record(
            episode=episode,
            actor=request.user,
            at=data["at"],
            reaction_type=data["reaction_type"],
            severity=data["severity"],
            description=data["description"],
            action=data["action"],
        )
    except ActionRefused as exc:
        _add_field_errors(form, exc)
        return _chart_response(
            request, episode, status=409, forms={"reaction": form}, alert=exc.message
        )
    episode.refresh_from_db()
    if request.htmx:
        return _chart_response(
            request,
            episode,
            alert=_("Adverse reaction recorded."),
            alert_ok=True,
            prompt=reaction if reaction.severity == Severity.SEVERE else None,
        )
    messages.success(request, _("Adverse reaction recorded."))
    return redirect("infusion:chart", pk=episode.pk)


@login_required
@require_http_methods(["GET", "POST"])
@require_perm("infusion.add_seriousadverseeventreport")
def sae_report(request, pk):
    reaction = selectors.get_reaction_for_user(request.user, pk)
    episode = reaction.episode
    form = SaeForm(
        request.POST if request.method == "POST" else None,
        initial={"informed_at": timezone.localtime()},
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.sae_report(reaction=reaction, actor=request.user, **form.cleaned_data)
            except ActionRefused as exc:
                if not _add_field_errors(form, exc):
                    form.add_error(None, exc.message)
                status = 409
            else:
                messages.success(request, _("Serious adverse event reported."))
                return redirect("infusion:chart", pk=episode.pk)
    context = {"reaction": reaction, "episode": episode, "form": form}
    return render(request, "infusion/sae_form.html", context, status=status)


@login_required
@require_POST
@require_perm("infusion.administer_order")
def order_administer(request, pk):
    order = selectors.get_order_for_user(request.user, pk)
    form = AdministerForm(request.POST)
    if not form.is_valid():
        return _chart_response(request, order.episode, status=400, alert=_("Check the values."))
    data = form.cleaned_data
    try:
        if data["dose"]:  # C-MAR-1: a row of the MAR (given, held or refused)
            done = mar.dose_record_outcome(
                dose=selectors.get_dose_of_order(order, data["dose"]),
                actor=request.user,
                outcome=data["outcome"] or "given",
                at=data["at"],
                dose_given=data["dose_given"],
                note=data["note"],
            )
        else:
            services.order_administer(
                order=order, actor=request.user, given_at=data["at"], note=data["note"]
            )
            done = _("Administration recorded.")
    except ActionRefused as exc:
        return _chart_response(request, order.episode, status=409, alert=exc.message)
    if request.htmx:
        return _chart_response(request, order.episode, alert=done, alert_ok=True)
    messages.success(request, done)
    return redirect("infusion:chart", pk=order.episode_id)


@login_required
@require_POST
@require_perm("infusion.administer_order")
def order_complete(request, pk):
    order = selectors.get_order_for_user(request.user, pk)
    try:
        services.order_complete(order=order, actor=request.user, note=request.POST.get("note", ""))
    except ActionRefused as exc:
        return _chart_response(request, order.episode, status=409, alert=exc.message)
    done = _("Order completed.")
    if request.htmx:
        return _chart_response(request, order.episode, alert=done, alert_ok=True)
    messages.success(request, done)
    return redirect("infusion:chart", pk=order.episode_id)


# --- PDFs and the timeline -------------------------------------------------------------


def _language(request):
    lang = getattr(request.user, "language", "") or ""
    return lang if lang in dict(settings.LANGUAGES) else translation.get_language()


def _pdf(request, template, context, filename):
    context = {**context, "ward_time_zone": settings.TIME_ZONE}
    pdf = render_pdf(template, context, language=_language(request))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@login_required
@require_GET
@require_perm("infusion.view_episode")
def order_sheet_pdf(request, pk):
    episode = selectors.get_episode_for_user(request.user, pk)
    filename = f"msc-order-sheet-{episode.pk}.pdf"
    # Once anything on it is signed: the archival PDF/A-3b, stored once (infusion.records).
    stored = records.store(
        episode,
        _language(request),
        build_context=lambda: records.pdf_context(episode),
        actor=request.user,
    )
    if stored is not None:
        return signed_records.response(stored, filename)
    return _pdf(request, records.TEMPLATE, records.pdf_context(episode), filename)


@login_required
@require_GET
@require_perm("infusion.view_episode")
def record_pdf(request, pk):
    episode = selectors.get_episode_for_user(request.user, pk)
    return _pdf(
        request,
        "infusion/pdf/record.html",
        records.pdf_context(episode),
        f"msc-infusion-record-{episode.pk}.pdf",
    )


@login_required
@require_GET
@require_perm("infusion.view_episode")
def timeline_svg(request, pk):
    episode = selectors.get_episode_for_user(request.user, pk)
    orders = selectors.episode_orders(episode)
    response = render(
        request,
        "infusion/_timeline.svg",
        {"timeline": timeline.build(episode, orders), "standalone": True},
        content_type="image/svg+xml",
    )
    return response
