"""The repeated fragments of the screening page: criterion chips, form groups (their
lines of inputs and status), the missing-to-decide items and the re-evaluation's
out-of-band swaps. A page has ~30 chips, ~40 groups, ~150 inputs with ~500 options and
up to a few dozen missing items, and the live re-evaluation sends every chip and status
again out of band: they are macros of one Jinja2 template (screening/jinja2/screening/
form.jinja, issue 23), compiled once (``core.jinja.template``) and called here directly,
a render's set-up saved on each; autoescaped, their markup is printed into the Django page
as it is. The markup is what the page has always had; sentences keep their msgids.
"""

from core.jinja import template

FORM = "screening/form.jinja"


def _form():
    """The macros of the form template (its module, kept with the compiled template)."""
    return template(FORM).module


def criteria_html(criteria):
    """A section's criteria chips."""
    return _form().criteria(criteria)


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
    return _form().new_row(lines, g.path, rows_url, row + 1)


def groups_html(groups, *, read_only, can_edit, window_days, rows_url="", copied=None):
    """A section's form groups, each with its inputs and status."""
    return _form().groups(
        groups, bool(read_only), can_edit, window_days, rows_url, copied, _next_row
    )


def missing_html(undecided):
    """The undecided criteria, each with the values that would decide it."""
    return _form().missing(undecided)


def out_of_band_html(sections, *, window_days, copied=None):
    """The re-evaluation's out-of-band swaps: every criterion chip and every group status,
    section by section, so the page never keeps a stale one."""
    return _form().out_of_band(sections, window_days, copied)
