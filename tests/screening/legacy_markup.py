"""The screening form's markup as it was drawn in Python before issue 23 moved it into
templates (screening/kinds.py ``Input.html``/``lines_html``, screening/fragments.py),
kept only so tests/screening/test_markup_templates.py can show the templates draw the
same page. Test-only: nothing in the app imports it. ``esc``/``text`` are core/html.py's
as they were (``conditional_escape`` and ``{{ value }}``)."""

import re
from html import escape as _html_escape
from urllib.parse import urlencode

from django.utils.formats import localize
from django.utils.translation import gettext as _

from screening.kinds import LIST_KINDS, MAX_ROWS

_SPECIAL = re.compile("[&<>\"']").search
_OOB = ' hx-swap-oob="true"'


def _e(value):
    if type(value) is str:
        return _html_escape(value) if _SPECIAL(value) else value
    if hasattr(value, "__html__"):
        return value.__html__()
    return _html_escape(str(value))


def _v(value):
    return _e(localize(value))


def input_html(i, read_only=False):
    ident = _e(i.id)
    off = " disabled" if read_only else ""
    invalid = ' aria-invalid="true"' if i.errors else ""
    if i.widget == "readonly":
        note = _("from the patient record")
        return (
            f'<span class="ro" id="{ident}">{_e(i.value or "—")} <small>({_e(note)})</small></span>'
        )
    if i.widget == "checkbox":
        checked = " checked" if i.checked else ""
        return (
            f'<label class="cb" for="{ident}"><input type="checkbox" id="{ident}" '
            f'name="{_e(i.name)}" value="{_e(i.value)}"{checked}{off}> '
            f"{_e(i.label)}</label>"
        )
    if i.widget == "select":
        current = str(i.value)
        options = "".join(
            f'<option value="{_e(value)}"{" selected" if str(value) == current else ""}>'
            f"{_e(label)}</option>"
            for value, label in i.options
        )
        control = f'<select id="{ident}" name="{_e(i.name)}"{invalid}{off}>{options}</select>'
    else:
        kind, attrs = i.widget, i.attrs
        if i.errors and kind in ("number", "date"):
            kind = "text"
            attrs = {k: v for k, v in attrs.items() if k not in ("min", "max", "step")}
        attrs = "".join(f' {_e(k)}="{_e(v)}"' for k, v in attrs.items())
        control = (
            f'<input type="{_e(kind)}" id="{ident}" name="{_e(i.name)}" '
            f'value="{_e(i.value)}"{attrs}{invalid}{off}>'
        )
    return (
        f'<label class="in {_e(i.size)}" for="{ident}"><span>{_e(i.label)}</span>{control}</label>'
    )


def lines_html(lines, read_only=False):
    out = []
    for line in lines:
        caption = f'<span class="caption">{_e(line.caption)}</span>' if line.caption else ""
        inputs = "".join(input_html(i, read_only=read_only) for i in line.inputs)
        out.append(f'<div class="fline {_e(line.cls)}">{caption}{inputs}</div>')
    return "".join(out)


def _get(obj, key):
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
    return "".join(criterion(c) for c in criteria)


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
    text = _("Copied from screening #%(id)s of %(date)s, entered by %(name)s") % {
        "id": _v(_get(item, "screening")),
        "date": _v(_get(item, "screening_date")),
        "name": _v(_get(item, "entered_by") or "—"),
    }
    return f'<span class="source copied">{text}</span>'


def gstatus(b, *, window_days, oob=False, copied=None):
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
    text = _("+ add a row")
    htmx = ""
    if rows_url and row < MAX_ROWS:
        query = urlencode({"add_row": path, "row": row})
        htmx = (
            f' hx-get="{_e(rows_url)}?{_e(query)}" hx-target="this" hx-swap="outerHTML"'
            ' hx-sync="this:drop" hx-indicator="this"'
        )
    elif rows_url:
        return ""
    return (
        f'<button type="submit" class="link addrow"{htmx} name="add_row" value="{_v(path)}">'
        f"{_e(text)}</button>"
    )


def _next_row(b):
    start = b.group.path + "."
    rows = [
        int(head)
        for line in b.lines
        for i in line.inputs
        if i.name.startswith(start) and (head := i.name[len(start) :].split(".", 1)[0]).isdigit()
    ]
    return max(rows, default=-1) + 1


def new_row_html(g, row, *, rows_url):
    lines = g.lines(None, row + 1)[len(g.lines(None, row)) :]
    return f"{lines_html(lines)}{add_row_button(g.path, rows_url=rows_url, row=row + 1)}"


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
    return "".join(
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


def missing_html(undecided):
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
    return "".join(out)


def out_of_band_html(sections, *, window_days, copied=None):
    out = []
    for s in sections:
        out.extend(criterion(c, oob=True) for c in s["criteria"])
        out.extend(
            gstatus(b, window_days=window_days, oob=True, copied=copied) for b in s["groups"]
        )
    return "".join(out)
