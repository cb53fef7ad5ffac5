"""Screening pages: start from the patient page, the live form, sign-off, amendment, the
PDF checklist and the screening log. Views are thin: services write, selectors read."""

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core import audit, csvsafe, signed_records
from core.access import get_patient_for_user, require_perm
from core.models import Role
from core.pdf import render_pdf

from . import fragments, records, selectors, services
from .evaluation import window_days
from .fields import (
    LIST_KINDS,
    bind,
    form_view,
    get_path,
    group_for_path,
    merge_concurrent,
    parse_form,
)
from .flow import layout
from .forms import AmendForm, LogFilterForm, SignForm, StartForm
from .kinds import MAX_ROWS
from .models import INDICATION_NAMES, SIGNATURE_MEANING, Status
from .prefill import is_outdated

TEMPLATE = "screening/detail.html"


def _can_edit(user, screening):
    return (
        screening.is_draft
        and user.role != Role.AUDITOR
        and user.has_perm("screening.change_screening")
    )


def _context(request, screening, *, notice="", extra_rows=None, inputs=True):
    """The page's context; ``inputs=False`` for the live re-evaluation, which draws the
    groups' statuses but not their inputs."""
    user = request.user
    can_edit = _can_edit(user, screening)
    window = window_days(screening.screening_date)
    sections = bind(
        screening.indication,
        screening.facts,
        invalid_inputs=screening.invalid_inputs,
        errors=screening.form_errors,
        window_days=window,
        extra_rows=extra_rows,
        inputs=inputs,
    )
    criteria = selectors.criteria(screening)
    by_rule = {c["rule_id"]: c for c in criteria}
    laid_out = [
        {
            "section": section,
            "groups": groups,
            "criteria": [by_rule[r] for r in section.rules if r in by_rule],
        }
        for section, groups in sections
    ]
    evaluation = screening.evaluation or {}
    outdated = not screening.is_draft and is_outdated(screening)
    missing = selectors.missing_items(screening)
    undecided = _undecided(criteria, missing)
    copied, copy_note = _copied(screening)
    return {
        "screening": screening,
        "patient": screening.patient,
        "indication_name": INDICATION_NAMES[screening.indication],
        "sections": laid_out,
        "criteria": criteria,
        "missing": missing,
        "undecided": undecided,
        "undecided_values": len({m["field"] for u in undecided for m in u["missing"]}),
        "rows_url": reverse("screening:add_row", kwargs={"pk": screening.pk}) if can_edit else "",
        "copied": copied,
        "copy_note": copy_note,
        "failing": evaluation.get("failing", []),
        "unknown": evaluation.get("unknown", []),
        "evaluated": screening.evaluation is not None,
        "can_edit": can_edit,
        "read_only": not can_edit,
        "can_sign": screening.is_draft and services.can_sign(user),
        "can_amend": screening.status == Status.SIGNED
        and user.has_perm("screening.amend_screening")
        and user.role != Role.AUDITOR,
        "versions": selectors.series_versions(screening),
        "notice": notice,
        "outdated": outdated,
        "window_days": window,
        "signature_meaning": _(SIGNATURE_MEANING),
        "base_json": json.dumps(form_view(screening.facts), sort_keys=True, ensure_ascii=False),
    }


def _undecided(criteria, missing):
    """Issue 18: the criteria not yet decided, in the protocol's order, each with the
    values that would decide it (a value deciding two criteria is under both)."""
    by_rule = {}
    for m in missing:
        by_rule.setdefault(m["rule_id"], []).append(m)
    return [
        {**c, "missing": by_rule.get(c["rule_id"], [])}
        for c in criteria
        if c["status"] == "unknown" or c["rule_id"] in by_rule
    ]


def _copied(screening):
    """Issue 18: ({path: source} of the values still as copied from the previous
    screening, the note naming that screening and what was left out), or ({}, None)."""
    facts = screening.facts or {}
    meta = facts.get("meta") or {}
    copy = meta.get("copy")
    if not copy:
        return {}, None
    uln_sources = meta.get("uln_sources") or {}
    shown = {}
    for path, item in (meta.get("copied") or {}).items():
        if _as_copied(get_path(facts, path), item.get("value"), uln_sources.get(path)):
            shown[path] = {**item, **copy}
    left_out = []
    for item in copy.get("left_out") or []:
        group = group_for_path(screening.indication, item["path"])
        if group is not None:
            left_out.append({**item, "label": group.label, "anchor": group.anchor})
    return shown, {**copy, "count": len(shown), "left_out": left_out}


def _as_copied(current, copied, auto_uln):
    """The value is still the one copied (a ULN filled since from the reference range
    apart)."""
    if isinstance(current, dict) and isinstance(copied, dict) and auto_uln:
        if "uln" not in copied and current.get("uln") == auto_uln.get("uln"):
            current = {k: v for k, v in current.items() if k != "uln"}
    return current == copied


@login_required
@require_GET
@require_perm("screening.change_screening")
def add_row(request, pk):
    """Issue 18: one more blank row of a list group (treatments, series, BVAS), as an
    htmx fragment in place of the "+ add a row" button: nothing is saved (the blank row
    is saved once something is typed in it) and the page's URL stays."""
    screening = selectors.get_screening_for_user(request.user, pk)
    if not _can_edit(request.user, screening):
        return _refused(
            request, screening, _("This screening is signed and read-only. Amend it to change it.")
        )
    path = request.GET.get("add_row", "")
    group = group_for_path(screening.indication, path) if path else None
    row = request.GET.get("row", "")
    if (
        group is None
        or group.kind not in LIST_KINDS
        or group.path != path
        or not (row.isascii() and row.isdigit())
        or int(row) >= MAX_ROWS
    ):
        return HttpResponseBadRequest(_("No such list in this form."), content_type="text/plain")
    if not request.htmx:
        return redirect(f"{detail_url(screening)}#{group.anchor}")
    rows_url = reverse("screening:add_row", kwargs={"pk": screening.pk})
    return HttpResponse(fragments.new_row_html(group, int(row), rows_url=rows_url))


@login_required
@require_POST
@require_perm("screening.add_screening")
def start(request, patient_pk):
    patient = get_patient_for_user(request.user, patient_pk)
    form = StartForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose an indication to start a screening."))
        return redirect("patient_detail", pk=patient.pk)
    indication = form.cleaned_data["indication"]
    existing = services.current_draft(patient, indication)
    if existing is not None:
        messages.info(request, _("A draft screening for this indication was already open."))
        return redirect("screening:detail", pk=existing.pk)
    screening = services.screening_start(actor=request.user, patient=patient, indication=indication)
    return redirect("screening:detail", pk=screening.pk)


@login_required
@require_GET
@require_perm("screening.view_screening")
def detail(request, pk):
    screening = selectors.get_screening_for_user(request.user, pk)
    notice = ""
    changed = None
    if services.needs_refresh(screening, request.user):
        try:
            screening, changed = services.screening_refresh(actor=request.user, screening=screening)
        except services.ActionRefused:  # signed meanwhile: show it as it is now
            screening = selectors.get_screening_for_user(request.user, pk)
        else:
            notice = _(
                "Patient data was recorded after the last evaluation: the screening was re-evaluated."
            )
        if changed:
            labels = ", ".join(
                str(group_for_path(screening.indication, p).label)
                for p in changed
                if group_for_path(screening.indication, p) is not None
            )
            notice += " " + _("Updated from the record: %(fields)s.") % {"fields": labels}
    context = _context(request, screening, notice=notice)
    if request.htmx and request.htmx.target == "summary":
        return render(request, f"{TEMPLATE}#summary", context)
    return render(request, TEMPLATE, context)


@login_required
@require_POST
@require_perm("screening.change_screening")
def evaluate(request, pk):
    """Save the draft from the whole form and re-evaluate. htmx gets the summary (banner,
    missing panel) with the criteria chips, calculators and field messages out of band."""
    screening = selectors.get_screening_for_user(request.user, pk)
    if not _can_edit(request.user, screening):
        return _refused(
            request, screening, _("This screening is signed and read-only. Amend it to change it.")
        )
    parsed = parse_form(request.POST, indication=screening.indication, base_doc=screening.facts)
    base = _base(request.POST.get("_base"))
    doc = parsed.doc
    if base is not None and form_view(base) != form_view(screening.facts):
        # Another user saved this draft after this page was drawn: merge item by item.
        doc = merge_concurrent(
            screening.indication, base=base, mine=parsed.doc, theirs=screening.facts
        )
    try:
        screening, _saved = services.screening_save_draft(
            actor=request.user,
            screening=screening,
            facts=doc,
            invalid_inputs=parsed.invalid_inputs,
            form_errors=parsed.errors,
        )
    except services.ActionRefused as refused:
        return _refused(request, screening, refused.message)
    add_row = request.POST.get("add_row", "")
    extra = {}
    group = group_for_path(screening.indication, add_row) if add_row else None
    if group is not None and group.kind in LIST_KINDS and group.path == add_row:
        extra[group.path] = 1
    if request.htmx:
        context = _context(request, screening, extra_rows=extra, inputs=False)
        return render(request, f"{TEMPLATE}#evaluate_response", context)
    context = _context(request, screening, extra_rows=extra)
    if parsed.errors:
        return render(request, TEMPLATE, context, status=400)
    if extra:
        return render(request, TEMPLATE, context)
    messages.success(request, _("Draft saved."))
    return redirect("screening:detail", pk=screening.pk)


def _base(raw):
    """The facts the page was drawn from (hidden input ``_base``), or None."""
    if not raw or len(raw) > 200_000:
        return None
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _refused(request, screening, message):
    if request.htmx:
        return render(
            request,
            "screening/_refused.html",
            {"message": message, "screening": screening},
            status=409,
        )
    messages.error(request, message)
    response = redirect("screening:detail", pk=screening.pk)
    response.status_code = 303
    return response


@login_required
@require_perm("screening.view_screening")
def sign(request, pk):
    screening = selectors.get_screening_for_user(request.user, pk)
    if not services.can_sign(request.user):
        raise PermissionDenied("only investigators sign eligibility assessments")
    if not screening.is_draft:
        messages.info(request, _("This screening is already signed."))
        return redirect("screening:detail", pk=screening.pk)
    form = SignForm(
        request.POST if request.method == "POST" else None,
        initial={"content_hash": screening.content_hash()},
    )
    error = ""
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.screening_sign(
                    actor=request.user,
                    screening=screening,
                    password=form.cleaned_data["password"],
                    expected_hash=form.cleaned_data["content_hash"] or None,
                )
            except services.ActionRefused as refused:
                error = refused.message
            else:
                messages.success(request, _("The eligibility assessment is signed."))
                return redirect("screening:detail", pk=screening.pk)
        else:
            error = _("Enter your password to sign.")
        status = 400
        screening.refresh_from_db()
        form = SignForm(initial={"content_hash": screening.content_hash()})
    context = _context(request, screening)
    context.update({"form": form, "error": error})
    return render(request, "screening/sign.html", context, status=status)


@login_required
@require_perm("screening.amend_screening")
def amend(request, pk):
    screening = selectors.get_screening_for_user(request.user, pk)
    if request.user.role == Role.AUDITOR:
        raise PermissionDenied("administrators do not write clinical data")
    if screening.status != Status.SIGNED:
        messages.info(request, _("Only a signed screening can be amended."))
        return redirect("screening:detail", pk=screening.pk)
    form = AmendForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                new = services.screening_amend(
                    actor=request.user, screening=screening, reason=form.cleaned_data["reason"]
                )
            except services.ActionRefused as refused:
                form.add_error("reason", refused.message)
            else:
                messages.success(
                    request, _("Version %(n)s was created as a draft.") % {"n": new.version}
                )
                return redirect("screening:detail", pk=new.pk)
        status = 400
    context = _context(request, screening)
    context["form"] = form
    return render(request, "screening/amend.html", context, status=status)


@login_required
@require_GET
@require_perm("screening.view_screening")
def pdf(request, pk):
    screening = selectors.get_screening_for_user(request.user, pk)
    language = request.user.language or translation.get_language()
    if language not in dict(settings.LANGUAGES):
        language = translation.get_language()
    name = _safe_filename(f"screening-{screening.patient.hospital_number}-v{screening.version}.pdf")
    if records.is_signed(screening):
        # Signed: the archival PDF/A-3b with the signed document embedded, stored once.
        record = records.store(screening, language, actor=request.user)
        response = signed_records.response(record, name)
        stored = {"pdf_sha256": record.pdf_sha256}
    else:
        with translation.override(language):
            context = records.pdf_context(screening)
        body = render_pdf(records.TEMPLATE, context, language=language)
        response = HttpResponse(body, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{name}"'
        stored = {}
    audit.record(
        "export",
        actor=request.user,
        obj=screening,
        patient=screening.patient,
        new={"format": "pdf", "version": screening.version, "status": screening.status, **stored},
    )
    return response


def _safe_filename(name):
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)


# --- The screening log -----------------------------------------------------------------


def _log_filters(request):
    form = LogFilterForm(request.GET or None, wards=selectors.visible_wards(request.user))
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    return form, filters


@login_required
@require_GET
@require_perm("screening.view_screening")
def log(request):
    form, filters = _log_filters(request)
    qs = selectors.log_queryset(request.user, filters)
    if request.GET and not form.is_valid():
        qs = qs.none()
    page = Paginator(selectors.with_data_changed_at(qs), 25).get_page(request.GET.get("page"))
    for row in page.object_list:
        row.outdated = row.is_draft and selectors.is_row_outdated(row)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "flow": layout(selectors.flow_counts(qs)),
        "show_ward": request.user.role == Role.AUDITOR,
    }
    if request.htmx and request.htmx.target == "screening-log":
        return render(request, "screening/log.html#log-body", context)
    return render(request, "screening/log.html", context)


class _Echo:
    def write(self, value):
        return value


@login_required
@require_GET
@require_perm("screening.view_screening")
def log_csv(request):
    form, filters = _log_filters(request)
    if request.GET and not form.is_valid():
        return HttpResponse(_("Invalid filter."), status=400, content_type="text/plain")
    qs = selectors.log_queryset(request.user, filters)
    writer = csvsafe.writer(_Echo())  # formula prefixes neutralised (core.csvsafe)
    header = [
        "screening_id",
        "version",
        "status",
        "hospital_number",
        "patient",
        "ward",
        "indication",
        "screening_date",
        "outcome",
        "failing_rules",
        "protocol_version",
        "signed_by",
        "signed_at",
    ]

    def rows():
        yield writer.writerow(header)
        for s in qs.iterator(chunk_size=500):
            yield writer.writerow(
                (
                    s.pk,
                    s.version,
                    s.status,
                    s.patient.hospital_number,
                    s.patient.name,
                    s.patient.ward.code,
                    s.indication,
                    s.screening_date.isoformat(),
                    s.outcome,
                    " ".join(s.failing_rules or []),
                    s.protocol_version,
                    s.signer_name,
                    s.signed_at.isoformat() if s.signed_at else "",
                )
            )

    audit.record(
        "export",
        actor=request.user,
        object_type="screening.Screening",
        new={"format": "csv", "filter": request.GET.dict()},
    )
    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="screening-log.csv"'
    return response


def detail_url(screening):
    return reverse("screening:detail", kwargs={"pk": screening.pk})
