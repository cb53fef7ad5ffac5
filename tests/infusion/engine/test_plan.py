"""build_plan: the episode timeline, statuses, time zones and DST."""

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from infusion.engine import (
    NaiveDatetimeError,
    build_plan,
    parse_plan_input,
    plan_to_text,
)

from . import LONDON, NEW_YORK, SHANGHAI, example_doc


def plan_for(doc):
    return build_plan(parse_plan_input(doc))


def events(plan, kind):
    return [e for e in plan.timeline if e.kind == kind]


def event(plan, kind):
    (found,) = events(plan, kind)
    return found


def with_times(zone_name, prep, start, **patient):
    doc = example_doc()
    doc["ward_time_zone"] = zone_name
    doc["product"]["preparation_time"] = prep
    doc["order"]["planned_start"] = start
    doc["patient"]["weight"]["date"] = start[:10]
    doc["patient"]["platelets"]["date"] = start[:10]
    doc["patient"].update(patient)
    return doc


def test_the_worked_example_is_ready():
    plan = plan_for(example_doc())
    assert plan.status == "ready"
    assert plan.infusion_date == date(2024, 6, 12)
    assert plan.planned_start == datetime(2024, 6, 12, 1, 30, tzinfo=UTC)
    assert plan.planned_end == datetime(2024, 6, 12, 2, 2, 30, tzinfo=UTC)
    assert plan.age_years == 32
    assert plan.attention == ()
    assert plan.requires_acknowledgement == ()


def test_the_timeline_runs_from_day_minus_1_to_day_365():
    plan = plan_for(example_doc())
    offsets = [e.day_offset for e in plan.timeline]
    assert offsets == sorted(offsets)
    assert (offsets[0], offsets[-1]) == (-1, 365)
    first = event(plan, "antiplatelet_first_dose")
    assert (first.day_offset, first.local_date, first.at) == (-1, date(2024, 6, 11), None)
    assert first.day_start == datetime(2024, 6, 10, 16, 0, tzinfo=UTC)  # midnight in Shanghai
    assert event(plan, "antiplatelet_last_dose").local_date == date(2024, 6, 24)
    assert event(plan, "premedication").at == datetime(2024, 6, 12, 1, 0, tzinfo=UTC)
    assert event(plan, "out_of_fridge").at_local == "2024-06-12T09:10+08:00"
    assert [e.at_local for e in events(plan, "rate_phase")] == [
        "2024-06-12T09:30+08:00",
        "2024-06-12T09:40+08:00",
        "2024-06-12T09:50+08:00",
    ]
    assert event(plan, "infusion_end").at_local == "2024-06-12T10:02:30+08:00"
    assert event(plan, "cyclophosphamide_allowed_from").day_offset == 2
    assert event(plan, "blood_count_week_1").day_offset == 7
    assert event(plan, "renal_biopsy").window_end_date == date(2025, 6, 12)
    assert all(e.at is None or e.at.tzinfo == UTC for e in plan.timeline)
    assert {e.rule_id for e in plan.timeline} >= {
        "B-AP-1",
        "B-PREMED-1",
        "B-ADM-4",
        "B-CYC-1",
        "B-FU-1",
        "B-REP-1",
    }


def test_moving_the_start_moves_every_event():
    doc = example_doc()
    before = plan_for(doc)
    doc["order"]["planned_start"] = "2024-06-13T09:30:00+08:00"
    doc["product"]["preparation_time"] = "2024-06-13T07:30:00+08:00"
    after = plan_for(doc)
    assert event(after, "antiplatelet_first_dose").local_date == date(2024, 6, 12)
    assert event(after, "premedication").at - event(before, "premedication").at == timedelta(days=1)
    assert [e.day_offset for e in after.timeline] == [e.day_offset for e in before.timeline]


def test_the_plan_does_not_depend_on_the_clock():
    doc = example_doc()
    with time_machine.travel(datetime(2020, 1, 1, tzinfo=UTC), tick=False):
        first = json.dumps(plan_for(doc).to_dict())
    with time_machine.travel(datetime(2031, 7, 1, 12, 0, tzinfo=UTC), tick=False):
        second = json.dumps(plan_for(doc).to_dict())
    assert first == second


def test_an_early_morning_start_in_shanghai_counts_shanghai_days():
    # 07:00 CST on 1 June is 23:00 UTC on 31 May.
    plan = plan_for(
        with_times("Asia/Shanghai", "2024-06-01T05:00:00+08:00", "2024-06-01T07:00:00+08:00")
    )
    assert plan.infusion_date == date(2024, 6, 1)
    assert event(plan, "antiplatelet_first_dose").local_date == date(2024, 5, 31)
    assert event(plan, "premedication").day_offset == 0
    assert event(plan, "premedication").at.date() == date(2024, 5, 31)  # UTC day differs


def test_new_york_spring_forward():
    # DST starts 2024-03-10 02:00 EST → 03:00 EDT. Prepared 23:00 EST, start 08:00 EDT:
    # 8 elapsed hours (9 on the wall clock), so the end is past the 8-hour warning.
    plan = plan_for(
        with_times("America/New_York", "2024-03-09T23:00:00-05:00", "2024-03-10T08:00:00-04:00")
    )
    assert plan.infusion_date == date(2024, 3, 10)
    assert plan.cold_chain.status == "late"
    assert plan.cold_chain.must_complete_by == datetime(2024, 3, 10, 16, 0, tzinfo=UTC)  # 12:00 EDT
    first = event(plan, "antiplatelet_first_dose")
    assert (first.local_date, first.day_offset) == (date(2024, 3, 9), -1)
    assert first.day_start == datetime(2024, 3, 9, 5, 0, tzinfo=UTC)  # midnight EST
    assert event(plan, "infusion_start").day_start == datetime(2024, 3, 10, 5, 0, tzinfo=UTC)
    assert event(plan, "blood_count_week_1").day_start == datetime(2024, 3, 17, 4, 0, tzinfo=UTC)
    prepared = event(plan, "product_prepared")
    assert (prepared.local_date, prepared.day_offset) == (date(2024, 3, 9), -1)


def test_new_york_fall_back():
    # DST ends 2024-11-03 02:00 EDT → 01:00 EST.
    plan = plan_for(
        with_times("America/New_York", "2024-11-03T00:30:00-04:00", "2024-11-03T07:00:00-05:00")
    )
    # 00:30 EDT → 07:00 EST is 6.5 h on the wall clock but 7.5 elapsed hours; the
    # 32.5-minute infusion ends 8 h 2.5 min after preparation: late.
    assert plan.cold_chain.status == "late"
    assert plan.cold_chain.late_from == datetime(2024, 11, 3, 12, 30, tzinfo=UTC)  # 07:30 EST
    assert event(plan, "antiplatelet_first_dose").local_date == date(2024, 11, 2)
    cyc = event(plan, "cyclophosphamide_allowed_from")
    assert cyc.at == plan.planned_end + timedelta(hours=48)
    assert (cyc.local_date, cyc.day_offset) == (date(2024, 11, 5), 2)


def test_new_york_evening_start_is_the_local_day_not_the_utc_day():
    plan = plan_for(
        with_times("America/New_York", "2024-11-03T19:00:00-05:00", "2024-11-03T21:00:00-05:00")
    )
    assert plan.planned_start.date() == date(2024, 11, 4)
    assert plan.infusion_date == date(2024, 11, 3)
    assert event(plan, "antiplatelet_first_dose").local_date == date(2024, 11, 2)
    assert event(plan, "antiplatelet_last_dose").local_date == date(2024, 11, 15)


def test_london_spring_forward():
    # BST starts 2024-03-31 01:00 GMT. Prepared 00:30 GMT; 8 h later is 09:30 BST.
    plan = plan_for(
        with_times("Europe/London", "2024-03-31T00:30:00+00:00", "2024-03-31T08:00:00+01:00")
    )
    assert plan.cold_chain.late_from.astimezone(LONDON) == datetime(
        2024, 3, 31, 9, 30, tzinfo=LONDON
    )
    assert plan.cold_chain.status == "ok"
    assert event(plan, "antiplatelet_first_dose").local_date == date(2024, 3, 30)
    assert event(plan, "product_prepared").day_offset == 0


def test_a_plan_in_a_zone_with_an_offset_different_from_the_input_offsets():
    # Times written in UTC, ward in Shanghai: days are Shanghai days.
    plan = plan_for(with_times("Asia/Shanghai", "2024-06-11T21:00:00Z", "2024-06-11T23:00:00Z"))
    assert plan.infusion_date == date(2024, 6, 12)
    assert event(plan, "infusion_start").at_local == "2024-06-12T07:00+08:00"


# --- Statuses --------------------------------------------------------------------------


def test_a_not_recommended_patient_blocks_the_plan():
    doc = example_doc()
    doc["patient"]["pap_systolic_mmhg"] = "71"
    plan = plan_for(doc)
    assert plan.status == "blocked"
    assert plan.candidacy.overall == "not_recommended"
    assert plan.attention[0].rule_id == "B-CI-1"


def test_missing_contraindication_data_leaves_the_plan_incomplete():
    doc = example_doc()
    doc["patient"]["pregnant"] = None
    plan = plan_for(doc)
    assert plan.status == "incomplete"
    assert plan.candidacy.unknown_items == ("patient.pregnant",)


def test_an_oversized_volume_blocks_the_plan_and_leaves_the_end_unknown():
    doc = example_doc()
    doc["product"]["suspension_volume_ml"] = "231"
    plan = plan_for(doc)
    assert plan.status == "blocked"
    assert plan.rate_plan.status == "refused"
    assert plan.planned_end is None
    assert plan.cold_chain.status == "unknown"
    assert plan.cyclophosphamide.hold_until is None
    assert not events(plan, "infusion_end") and not events(plan, "rate_phase")


def test_a_late_end_warns_and_an_end_past_12_h_blocks():
    doc = example_doc()
    doc["order"]["planned_start"] = "2024-06-12T15:00:00+08:00"  # ends 15:32:30, prep 07:30
    assert plan_for(doc).status == "ready_with_warnings"
    doc["order"]["planned_start"] = "2024-06-12T19:00:00+08:00"  # ends 19:32:30 > 19:30
    plan = plan_for(doc)
    assert plan.status == "blocked"
    assert plan.cold_chain.status == "refused"


def test_cns_involvement_adds_an_intrathecal_event():
    doc = example_doc()
    doc["patient"]["involvement"]["cns"] = True
    plan = plan_for(doc)
    assert plan.route.intrathecal == "indicated"
    assert event(plan, "intrathecal").at == plan.planned_start


def test_low_platelets_require_acknowledgement():
    doc = example_doc()
    doc["patient"]["platelets"]["value_10e9_per_l"] = "45"
    plan = plan_for(doc)
    assert plan.status == "ready_with_warnings"
    assert [f.rule_id for f in plan.requires_acknowledgement] == ["B-AP-1"]


def test_long_term_antiplatelet_users_have_no_course_events():
    doc = example_doc()
    doc["patient"]["long_term_antiplatelet"] = True
    plan = plan_for(doc)
    assert plan.antiplatelet.status == "not_needed"
    assert not events(plan, "antiplatelet_first_dose")


def test_an_actual_end_replaces_the_planned_end_for_cyclophosphamide():
    doc = example_doc()
    doc["order"]["actual_infusion_end"] = "2024-06-12T10:30:00+08:00"
    plan = plan_for(doc)
    assert not plan.cyclophosphamide.end_is_planned
    assert plan.cyclophosphamide.hold_until == datetime(2024, 6, 14, 2, 30, tzinfo=UTC)


def test_an_out_of_fridge_time_is_checked():
    doc = example_doc()
    doc["order"]["out_of_fridge_at"] = "2024-06-12T09:05:00+08:00"  # 25 min before
    plan = plan_for(doc)
    assert plan.out_of_fridge.status == "too_long"
    assert plan.status == "ready_with_warnings"


def test_a_prior_infusion_is_assessed_for_repeat():
    doc = example_doc()
    doc["patient"]["prior_infusion"] = {
        "infusion_date": "2023-01-10",
        "response": True,
        "response_date": "2023-04-10",
        "relapse": True,
        "relapse_date": "2024-05-01",
    }
    plan = plan_for(doc)
    assert plan.repeat_infusion.status == "eligible"
    assert plan.repeat_infusion.finding in plan.findings


def test_build_plan_rejects_naive_datetimes():
    plan_input = parse_plan_input(example_doc())
    naive = replace(
        plan_input, order=replace(plan_input.order, planned_start=datetime(2024, 6, 12, 9, 30))
    )
    with pytest.raises(NaiveDatetimeError, match="order.planned_start"):
        build_plan(naive)


def test_the_plan_serialises_to_json_and_text():
    plan = plan_for(example_doc())
    data = json.loads(json.dumps(plan.to_dict()))
    assert data["status"] == "ready"
    assert data["timeline"][0]["day_offset"] == -1
    text = plan_to_text(plan)
    assert "Status: ready" in text
    assert "day   -1  2024-06-11" in text
    assert "[INFO] B-AP-1 (R7, 2C)" in text


@pytest.mark.parametrize("zone", [SHANGHAI, NEW_YORK, LONDON])
def test_every_event_day_offset_matches_its_local_date(zone):
    doc = with_times(zone.key, "2024-03-09T20:00:00+00:00", "2024-03-10T03:30:00+00:00")
    plan = plan_for(doc)
    day0 = plan.planned_start.astimezone(zone).date()
    for e in plan.timeline:
        assert e.day_offset == (e.local_date - day0).days
        if e.at is not None:
            assert e.at.astimezone(zone).date() == e.local_date
        assert e.day_start.astimezone(zone).replace(tzinfo=None) == datetime.combine(
            e.local_date, datetime.min.time()
        )
