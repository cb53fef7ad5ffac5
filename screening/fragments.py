"""The repeated fragments of the screening page, drawn in Python: a criterion chip, a form
group, a group's status line and the missing-to-decide items. A page has ~30 chips, ~40
groups and up to a few dozen missing items, and the live re-evaluation sends every chip
and every status again out of band. As template partials they cost more than half of
the page's CPU (a partial render, a context push and a dozen variable lookups each); as
f-strings, a fraction of that.

The markup is exactly what the template partials drew. Every value goes through ``_v``,
which prints a value as ``{{ value }}`` does (localized, then escaped), and the
translated sentences keep the msgids the templates' ``{% blocktranslate %}`` gave them,
so the catalogue still covers them. ``mark_safe`` only wraps strings built from escaped
parts.
"""

from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from core.html import esc as _e
from core.html import text as _v

from .kinds import LIST_KINDS, lines_html

_OOB = ' hx-swap-oob="true"'


def _get(obj, key):
    """``{{ obj.key }}`` on a dict: a missing key prints as nothing."""
    return obj.get(key, "") if isinstance(obj, dict) else ""


def criterion(c, *, oob=False):
    status = _v(c["status"])
    rule = _v(c["rule_id"])
    return (
        f'<div class="criterion is-{status}" id="crit-{rule}"{_OOB if oob else ""}>\n'
        f'  <span class="chip {status}">{_v(c["status_label"])}</span> '
        f'<strong class="rule">{rule}</strong> <span class="title">{_v(c["title"])}</span>\n'
        f'  <div class="reason">{_v(c["reason"])}</div>\n'
        "</div>"
    )


def criteria_html(criteria):
    """A section's criteria chips."""
    return mark_safe("".join(criterion(c) for c in criteria))  # noqa: S308 (escaped by _v)


def _source(source):
    if source.get("source") == "lab_result":
        text = _("From the record: %(lab)s, observed %(at)s (result #%(id)s)") % {
            "lab": _v(_get(source, "lab")),
            "at": _v(_get(source, "when")),
            "id": _v(_get(source, "id")),
        }
    elif source.get("source") == "measurement":
        text = _("From the record: measured %(at)s (#%(id)s)") % {
            "at": _v(_get(source, "when")),
            "id": _v(_get(source, "id")),
        }
    else:
        text = ""
    text += "\n    "
    uln = source.get("uln")
    if uln:
        text += "<br>" + _("ULN %(uln)s from the reference range of %(lab)s") % {
            "uln": _v(_get(uln, "uln")),
            "lab": _v(_get(uln, "lab")),
        }
    return f'<span class="source">{text}</span>'


def _skipped(s):
    text = _(
        "Not used: result #%(id)s (%(value)s %(unit)s, %(lab)s, %(d)s) is in a unit "
        "the screening cannot convert."
    ) % {
        "id": _v(_get(s, "id")),
        "value": _v(_get(s, "value")),
        "unit": _v(_get(s, "unit")),
        "lab": _v(_get(s, "lab")),
        "d": _v(_get(s, "date")),
    }
    return f'<span class="flag skipped">{text}</span>'


def gstatus(b, *, window_days, oob=False):
    """A group's status: computed scores, where a prefilled value came from, values not
    used, a stale or future date, and the group's messages."""
    calc = "".join(f'<output class="calcout">{_v(line)}</output>' for line in b.calc)
    source = _source(b.source) if b.source else ""
    skipped = "".join(_skipped(s) for s in b.skipped)
    if b.stale == "stale":
        stale = _("Stale: observed %(d)s, older than the %(n)s-day screening window") % {
            "d": _v(b.observed_on),
            "n": _v(window_days),
        }
        stale = f'<span class="flag stale">{stale}</span>\n  '
    elif b.stale == "future":
        stale = _("Observed %(d)s, after the screening date") % {"d": _v(b.observed_on)}
        stale = f'<span class="flag stale">{stale}</span>'
    else:
        stale = ""
    errors = "".join(
        f'<p class="error" role="alert">{f"{_v(label)}: " if label else ""}{_v(message)}</p>'
        for label, message in b.errors
    )
    return (
        f'<div class="fstatus" id="st-{_v(b.anchor)}"{_OOB if oob else ""}>\n'
        f"  {calc}\n"
        f"  {source}\n"
        f"  {skipped}\n"
        f"  {stale}\n"
        f"  {errors}\n"
        "</div>"
    )


def group(b, *, read_only, can_edit, window_days):
    g = b.group
    add_row = ""
    if can_edit and g.kind in LIST_KINDS:
        text = _("+ add a row")  # outside the f-string: makemessages does not look inside
        add_row = (
            f'<button type="submit" class="link addrow" name="add_row" value="{_v(g.path)}">'
            f"{_e(text)}</button>"
        )
    return (
        f'<div class="fgroup{" calc" if g.calc else ""} kind-{_v(g.kind)}" id="{_v(b.anchor)}">\n'
        f'  <div class="fhead"><span class="flabel">{_v(g.label)}</span> '
        f'<span class="frules">{" · ".join(_e(r) for r in g.rules)}</span></div>\n'
        f"  {lines_html(b.lines, read_only=bool(read_only))}\n"
        f"  {add_row}\n"
        f"  {gstatus(b, window_days=window_days)}\n"
        "</div>"
    )


def groups_html(groups, *, read_only, can_edit, window_days):
    """A section's form groups, each with its inputs and status."""
    return mark_safe(  # noqa: S308 (every value escaped by _v, _e or lines_html)
        "".join(
            group(b, read_only=read_only, can_edit=can_edit, window_days=window_days)
            for b in groups
        )
    )


def missing_html(missing):
    """The items of the "missing to decide" list (an incomplete draft has dozens)."""
    return mark_safe(  # noqa: S308 (every value escaped by _v)
        "".join(
            f'<li><a href="#{_v(m["anchor"])}">{_v(m["label"])}</a> <span class="why">'
            f'<span class="rule">{_v(m["rule_id"])}</span> · {_v(m["reason"])}</span></li>'
            for m in missing
        )
    )


def out_of_band_html(sections, *, window_days):
    """The re-evaluation's out-of-band swaps: every criterion chip and every group status,
    section by section, so the page never keeps a stale one."""
    out = []
    for s in sections:
        out.extend(criterion(c, oob=True) for c in s["criteria"])
        out.extend(gstatus(b, window_days=window_days, oob=True) for b in s["groups"])
    return mark_safe("".join(out))  # noqa: S308 (every value escaped by _v or _e)
