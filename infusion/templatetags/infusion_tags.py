"""Showing engine output in the reader's language: findings, timeline titles, orders."""

from datetime import datetime
from decimal import Decimal

from django import template
from django.template.defaulttags import CsrfTokenNode
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime
from django.utils.translation import get_language, gettext_lazy, override, pgettext
from django.utils.translation import gettext as _

from core.html import esc as _e
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


# A queue check's class and mark by its outcome: passes, fails, needs attention.
CHECK_LOOK = {True: ("ok", "✓"), False: ("bad", "✗"), None: ("attention", "!")}


def _queue_checks(checks):
    """A queue card's checks (``Check``) as list items, each citing its rule."""
    out = []
    for c in checks:
        cls, mark = CHECK_LOOK[c.ok if isinstance(c.ok, bool) else None]
        out.append(
            f'\n    <li class="check {cls}">\n'
            f'      <span class="mark" aria-hidden="true">{mark}</span>\n'
            f"      <strong>{_e(c.label)}</strong>: {_e(c.detail)} "
            f'<span class="rule-id">{_e(citation(c.rule))}</span></li>\n    '
        )
    return "".join(out)


def _verify_forms(context):
    """What the verify and reject forms share on every card of a page: the URLs with a
    stand-in pk, the response's CSRF input and the translated labels. Made once per render
    (``render_context`` lasts one render of the template; nothing outlives the request)."""
    key = ("infusion_verify_forms", get_language())
    forms = context.render_context.get(key)
    if forms is not None:
        return forms
    csrf = CsrfTokenNode().render(context)  # the tag's own markup: the one token
    # Translated outside the f-strings: xgettext does not read calls inside them.
    password = _e(_("Password"))
    signature = _e(_("Your password (signature)"))
    verify = _e(_("Verify"))
    # "Reason" alone is also the audit trail's column (原因 in the shell's catalogue, which
    # wins); here it is the reason for an order action (理由).
    reason = _e(pgettext("order action", "Reason"))
    reject_reason = _e(_("Reason for rejecting"))
    reject = _e(_("Reject"))
    own = _e(_("You prescribed this order; another pharmacist must verify it."))
    forms = context.render_context[key] = {
        "verify_url": _e(reverse("infusion:order_verify", args=[PK_MARK])),
        "reject_url": _e(reverse("infusion:order_reject", args=[PK_MARK])),
        # What follows the hx-target in each form, to its end.
        "verify_rest": (
            f'hx-swap="outerHTML">{csrf}\n'
            '          <input type="password" name="password" autocomplete="current-password" '
            f'placeholder="{password}" aria-label="{signature}" required>\n'
            f'          <button type="submit" class="primary">{verify}</button>\n'
            "        </form>\n"
        ),
        "reject_rest": (
            f'hx-swap="outerHTML">{csrf}\n'
            f'          <input name="reason" placeholder="{reason}" '
            f'aria-label="{reject_reason}" required>\n'
            f'          <button type="submit" class="danger">{reject}</button>\n'
            "        </form>\n        "
        ),
        "own": f'\n          <p class="help">{own}</p>\n        ',
    }
    return forms


def _queue_order_rows(context, rows, episode_id):
    """The queue card's order rows, each with its verify and reject forms when the reader
    may verify (a note instead on an order they prescribed themselves)."""
    can_verify = context.get("can_verify")
    user_pk = getattr(context.get("user"), "pk", None)
    if can_verify and rows:
        forms = _verify_forms(context)
        target = f'hx-target="#queue-item-{_e(episode_id)}" '
        verify_rest = target + forms["verify_rest"]
        reject_rest = target + forms["reject_rest"]
    labels = context.render_context.setdefault(("infusion_row_labels", get_language()), {})
    mark = str(PK_MARK)
    out = []
    for row in rows:
        pk = str(row.order.pk)
        out.append(f'\n      <tr id="queue-order-{pk}">{_order_cells(row, labels)}\n      ')
        if can_verify:
            if row.prescribed is not None and row.prescribed.signer_id == user_pk:
                inner = forms["own"]
            else:
                verify = forms["verify_url"].replace(mark, pk)
                reject = forms["reject_url"].replace(mark, pk)
                inner = (
                    f'\n        \n        <form method="post" action="{verify}" '
                    f'hx-post="{verify}" {verify_rest}'
                    f'        <form method="post" action="{reject}" '
                    f'hx-post="{reject}" {reject_rest}'
                )
            out.append(f'<td class="verify">\n        {inner}\n      </td>')
        out.append("\n      </tr>\n    ")
    return "".join(out)


def _card_labels(context, can_verify):
    """The card's header link (a stand-in pk) and table head, once per render."""
    key = ("infusion_queue_card", get_language(), bool(can_verify))
    labels = context.render_context.get(key)
    if labels is not None:
        return labels
    # Translated outside the f-strings: xgettext does not read calls inside them.
    heads = [_("Order"), _("Dose and route"), _("When"), _("Rules"), _("Status")]
    heads.append(_("Signatures"))
    if can_verify:
        heads.append(_("Verify or reject"))
    labels = context.render_context[key] = (
        _e(reverse("infusion:episode_detail", args=[PK_MARK])),
        _e(_("Episode")),
        "".join(f"<th>{_e(h)}</th>" for h in heads),
    )
    return labels


@register.simple_tag(takes_context=True)
def queue_card(context, item, episode_id):
    """A queue card's body (``QueueItem``): the patient and start with a link to the
    episode, the checks, and the order rows with their verify and reject forms."""
    can_verify = context.get("can_verify")
    url, episode, heads = _card_labels(context, can_verify)
    ep = item.episode
    patient = ep.patient
    url = url.replace(str(PK_MARK), str(ep.pk))
    return mark_safe(  # noqa: S308 (every value escaped by _e)
        f'\n  <header class="pagehead">\n'
        f"    <h2>{_e(patient.name)} <small>{_e(patient.hospital_number)}</small></h2>\n"
        f"    <div><strong>{_when(ep.planned_start, MINUTE)}</strong> · "
        f'<a href="{url}">{episode}</a></div>\n'
        f'  </header>\n  <ul class="checks">\n    {consent_line(ep)}{_queue_checks(item.checks)}\n'
        "  </ul>\n"
        f'  <div class="table-scroll"><table class="table small orders">\n'
        f"    <thead><tr>{heads}</tr></thead>\n    <tbody>\n"
        f"    {_queue_order_rows(context, item.orders, episode_id)}\n"
        "    </tbody>\n  </table></div>\n  "
    )


# --- Consent on the queue card (B-CONSENT-1) -------------------------------------------

CONSENTER_WORDS = {"patient": gettext_lazy("patient"), "relative": gettext_lazy("relative")}


@register.simple_tag
def consent_line(episode):
    """A queue card's consent line, as a check list item: "Consent: recorded 2026-12-01
    (patient), form v3", or "Consent: not recorded (B-CONSENT-1)". Reads the queue's
    annotations (``consent_on``, ``consent_by``, ``consent_form``: no query); an episode
    read without them asks for its consent record."""
    if hasattr(episode, "consent_on"):
        on, by, version = episode.consent_on, episode.consent_by, episode.consent_form
    else:
        from infusion.models import Consent

        record = (
            Consent.objects.filter(episode_id=episode.pk)
            .values_list("consented_on", "consenter", "form_version")
            .first()
        )
        on, by, version = record or (None, None, None)
    if on is None:
        cls, mark = CHECK_LOOK[False]
        text = _("Consent: not recorded (B-CONSENT-1)")
    else:
        cls, mark = CHECK_LOOK[True]
        text = _("Consent: recorded %(date)s (%(who)s), form %(version)s") % {
            "date": _when(on, DAY),
            "who": CONSENTER_WORDS.get(by, by),
            "version": version,
        }
    return mark_safe(  # noqa: S308 (every value escaped by _e)
        f'<li class="check consent {cls}" id="queue-consent-{_e(episode.pk)}">'
        f'<span class="mark" aria-hidden="true">{mark}</span> {_e(text)} '
        f'<span class="rule-id">{_e(citation("B-CONSENT-1"))}</span></li>'
    )
