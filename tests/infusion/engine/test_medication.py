"""B-PREMED-1, B-AP-1, B-CYC-1 (with B-PRE-1), B-CONT-1 and B-ADM-5."""

from datetime import UTC, date, datetime, timedelta

import pytest

from infusion.engine import (
    NaiveDatetimeError,
    PlateletCount,
    ProtocolSettings,
    antiplatelet_course,
    continuing_medication,
    cyc_allowed_at,
    cyclophosphamide_hold,
    monitoring_instructions,
    premedication,
)

from . import LONDON, NEW_YORK, SHANGHAI, D, local

START = local(2024, 6, 12, 9, 30)
GOOD_PLATELETS = PlateletCount(D(180), date(2024, 6, 10))


def course(start=START, zone=SHANGHAI, **overrides):
    kwargs = {
        "drug": "aspirin",
        "dose_mg": D(100),
        "long_term_antiplatelet": False,
        "bleeding_history": False,
        "platelets": GOOD_PLATELETS,
    }
    kwargs.update(overrides)
    return antiplatelet_course(start, zone, **kwargs)


# --- B-PREMED-1 ------------------------------------------------------------------------


def test_it_schedules_dexamethasone_5_mg_iv_30_min_before_the_start():
    premed = premedication(START)
    assert (premed.drug, premed.dose_mg, premed.route) == (
        "dexamethasone",
        D(5),
        "intravenous push",
    )
    assert premed.due_at == local(2024, 6, 12, 9, 0).astimezone(UTC)
    assert premed.finding.rule_id == "B-PREMED-1"
    assert premed.finding.citation == "R7, 2C"


def test_the_premedication_lead_is_a_setting():
    premed = premedication(START, ProtocolSettings(premedication_lead_minutes=15))
    assert premed.due_at == local(2024, 6, 12, 9, 15).astimezone(UTC)


# --- B-AP-1: dose 74/75/100/101 --------------------------------------------------------


@pytest.mark.parametrize(
    ("dose", "status"),
    [
        (74, "error"),
        (75, "course"),
        (100, "course"),
        (101, "error"),
        ("74.9", "error"),
        ("100.1", "error"),
    ],
)
def test_it_validates_the_antiplatelet_dose(dose, status):
    result = course(dose_mg=D(dose))
    assert result.status == status
    if status == "error":
        error = next(f for f in result.findings if f.status == "error")
        assert error.severity == "block"
        assert "75–100 mg/day" in error.reason
        assert result.dose_mg is None


def test_an_integer_dose_is_accepted_and_a_float_is_not():
    assert course(dose_mg=75).status == "course"
    assert course(dose_mg=75.0).status == "error"


@pytest.mark.parametrize("drug", ["aspirin", "clopidogrel"])
def test_it_runs_14_days_from_the_day_before_the_infusion(drug):
    result = course(drug=drug)
    assert (result.first_day, result.last_day, result.days) == (
        date(2024, 6, 11),
        date(2024, 6, 24),
        14,
    )
    assert (result.last_day - result.first_day).days == 13
    finding = next(f for f in result.findings if f.status == "course")
    assert finding.citation == "R7, 2C"
    assert finding.reason_params["drug"] == drug
    assert not result.requires_acknowledgement


def test_the_day_before_is_the_ward_calendar_day_not_utc():
    # 07:00 in Shanghai on 1 June is still 31 May in UTC.
    start = local(2024, 6, 1, 7, 0)
    assert start.astimezone(UTC).date() == date(2024, 5, 31)
    assert course(start=start).first_day == date(2024, 5, 31)
    # 21:00 EDT on 10 March (the spring-forward day) is 11 March in UTC.
    start = datetime(2024, 3, 10, 21, 0, tzinfo=NEW_YORK)
    assert start.astimezone(UTC).date() == date(2024, 3, 11)
    assert course(start=start, zone=NEW_YORK).first_day == date(2024, 3, 9)
    # 00:30 BST on 31 March (London's change day) is 30 March 23:30 UTC.
    start = datetime(2024, 3, 31, 0, 30, tzinfo=LONDON)
    assert course(start=start, zone=LONDON).first_day == date(2024, 3, 30)


def test_it_starts_no_new_course_for_long_term_users():
    result = course(long_term_antiplatelet=True)
    assert result.status == "not_needed"
    assert result.first_day is None
    assert "long-term antiplatelet" in result.findings[0].reason


def test_unrecorded_long_term_use_needs_acknowledgement():
    result = course(long_term_antiplatelet=None)
    assert result.status == "course"
    assert result.requires_acknowledgement


def test_bleeding_history_needs_acknowledgement():
    result = course(bleeding_history=True)
    caution = next(f for f in result.findings if f.status == "caution")
    assert caution.requires_acknowledgement
    assert "Bleeding tendency" in caution.reason


@pytest.mark.parametrize(
    ("value", "caution"), [(D("49.9"), True), (D(49), True), (D(50), False), (D(51), False)]
)
def test_low_platelets_need_acknowledgement(value, caution):
    result = course(platelets=PlateletCount(value, date(2024, 6, 10)))
    assert result.requires_acknowledgement is caution
    if caution:
        finding = next(f for f in result.findings if f.status == "caution")
        assert finding.reason_params["value"] == str(value)
        assert finding.reason_params["date"] == "2024-06-10"


@pytest.mark.parametrize(
    ("value", "status", "caution"),
    [
        (D(19), "withheld", False),
        (D("19.9"), "withheld", False),
        (D(20), "course", True),
        (D(49), "course", True),
        (D(50), "course", False),
    ],
)
def test_b_ap_1_no_course_below_the_ward_floor_and_a_caution_up_to_50(value, status, caution):
    result = course(platelets=PlateletCount(value, date(2024, 6, 10)))
    assert result.status == status
    assert result.below_floor is (status == "withheld")
    assert any(f.status == "caution" for f in result.findings) is caution
    if status == "withheld":
        (finding,) = result.findings
        assert (finding.status, finding.severity) == ("withheld", "warning")
        assert finding.requires_acknowledgement and "C-OVR-1" in finding.reason
        assert (result.drug, result.first_day, result.days) == (None, None, 0)


def test_b_ap_1_a_course_below_the_floor_is_planned_only_when_overridden():
    result = course(platelets=PlateletCount(D(19), date(2024, 6, 10)), below_floor_override=True)
    assert (result.status, result.below_floor, result.days) == ("course", True, 14)
    statuses = {f.status for f in result.findings}
    assert {"below_floor_override", "caution"} <= statuses


def test_b_ap_1_the_floor_is_a_setting_and_never_above_the_bleeding_threshold():
    settings = ProtocolSettings(antiplatelet_platelet_floor_10e9_per_l=D(30))
    result = course(platelets=PlateletCount(D(29), date(2024, 6, 10)), settings=settings)
    assert result.status == "withheld"
    with pytest.raises(ValueError):
        ProtocolSettings(antiplatelet_platelet_floor_10e9_per_l=D(51))


def test_the_platelet_threshold_is_a_setting():
    settings = ProtocolSettings(bleeding_platelet_threshold_10e9_per_l=D(100))
    result = antiplatelet_course(
        START,
        SHANGHAI,
        drug="aspirin",
        dose_mg=D(100),
        long_term_antiplatelet=False,
        bleeding_history=False,
        platelets=PlateletCount(D(99), date(2024, 6, 10)),
        settings=settings,
    )
    assert result.requires_acknowledgement


def test_unknown_platelets_need_acknowledgement():
    result = course(platelets=None)
    finding = next(f for f in result.findings if f.status == "caution")
    assert "Platelet count unknown" in finding.reason
    assert finding.requires_acknowledgement


def test_stale_platelets_count_as_unknown():
    fresh = course(platelets=PlateletCount(D(180), date(2024, 6, 5)))  # 7 days
    stale = course(platelets=PlateletCount(D(180), date(2024, 6, 4)))  # 8 days
    assert not fresh.requires_acknowledgement
    assert stale.requires_acknowledgement


def test_a_missing_drug_or_dose_is_incomplete():
    assert course(drug=None).status == "incomplete"
    assert course(dose_mg=None).status == "incomplete"


# --- B-CYC-1: 47:59 refused, 48:00 allowed ---------------------------------------------

END = local(2024, 6, 12, 10, 0)


@pytest.mark.parametrize(
    ("after_end", "allowed"),
    [
        (timedelta(0), False),
        (timedelta(hours=24), False),
        (timedelta(hours=47, minutes=59), False),
        (timedelta(hours=47, minutes=59, seconds=59), False),
        (timedelta(hours=48), True),
        (timedelta(hours=48, minutes=1), True),
    ],
)
def test_it_holds_cyclophosphamide_for_48_h_after_the_infusion(after_end, allowed):
    decision = cyc_allowed_at(END, END + after_end)
    ok, hold_until, reason = decision
    assert ok is allowed
    assert hold_until == local(2024, 6, 14, 10, 0).astimezone(UTC)
    assert decision.findings[0].rule_id == "B-CYC-1"
    assert "48 h" in reason


def test_it_is_refused_during_the_infusion():
    allowed, _, reason = cyc_allowed_at(END, END - timedelta(minutes=5), infusion_start=START)
    assert not allowed
    assert "has not ended" in reason


def test_it_is_allowed_before_the_start_but_warns_about_preconditioning():
    decision = cyc_allowed_at(
        END, START - timedelta(days=1), infusion_start=START, preconditioning=True
    )
    assert decision.allowed
    warning = next(f for f in decision.findings if f.rule_id == "B-PRE-1")
    assert (warning.severity, warning.citation) == ("warning", "R5, 2C")
    plain = cyc_allowed_at(END, START - timedelta(days=1), infusion_start=START)
    assert [f.rule_id for f in plain.findings] == ["B-CYC-1"]


def test_it_uses_the_planned_end_when_not_yet_infused_and_says_so():
    decision = cyc_allowed_at(None, END + timedelta(hours=47, minutes=59), planned_end=END)
    assert not decision.allowed
    assert decision.end_is_planned
    assert "planned infusion end" in decision.reason
    assert cyc_allowed_at(None, END + timedelta(hours=48), planned_end=END).allowed


def test_it_cannot_decide_without_any_end():
    decision = cyc_allowed_at(None, END)
    assert (decision.allowed, decision.hold_until) == (False, None)
    assert decision.findings[0].status == "unknown"


def test_48_h_are_elapsed_hours_across_the_autumn_change():
    # London falls back on 2024-10-27: 48 h after 10:00 BST on the 26th is 09:00 GMT on the 28th.
    end = datetime(2024, 10, 26, 10, 0, tzinfo=LONDON)
    assert not cyc_allowed_at(end, datetime(2024, 10, 28, 8, 59, tzinfo=LONDON)).allowed
    assert cyc_allowed_at(end, datetime(2024, 10, 28, 9, 0, tzinfo=LONDON)).allowed


def test_it_rejects_naive_times():
    with pytest.raises(NaiveDatetimeError):
        cyc_allowed_at(END, datetime(2024, 6, 14, 10, 0))


def test_the_plan_hold_says_when_cyclophosphamide_may_follow():
    hold = cyclophosphamide_hold(None, planned_end=END, preconditioning_planned=True)
    assert hold.hold_until == END.astimezone(UTC) + timedelta(hours=48)
    assert hold.end_is_planned
    assert [f.rule_id for f in hold.findings] == ["B-CYC-1", "B-PRE-1"]
    assert hold.findings[1].severity == "warning"


# --- B-CONT-1, B-ADM-5 -----------------------------------------------------------------


def test_it_advises_continuing_glucocorticoids_and_immunosuppressants():
    finding = continuing_medication()
    assert finding.rule_id == "B-CONT-1"
    for drug in (
        "glucocorticoids",
        "hydroxychloroquine",
        "ciclosporin A",
        "mycophenolate",
        "tacrolimus",
    ):
        assert drug in finding.reason


def test_it_instructs_vital_sign_monitoring():
    findings = monitoring_instructions()
    assert {f.rule_id for f in findings} == {"B-ADM-5"}
    assert findings[0].citation == "R6, 1A"
    text = " ".join(f.reason for f in findings)
    for word in ("respiration", "pulse", "blood pressure", "SpO₂", "stop the infusion", "report"):
        assert word in text
