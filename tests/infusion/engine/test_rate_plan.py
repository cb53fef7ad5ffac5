"""Rate plan: B-ADM-4 (rates, durations, exact volume) and B-ADM-3 (no filter)."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infusion.engine import MAX_FEASIBLE_VOLUME_ML, rate_plan

from . import D


def check_invariants(plan, volume):
    phases = plan.phases
    assert plan.status == "ok"
    first = phases[0]
    assert first.rate_ml_per_min_exact <= 2
    assert 5 <= first.duration_min_exact <= 10
    assert all(p.rate_ml_per_min_exact <= 4 for p in phases)
    assert all(p.rate_ml_per_min_exact > 0 and p.duration_min_exact > 0 for p in phases)
    rates = [p.rate_ml_per_min_exact for p in phases]
    assert rates == sorted(rates)
    assert sum(p.volume_ml_exact for p in phases) == Fraction(volume)
    assert all(p.volume_ml_exact == p.rate_ml_per_min_exact * p.duration_min_exact for p in phases)
    total = sum(p.duration_min_exact for p in phases)
    assert total == plan.total_duration_min_exact
    assert 30 <= total <= 60
    offset = Fraction(0)
    for p in phases:
        assert p.start_offset_min_exact == offset
        offset += p.duration_min_exact
    # Rounded display values never exceed the limits either.
    for p in phases:
        shown = p.to_dict()
        assert D(shown["rate_ml_per_min"]) <= 4 and D(shown["rate_ml_per_h"]) <= 240
        assert shown["drops_per_min"] <= 4 * p.drop_factor_gtt_per_ml
    shown_first = phases[0].to_dict()
    assert D(shown_first["rate_ml_per_min"]) <= 2
    assert shown_first["drops_per_min"] <= 2 * phases[0].drop_factor_gtt_per_ml
    check_drops(plan)


def check_drops(plan):
    """drops/min = mL/min × drop factor, rounded half-even to a whole drop, as the engine does."""
    factor = plan.drop_factor_gtt_per_ml
    for p in plan.phases:
        assert p.drop_factor_gtt_per_ml == factor
        exact = p.rate_ml_per_min_exact * factor
        assert p.drops_per_min == round(exact)  # round() on a Fraction is half-even
        assert abs(p.drops_per_min - exact) <= Fraction(1, 2)
        shown = p.to_dict()
        assert shown["drops_per_min"] == p.drops_per_min
        # Against the rounded mL/min shown beside it: off by at most the two roundings.
        assert abs(shown["drops_per_min"] - D(shown["rate_ml_per_min"]) * factor) <= (
            D("0.5") + D("0.005") * factor
        )
    if any(p.rate_ml_per_min_exact * factor < 1 for p in plan.phases):
        assert any(f.status == "use_pump" for f in plan.findings)


def test_it_steps_90_ml_up_from_2_to_4_ml_per_min_in_30_min():
    plan = rate_plan(D(90))
    assert [(p.rate_ml_per_min_exact, p.duration_min_exact) for p in plan.phases] == [
        (2, 10),
        (3, 10),
        (4, 10),
    ]
    assert plan.total_duration_min_exact == 30
    assert [p.drops_per_min for p in plan.phases] == [40, 60, 80]
    assert [p.to_dict()["rate_ml_per_h"] for p in plan.phases] == ["120.0", "180.0", "240.0"]


def test_it_slows_small_volumes_to_last_30_min():
    plan = rate_plan(D(45))
    assert [p.rate_ml_per_min_exact for p in plan.phases] == [1, Fraction(3, 2), 2]
    assert plan.total_duration_min_exact == 30
    check_invariants(plan, 45)


def test_it_adds_4_ml_per_min_time_for_larger_volumes():
    plan = rate_plan(D(100))
    assert [(p.rate_ml_per_min_exact, p.duration_min_exact) for p in plan.phases] == [
        (2, 10),
        (3, 10),
        (4, Fraction(25, 2)),
    ]
    assert plan.phases[2].duration_s == 750
    assert plan.total_duration_min_exact == Fraction(65, 2)


@pytest.mark.parametrize("volume", [D(210), D("215.5"), D(220), D("225.3"), D(230)])
def test_it_fills_60_min_near_the_maximum(volume):
    plan = rate_plan(volume)
    assert plan.total_duration_min_exact == 60
    check_invariants(plan, volume)


def test_230_ml_is_feasible_with_no_room_for_an_intermediate_step():
    plan = rate_plan(D(230))
    assert [(p.rate_ml_per_min_exact, p.duration_min_exact) for p in plan.phases] == [
        (2, 5),
        (4, 55),
    ]
    assert MAX_FEASIBLE_VOLUME_ML == 230


@pytest.mark.parametrize("volume", [D(231), D("230.1"), Fraction(2301, 10), 1000])
def test_above_230_ml_is_refused_naming_230(volume):
    plan = rate_plan(volume)
    assert plan.status == "refused"
    assert plan.phases == ()
    refusal = plan.findings[0]
    assert (refusal.rule_id, refusal.severity) == ("B-ADM-4", "block")
    assert refusal.reason_params["max"] == "230"
    assert "230 mL" in refusal.reason


@pytest.mark.parametrize("volume", [D(0), D("-5"), 0, Fraction(-1, 3)])
def test_zero_or_negative_volume_is_refused(volume):
    plan = rate_plan(volume)
    assert plan.status == "refused"
    assert "greater than 0" in plan.findings[0].reason


@pytest.mark.parametrize("volume", [1.5, True, "100"])
def test_it_refuses_floats_and_other_types(volume):
    with pytest.raises(TypeError):
        rate_plan(volume)


def test_it_states_the_set_without_filter_membrane():
    for volume in (D(100), D(300)):
        filters = [f for f in rate_plan(volume).findings if f.rule_id == "B-ADM-3"]
        assert len(filters) == 1 and "WITHOUT a filter membrane" in filters[0].reason


def test_it_uses_the_drop_factor():
    plan = rate_plan(D(90), drop_factor_gtt_per_ml=15)
    assert [p.drops_per_min for p in plan.phases] == [30, 45, 60]
    assert rate_plan(D(90)).drop_factor_gtt_per_ml == 20  # the settings' default


def test_it_keeps_seconds_only_when_exact():
    plan = rate_plan(D("100.1"))  # last phase (100.1 - 50) / 4 = 12.525 min = 751.5 s
    assert plan.phases[2].duration_s is None
    assert plan.phases[2].to_dict()["duration_min"] == "12.52"  # half-even display
    assert plan.phases[2].to_dict()["duration_min_exact"] == "501/40"


def test_it_suggests_a_pump_for_tiny_volumes():
    plan = rate_plan(D("0.5"))
    assert any(f.status == "use_pump" for f in plan.findings)
    check_invariants(plan, D("0.5"))


one_decimal_volumes = st.integers(min_value=1, max_value=2300).map(lambda n: Decimal(n) / 10)
fraction_volumes = st.fractions(
    min_value=Fraction(1, 10**6), max_value=Fraction(230), max_denominator=10**6
).filter(lambda f: f > 0)


@settings(max_examples=400, deadline=None)
@given(one_decimal_volumes)
def test_property_every_one_decimal_volume_up_to_230_gets_a_valid_plan(volume):
    check_invariants(rate_plan(volume), volume)


@settings(max_examples=300, deadline=None)
@given(fraction_volumes)
def test_property_every_fractional_volume_up_to_230_gets_a_valid_plan(volume):
    check_invariants(rate_plan(volume), volume)


DROP_FACTORS = st.sampled_from([10, 15, 20, 60])  # gtt/mL: adult sets, and a micro-drip set


@settings(max_examples=400, deadline=None)
@given(one_decimal_volumes, DROP_FACTORS)
def test_property_drops_per_min_follow_the_drop_factor_for_one_decimal_volumes(volume, factor):
    plan = rate_plan(volume, drop_factor_gtt_per_ml=factor)
    assert plan.drop_factor_gtt_per_ml == factor
    check_invariants(plan, volume)


@settings(max_examples=300, deadline=None)
@given(fraction_volumes, DROP_FACTORS)
def test_property_drops_per_min_follow_the_drop_factor_for_fractional_volumes(volume, factor):
    check_invariants(rate_plan(volume, drop_factor_gtt_per_ml=factor), volume)


@pytest.mark.parametrize(
    "factor, drops",
    [(10, [20, 30, 40]), (15, [30, 45, 60]), (20, [40, 60, 80]), (60, [120, 180, 240])],
)
def test_90_ml_at_each_drop_factor(factor, drops):
    assert [
        p.drops_per_min for p in rate_plan(D(90), drop_factor_gtt_per_ml=factor).phases
    ] == drops


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.integers(min_value=2301, max_value=10**6).map(lambda n: Decimal(n) / 10),
        st.fractions(min_value=Fraction(230), max_value=Fraction(10**4)).filter(lambda f: f > 230),
    )
)
def test_property_every_volume_above_230_is_refused_with_230(volume):
    plan = rate_plan(volume)
    assert plan.status == "refused"
    assert plan.findings[0].reason_params["max"] == "230"
