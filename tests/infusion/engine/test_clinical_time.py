"""C-TIME-1 as pure rules: the one plausibility check of a recorded clinical time, what the
charted rates could infuse (issue 15, early end) and the engine's ``actual_infusion_end``
(B-CYC-1: an end before preparation never moves the cyclophosphamide hold earlier)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from core.clinical_time import check_clinical_time
from infusion.engine import (
    build_plan,
    parse_plan_input,
    plan_from_document,
    validate_plan_input,
)
from infusion.engine.infused import earliest_complete_end, volume_infused_ml

from . import SHANGHAI, example_doc, local

NOW = local(2026, 12, 8, 10, 0)
BIRTH = date(1990, 5, 17)


def codes(at, **kwargs):
    kwargs.setdefault("now", NOW)
    kwargs.setdefault("zone", SHANGHAI)
    return [p.code for p in check_clinical_time(at, what="The time", **kwargs)]


def test_now_plus_five_minutes_is_accepted_and_one_second_more_is_refused():
    assert codes(NOW + timedelta(minutes=5)) == []
    assert codes(NOW + timedelta(minutes=5, seconds=1)) == ["future"]


def test_the_birth_day_is_accepted_and_the_day_before_is_refused():
    assert codes(local(1990, 5, 17, 0, 0), birth_date=BIRTH) == []
    assert codes(local(1990, 5, 16, 23, 59), birth_date=BIRTH) == ["before_birth"]


def test_the_preparation_time_is_accepted_and_a_second_before_is_refused():
    prep = local(2026, 12, 8, 7, 30)
    assert codes(prep, prepared_at=prep) == []
    assert codes(prep - timedelta(seconds=1), prepared_at=prep) == ["before_preparation"]


def test_an_end_at_its_start_is_refused_and_a_second_later_accepted():
    """Decision: an end must be strictly after its start (nothing infused at 0 s)."""
    start = local(2026, 12, 8, 9, 0)
    assert codes(start, after=(start, "the start")) == ["before_event"]
    assert codes(start + timedelta(seconds=1), after=(start, "the start")) == []


def test_not_before_allows_the_same_instant():
    received = local(2026, 12, 8, 9, 0)
    assert codes(received, not_before=(received, "reception")) == []
    assert codes(received - timedelta(seconds=1), not_before=(received, "reception")) == [
        "before_event"
    ]


@pytest.mark.parametrize("year", [1, 1899])
def test_a_date_before_1900_is_refused(year):
    """Issue 16's poison rows: year 1 is not a clinical time."""
    assert codes(datetime(year, 1, 1, tzinfo=UTC), birth_date=BIRTH) == ["too_old"]
    assert codes(datetime(1900, 1, 1, tzinfo=UTC)) == []


def test_messages_name_the_time_in_the_ward_zone():
    (problem,) = check_clinical_time(
        NOW + timedelta(hours=1), now=NOW, what="The end time", zone=SHANGHAI
    )
    assert problem.message.startswith("The end time (2026-12-08 11:00) is in the future")


def test_a_naive_time_is_a_programming_error():
    with pytest.raises(ValueError):
        check_clinical_time(datetime(2026, 1, 1), now=NOW, what="x")


# --- Early end: what the charted rates could infuse (B-ADM-4) ---------------------------

START = local(2026, 12, 8, 9, 0)


def test_100_ml_at_2_then_4_ml_per_min_can_run_in_after_30_min():
    steps = [(START, Decimal(2)), (START + timedelta(minutes=10), Decimal(4))]
    assert earliest_complete_end(steps, Decimal(100)) == START + timedelta(minutes=30)
    assert volume_infused_ml(steps, START + timedelta(minutes=11)) == Decimal(24)


def test_100_ml_at_2_ml_per_min_needs_50_min():
    steps = [(START, Decimal(2))]
    assert earliest_complete_end(steps, Decimal(100)) == START + timedelta(minutes=50)
    assert volume_infused_ml(steps, START + timedelta(minutes=11)) == Decimal(22)


def test_a_volume_done_before_the_next_step_ends_in_that_phase():
    steps = [(START, Decimal(2)), (START + timedelta(minutes=60), Decimal(4))]
    assert earliest_complete_end(steps, Decimal(10)) == START + timedelta(minutes=5)


def test_no_rate_no_end():
    assert earliest_complete_end([], Decimal(100)) is None


# --- The engine's actual_infusion_end (B-CYC-1, C-TIME-1) -------------------------------


def test_an_actual_end_before_the_preparation_is_refused_by_the_engine():
    doc = example_doc()
    prep = datetime.fromisoformat(doc["product"]["preparation_time"])
    doc["order"]["actual_infusion_end"] = (prep - timedelta(days=2)).isoformat()
    errors = validate_plan_input(doc)
    assert [e.path for e in errors] == ["order.actual_infusion_end"]


def test_the_cyclophosphamide_hold_never_moves_earlier_than_planned_for_an_implausible_end():
    """B-CYC-1: the implausible end is refused, so no plan carries a hold from it."""
    doc = example_doc()
    planned = build_plan(parse_plan_input(doc)).cyclophosphamide.hold_until
    prep = datetime.fromisoformat(doc["product"]["preparation_time"])
    for end in (prep - timedelta(days=2), prep):  # before / at preparation: not an end
        doc["order"]["actual_infusion_end"] = end.isoformat()
        plan, errors = plan_from_document(doc)
        assert plan is None and errors[0].path == "order.actual_infusion_end"
    doc["order"]["actual_infusion_end"] = (planned - timedelta(hours=48, minutes=-5)).isoformat()
    assert build_plan(parse_plan_input(doc)).cyclophosphamide.hold_until > planned
