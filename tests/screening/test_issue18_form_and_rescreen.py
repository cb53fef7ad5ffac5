"""Issue 18 (3, 4): one explained count of what is undecided, "+ add a row" as a fragment
that keeps the page, drug names translated inside reasons, and a re-screen that copies
what is still valid from the patient's last signed screening, with its source."""

import re
from datetime import timedelta

import pytest
from django.utils import translation

from core.models import AuditEvent
from screening import services
from screening.demo import sle_facts
from screening.engine import render_reason
from tests.factories import PASSWORD, add_lab, add_weight, make_patient
from tests.screening.conftest import HTMX, LAB, NORMAL_LABS, NOW, TODAY, start

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


def _text(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


# --- 3. The form ------------------------------------------------------------------------


def test_issue_18_one_count_names_undecided_criteria_and_the_values_that_decide_them(
    login, nurse, labs
):
    screening = start(nurse, labs)  # prefilled labs only: most criteria undecided
    html = login(nurse).get(f"/screening/{screening.pk}/").content.decode()
    unknown = [c["rule_id"] for c in screening.evaluation["criteria"] if c["status"] == "unknown"]
    fields = {m["field"] for m in screening.evaluation["missing"]}
    banner = _text(html[html.index('id="banner"') :][:400])
    assert (
        f"Incomplete: {len(unknown)} criteria undecided — {len(fields)} values would decide them."
        in banner
    )
    assert "Missing to decide" not in html and "still unknown" not in html
    # The list is grouped by criterion: each undecided criterion, with its values under it.
    panel = html[html.index('id="missing"') :]
    assert re.findall(r'id="undecided-([A-Z0-9-]+)"', panel) == unknown
    consent = panel[panel.index('id="undecided-A-GEN-5"') :].split('class="undecided"')[0]
    assert 'href="#fld-general-consent_signed"' in consent and "Informed consent" in consent


def test_issue_18_add_a_row_is_a_fragment_of_one_blank_row_and_the_next_button(login, nurse, labs):
    screening = start(nurse, labs)
    client = login(nurse)
    page = client.get(f"/screening/{screening.pk}/").content.decode()
    button = re.search(
        r'<button type="submit" class="link addrow"[^>]*value="treatment_history">', page
    )
    assert (
        button
        and f'hx-get="/screening/{screening.pk}/rows/?add_row=treatment_history&amp;row=2"'
        in button.group(0)
    )
    response = client.get(
        f"/screening/{screening.pk}/rows/", {"add_row": "treatment_history", "row": "2"}, **HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200
    # Two rows are drawn (one blank at least): the fragment is the third, blank.
    assert 'name="treatment_history.2.drug"' in html and "treatment_history.1." not in html
    assert '<span class="caption">3.</span>' in html
    assert 'name="treatment_history.2.start" value=""' in html
    assert "row=3" in html and ">+ add a row</button>" in html  # the button, for the next row
    assert AuditEvent.objects.filter(action="update").count() == 0  # nothing was saved


def test_issue_18_add_a_row_refuses_what_is_not_a_list_and_what_cannot_be_edited(
    login, nurse, pharmacist, labs
):
    screening = start(nurse, labs)
    url = f"/screening/{screening.pk}/rows/"
    client = login(nurse)
    for params in (
        {"add_row": "labs.anc", "row": "1"},
        {"add_row": "treatment_history", "row": "30"},
        {"add_row": "treatment_history", "row": "-1"},
        {"add_row": "nonsense", "row": "x"},
    ):
        assert client.get(url, params, **HTMX).status_code == 400, params
    assert client.post(url, {"add_row": "treatment_history", "row": "1"}).status_code == 405
    assert (
        login(pharmacist).get(url, {"add_row": "treatment_history", "row": "1"}).status_code == 403
    )


def test_issue_18_drug_names_inside_a_reason_are_translated_on_display():
    part = {
        "template": "glucocorticoid + ≥ {minimum} immunosuppressants together: never before"
        " {until} (immunosuppressants given: {drugs})",
        "params": {"minimum": "2", "until": "2026-03-02", "drugs": "azathioprine, tacrolimus"},
    }
    with translation.override("zh-hans"):
        shown = render_reason({"reason_parts": [part]}, translation.gettext)
    assert "硫唑嘌呤" in shown and "azathioprine" not in shown and "tacrolimus" not in shown


# --- 4. A re-screen copies what is still valid ------------------------------------------


def _screened_before(frozen, ward, nurse, physician, days_ago, **dated):
    """A patient, record and a signed SLE screening all made ``days_ago`` days before NOW
    (labs two days before that); ``dated`` moves chosen dated values (path: days before
    NOW) to test the window. Returns (patient, signed screening)."""
    frozen.move_to(NOW - timedelta(days=days_ago))
    patient = make_patient(ward, name="Screened Before")
    when = NOW - timedelta(days=days_ago + 2)
    for analyte, value, unit in NORMAL_LABS:
        add_lab(patient, nurse, analyte, value, unit, when=when, lab=LAB)
    add_weight(patient, nurse, "58.5", when=when)
    screening = start(physician, patient)
    facts = sle_facts(screening.facts, TODAY - timedelta(days=days_ago), "F")
    for path, age in dated.items():
        section, key = path.split(".")
        day = (TODAY - timedelta(days=age)).isoformat()
        facts[section][key] = {**facts[section][key], "date": day}
    screening, _saved = services.screening_save_draft(
        actor=physician, screening=screening, facts=facts
    )
    assert screening.outcome == "eligible", screening.failing_rules
    screening = services.screening_sign(actor=physician, screening=screening, password=PASSWORD)
    frozen.move_to(NOW)
    return patient, screening


def test_issue_18_a_rescreen_copies_values_within_the_window_with_their_source(
    login, frozen, physician, nurse, ranges, ward_a
):
    patient, before = _screened_before(frozen, ward_a, nurse, physician, 20)
    screening = start(nurse, patient)
    previous = before.facts
    for path in ("consent_signed", "survival_gt_6_months"):
        assert screening.facts["general"][path] == previous["general"][path]
    assert screening.facts["organ_function"] == previous["organ_function"]
    assert screening.facts["treatment_history"] == previous["treatment_history"]  # history
    assert screening.facts["sle"]["sledai_2k"] == previous["sle"]["sledai_2k"]
    html = login(nurse).get(f"/screening/{screening.pk}/").content.decode()
    source = (
        f"Copied from screening #{before.pk} of {before.screening_date.isoformat()},"
        f" entered by {physician.get_full_name()}"
    )
    for anchor in (
        "fld-general-consent_signed",
        "fld-treatment_history",
        "fld-organ_function-spo2_room_air_percent",
    ):
        status = html[html.index(f'id="st-{anchor}"') :][:700]
        assert source in status, anchor
    note = _text(html[html.index('id="copy-note"') :][:1500])
    assert f"Copied from screening #{before.pk} of {before.screening_date.isoformat()}:" in note
    assert "Not copied" not in note
    # Labs come from the record, as before (the copy is not newer).
    assert screening.facts["meta"]["sources"]["labs.anc"]["source"] == "lab_result"
    created = AuditEvent.objects.get(action="create", object_id=str(screening.pk))
    assert created.new_values["copied_from"] == before.pk
    assert "general.consent_signed" in created.new_values["copied"]
    assert created.new_values["not_copied"] == []


def test_issue_18_a_value_one_day_past_the_window_is_not_copied_and_the_page_says_why(
    login, frozen, physician, nurse, ranges, ward_a
):
    patient, before = _screened_before(
        frozen,
        ward_a,
        nurse,
        physician,
        20,
        **{"general.consent_signed": 29, "organ_function.spo2_room_air_percent": 28},
    )
    screening = start(nurse, patient)
    assert "consent_signed" not in screening.facts.get("general", {})
    spo2 = screening.facts["organ_function"]["spo2_room_air_percent"]
    assert spo2 == before.facts["organ_function"]["spo2_room_air_percent"]  # exactly 28 days
    html = login(nurse).get(f"/screening/{screening.pk}/").content.decode()
    note = _text(html[html.index('id="copy-note"') :][:2500])
    consent_day = (TODAY - timedelta(days=29)).isoformat()
    assert (
        f"Not copied: Informed consent — observed {consent_day}, older than the 28-day"
        " screening window" in note
    )
    created = AuditEvent.objects.get(action="create", object_id=str(screening.pk))
    assert created.new_values["not_copied"] == ["general.consent_signed"]


def test_issue_18_a_copied_value_changed_by_hand_loses_its_copy_source(
    login, frozen, physician, nurse, ranges, ward_a
):
    patient, before = _screened_before(frozen, ward_a, nurse, physician, 20)
    screening = start(nurse, patient)
    facts = {
        **screening.facts,
        "general": {**screening.facts["general"], "survival_gt_6_months": False},
    }
    screening, _saved = services.screening_save_draft(actor=nurse, screening=screening, facts=facts)
    html = login(nurse).get(f"/screening/{screening.pk}/").content.decode()
    survival = html[html.index('id="st-fld-general-survival_gt_6_months"') :][:400]
    partner = html[html.index('id="st-fld-general-has_reproductive_partner"') :][:400]
    assert f"Copied from screening #{before.pk}" not in survival
    assert f"Copied from screening #{before.pk}" in partner
