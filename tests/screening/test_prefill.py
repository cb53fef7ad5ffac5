"""Prefill from the patient's record (dates, sources, ULNs from the reference ranges, stale
values flagged) and the outdated marking when new data arrives after the evaluation."""

from datetime import timedelta
from decimal import Decimal

import pytest

from core.models import AuditEvent, ReferenceRange
from screening.models import Screening
from tests.factories import PASSWORD, add_lab, add_weight
from tests.screening.conftest import HTMX, LAB, NOW, complete, form_data, start

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


def test_labs_and_weight_in_the_window_are_prefilled_with_date_and_source(login, nurse, labs):
    screening = start(nurse, labs)
    facts = screening.facts
    day = (NOW - timedelta(days=3)).date().isoformat()
    assert facts["labs"]["creatinine"] == {
        "value": 66,
        "unit": "µmol/L",
        "date": day,
        "lab": LAB,
        "uln": 84,  # the female range
    }
    assert facts["labs"]["haemoglobin"]["unit"] == "g/L"
    assert facts["labs"]["total_bilirubin"]["value"] == 11  # core "bilirubin"
    assert facts["patient"] == {
        "date_of_birth": "1990-05-17",
        "sex": "female",
        "weight_kg": {"value": 58.5, "date": day},
    }
    source = facts["meta"]["sources"]["labs.creatinine"]
    assert source["source"] == "lab_result" and source["lab"] == LAB and source["date"] == day
    assert facts["meta"]["uln_sources"]["labs.creatinine"]["sex"] == "F"
    html = login(nurse).get(f"/screening/{screening.pk}/").content.decode()
    status = html[html.index('id="st-fld-labs-creatinine"') :][:600]
    assert f"From the record: {LAB}, observed {day}" in status
    assert "ULN 84 from the reference range of Hospital central lab" in status


def test_the_uln_comes_from_the_range_for_the_patients_sex_then_any_sex(nurse, ranges, ward_a):
    from tests.factories import make_patient

    man = make_patient(ward_a, sex="M")
    add_lab(man, nurse, "creatinine", 90, "umol/L", when=NOW - timedelta(days=1), lab=LAB)
    add_lab(man, nurse, "inr", "1.1", "ratio", when=NOW - timedelta(days=1), lab=LAB)
    facts = start(nurse, man).facts
    assert facts["labs"]["creatinine"]["uln"] == 104  # male range
    assert facts["labs"]["inr"]["uln"] == 1.2  # range for any sex


def test_a_uln_in_another_unit_is_converted(nurse, patient):
    ReferenceRange.objects.create(
        lab="Other lab", analyte="creatinine", sex="", unit="mg/dL", upper=Decimal("1.0")
    )
    add_lab(
        patient, nurse, "creatinine", 70, "umol/L", when=NOW - timedelta(days=1), lab="Other lab"
    )
    assert start(nurse, patient).facts["labs"]["creatinine"]["uln"] == 88.4


def test_a_lab_without_a_reference_range_has_no_uln_and_its_criterion_is_unknown(nurse, patient):
    add_lab(patient, nurse, "inr", "1.0", "ratio", when=NOW - timedelta(days=1), lab="Unknown lab")
    add_lab(patient, nurse, "aptt", "30", "s", when=NOW - timedelta(days=1), lab="Unknown lab")
    screening = start(nurse, patient)
    assert "uln" not in screening.facts["labs"]["inr"]
    org2 = next(c for c in screening.evaluation["criteria"] if c["rule_id"] == "A-ORG-2")
    assert org2["status"] == "unknown" and "no ULN" in org2["reason"]


def test_the_latest_value_on_or_before_the_screening_date_is_used(nurse, ranges, patient):
    add_lab(patient, nurse, "platelets", 150, "10^9/L", when=NOW - timedelta(days=10))
    add_lab(patient, nurse, "platelets", 180, "10^9/L", when=NOW - timedelta(days=2))
    add_lab(patient, nurse, "platelets", 999, "10^9/L", when=NOW + timedelta(days=2))
    assert start(nurse, patient).facts["labs"]["platelets"]["value"] == 180


def test_a_stale_value_is_prefilled_flagged_and_leaves_its_criterion_unknown(
    login, nurse, ranges, patient
):
    old = NOW - timedelta(days=40)
    add_lab(patient, nurse, "anc", "2.0", "10^9/L", when=old)
    screening = start(nurse, patient)
    assert screening.facts["labs"]["anc"]["date"] == old.date().isoformat()
    org1 = next(c for c in screening.evaluation["criteria"] if c["rule_id"] == "A-ORG-1")
    assert org1["status"] == "unknown" and "stale" in org1["reason"]
    html = login(nurse).get(f"/screening/{screening.pk}/").content.decode()
    status = html[html.index('id="st-fld-labs-anc"') :][:700]
    assert (
        f"Stale: observed {old.date().isoformat()}, older than the 28-day screening window"
        in status
    )


def test_a_new_lab_marks_the_draft_outdated_and_it_is_re_evaluated_on_open(
    login, nurse, labs, frozen
):
    screening = complete(start(nurse, labs), nurse)
    assert screening.outcome == "eligible"
    frozen.shift(timedelta(hours=2))
    add_lab(labs, nurse, "platelets", 12, "10^9/L", when=NOW + timedelta(hours=1))
    html = login(nurse).get(f"/screening/{screening.pk}/").content.decode()
    assert "Patient data was recorded after the last evaluation" in html
    assert "Platelets" in html[html.index("msg warning") :][:400]
    screening.refresh_from_db()
    assert screening.facts["labs"]["platelets"]["value"] == 12
    assert screening.outcome == "ineligible" and screening.failing_rules == ["A-ORG-1"]
    event = AuditEvent.objects.filter(action="update", object_type="screening.Screening").latest(
        "seq"
    )
    assert event.new_values["facts"]["labs.platelets.value"] == 12
    assert "re-evaluated" in event.reason


def test_a_value_typed_later_than_the_record_is_kept(login, nurse, labs, frozen):
    screening = start(nurse, labs)
    login(nurse).post(
        f"/screening/{screening.pk}/evaluate/",
        form_data(
            screening, **{"labs.platelets.value": "190", "labs.platelets.date": "2026-03-01"}
        ),
        **HTMX,
    )
    frozen.shift(timedelta(hours=1))
    add_lab(labs, nurse, "platelets", 100, "10^9/L", when=NOW - timedelta(days=5))  # older
    login(nurse).get(f"/screening/{screening.pk}/")
    screening.refresh_from_db()
    assert screening.facts["labs"]["platelets"]["value"] == 190


def test_a_new_weight_also_marks_it_outdated(login, nurse, labs, frozen):
    screening = start(nurse, labs)
    frozen.shift(timedelta(hours=1))
    add_weight(labs, nurse, "61", when=NOW + timedelta(minutes=30))
    login(nurse).get(f"/screening/{screening.pk}/")
    screening.refresh_from_db()
    assert screening.facts["patient"]["weight_kg"]["value"] == 61


def test_a_signed_screening_is_flagged_not_changed(login, physician, nurse, labs, frozen):
    screening = complete(start(physician, labs), physician)
    login(physician).post(
        f"/screening/{screening.pk}/sign/", {"password": PASSWORD, "username": "doc"}
    )
    screening.refresh_from_db()
    assert screening.status == "signed"
    frozen.shift(timedelta(hours=1))
    add_lab(labs, nurse, "platelets", 12, "10^9/L")
    html = login(physician).get(f"/screening/{screening.pk}/").content.decode()
    assert "New patient data was recorded after this assessment was signed" in html
    after = Screening.objects.get(pk=screening.pk)
    assert after.facts == screening.facts and after.signature_valid()
    log = login(physician).get("/screening/").content.decode()
    assert "new patient data" not in log  # only drafts are flagged in the log


def test_observation_days_are_the_wards_local_days(nurse, ranges, patient):
    from datetime import UTC, datetime

    # 01:00 on the screening day in the ward's zone (still the day before in UTC).
    add_lab(patient, nurse, "anc", "2.0", "10^9/L", when=datetime(2026, 3, 1, 17, 0, tzinfo=UTC))
    # 00:30 the day after the screening, local time: not yet observed on the screening date.
    add_lab(patient, nurse, "anc", "9.9", "10^9/L", when=datetime(2026, 3, 2, 16, 30, tzinfo=UTC))
    anc = start(nurse, patient).facts["labs"]["anc"]
    assert anc["value"] == 2 and anc["date"] == "2026-03-02"
