"""Dose B-DOSE-1, route B-ROUTE-1/B-ROUTE-2, pre-conditioning B-PRE-1."""

from datetime import date

import pytest

from infusion.engine import BodyWeight, dose_check, preconditioning_check, route_plan

from . import D

INFUSION_DAY = date(2024, 6, 12)
WEIGHT = BodyWeight(D("60"), date(2024, 6, 10))


def test_it_gives_the_cell_range_as_integers():
    result = dose_check(WEIGHT, INFUSION_DAY)
    assert (result.min_cells, result.max_cells) == (60_000_000, 120_000_000)
    assert result.flag is None
    assert result.findings[0].rule_id == "B-DOSE-1"
    assert result.findings[0].citation == "R3, 1B"


def test_it_rounds_the_range_inwards_for_odd_weights():
    result = dose_check(BodyWeight(D("58.1234567"), date(2024, 6, 10)), INFUSION_DAY)
    # 58.1234567 × 10⁶ = 58 123 456.7 → at least 58 123 457; 2× = 116 246 913.4 → at most 116 246 913
    assert (result.min_cells, result.max_cells) == (58_123_457, 116_246_913)


@pytest.mark.parametrize(
    ("cells", "flag", "per_kg"),
    [
        (59_999_999, "below", "0.99"),
        (60_000_000, "within", "1.00"),
        (90_000_000, "within", "1.50"),
        (120_000_000, "within", "2.00"),
        (120_000_001, "above", "2.01"),
    ],
)
def test_it_classifies_the_ordered_dose_at_the_boundaries(cells, flag, per_kg):
    result = dose_check(WEIGHT, INFUSION_DAY, cells)
    assert result.flag == flag
    assert result.per_kg_e6 == D(per_kg)
    (finding,) = result.findings
    assert finding.status == flag
    assert finding.severity == ("info" if flag == "within" else "warning")
    assert finding.reason_params["per_kg"] == per_kg


def test_it_is_exact_for_fractional_weights():
    weight = BodyWeight(D("58.5"), date(2024, 6, 10))
    assert dose_check(weight, INFUSION_DAY, 58_500_000).flag == "within"
    assert dose_check(weight, INFUSION_DAY, 58_499_999).flag == "below"
    assert dose_check(weight, INFUSION_DAY, 117_000_000).flag == "within"
    assert dose_check(weight, INFUSION_DAY, 117_000_001).flag == "above"


def test_it_warns_about_a_stale_weight():
    fresh = dose_check(BodyWeight(D(60), date(2024, 5, 13)), INFUSION_DAY)  # 30 days
    stale = dose_check(BodyWeight(D(60), date(2024, 5, 12)), INFUSION_DAY)  # 31 days
    assert not fresh.weight_stale
    assert stale.weight_stale
    warning = next(f for f in stale.findings if f.status == "stale_weight")
    assert warning.severity == "warning"
    assert warning.reason_params["days"] == "31"


def test_it_warns_about_a_weight_dated_after_the_infusion():
    result = dose_check(BodyWeight(D(60), date(2024, 6, 13)), INFUSION_DAY)
    assert any(f.status == "weight_after_infusion" for f in result.findings)


@pytest.mark.parametrize("kg", [D(0), D(-1), D("NaN")])
def test_it_rejects_impossible_weights(kg):
    with pytest.raises(ValueError):
        dose_check(BodyWeight(kg, date(2024, 6, 10)), INFUSION_DAY)


def test_it_rejects_non_integer_doses():
    with pytest.raises(ValueError):
        dose_check(WEIGHT, INFUSION_DAY, 0)


# --- Route -----------------------------------------------------------------------------


def test_it_always_plans_a_single_peripheral_iv_infusion():
    result = route_plan(False, "clear")
    iv = next(f for f in result.findings if f.rule_id == "B-ROUTE-1")
    assert iv.citation == "R4, 1B"
    assert result.intravenous == "single_peripheral_iv"
    assert result.intrathecal == "not_indicated"


# Updated for issue 19: digest B-ROUTE-2 "Severe SLE (重症) with CNS involvement" — the
# intrathecal tests below now give the severity.
def test_it_adds_intrathecal_msc_for_cns_involvement():
    result = route_plan(True, "clear", "severe")
    assert (result.intrathecal, result.intrathecal_cells) == ("indicated", 1_000_000)
    finding = next(f for f in result.findings if f.rule_id == "B-ROUTE-2")
    assert finding.source_section == "§3.5"
    assert "1 × 10⁶" in finding.reason


def test_it_refuses_intrathecal_msc_when_consciousness_is_impaired():
    result = route_plan(True, "impaired", "severe")
    assert (result.intrathecal, result.intrathecal_cells) == ("refused", None)
    assert "consciousness impaired" in result.findings[-1].reason


def test_it_needs_the_level_of_consciousness():
    result = route_plan(True, None, "severe")
    assert result.intrathecal == "unknown"
    assert result.findings[-1].missing == ("patient.consciousness",)


def test_it_needs_to_know_about_cns_involvement():
    assert route_plan(None, "clear").intrathecal == "unknown"


@pytest.mark.parametrize(
    ("severity", "intrathecal"),
    [("severe", "indicated"), ("moderate", "not_indicated"), ("mild", "not_indicated")],
)
def test_b_route_2_intrathecal_msc_only_for_severe_sle_with_cns_involvement(severity, intrathecal):
    result = route_plan(True, "clear", severity)
    assert result.intrathecal == intrathecal
    assert (result.intrathecal_cells is not None) == (intrathecal == "indicated")


def test_b_route_2_cns_involvement_without_a_severity_cannot_decide():
    result = route_plan(True, "clear", None)
    assert result.intrathecal == "unknown"
    assert result.findings[-1].missing == ("patient.sle.severity",)


# --- Weight plausibility (issue 19) ----------------------------------------------------


@pytest.mark.parametrize(
    ("kg", "age", "warned"),
    [
        ("19.9", 30, True),
        ("20", 30, False),
        ("200", 30, False),
        ("200.1", 30, True),
        ("19.9", 10, False),  # a child of 19.9 kg is plausible
        ("200.1", 10, True),
    ],
)
def test_an_implausible_weight_is_a_warning_at_the_20_and_200_kg_boundaries(kg, age, warned):
    result = dose_check(BodyWeight(D(kg), date(2024, 6, 10)), INFUSION_DAY, age_years=age)
    flagged = [f for f in result.findings if f.status == "implausible_weight"]
    assert bool(flagged) == warned
    if warned:
        assert flagged[0].severity == "warning" and flagged[0].requires_acknowledgement


# --- Pre-conditioning ------------------------------------------------------------------


def test_it_warns_against_cyclophosphamide_preconditioning():
    finding = preconditioning_check(True)
    assert (finding.rule_id, finding.severity, finding.citation) == ("B-PRE-1", "warning", "R5, 2C")
    assert preconditioning_check(False).severity == "info"
    assert preconditioning_check(None).severity == "info"
