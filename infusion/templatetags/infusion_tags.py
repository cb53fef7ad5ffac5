"""Showing engine output in the reader's language: findings, timeline titles, orders."""

from datetime import datetime
from decimal import Decimal

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime
from django.utils.translation import get_language, gettext_lazy, override
from django.utils.translation import gettext as _

from core.clinical_time import plausible_year
from core.html import esc as _e
from core.templatetags.ward_time import implausible
from infusion.engine import RULES
from infusion.planning import DRUG_LABELS, ROUTE_LABELS, UNIT_LABELS

register = template.Library()

SEVERITY_CLASS = {
    "info": "info",
    "notice": "notice",
    "warning": "warning",
    "unknown": "unknown",
    "block": "block",
}


# Engine parameters that are words (not numbers or dates), shown in the reader's language.
PARAM_WORDS = {
    "mild": gettext_lazy("mild"),
    "moderate": gettext_lazy("moderate"),
    "severe": gettext_lazy("severe"),
    "renal": gettext_lazy("renal"),
    "haematological": gettext_lazy("haematological"),
    "pulmonary": gettext_lazy("pulmonary"),
    "skin": gettext_lazy("skin"),
    "cns": gettext_lazy("central nervous system"),
    "cardiac": gettext_lazy("cardiac"),
    "aspirin": gettext_lazy("aspirin"),
    "clopidogrel": gettext_lazy("clopidogrel"),
    "unknown": gettext_lazy("unknown"),
}


def _word(value):
    if not isinstance(value, str):
        return value
    if value in PARAM_WORDS:
        return str(PARAM_WORDS[value])
    parts = value.split(", ")
    if len(parts) > 1 and all(p in PARAM_WORDS for p in parts):
        separator = "、" if (get_language() or "").startswith("zh") else ", "
        return separator.join(str(PARAM_WORDS[p]) for p in parts)
    return value


def _render(template_text, params, fallback=""):
    if not template_text:
        return fallback
    try:
        return _(template_text) % {k: _word(v) for k, v in (params or {}).items()}
    except (KeyError, ValueError, TypeError):
        # A translation that lost a placeholder must not lose the message.
        try:
            return template_text % (params or {})
        except (KeyError, ValueError, TypeError):
            return fallback or template_text


def _get(item, name):
    return item.get(name) if isinstance(item, dict) else getattr(item, name, None)


@register.filter
def finding_text(finding):
    """An engine finding (object or dict) as a sentence in the current language."""
    return _render(
        _get(finding, "reason_template"), _get(finding, "reason_params"), _get(finding, "reason")
    )


@register.filter
def title_text(item):
    """A timeline event or follow-up item title in the current language."""
    return _render(_get(item, "title_template"), _get(item, "title_params"), _get(item, "title"))


@register.filter
def instruction_text(line):
    return _render(line.get("template"), line.get("params"))


@register.filter
def citation(rule_id):
    """ "B-AP-1 (R7, 2C)" or "B-ROUTE-2 (§3.5)"."""
    rule = RULES.get(rule_id)
    if rule is None:
        return rule_id
    return f"{rule_id} ({rule.citation or rule.section})"


@register.filter
def citations(rule_ids):
    """Each rule ID with its citation, as ``<span class="rule-id">`` chips (one filter for
    the whole list: an order row has several and a queue page has dozens of rows)."""
    return mark_safe(  # noqa: S308 (each citation escaped)
        "".join(f'<span class="rule-id">{escape(citation(r))}</span> ' for r in rule_ids or ())
    )


@register.filter
def grade(finding):
    cite = _get(finding, "citation")
    return cite or ""


@register.filter
def severity_class(severity):
    return SEVERITY_CLASS.get(severity, "info")


@register.filter
def drug_label(code):
    return DRUG_LABELS.get(code, code)


@register.filter
def route_label(code):
    return ROUTE_LABELS.get(code, code)


@register.filter
def dose_text(order):
    """ "100 × 10⁶ cells" or "5 mg"."""
    dose = Decimal(order.dose)
    if order.dose_unit == "cells":
        e6 = (dose / Decimal(1_000_000)).normalize()
        return _("%(n)s × 10⁶ cells") % {"n": format(e6, "f")}
    return f"{format(dose.normalize(), 'f')} {UNIT_LABELS.get(order.dose_unit, order.dose_unit)}"


@register.filter
def plain_decimal(value):
    if value is None or value == "":
        return "—"
    return format(Decimal(value).normalize(), "f")


SEVERITY_LABELS = {
    "info": gettext_lazy("info"),
    "notice": gettext_lazy("notice"),
    "warning": gettext_lazy("warning"),
    "unknown": gettext_lazy("unknown"),
    "block": gettext_lazy("stop"),
}
STATUS_LABELS = {
    # Plan, candidacy and release verdicts of the engine, for display.
    "ready": gettext_lazy("ready"),
    "ready_with_warnings": gettext_lazy("ready, with warnings"),
    "incomplete": gettext_lazy("incomplete"),
    "blocked": gettext_lazy("blocked"),
    "recommended": gettext_lazy("recommended"),
    "allowed_with_notice": gettext_lazy("allowed, read the notices"),
    "not_recommended": gettext_lazy("not recommended"),
    "released": gettext_lazy("released"),
    "pending": gettext_lazy("pending"),
    "rejected": gettext_lazy("rejected"),
}


@register.filter
def severity_label(severity):
    return SEVERITY_LABELS.get(severity, severity)


@register.filter
def verdict(code):
    return STATUS_LABELS.get(code, code)


@register.simple_tag
def patient_episodes(patient, user):
    """The patient's MSC episodes (the patient page already checked the ward)."""
    from infusion.selectors import episodes_for_user

    return list(
        episodes_for_user(user)
        .filter(patient=patient)
        .defer("plan", "plan_input")
        .order_by("-planned_start")[:10]
    )


@register.filter
def active_of(episodes):
    """The planned or running episode among `episodes` (the latest by planned start, so
    the patient's one active episode is among them), else None."""
    return next((e for e in episodes if e.is_open), None)


# --- Order rows ------------------------------------------------------------------------
# The cells of an order row, and the queue's rows with their verify and reject forms, are
# built here rather than in templates: the pharmacy queue draws a score of rows, and an
# included template with two {% url %} and two {% csrf_token %} per row cost the page
# about half of its CPU. The markup is what the templates drew, byte for byte, and every
# value goes through `_e` (Django's escaping), so only markup built here is marked safe.

DAY = "%Y-%m-%d"
MINUTE = "%Y-%m-%d %H:%M"
PK_MARK = 987654321  # stands for the order's pk in a URL reversed once per card


def _when(value, pattern):
    """``|when`` for a row's dates and times: in the ward's time zone; None draws nothing."""
    if value is None:
        return ""
    if not plausible_year(value):  # issue 16: stored before the input boundary
        return implausible(value)
    if isinstance(value, datetime):
        value = template_localtime(value)
    return value.strftime(pattern)


def _label(labels, key, make, value):
    """``make(value)`` escaped, looked up once per key in ``labels`` (the labels of one
    render: translating is most of a row's cost, and a page repeats a few labels)."""
    text = labels.get(key)
    if text is None:
        text = labels[key] = _e(make(value))
    return text


def _signature_labels():
    return _e(_("Prescribed by")), _e(_("Hold override co-signed by")), _e(_("Verified by"))


def _signature_line(label, signature):
    if signature is None:
        return ""
    return (
        f'<div class="sig">{label} <strong>{_e(signature.signer_name)}</strong> '
        f"{_when(signature.signed_at, MINUTE)}</div>"
    )


def _voided_line(signature):
    values = {"meaning": _e(signature.get_meaning_display()), "name": _e(signature.signer_name)}
    try:
        text = _("Voided signature: %(meaning)s %(name)s") % values
    except (KeyError, ValueError):  # a translation that lost a placeholder, as the tag does
        with override(None):
            text = _("Voided signature: %(meaning)s %(name)s") % values
    return f'<div class="sig voided">{text} ({_e(signature.void_reason)})</div>'


def _order_cells(row, labels):
    o = row.order
    kind = _label(labels, ("kind", o.kind), type(o).get_kind_display, o)
    status = _label(labels, ("status", o.status), type(o).get_status_display, o)
    drug = _label(labels, ("drug", o.drug), drug_label, o.drug)
    route = _label(labels, ("route", o.route), route_label, o.route)
    volume = f"<br><small>{_e(plain_decimal(o.volume_ml))} mL</small>" if o.volume_ml else ""
    scheduled = _when(o.scheduled_at, MINUTE) if o.scheduled_at else ""
    days = f"{_when(o.first_day, DAY)} → {_when(o.last_day, DAY)}" if o.first_day else ""
    rejected = f"<br><small>{_e(o.reject_reason)}</small>" if o.status == "rejected" else ""
    cancelled = f"<br><small>{_e(o.cancel_reason)}</small>" if o.status == "cancelled" else ""
    signatures = ""
    if row.prescribed or row.override or row.verified:
        if "signatures" not in labels:
            labels["signatures"] = _signature_labels()
        signatures = labels["signatures"]
    prescribed = _signature_line(signatures and signatures[0], row.prescribed)
    override_line = _signature_line(signatures and signatures[1], row.override)
    verified = _signature_line(signatures and signatures[2], row.verified)
    voided = "".join(_voided_line(s) for s in row.voided)
    return (
        f"\n<td><strong>{kind}</strong><br>{drug}</td>\n"
        f"<td>{_e(dose_text(o))}<br><small>{route}</small>\n"
        f"  {volume}</td>\n"
        f"<td>{scheduled}\n  {days}</td>\n"
        f'<td class="rules">{citations(o.rule_ids)}</td>\n'
        f'<td><span class="chip ost-{_e(o.status)}">{status}</span>\n'
        f"  {rejected}\n  {cancelled}</td>\n"
        f'<td class="sigs">\n  {prescribed}\n  {override_line}\n  {verified}\n  {voided}\n</td>\n'
    )


@register.filter
def order_cells(row):
    """The six cells of an order row (an ``OrderRow``): what, dose and route, when, rules,
    status, signatures. The same cells on the episode page and in the pharmacy queue."""
    return mark_safe(_order_cells(row, {}))  # noqa: S308 (every value escaped by _e)


# --- Consent on the queue card (B-CONSENT-1) -------------------------------------------


# --- Bedside handling (issue 15: B-ADM-2 one interval, B-ADM-1 deviation) ----------------


@register.filter
def room_temperature(episode):
    """The B-ADM-2 finding for the episode (recorded out-of-fridge → recorded or planned
    start), the same on the chart, the episode page and the PDF record."""
    from infusion.bedside import room_temperature as finding

    return finding(episode)


@register.filter
def end_deviation(episode):
    """B-ADM-1: "" or the deviation text when the actual end is after the hard limit."""
    from infusion.bedside import end_deviation as deviation

    return deviation(episode)
