"""Showing engine output in the reader's language: findings, timeline titles, orders."""

from decimal import Decimal

from django import template
from django.utils.translation import get_language, gettext_lazy, override
from django.utils.translation import gettext as _

from core.jinja import fragment
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
# The cells of an order row are one Jinja2 fragment (infusion/jinja2/infusion/
# order_cells.jinja): the pharmacy queue draws a score of rows, and an included Django
# template per row cost the page about half of its CPU.


def voided_text(signature):
    """ "Voided signature: Prescribed by Li Wei" (text; the fragment escapes it)."""
    values = {"meaning": signature.get_meaning_display(), "name": signature.signer_name}
    try:
        return _("Voided signature: %(meaning)s %(name)s") % values
    except (KeyError, ValueError):  # a translation that lost a placeholder, as the tag does
        with override(None):
            return _("Voided signature: %(meaning)s %(name)s") % values


@register.filter
def order_cells(row):
    """The six cells of an order row (an ``OrderRow``): what, dose and route, when, rules,
    status, signatures. The same cells on the episode page and in the pharmacy queue."""
    return fragment("infusion/order_cells.jinja", row=row)


@register.simple_tag(takes_context=True)
def queue_card(context):
    """The pharmacy queue card of ``item`` (infusion/jinja2/infusion/queue_card.jinja): the
    queue draws five a page, each a score of rows, and as an included Django template the
    card cost the page most of its time (issue 23)."""
    from django.template.defaulttags import CsrfTokenNode
    from django.template.loader import render_to_string

    request = context.get("request")
    return fragment(
        "infusion/queue_card.jinja",
        item=context["item"],
        eid=context["eid"],
        can_verify=context.get("can_verify"),
        user=context.get("user"),
        alert=context.get("alert"),
        alert_ok=context.get("alert_ok"),
        csrf_input=CsrfTokenNode().render(context),  # as {% csrf_token %} prints it
        signature_username=lambda: _once_per_page(
            context,
            "queue_signature_username",
            lambda: render_to_string(
                "core/_signature_username.html", {"request": request, "compact": True}
            ),
        ),
    )


def _once_per_page(context, key, render):
    """``render()`` once per rendering of the page (the same for every card on it)."""
    kept = context.render_context
    if key not in kept:
        kept[key] = render()
    return kept[key]


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
