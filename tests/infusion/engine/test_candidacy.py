"""Candidacy: B-IND-1..5 and B-CI-1..3."""

from dataclasses import replace

import pytest

from infusion.engine import CandidacyInput, OrganInvolvement, assess_candidacy

from . import D

BASE = CandidacyInput(
    age_years=32,
    sle_severity="severe",
    sle_active=True,
    involvement=OrganInvolvement(renal=True, haematological=False, cns=False),
    msc_source="allogeneic_umbilical_cord",
    infection=False,
    other_autoimmune_disease=False,
    pap_systolic_mmhg=D(28),
    pulmonary_hypertension="none",
    severe_cardiopulmonary_insufficiency=False,
    pregnant=False,
    lactating=False,
    tumour=False,
    sex="female",
)


def findings_for(result, rule_id):
    return [f for f in result.findings if f.rule_id == rule_id]


def one(result, rule_id):
    (finding,) = findings_for(result, rule_id)
    return finding


def test_it_recommends_active_severe_sle_with_renal_involvement():
    result = assess_candidacy(BASE)
    assert result.overall == "recommended"
    finding = one(result, "B-IND-1")
    assert (finding.status, finding.recommendation, finding.grade) == ("recommended", "R1", "1B")
    assert "renal" in finding.reason
    assert result.unknown_items == ()


# --- B-IND-1 ---------------------------------------------------------------------------


def test_it_does_not_recommend_mild_sle():
    result = assess_candidacy(replace(BASE, sle_severity="mild"))
    assert result.overall == "not_recommended"
    finding = one(result, "B-IND-1")
    assert finding.status == "not_recommended"
    assert finding.reason_params == {"severity": "mild"}
    assert finding.citation == "R1, 1B"


def test_it_accepts_moderate_sle():
    assert one(assess_candidacy(replace(BASE, sle_severity="moderate")), "B-IND-1").status == (
        "recommended"
    )


def test_it_gives_notice_for_inactive_disease():
    result = assess_candidacy(replace(BASE, sle_active=False))
    assert result.overall == "allowed_with_notice"
    assert one(result, "B-IND-1").status == "allowed_with_notice"


def test_it_marks_unknown_severity_incomplete():
    result = assess_candidacy(replace(BASE, sle_severity=None))
    assert result.overall == "incomplete"
    assert "patient.sle.severity" in result.unknown_items


# --- B-IND-2 ---------------------------------------------------------------------------


def test_it_does_not_recommend_autologous_msc():
    result = assess_candidacy(replace(BASE, msc_source="autologous"))
    assert result.overall == "not_recommended"
    finding = one(result, "B-IND-2")
    assert (finding.status, finding.citation) == ("not_recommended", "R2, 1A")


def test_it_allows_bone_marrow_and_notices_other_tissue():
    assert assess_candidacy(replace(BASE, msc_source="allogeneic_bone_marrow")).overall == (
        "recommended"
    )
    other = assess_candidacy(replace(BASE, msc_source="allogeneic_other"))
    assert other.overall == "allowed_with_notice"


def test_it_needs_the_msc_source():
    result = assess_candidacy(replace(BASE, msc_source=None))
    assert result.overall == "incomplete"
    assert "product.msc_source" in result.unknown_items


# --- B-IND-3, B-IND-4 ------------------------------------------------------------------


def test_it_allows_concurrent_infection_with_notice():
    result = assess_candidacy(replace(BASE, infection=True))
    assert result.overall == "allowed_with_notice"
    finding = one(result, "B-IND-3")
    assert (finding.status, finding.citation) == ("allowed_with_notice", "R8, 2B")
    assert "treat the infection" in finding.reason


def test_it_does_not_block_on_unrecorded_infection():
    result = assess_candidacy(replace(BASE, infection=None))
    assert result.overall == "recommended"
    assert one(result, "B-IND-3").severity == "info"


def test_it_allows_other_autoimmune_disease_with_a_note():
    result = assess_candidacy(
        replace(BASE, other_autoimmune_disease=True, other_autoimmune_names=("SS",))
    )
    assert result.overall == "recommended"
    finding = one(result, "B-IND-4")
    assert (finding.status, finding.citation) == ("allowed", "R9, 1B")
    assert "SS" in finding.reason


# --- B-IND-5: ages 17/18/59/60 ---------------------------------------------------------


# Updated for issue 19: digest B-IND-5 ("Children and older adults are not
# contraindicated"); older adult = 老年人, ≥ 60 by default (ward setting), no longer ≥ 65.
@pytest.mark.parametrize(
    ("age", "status"),
    [
        (17, "allowed_with_notice"),
        (18, "allowed"),
        (59, "allowed"),
        (60, "allowed_with_notice"),
    ],
)
def test_it_flags_children_and_older_adults(age, status):
    result = assess_candidacy(replace(BASE, age_years=age))
    finding = one(result, "B-IND-5")
    assert finding.status == status
    assert finding.reason_params["age"] == str(age)
    expected_overall = "recommended" if status == "allowed" else "allowed_with_notice"
    assert result.overall == expected_overall


def test_b_ind_5_the_older_adult_age_is_a_ward_setting():
    from infusion.engine import ProtocolSettings

    settings = ProtocolSettings(older_adult_from_years=65)
    assert one(assess_candidacy(replace(BASE, age_years=64), settings), "B-IND-5").status == (
        "allowed"
    )
    assert one(assess_candidacy(replace(BASE, age_years=65), settings), "B-IND-5").status == (
        "allowed_with_notice"
    )


def test_it_rejects_a_negative_age():
    with pytest.raises(ValueError):
        assess_candidacy(replace(BASE, age_years=-1))


# --- B-CI-1: 70 vs 71 mmHg -------------------------------------------------------------


@pytest.mark.parametrize("pap", [D(70), D("70.0")])
def test_it_allows_pap_of_70(pap):
    result = assess_candidacy(replace(BASE, pap_systolic_mmhg=pap, pulmonary_hypertension=None))
    assert one(result, "B-CI-1").status == "allowed"
    assert result.overall == "recommended"


@pytest.mark.parametrize("pap", [D(71), D("70.1")])
def test_it_does_not_recommend_pap_above_70(pap):
    result = assess_candidacy(
        replace(BASE, pap_systolic_mmhg=pap, pulmonary_hypertension="moderate")
    )
    finding = one(result, "B-CI-1")
    assert finding.status == "not_recommended"
    assert finding.reason_params["pap"] == str(pap)
    assert "70 mmHg" in finding.reason
    assert result.overall == "not_recommended"


def test_it_does_not_recommend_mild_ph_with_severe_cardiopulmonary_insufficiency():
    result = assess_candidacy(
        replace(
            BASE,
            pap_systolic_mmhg=D(45),
            pulmonary_hypertension="mild",
            severe_cardiopulmonary_insufficiency=True,
        )
    )
    assert one(result, "B-CI-1").status == "not_recommended"


def test_it_allows_moderate_ph_without_severe_insufficiency():
    result = assess_candidacy(
        replace(
            BASE,
            pap_systolic_mmhg=D(60),
            pulmonary_hypertension="moderate",
            severe_cardiopulmonary_insufficiency=False,
        )
    )
    assert one(result, "B-CI-1").status == "allowed"
    assert result.overall == "recommended"


def test_it_needs_cardiopulmonary_function_for_mild_ph():
    result = assess_candidacy(
        replace(
            BASE,
            pap_systolic_mmhg=D(45),
            pulmonary_hypertension="mild",
            severe_cardiopulmonary_insufficiency=None,
        )
    )
    assert result.overall == "incomplete"
    assert "patient.severe_cardiopulmonary_insufficiency" in result.unknown_items


def test_it_does_not_recommend_recorded_severe_ph_without_pap():
    result = assess_candidacy(
        replace(BASE, pap_systolic_mmhg=None, pulmonary_hypertension="severe")
    )
    assert one(result, "B-CI-1").status == "not_recommended"


def test_it_does_not_pass_unknown_pulmonary_hypertension():
    result = assess_candidacy(replace(BASE, pap_systolic_mmhg=None, pulmonary_hypertension=None))
    assert result.overall == "incomplete"
    assert one(result, "B-CI-1").status == "unknown"


def test_it_needs_cardiopulmonary_function_when_only_an_elevated_pap_is_known():
    # Updated for issue 19: digest B-CI-1 — a PASP above normal and ≤ 70 mmHg is
    # mild–moderate PH on the source's own scale, so only the insufficiency is missing.
    result = assess_candidacy(
        replace(
            BASE,
            pap_systolic_mmhg=D(50),
            pulmonary_hypertension=None,
            severe_cardiopulmonary_insufficiency=None,
        )
    )
    assert result.overall == "incomplete"
    assert result.unknown_items == ("patient.severe_cardiopulmonary_insufficiency",)


# --- B-CI-1 (issue 19): the PASP on the source's scale, grade/PASP conflicts -------------


@pytest.mark.parametrize(
    ("pap", "insufficiency", "status"),
    [
        (D(70), False, "allowed"),
        (D(70), True, "not_recommended"),
        (D(71), False, "not_recommended"),
        (D(71), True, "not_recommended"),
    ],
)
def test_b_ci_1_pasp_70_and_71_with_and_without_insufficiency_and_no_grade(
    pap, insufficiency, status
):
    result = assess_candidacy(
        replace(
            BASE,
            pap_systolic_mmhg=pap,
            pulmonary_hypertension=None,
            severe_cardiopulmonary_insufficiency=insufficiency,
        )
    )
    assert one(result, "B-CI-1").status == status
    assert result.unknown_items == ()


def test_b_ci_1_pasp_55_with_recorded_insufficiency_is_not_recommended_without_a_grade():
    # The review's case: it used to say "cardiopulmonary function not recorded".
    result = assess_candidacy(
        replace(
            BASE,
            pap_systolic_mmhg=D(55),
            pulmonary_hypertension=None,
            severe_cardiopulmonary_insufficiency=True,
        )
    )
    finding = one(result, "B-CI-1")
    assert (finding.status, finding.missing) == ("not_recommended", ())
    assert "not recorded" not in finding.reason
    assert result.overall == "not_recommended"


@pytest.mark.parametrize(("pap", "status"), [(D(35), "allowed"), (D("35.1"), "not_recommended")])
def test_b_ci_1_the_upper_limit_of_normal_pasp_is_not_pulmonary_hypertension(pap, status):
    result = assess_candidacy(
        replace(
            BASE,
            pap_systolic_mmhg=pap,
            pulmonary_hypertension=None,
            severe_cardiopulmonary_insufficiency=True,
        )
    )
    assert one(result, "B-CI-1").status == status


def test_b_ci_1_a_grade_of_none_does_not_hide_a_pasp_of_40_with_insufficiency():
    result = assess_candidacy(
        replace(
            BASE,
            pap_systolic_mmhg=D(40),
            pulmonary_hypertension="none",
            severe_cardiopulmonary_insufficiency=True,
        )
    )
    finding = one(result, "B-CI-1")
    assert finding.status == "not_recommended"
    assert "Data conflict" in finding.reason


def test_b_ci_1_a_conflicting_grade_and_pasp_without_insufficiency_is_unknown():
    result = assess_candidacy(
        replace(
            BASE,
            pap_systolic_mmhg=D(40),
            pulmonary_hypertension="none",
            severe_cardiopulmonary_insufficiency=False,
        )
    )
    finding = one(result, "B-CI-1")
    assert (finding.status, finding.severity) == ("unknown", "unknown")
    assert "Data conflict" in finding.reason
    assert result.overall == "incomplete"


def test_b_ci_1_a_mild_grade_with_a_normal_pasp_is_a_conflict():
    result = assess_candidacy(
        replace(
            BASE,
            pap_systolic_mmhg=D(30),
            pulmonary_hypertension="mild",
            severe_cardiopulmonary_insufficiency=True,
        )
    )
    finding = one(result, "B-CI-1")
    assert finding.status == "not_recommended" and "Data conflict" in finding.reason


def test_b_ci_1_a_grade_that_agrees_with_the_pasp_is_no_conflict():
    result = assess_candidacy(
        replace(
            BASE,
            pap_systolic_mmhg=D(50),
            pulmonary_hypertension="moderate",
            severe_cardiopulmonary_insufficiency=False,
        )
    )
    finding = one(result, "B-CI-1")
    assert finding.status == "allowed" and "conflict" not in finding.reason


# --- B-CI-2, B-CI-3 --------------------------------------------------------------------


@pytest.mark.parametrize("field", ["pregnant", "lactating", "tumour"])
def test_it_does_not_recommend_pregnancy_lactation_or_tumour(field):
    result = assess_candidacy(replace(BASE, **{field: True}))
    assert result.overall == "not_recommended"
    rule_id = "B-CI-3" if field == "tumour" else "B-CI-2"
    assert any(f.status == "not_recommended" for f in findings_for(result, rule_id))


@pytest.mark.parametrize("field", ["pregnant", "lactating", "tumour"])
def test_it_lists_unknown_contraindications(field):
    result = assess_candidacy(replace(BASE, **{field: None}))
    assert result.overall == "incomplete"
    assert f"patient.{field}" in result.unknown_items


def test_it_treats_pregnancy_as_not_applicable_for_men():
    result = assess_candidacy(replace(BASE, sex="male", pregnant=None, lactating=None))
    assert result.overall == "recommended"
    assert {f.status for f in findings_for(result, "B-CI-2")} == {"not_applicable"}


def test_not_recommended_wins_over_unknown():
    result = assess_candidacy(replace(BASE, tumour=True, pregnant=None))
    assert result.overall == "not_recommended"
    assert "patient.pregnant" in result.unknown_items


def test_it_serialises_findings_with_rule_and_grade():
    data = assess_candidacy(replace(BASE, infection=True)).to_dict()
    infection = next(f for f in data["findings"] if f["rule_id"] == "B-IND-3")
    assert infection["citation"] == "R8, 2B"
    assert infection["reason"] == infection["reason_template"] % infection["reason_params"]
