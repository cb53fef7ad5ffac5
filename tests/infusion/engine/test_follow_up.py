"""Follow-up B-FU-1..4 and repeat infusion B-REP-1."""

from datetime import date

import pytest

from infusion.engine import (
    OrganInvolvement,
    PriorInfusion,
    ProtocolSettings,
    follow_up_plan,
    repeat_infusion_eligibility,
)

DAY = date(2024, 6, 12)


def by_kind(items):
    return {i.kind: i for i in items}


def test_it_schedules_blood_count_at_one_week():
    item = by_kind(follow_up_plan(DAY, OrganInvolvement()))["blood_count_week_1"]
    assert item.rule_id == "B-FU-2"
    assert (item.due_date, item.window_start, item.window_end) == (
        date(2024, 6, 19),
        date(2024, 6, 17),
        date(2024, 6, 21),
    )


def test_it_schedules_renal_function_and_urine_protein_at_1_and_3_months():
    items = by_kind(follow_up_plan(DAY, OrganInvolvement(renal=True)))
    assert items["labs_month_1"].due_date == date(2024, 7, 12)
    assert items["labs_month_3"].due_date == date(2024, 9, 12)
    assert "24 h urine protein" in items["labs_month_3"].title
    assert items["labs_month_1"].window_start == date(2024, 7, 5)


def test_it_schedules_disease_activity_assessments():
    items = by_kind(follow_up_plan(DAY, OrganInvolvement()))
    due = {k: i.due_date for k, i in items.items() if k.startswith("assessment_month_")}
    assert due == {
        "assessment_month_1": date(2024, 7, 12),
        "assessment_month_3": date(2024, 9, 12),
        "assessment_month_6": date(2024, 12, 12),
        "assessment_month_12": date(2025, 6, 12),
    }
    assert all(items[k].rule_id == "B-FU-1" for k in due)
    assert "SLEDAI, BILAG" in items["assessment_month_6"].title


def test_the_assessment_months_are_a_setting():
    items = follow_up_plan(
        DAY, OrganInvolvement(), settings=ProtocolSettings(assessment_months=(3, 12))
    )
    assert [i.kind for i in items if i.rule_id == "B-FU-1"] == [
        "assessment_month_3",
        "assessment_month_12",
    ]


def test_months_are_clamped_to_the_end_of_short_months():
    items = by_kind(follow_up_plan(date(2024, 8, 31), OrganInvolvement(renal=True)))
    assert items["labs_month_1"].due_date == date(2024, 9, 30)
    assert items["assessment_month_6"].due_date == date(2025, 2, 28)


def test_it_adds_echo_and_chest_ct_at_6_months_for_heart_or_lungs():
    assert "echo_chest_ct_month_6" not in by_kind(follow_up_plan(DAY, OrganInvolvement()))
    for involvement in (OrganInvolvement(pulmonary=True), OrganInvolvement(cardiac=True)):
        item = by_kind(follow_up_plan(DAY, involvement))["echo_chest_ct_month_6"]
        assert (item.rule_id, item.due_date) == ("B-FU-3", date(2024, 12, 12))
    with_ph = by_kind(follow_up_plan(DAY, OrganInvolvement(), pulmonary_hypertension="mild"))
    assert "echo_chest_ct_month_6" in with_ph


def test_b_fu_2_hepatic_involvement_schedules_liver_function_and_ultrasound():
    items = by_kind(follow_up_plan(DAY, OrganInvolvement(hepatic=True)))
    ultrasound = items["organ_ultrasound_month_6"]
    assert (ultrasound.rule_id, ultrasound.due_date) == ("B-FU-2", date(2024, 12, 12))
    assert "hepatic" in ultrasound.title
    labs = items["labs_month_6"]
    assert "liver" in labs.title and "hepatic" in labs.title
    assert "labs_month_6" not in by_kind(follow_up_plan(DAY, OrganInvolvement(hepatic=False)))


def test_b_fu_3_an_elevated_pasp_without_a_grade_schedules_echo_and_chest_ct():
    assert "echo_chest_ct_month_6" in by_kind(
        follow_up_plan(DAY, OrganInvolvement(), pasp_elevated=True)
    )
    assert "echo_chest_ct_month_6" not in by_kind(follow_up_plan(DAY, OrganInvolvement()))


def test_it_adds_a_repeat_renal_biopsy_for_lupus_nephritis():
    assert "renal_biopsy" not in by_kind(follow_up_plan(DAY, OrganInvolvement(renal=False)))
    item = by_kind(follow_up_plan(DAY, OrganInvolvement(renal=True)))["renal_biopsy"]
    assert item.rule_id == "B-FU-3"
    assert (item.window_start, item.window_end) == (date(2024, 12, 12), date(2025, 6, 12))


def test_it_gives_maintenance_advice():
    item = by_kind(follow_up_plan(DAY, OrganInvolvement()))["maintenance_review"]
    assert item.rule_id == "B-FU-4"
    assert "low-dose glucocorticoid" in item.title and "another therapy" in item.title


def test_items_are_sorted_and_serialisable():
    items = follow_up_plan(DAY, OrganInvolvement(renal=True, pulmonary=True))
    assert [i.due_date for i in items] == sorted(i.due_date for i in items)
    data = items[0].to_dict()
    assert set(data) >= {"rule_id", "title", "due_date", "window_start", "window_end", "grade"}


# --- B-REP-1 ---------------------------------------------------------------------------


def test_a_relapse_after_a_documented_response_is_eligible():
    result = repeat_infusion_eligibility(
        PriorInfusion(date(2023, 6, 1), True, date(2023, 9, 1), True, date(2024, 3, 1))
    )
    assert result.status == "eligible"
    assert result.finding.citation == "R10, 2B"
    assert result.finding.reason_params == {
        "response": "2023-09-01",
        "relapse": "2024-03-01",
        "infusion": "2023-06-01",
    }


@pytest.mark.parametrize(
    ("prior", "status"),
    [
        (PriorInfusion(date(2023, 6, 1), False, None, True, date(2024, 3, 1)), "not_eligible"),
        (PriorInfusion(date(2023, 6, 1), True, date(2023, 9, 1), False, None), "not_eligible"),
        (
            PriorInfusion(date(2023, 6, 1), True, date(2023, 9, 1), True, date(2023, 9, 1)),
            "not_eligible",
        ),
        (
            PriorInfusion(date(2023, 6, 1), True, date(2023, 9, 1), True, date(2023, 8, 1)),
            "not_eligible",
        ),
        (
            PriorInfusion(date(2023, 6, 1), True, date(2023, 5, 1), True, date(2023, 8, 1)),
            "not_eligible",
        ),
        (PriorInfusion(date(2023, 6, 1), None, None, True, date(2024, 3, 1)), "unknown"),
        (PriorInfusion(date(2023, 6, 1), True, None, True, date(2024, 3, 1)), "unknown"),
        (PriorInfusion(date(2023, 6, 1), True, date(2023, 9, 1), None, None), "unknown"),
        (PriorInfusion(date(2023, 6, 1), True, date(2023, 9, 1), True, None), "unknown"),
    ],
)
def test_repeat_infusion_needs_a_dated_response_then_a_later_relapse(prior, status):
    result = repeat_infusion_eligibility(prior)
    assert result.status == status
    assert result.finding.rule_id == "B-REP-1"
    assert result.finding.severity == {"not_eligible": "block", "unknown": "unknown"}[status]
