"""The Python renderers the Jinja2 fragments replaced (issue 23), kept only to prove the
templates print the same HTML: the order cells of infusion_tags and the audit browser's
rows of core/templatetags/audit_rows.py as they were at commit cacac3a, with core/html.py's
``esc``/``text``. Test-only: nothing outside tests imports this."""

import re
from datetime import datetime
from decimal import Decimal
from html import escape as _html_escape

from django.utils import timezone
from django.utils.formats import localize
from django.utils.text import Truncator
from django.utils.timezone import template_localtime
from django.utils.translation import gettext as _
from django.utils.translation import override

from core.clinical_time import plausible_year
from core.models import Role
from core.templatetags.ward_time import implausible, when
from infusion.engine import RULES
from infusion.planning import DRUG_LABELS, ROUTE_LABELS, UNIT_LABELS

_SPECIAL = re.compile("[&<>\"']").search


def _e(value):
    if type(value) is str:
        return _html_escape(value) if _SPECIAL(value) else value
    if hasattr(value, "__html__"):
        return value.__html__()
    return _html_escape(str(value))


def _v(value):
    return _e(localize(value))


# --- infusion_tags: order cells ---------------------------------------------------------

DAY = "%Y-%m-%d"
MINUTE = "%Y-%m-%d %H:%M"


def citation(rule_id):
    rule = RULES.get(rule_id)
    if rule is None:
        return rule_id
    return f"{rule_id} ({rule.citation or rule.section})"


def citations(rule_ids):
    return "".join(f'<span class="rule-id">{_e(citation(r))}</span> ' for r in rule_ids or ())


def dose_text(order):
    dose = Decimal(order.dose)
    if order.dose_unit == "cells":
        e6 = (dose / Decimal(1_000_000)).normalize()
        return _("%(n)s × 10⁶ cells") % {"n": format(e6, "f")}
    return f"{format(dose.normalize(), 'f')} {UNIT_LABELS.get(order.dose_unit, order.dose_unit)}"


def plain_decimal(value):
    if value is None or value == "":
        return "—"
    return format(Decimal(value).normalize(), "f")


def _when(value, pattern):
    if value is None:
        return ""
    if not plausible_year(value):
        return implausible(value)
    if isinstance(value, datetime):
        value = template_localtime(value)
    return value.strftime(pattern)


def _label(labels, key, make, value):
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
    except (KeyError, ValueError):
        with override(None):
            text = _("Voided signature: %(meaning)s %(name)s") % values
    return f'<div class="sig voided">{text} ({_e(signature.void_reason)})</div>'


def order_cells(row):
    labels = {}
    o = row.order
    kind = _label(labels, ("kind", o.kind), type(o).get_kind_display, o)
    status = _label(labels, ("status", o.status), type(o).get_status_display, o)
    drug = _label(labels, ("drug", o.drug), lambda c: DRUG_LABELS.get(c, c), o.drug)
    route = _label(labels, ("route", o.route), lambda c: ROUTE_LABELS.get(c, c), o.route)
    volume = f"<br><small>{_e(plain_decimal(o.volume_ml))} mL</small>" if o.volume_ml else ""
    scheduled = _when(o.scheduled_at, MINUTE) if o.scheduled_at else ""
    days = f"{_when(o.first_day, DAY)} → {_when(o.last_day, DAY)}" if o.first_day else ""
    rejected = f"<br><small>{_e(o.reject_reason)}</small>" if o.status == "rejected" else ""
    cancelled = f"<br><small>{_e(o.cancel_reason)}</small>" if o.status == "cancelled" else ""
    signatures = ""
    if row.prescribed or row.override or row.verified:
        signatures = _signature_labels()
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


# --- core/templatetags/audit_rows.py ------------------------------------------------------

_ROLE_LABELS = dict(Role.choices)


def _audit_row(e):
    at = when(timezone.localtime(e.at), "Y-m-d H:i:s")
    obj = _v(e.object_type) + (f":{_v(e.object_id)}" if e.object_id else "")
    old = "" if e.old_values is None else _v(e.old_values)
    new = "" if e.new_values is None else _v(e.new_values)
    request = _v(Truncator(e.request_id).chars(10))
    role = _ROLE_LABELS.get(e.actor_role, e.actor_role)
    return (
        f"\n    <tr><td>{_v(e.seq)}</td><td>{_v(at)}</td><td>{_v(e.actor_username or '—')}</td>"
        f"<td>{_v(role)}</td><td>{_v(e.action)}</td>\n"
        f"      <td>{obj}</td>\n"
        f"      <td><code>{old}</code></td><td><code>{new}</code></td>\n"
        f"      <td>{_v(e.reason)}</td><td><small>{request} {_v(e.client_ip or '')}</small></td>"
        f"<td><small>{_v(e.app_version)}</small></td></tr>\n"
        "    "
    )


def audit_rows(events):
    return "".join(_audit_row(e) for e in events)


def normalised(html):
    """``html`` with each run of whitespace as one space and none beside a tag."""
    return re.sub(r" ?(<[^>]*>) ?", r"\1", re.sub(r"\s+", " ", str(html))).strip()
