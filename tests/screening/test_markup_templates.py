"""Issue 23: the screening form's repeated markup (inputs, lines, groups, criterion chips,
group statuses, missing items, "+ add a row", the re-evaluation's out-of-band swaps) moved
from Python f-strings into Jinja2 templates, and the page reads the same: every input
kind, chip status and status line, in English and Simplified Chinese, compared with the
old renderers kept in tests/screening/legacy_markup.py.

Compared whitespace-normalised, and with the two spellings of a quote the escapers use
made one: Django's escaping writes ' and " as &#x27; and &quot;, Jinja2's (markupsafe) as
&#39; and &#34; — the same characters to a browser."""

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.utils import translation

from screening import fragments, selectors
from screening.demo import iim_facts, sle_facts
from screening.fields import LIST_KINDS, Bound, bind, group_for_path
from screening.kinds import Input, Line
from tests.screening import legacy_markup as legacy

LANGUAGES = ["en", "zh-hans"]
INDICATIONS = ["SLE", "dcSSc", "AAV", "IIM", "SS"]
TODAY = date(2026, 3, 2)
HOSTILE = "<script>alert('x\")</script> & Sjögren's"
ROWS_URL = "/screening/7/rows/?a='b'&c"


def same(html):
    html = str(html).replace("&#39;", "&#x27;").replace("&#34;", "&quot;")
    return re.sub(r"\s+", " ", html).replace("> <", "><").strip()


@pytest.fixture(params=LANGUAGES)
def language(request):
    with translation.override(request.param):
        yield request.param


def _facts(indication):
    base = {"screening_date": TODAY.isoformat(), "indication": indication}
    if indication == "SLE":
        return sle_facts(base, TODAY, "F")
    if indication == "IIM":
        return iim_facts(base, TODAY, "F")
    if indication == "AAV":
        bvas = [
            {
                "date": (TODAY - timedelta(days=3)).isoformat(),
                "items": [
                    {"item": "scleritis", "major": True, "new": True},
                    {"item": "no-such-item", "major": False, "new": False},
                ],
            }
        ]
        return {**base, "aav": {"bvas_assessments": bvas}}
    return base


def _bound(indication, *, invalid):
    """The indication's sections bound as the page binds them; with ``invalid``, the
    first input of every group holds what was typed and a message (issue 16)."""
    facts = _facts(indication)
    if not invalid:
        return bind(indication, facts)
    typed, errors = {}, {}
    for _section, groups in bind(indication, facts):
        for b in groups:
            for i in (i for line in b.lines for i in line.inputs if i.widget != "readonly"):
                typed[i.name] = [i.value] if i.widget == "checkbox" else f"x{HOSTILE}"
                errors[i.name] = [f"Not read: {HOSTILE}"]
                break
            errors[b.group.path] = ["A message for the whole group."]
    return bind(indication, facts, invalid_inputs=typed, errors=errors)


COPIED = {
    "labs.anc": {"screening": 1234, "screening_date": "2026-02-01", "entered_by": HOSTILE},
    "screening_date": {"screening": 5, "screening_date": "2026-02-01"},
    "general.consent_signed": {"screening": 6, "screening_date": "2026-02-01"},
}


@pytest.mark.parametrize("invalid", [False, True], ids=["values", "typed-with-errors"])
@pytest.mark.parametrize("indication", INDICATIONS)
def test_every_group_of_every_form_draws_as_before(language, indication, invalid):
    sections = _bound(indication, invalid=invalid)
    for read_only, can_edit, rows_url in ((False, True, ROWS_URL), (True, False, "")):
        for _section, groups in sections:
            kwargs = {
                "read_only": read_only,
                "can_edit": can_edit,
                "window_days": 28,
                "rows_url": rows_url,
                "copied": COPIED,
            }
            assert same(fragments.groups_html(groups, **kwargs)) == same(
                legacy.groups_html(groups, **kwargs)
            )
    laid_out = [{"criteria": [], "groups": groups} for _section, groups in sections]
    assert same(fragments.out_of_band_html(laid_out, window_days=14, copied=COPIED)) == same(
        legacy.out_of_band_html(laid_out, window_days=14, copied=COPIED)
    )


@pytest.mark.parametrize("indication", ["SLE", "AAV"])
def test_add_a_row_draws_the_same_row_and_button(language, indication):
    lists = [b.group for _s, groups in bind(indication, {}) for b in groups]
    lists = [g for g in lists if g.kind in LIST_KINDS]
    assert lists
    for g in lists:
        for row in (0, 2, 28, 29):  # the last row has no htmx button after it
            assert same(fragments.new_row_html(g, row, rows_url=ROWS_URL)) == same(
                legacy.new_row_html(g, row, rows_url=ROWS_URL)
            )


def _inputs():
    options = [("a'b", "A<b>"), ("2", "two"), ("", "—"), (HOSTILE, HOSTILE)]
    number = {"step": "any", "min": 0, "max": 10, "inputmode": "decimal"}
    return [
        Input("x.ro", "readonly", "Age", 35),
        Input("x.ro2", "readonly", HOSTILE, ""),
        Input("x.cb", "checkbox", HOSTILE, "v'1", checked=True),
        Input("x.cb2", "checkbox", "plain", "1"),
        Input("x.sel", "select", HOSTILE, "a'b", options, size="m"),
        Input("x.sel2", "select", "S", "2", options, errors=["bad"]),
        Input("x.num", "number", "N", "1.5", attrs=number, size="xs"),
        Input("x.num2", "number", "N", "abc<", attrs=number, errors=["Enter a number."]),
        Input("x.date", "date", "D", "2026-01-01", size="m"),
        Input("x.date2", "date", "D", "2026-13-01", errors=["x"], attrs={"min": "1900-01-01"}),
        Input("x.text", "text", "T", HOSTILE, attrs={"placeholder": "1.2"}, size="s"),
        Input("x with space.t", "text", "", ""),
    ]


def _statuses(indication):
    """Group statuses with every kind of line: a record's lab result and its ULN, a
    measurement, values not used, copied, stale and future dates, messages, scores."""
    g = group_for_path(indication, "labs.anc")
    lines = [Line(HOSTILE, _inputs()[:6], "grid"), Line("", _inputs()[6:])]
    skipped = [
        {"id": 7, "value": 2.5, "unit": "<i>u</i>", "lab": HOSTILE, "date": "2026-03-01"},
        {"id": 1234567, "value": "3", "unit": "x", "lab": "L", "date": "2026-03-01"},
    ]
    lab_result = {
        "source": "lab_result",
        "lab": HOSTILE,
        "when": "2026-02-27 10:00",
        "id": 12345,
        "uln": {"uln": 1.25, "lab": HOSTILE},
    }
    errors = [("Label", "msg <b>"), ("", "Only a message")]
    measured = {"source": "measurement", "when": "2026-02-27 10:00", "id": 99999}
    return [
        Bound(g, lines, errors, lab_result, "stale", "2026-01-01", ["calc <1>", "2"], skipped),
        Bound(g, lines, [], measured, "future", "2026-04-01", [], []),
        Bound(g, [], [], {"source": "other", "uln": {"uln": "35", "lab": "Lab"}}, "", "", [], []),
        Bound(g, [], [], {"source": "lab_result"}, "", "", [], []),
    ]


def _criteria():
    chips = [
        {
            "status": status,
            "rule_id": "A-X-1",
            "status_label": selectors.status_label(status),
            "title": HOSTILE,
            "reason": f"{HOSTILE} 1234.5",
        }
        for status in ("met", "not_met", "unknown")
    ]
    odd = {"status": "met", "rule_id": 12345, "status_label": "", "title": 1.5, "reason": None}
    return [*chips, odd]


def _undecided():
    missing = [
        {"anchor": "fld-a", "label": HOSTILE, "reason": "r1"},
        {"anchor": "fld-b", "label": "L", "reason": 12345},
    ]
    return [
        {"rule_id": "A-X-1", "title": HOSTILE, "reason": "why", "missing": missing},
        {"rule_id": "A-X-2", "title": "T", "reason": HOSTILE, "missing": []},
    ]


@pytest.mark.parametrize("indication", ["SLE", "IIM"])
def test_chips_statuses_inputs_and_missing_items_draw_as_before(language, indication):
    statuses = _statuses(indication)
    criteria = _criteria()
    assert same(fragments.criteria_html(criteria)) == same(legacy.criteria_html(criteria))
    for read_only in (False, True):
        kwargs = {
            "read_only": read_only,
            "can_edit": not read_only,
            "window_days": 14,
            "rows_url": ROWS_URL,
            "copied": COPIED,
        }
        new = fragments.groups_html(statuses, **kwargs)
        assert same(new) == same(legacy.groups_html(statuses, **kwargs))
    sections = [{"criteria": criteria, "groups": statuses}]
    assert same(fragments.out_of_band_html(sections, window_days=14, copied=COPIED)) == same(
        legacy.out_of_band_html(sections, window_days=14, copied=COPIED)
    )
    assert same(fragments.missing_html(_undecided())) == same(legacy.missing_html(_undecided()))
    # What the user sees: escaped values, the sentences in the page's language.
    status = same(legacy.gstatus(statuses[0], window_days=14))
    assert "<script>" not in same(new) and "&lt;script&gt;" in same(new)
    expected = {"en": "older than the 14-day screening window", "zh-hans": "早于 14 天筛选窗口"}
    assert expected[language] in status and expected[language] in same(new)


@pytest.mark.django_db
@pytest.mark.usefixtures("frozen")
def test_the_page_and_the_re_evaluation_print_the_fragments_unescaped(login, nurse, labs):
    from screening.evaluation import window_days
    from tests.screening.conftest import HTMX, form_data, start

    screening = start(nurse, labs)
    client = login(nurse)
    client.cookies["django_language"] = "zh-hans"
    page = same(client.get(f"/screening/{screening.pk}/").content.decode())
    live = same(
        client.post(
            f"/screening/{screening.pk}/evaluate/", form_data(screening), **HTMX
        ).content.decode()
    )
    window = window_days(screening.screening_date)
    with translation.override("zh-hans"):
        for _section, groups in bind("SLE", screening.facts, window_days=window):
            drawn = legacy.groups_html(
                groups,
                read_only=False,
                can_edit=True,
                window_days=window,
                rows_url=f"/screening/{screening.pk}/rows/",
            )
            assert same(drawn) in page
        for _section, groups in bind("SLE", screening.facts, window_days=window, inputs=False):
            for b in groups:
                assert same(legacy.gstatus(b, window_days=window, oob=True)) in live
    assert "+ 添加一行" in page and 'class="chip unknown">未知</span>' in live


def test_no_markup_is_built_in_python_in_the_screening_app():
    app = Path(__file__).resolve().parents[2] / "screening"
    built = re.compile(
        r"""\bf["']{1,3}\s*<|mark_safe|format_html|Markup\(|core\.html|core import html"""
    )
    found = [
        f"{path.relative_to(app)}:{n}"
        for path in app.rglob("*.py")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if built.search(line)
    ]
    assert found == []
