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

from urllib.parse import urlencode

from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from core.html import esc as _e
from core.html import text as _v

from .kinds import LIST_KINDS, MAX_ROWS, lines_html

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


def _copied(item):
    """Issue 18: a value copied from the patient's previous screening, and who entered it."""
    text = _("Copied from screening #%(id)s of %(date)s, entered by %(name)s") % {
        "id": _v(_get(item, "screening")),
        "date": _v(_get(item, "screening_date")),
        "name": _v(_get(item, "entered_by") or "—"),
    }
    return f'<span class="source copied">{text}</span>'


def gstatus(b, *, window_days, oob=False, copied=None):
    """A group's status: computed scores, where a prefilled or copied value came from,
    values not used, a stale or future date, and the group's messages."""
    calc = "".join(f'<output class="calcout">{_v(line)}</output>' for line in b.calc)
    source = _source(b.source) if b.source else ""
    item = (copied or {}).get(b.group.path)
    if item is not None:
        source += _copied(item)
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


def add_row_button(path, *, rows_url, row):
    """Issue 18: "+ add a row" fetches the next blank row as a fragment (htmx) in place of
    itself; the page and its URL stay. Without JavaScript it still submits the form,
    which draws the page with one more row. Its own hx-sync: the form's "this:replace"
    would cancel the autosave in flight."""
    text = _("+ add a row")  # outside the f-string: makemessages does not look inside
    htmx = ""
    if rows_url and row < MAX_ROWS:
        query = urlencode({"add_row": path, "row": row})
        htmx = (
            f' hx-get="{_e(rows_url)}?{_e(query)}" hx-target="this" hx-swap="outerHTML"'
            ' hx-sync="this:drop" hx-indicator="this"'
        )
    elif rows_url:
        return ""  # the form holds at most MAX_ROWS rows
    return (
        f'<button type="submit" class="link addrow"{htmx} name="add_row" value="{_v(path)}">'
        f"{_e(text)}</button>"
    )


def _next_row(b):
    """The index of the row after the last one drawn (input names "path.<n>.…")."""
    start = b.group.path + "."
    rows = [
        int(head)
        for line in b.lines
        for i in line.inputs
        if i.name.startswith(start) and (head := i.name[len(start) :].split(".", 1)[0]).isdigit()
    ]
    return max(rows, default=-1) + 1


def new_row_html(g, row, *, rows_url):
    """One blank row of a list group (what "+ add a row" fetches), then the button for
    the row after it."""
    lines = g.lines(None, row + 1)[len(g.lines(None, row)) :]
    return mark_safe(  # noqa: S308 (every value escaped by lines_html or _e)
        f"{lines_html(lines)}{add_row_button(g.path, rows_url=rows_url, row=row + 1)}"
    )


def group(b, *, read_only, can_edit, window_days, rows_url="", copied=None):
    g = b.group
    add_row = ""
    if can_edit and g.kind in LIST_KINDS:
        add_row = add_row_button(g.path, rows_url=rows_url, row=_next_row(b))
    return (
        f'<div class="fgroup{" calc" if g.calc else ""} kind-{_v(g.kind)}" id="{_v(b.anchor)}">\n'
        f'  <div class="fhead"><span class="flabel">{_v(g.label)}</span> '
        f'<span class="frules">{" · ".join(_e(r) for r in g.rules)}</span></div>\n'
        f"  {lines_html(b.lines, read_only=bool(read_only))}\n"
        f"  {add_row}\n"
        f"  {gstatus(b, window_days=window_days, copied=copied)}\n"
        "</div>"
    )


def groups_html(groups, *, read_only, can_edit, window_days, rows_url="", copied=None):
    """A section's form groups, each with its inputs and status."""
    return mark_safe(  # noqa: S308 (every value escaped by _v, _e or lines_html)
        "".join(
            group(
                b,
                read_only=read_only,
                can_edit=can_edit,
                window_days=window_days,
                rows_url=rows_url,
                copied=copied,
            )
            for b in groups
        )
    )


def missing_html(undecided):
    """The undecided criteria, each with the values that would decide it (issue 18: the
    list grouped by criterion; an incomplete draft has dozens of items)."""
    out = []
    for u in undecided:
        items = "".join(
            f'<li><a href="#{_v(m["anchor"])}">{_v(m["label"])}</a>'
            f' <span class="why">{_v(m["reason"])}</span></li>'
            for m in u["missing"]
        )
        if not items:
            items = f'<li class="why">{_v(u["reason"])}</li>'
        out.append(
            f'<li class="undecided" id="undecided-{_v(u["rule_id"])}">'
            f'<span class="rule">{_v(u["rule_id"])}</span> <span class="title">{_v(u["title"])}</span>'
            f'<ul class="values">{items}</ul></li>'
        )
    return mark_safe("".join(out))  # noqa: S308 (every value escaped by _v)


def out_of_band_html(sections, *, window_days, copied=None):
    """The re-evaluation's out-of-band swaps: every criterion chip and every group status,
    section by section, so the page never keeps a stale one."""
    out = []
    for s in sections:
        out.extend(criterion(c, oob=True) for c in s["criteria"])
        out.extend(
            gstatus(b, window_days=window_days, oob=True, copied=copied) for b in s["groups"]
        )
    return mark_safe("".join(out))  # noqa: S308 (every value escaped by _v or _e)
