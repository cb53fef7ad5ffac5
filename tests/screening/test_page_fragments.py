"""The repeated parts of the screening page (criterion chips, form groups, each group's
status line) as the user sees them on the page and in the live re-evaluation: record
values escaped, both languages, stale and skipped values flagged; and what the page and
the re-evaluation cost in queries."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from core.models import AuditEvent
from screening import selectors, services
from screening.models import Screening
from tests.factories import add_lab
from tests.screening.conftest import HTMX, NOW, TODAY, form_data, start

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

XSS = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"

TEXTS = {
    "en": {
        "source": "From the record: {lab}, observed {at} (result #{id})",
        "skipped": "Not used: result #{id} (2.5 &lt;i&gt;u&lt;/i&gt;, {lab}, {d}) is in a unit "
        "the screening cannot convert.",
        "stale": "Stale: observed {d}, older than the 28-day screening window",
        "chips": ('<span class="chip met">met</span>', '<span class="chip unknown">unknown</span>'),
        "page": (
            'value="treatment_history">+ add a row</button>',
            "<small>(from the patient record)",
        ),
    },
    "zh-hans": {
        "source": "来自记录：{lab}，观察于 {at}（结果 #{id}）",
        "skipped": "未采用：结果 #{id}（2.5 &lt;i&gt;u&lt;/i&gt;，{lab}，{d}）的单位无法被筛选换算。",
        "stale": "已过期：观察于 {d}，早于 28 天筛选窗口",
        "chips": ('<span class="chip met">符合</span>', '<span class="chip unknown">未知</span>'),
        "page": ('value="treatment_history">+ 添加一行</button>', "<small>(来自患者记录)"),
    },
}


def status_of(html, anchor):
    """The text of one group's status line (page or out-of-band fragment)."""
    match = re.search(rf'<div class="fstatus" id="st-{anchor}"[^>]*>(.*?)</div>', html, re.S)
    assert match, f"no status for {anchor}"
    return match.group(1)


@pytest.fixture
def record(ranges, patient, nurse):
    """An ANC from a lab named like a script, platelets with a newer result in a unit the
    screening cannot read, and a haemoglobin older than the screening window."""
    return {
        "anc": add_lab(
            patient, nurse, "anc", "3.2", "10^9/L", when=NOW - timedelta(days=3), lab=XSS
        ),
        "platelets": add_lab(
            patient, nurse, "platelets", "210", "10^9/L", when=NOW - timedelta(days=5)
        ),
        "skipped": add_lab(
            patient, nurse, "platelets", "2.5", "<i>u</i>", when=NOW - timedelta(days=1), lab=XSS
        ),
        "haemoglobin": add_lab(
            patient, nurse, "haemoglobin", "118", "g/L", when=NOW - timedelta(days=40)
        ),
    }


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_it_shows_where_each_value_came_from_escaped_on_the_page_and_when_re_evaluated(
    login, nurse, patient, record, language
):
    screening = start(nurse, patient)
    client = login(nurse)
    client.cookies["django_language"] = language
    text = TEXTS[language]
    page = client.get(f"/screening/{screening.pk}/").content.decode()
    fragments = client.post(
        f"/screening/{screening.pk}/evaluate/", form_data(screening), **HTMX
    ).content.decode()
    source = text["source"].format(
        lab=ESCAPED, at=(NOW - timedelta(days=3)).strftime("%Y-%m-%d %H:%M"), id=record["anc"].pk
    )
    skipped = text["skipped"].format(
        id=record["skipped"].pk, lab=ESCAPED, d=(TODAY - timedelta(days=1)).isoformat()
    )
    stale = text["stale"].format(d=(TODAY - timedelta(days=40)).isoformat())
    for html in (page, fragments):
        assert XSS not in html and "<i>u</i>" not in html
        assert source in status_of(html, "fld-labs-anc")
        assert skipped in status_of(html, "fld-labs-platelets")
        assert stale in status_of(html, "fld-labs-haemoglobin")
        assert all(chip in html for chip in text["chips"])
    assert all(part in page for part in text["page"])


def test_it_flags_a_value_observed_after_the_screening_date(login, nurse, patient, record):
    screening = start(nurse, patient)
    client = login(nurse)
    later = (TODAY + timedelta(days=2)).isoformat()
    fragments = client.post(
        f"/screening/{screening.pk}/evaluate/",
        form_data(screening, **{"labs.haemoglobin.date": later}),
        **HTMX,
    ).content.decode()
    flag = f'<span class="flag stale">Observed {later}, after the screening date</span>'
    assert flag in status_of(fragments, "fld-labs-haemoglobin")
    assert flag in status_of(
        client.get(f"/screening/{screening.pk}/").content.decode(), "fld-labs-haemoglobin"
    )


def test_the_page_and_the_re_evaluation_cost_the_same_queries_every_time(login, nurse, labs):
    screening = start(nurse, labs)
    client = login(nurse)
    client.get(f"/screening/{screening.pk}/")  # settle (sessions, caches)
    counts = {}
    for answer in ("yes", "no", "no"):
        data = form_data(screening, **{"general.survival_gt_6_months": answer})
        with CaptureQueriesContext(connection) as page:
            client.get(f"/screening/{screening.pk}/")
        with CaptureQueriesContext(connection) as evaluation:
            client.post(f"/screening/{screening.pk}/evaluate/", data, **HTMX)
        counts[answer] = (statements(page), statements(evaluation))
    # The page: session, user, permissions, the screening, the newest lab and measurement
    # in one query (is it outdated?). A first version's version list needs no query.
    assert len(counts["yes"][0]) == len(counts["no"][0]) == 5
    # A change: session, user, permissions, the screening, the reference ranges; the row
    # locked (its version only) and written; the audit chain locked and its last entry
    # read (one round trip), appended.
    assert len(counts["yes"][1]) == 9
    (lock,) = [sql for sql in counts["yes"][1] if "FOR UPDATE" in sql]
    assert "xmin" in lock and '"facts"' not in lock
    (chain,) = [sql for sql in counts["yes"][1] if "pg_advisory_xact_lock" in sql]
    assert "core_auditevent" in chain
    # Nothing changed: the same reads; the row is neither locked nor written.
    assert len(counts["no"][1]) == 5
    assert not any("FOR UPDATE" in sql or "INSERT" in sql for sql in counts["no"][1])


def statements(captured):
    """The SQL run, without the savepoints (the test itself runs in a transaction)."""
    return [q["sql"] for q in captured if "SAVEPOINT" not in q["sql"]]


def test_an_unchanged_save_from_an_older_page_keeps_a_newer_save(nurse, labs):
    screening = start(nurse, labs)
    older = Screening.objects.get(pk=screening.pk)
    newer_facts = {**screening.facts, "general": {"survival_gt_6_months": True}}
    services.screening_save_draft(
        actor=nurse, screening=Screening.objects.get(pk=screening.pk), facts=newer_facts
    )
    _screening, saved = services.screening_save_draft(
        actor=nurse, screening=older, facts=older.facts
    )
    assert not saved
    assert Screening.objects.get(pk=screening.pk).facts["general"] == {"survival_gt_6_months": True}
    assert AuditEvent.objects.filter(action="update").count() == 1


def _last_update_facts():
    """The facts paths the newest draft save audited: (old values, new values)."""
    event = AuditEvent.objects.filter(action="update").order_by("-seq").first()
    return event.old_values["facts"], event.new_values["facts"]


def test_a_changed_save_from_an_older_page_is_compared_with_the_row_as_it_is_now(nurse, labs):
    screening = start(nurse, labs)
    older = Screening.objects.get(pk=screening.pk)
    services.screening_save_draft(
        actor=nurse,
        screening=Screening.objects.get(pk=screening.pk),
        facts={**screening.facts, "general": {"survival_gt_6_months": True}},
    )
    changed = {**older.facts, "labs": {**older.facts["labs"]}}
    changed["labs"]["anc"] = {**changed["labs"]["anc"], "value": 2.5}
    _screening, saved = services.screening_save_draft(actor=nurse, screening=older, facts=changed)
    # Audited against the row as it was when locked, not as the older page read it.
    assert saved
    assert _last_update_facts() == (
        {"general.survival_gt_6_months": True, "labs.anc.value": 3.2},
        {"general.survival_gt_6_months": None, "labs.anc.value": 2.5},
    )


def test_a_save_from_a_page_read_before_another_save_is_audited_against_the_locked_row(nurse, labs):
    screening = start(nurse, labs)
    # Read as the views read it, with its row version: the row is written after this.
    older = selectors.get_screening_for_user(nurse, screening.pk)
    services.screening_save_draft(
        actor=nurse,
        screening=selectors.get_screening_for_user(nurse, screening.pk),
        facts={**screening.facts, "general": {"survival_gt_6_months": True}},
    )
    changed = {**older.facts, "labs": {**older.facts["labs"]}}
    changed["labs"]["anc"] = {**changed["labs"]["anc"], "value": 2.5}
    with CaptureQueriesContext(connection) as save:
        _screening, saved = services.screening_save_draft(
            actor=nurse, screening=older, facts=changed
        )
    assert saved
    # The version told it apart: the whole row was locked and read again.
    locks = [q["sql"] for q in save if "FOR UPDATE" in q["sql"]]
    assert len(locks) == 2 and '"facts"' in locks[1]
    assert _last_update_facts() == (
        {"general.survival_gt_6_months": True, "labs.anc.value": 3.2},
        {"general.survival_gt_6_months": None, "labs.anc.value": 2.5},
    )
    assert Screening.objects.get(pk=screening.pk).facts["labs"]["anc"]["value"] == 2.5


def test_a_save_from_a_page_read_after_the_last_save_writes_what_a_draft_save_sets(nurse, labs):
    screening = start(nurse, labs)
    services.screening_save_draft(
        actor=nurse,
        screening=selectors.get_screening_for_user(nurse, screening.pk),
        facts={**screening.facts, "general": {"survival_gt_6_months": True}},
    )
    current = selectors.get_screening_for_user(nurse, screening.pk)
    with CaptureQueriesContext(connection) as save:
        _screening, saved = services.screening_save_draft(
            actor=nurse,
            screening=current,
            facts={**current.facts, "general": {"survival_gt_6_months": False}},
        )
    assert saved
    (update,) = [q["sql"] for q in save if q["sql"].startswith("UPDATE")]
    assert '"facts"' in update and '"patient_id"' not in update
    row = Screening.objects.get(pk=screening.pk)
    assert row.facts["general"] == {"survival_gt_6_months": False}
    assert row.updated_by == nurse
    event = AuditEvent.objects.filter(action="update").order_by("-seq").first()
    assert event.old_values["facts"] == {"general.survival_gt_6_months": True}
    assert event.new_values["facts"] == {"general.survival_gt_6_months": False}


def test_a_value_not_accepted_is_named_the_same_on_the_page_and_when_re_evaluated(
    login, nurse, labs
):
    screening = start(nurse, labs)
    client = login(nurse)
    fragments = client.post(
        f"/screening/{screening.pk}/evaluate/",
        form_data(screening, **{"labs.anc.value": "three"}),
        **HTMX,
    ).content.decode()
    page = client.get(f"/screening/{screening.pk}/").content.decode()
    status = status_of(fragments, "fld-labs-anc")
    assert '<p class="error" role="alert">' in status and ": " in status
    assert status == status_of(page, "fld-labs-anc")


def test_the_screening_read_on_the_ward_is_the_orm_read_in_one_query(
    nurse, labs, django_assert_num_queries
):
    screening = start(nurse, labs)
    orm = selectors.with_row_version(
        Screening.objects.select_related("patient", "patient__ward")
    ).get(pk=screening.pk)
    with django_assert_num_queries(1):
        read = selectors.get_screening_for_user(nurse, screening.pk)
        ward_name = read.patient.ward.name  # already there, as select_related would have it
    assert ward_name == orm.patient.ward.name
    for mine, theirs in (
        (read, orm),
        (read.patient, orm.patient),
        (read.patient.ward, orm.patient.ward),
    ):
        for field in type(theirs)._meta.concrete_fields:
            assert getattr(mine, field.attname) == getattr(theirs, field.attname), field.name
            assert type(getattr(mine, field.attname)) is type(getattr(theirs, field.attname)), (
                field.name
            )
        assert (mine._state.adding, mine._state.db) == (False, "default")
    assert read.evaluation and read.facts["labs"]  # JSON columns decoded, not text
    assert read.row_version == orm.row_version


def test_a_screening_of_another_ward_is_still_refused_and_audited(nurse, labs, nurse_b):
    screening = start(nurse, labs)
    with pytest.raises(Http404):
        selectors.get_screening_for_user(nurse_b, screening.pk)
    denied = AuditEvent.objects.filter(action="access_denied").order_by("-seq").first()
    assert denied.object_id == str(screening.pk) and denied.patient_id == screening.patient_id


@pytest.mark.parametrize("pk", ["²", "١٢", str(10**30), "-1", "0"])
def test_an_id_that_names_no_screening_is_a_404(nurse, labs, pk):
    start(nurse, labs)
    with pytest.raises(Http404):
        selectors.get_screening_for_user(nurse, pk)
