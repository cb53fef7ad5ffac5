"""C-VERIFY-1 and C-DOSE-1 in the pure engine: every check of a pharmacist's verification,
at its boundaries, and which failures an override can lift."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from infusion.engine import BodyWeight, dose_check
from infusion.engine.verification import (
    ATTENTION,
    FAILED,
    PASSED,
    REFUSED,
    CycNearInfusion,
    VerificationInput,
    blocking,
    candidacy_check,
    verification_checks,
)

START = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def good(**changes):
    data = VerificationInput(
        candidacy_overall="recommended",
        repeat_status=None,
        consent_recorded=True,
        release_status="released",
        certificate_issuer="Provincial cell-therapy QC centre",
        third_party_retest=True,
        weight_kg=Decimal("60"),
        dose_cells=100_000_000,
        certified_cells=101_500_000,
        planned_end=START + timedelta(minutes=33),
        cold_chain_late_from=START + timedelta(hours=6),
        cold_chain_must_complete_by=START + timedelta(hours=10),
        has_dexamethasone=True,
        has_antiplatelet=True,
        long_term_antiplatelet=False,
        infusion_volume_ml=Decimal("100"),
        display_zone=SHANGHAI,
    )
    return replace(data, **changes)


def check(data, key):
    return next(c for c in verification_checks(data) if c.key == key)


def test_a_complete_safe_episode_passes_every_check_c_verify_1():
    checks = verification_checks(good())
    assert [c.key for c in checks] == [
        "candidacy",
        "consent",
        "release",
        "site",
        "dose",
        "cold_chain",
        "premedication",
        "antiplatelet",
        "infusion_set",
        "cyc_window",
    ]
    assert all(c.status == PASSED for c in checks), [(c.key, c.reason) for c in checks]
    assert blocking(checks) == []


@pytest.mark.parametrize(
    ("cells", "status"),
    [
        (60_000_000, PASSED),  # 1.0 × 10⁶/kg
        (59_999_999, FAILED),  # just below 1.0
        (120_000_000, PASSED),  # 2.0 × 10⁶/kg
        (120_600_000, FAILED),  # 2.01 × 10⁶/kg: override needed
        (300_000_000, FAILED),  # 5.0 × 10⁶/kg: still overridable
        (300_600_000, REFUSED),  # 5.01 × 10⁶/kg: refused outright
    ],
)
def test_dose_per_kg_boundaries_c_dose_1(cells, status):
    c = check(good(dose_cells=cells, certified_cells=400_000_000), "dose")
    assert c.status == status, c.reason
    assert "C-DOSE-1" in c.rule_ids and "B-DOSE-1" in c.rule_ids


def test_a_dose_equal_to_the_certificate_count_passes_and_one_cell_more_is_refused_b_qc_4():
    assert check(good(dose_cells=101_500_000), "dose").status == PASSED
    above = check(good(dose_cells=101_500_001), "dose")
    assert above.status == REFUSED
    assert "B-QC-4" in above.rule_ids
    assert "more than the certificate" in above.reason


def test_the_overdose_of_the_issue_is_refused_not_overridable_c_dose_1():
    # 1,500 × 10⁶ cells for 45.8 kg: 32.76 × 10⁶/kg, 14× a 110 × 10⁶ certificate.
    c = check(
        good(dose_cells=1_500_000_000, weight_kg=Decimal("45.8"), certified_cells=110_000_000),
        "dose",
    )
    assert c.status == REFUSED
    assert not c.overridable
    assert "32.76 × 10⁶/kg" in c.reason


def test_an_override_lifts_a_failed_check_only_for_the_values_it_covered():
    data = good(dose_cells=130_000_000, certified_cells=140_000_000)
    dose = check(data, "dose")
    assert dose.status == FAILED
    assert blocking(verification_checks(data), {dose.values_key}) == []
    # A new dose is not covered by the old override.
    changed = verification_checks(replace(data, dose_cells=131_000_000))
    assert [c.key for c in blocking(changed, {dose.values_key})] == ["dose"]


def test_a_refused_check_is_never_lifted_by_an_override_key():
    data = good(release_status="pending")
    release = check(data, "release")
    assert release.status == REFUSED
    assert [c.key for c in blocking(verification_checks(data), {release.values_key})] == ["release"]


@pytest.mark.parametrize(
    ("changes", "key", "status", "rule"),
    [
        ({"release_status": "rejected"}, "release", REFUSED, "B-QC-1"),
        ({"release_status": "pending"}, "release", REFUSED, "B-QC-1"),
        ({"consent_recorded": False}, "consent", REFUSED, "B-CONSENT-1"),
        ({"certificate_issuer": ""}, "site", REFUSED, "B-SITE-1"),
        ({"third_party_retest": False}, "site", FAILED, "B-SITE-1"),
        ({"third_party_retest": None}, "site", FAILED, "B-SITE-1"),
        ({"has_dexamethasone": False}, "premedication", FAILED, "B-PREMED-1"),
        ({"has_antiplatelet": False}, "antiplatelet", FAILED, "B-AP-1"),
        ({"dose_cells": None}, "dose", REFUSED, "B-DOSE-1"),
        ({"certified_cells": None}, "dose", REFUSED, "C-DOSE-1"),
        ({"planned_end": None}, "cold_chain", REFUSED, "B-ADM-1"),
        ({"candidacy_overall": "not_recommended"}, "candidacy", FAILED, "C-OVR-1"),
        ({"candidacy_overall": "incomplete"}, "candidacy", FAILED, "C-OVR-1"),
        ({"repeat_status": "unknown"}, "candidacy", FAILED, "B-REP-1"),
        ({"repeat_status": "not_eligible"}, "candidacy", FAILED, "B-REP-1"),
    ],
)
def test_each_failing_check_stops_verification_with_its_rule_c_verify_1(changes, key, status, rule):
    checks = verification_checks(good(**changes))
    stops = blocking(checks)
    assert [c.key for c in stops] == [key]
    assert stops[0].status == status
    assert rule in stops[0].rule_ids


def test_a_long_term_antiplatelet_user_needs_no_course_b_ap_1():
    assert check(
        good(has_antiplatelet=False, long_term_antiplatelet=True), "antiplatelet"
    ).status == (PASSED)


@pytest.mark.parametrize(("ordered", "status"), [(False, PASSED), (True, FAILED)])
def test_below_the_platelet_floor_no_course_passes_and_a_course_needs_c_ovr_1_b_ap_1(
    ordered, status
):
    result = check(good(has_antiplatelet=ordered, antiplatelet_below_floor=True), "antiplatelet")
    assert result.status == status
    assert ("C-OVR-1" in result.rule_ids) is ordered


def test_the_cold_chain_hard_limit_is_inclusive_and_late_is_attention_only_b_adm_1():
    limit = START + timedelta(hours=10)
    assert check(good(planned_end=limit), "cold_chain").status == ATTENTION
    refused = check(good(planned_end=limit + timedelta(minutes=1)), "cold_chain")
    assert refused.status == REFUSED
    # Times read in the ward's zone, never raw ISO.
    assert "12-08 19:01" in refused.reason and "T" not in refused.reason


def test_cyclophosphamide_in_the_hold_without_its_own_override_is_refused_b_cyc_1():
    at = START + timedelta(hours=20)
    unguarded = CycNearInfusion(order_id=7, scheduled_at=at, in_hold=True, hold_override=False)
    c = check(good(cyclophosphamide=(unguarded,)), "cyc_window")
    assert c.status == REFUSED and "C-CYC-2" in c.rule_ids
    guarded = replace(unguarded, hold_override=True)
    assert check(good(cyclophosphamide=(guarded,)), "cyc_window").status == ATTENTION
    after = replace(unguarded, in_hold=False)
    assert check(good(cyclophosphamide=(after,)), "cyc_window").status == ATTENTION


def test_candidacy_check_values_bind_the_c_ovr_1_override():
    a = candidacy_check("not_recommended", None)
    b = candidacy_check("not_recommended", "unknown")
    assert a.status == b.status == FAILED
    assert a.values_key != b.values_key
    assert candidacy_check("recommended", "eligible").status == PASSED


# --- C-DOSE-1 in the plan: refused outright when the episode is opened ----------------


def weight():
    return BodyWeight(Decimal("60"), START.date())


@pytest.mark.parametrize(
    ("cells", "refused"),
    [(300_000_000, False), (300_000_001, True), (300_600_000, True)],
)
def test_dose_check_refuses_above_five_million_per_kg_c_dose_1(cells, refused):
    result = dose_check(weight(), START.date(), cells)
    blocks = [f for f in result.findings if f.rule_id == "C-DOSE-1" and f.severity == "block"]
    assert bool(blocks) is refused


def test_dose_check_refuses_more_cells_than_the_certificate_c_dose_1():
    at = dose_check(weight(), START.date(), 100_000_000, certified_cells=100_000_000)
    assert not [f for f in at.findings if f.rule_id == "C-DOSE-1"]
    above = dose_check(weight(), START.date(), 100_000_001, certified_cells=100_000_000)
    (finding,) = [f for f in above.findings if f.rule_id == "C-DOSE-1"]
    assert finding.status == "above_certificate" and finding.severity == "block"
