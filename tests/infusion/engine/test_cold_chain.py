"""Cold chain and handling: B-ADM-1 (8 h / 12 h to the minute), B-ADM-2 (10–20 min)."""

from datetime import UTC, datetime, timedelta

import pytest

from infusion.engine import (
    NaiveDatetimeError,
    ProtocolSettings,
    check_infusion_window,
    check_out_of_fridge,
    cold_chain_window,
    end_status,
    room_temperature_window,
)

from . import LONDON, NEW_YORK, SHANGHAI, local

PREP = local(2024, 6, 12, 7, 30)
START = local(2024, 6, 12, 9, 30)


def test_it_computes_the_warning_and_hard_limits():
    window = cold_chain_window(PREP)
    assert window.late_from == local(2024, 6, 12, 15, 30).astimezone(UTC)
    assert window.must_complete_by == local(2024, 6, 12, 19, 30).astimezone(UTC)
    assert window.late_from.tzinfo == UTC


@pytest.mark.parametrize(
    ("end_after_prep", "status"),
    [
        (timedelta(hours=8), "ok"),
        (timedelta(hours=8, microseconds=1), "late"),
        (timedelta(hours=12), "late"),
        (timedelta(hours=12, microseconds=1), "refused"),
    ],
)
def test_end_status_draws_the_lines_at_8_and_12_hours_exactly(end_after_prep, status):
    """B-ADM-1, the rule the plan, the start, the chart and the queue all use."""
    window = cold_chain_window(PREP)
    assert end_status(PREP + end_after_prep, window.late_from, window.must_complete_by) == status


@pytest.mark.parametrize(
    ("end_after_prep", "status"),
    [
        (timedelta(hours=7, minutes=59), "ok"),
        (timedelta(hours=8), "ok"),
        (timedelta(hours=8, minutes=1), "late"),
        (timedelta(hours=11, minutes=59), "late"),
        (timedelta(hours=12), "late"),
        (timedelta(hours=12, minutes=1), "refused"),
    ],
)
def test_it_checks_the_planned_end_to_the_minute(end_after_prep, status):
    end = PREP + end_after_prep
    result = check_infusion_window(PREP, end - timedelta(minutes=40), end)
    assert result.status == status
    (finding,) = result.findings
    assert finding.rule_id == "B-ADM-1"
    assert finding.severity == {"ok": "info", "late": "warning", "refused": "block"}[status]


def test_the_refusal_names_the_limit_and_the_values():
    end = PREP + timedelta(hours=12, minutes=1)
    result = check_infusion_window(PREP, end - timedelta(minutes=30), end, display_zone=SHANGHAI)
    reason = result.findings[0].reason
    assert "2024-06-12T19:31+08:00" in reason and "2024-06-12T19:30+08:00" in reason
    assert "12 h" in reason and "refused" in reason


def test_it_uses_the_ward_settings():
    settings = ProtocolSettings(late_warning_minutes=10 * 60, hard_limit_minutes=11 * 60)
    end = PREP + timedelta(hours=11, minutes=1)
    assert check_infusion_window(PREP, PREP, PREP + timedelta(hours=10), settings).status == "ok"
    assert check_infusion_window(PREP, PREP, end, settings).status == "refused"


def test_it_refuses_a_start_before_preparation():
    result = check_infusion_window(START, PREP, START)
    assert result.status == "error"
    assert result.findings[0].severity == "block"


def test_it_is_unknown_without_a_planned_end():
    assert check_infusion_window(PREP, START, None).status == "unknown"


def test_the_limits_are_elapsed_hours_across_a_dst_change():
    # New York springs forward at 02:00 on 2024-03-10: 20:00 EST + 12 h = 09:00 EDT.
    prep = datetime(2024, 3, 9, 20, 0, tzinfo=NEW_YORK)
    window = cold_chain_window(prep)
    assert window.must_complete_by.astimezone(NEW_YORK) == datetime(
        2024, 3, 10, 9, 0, tzinfo=NEW_YORK
    )
    assert window.must_complete_by - window.preparation_time == timedelta(hours=12)
    # London falls back on 2024-10-27: 20:00 BST + 8 h = 03:00 GMT.
    prep = datetime(2024, 10, 26, 20, 0, tzinfo=LONDON)
    assert cold_chain_window(prep).late_from.astimezone(LONDON).hour == 3


def test_it_rejects_naive_datetimes():
    with pytest.raises(NaiveDatetimeError, match="timezone-aware"):
        cold_chain_window(datetime(2024, 6, 12, 7, 30))
    with pytest.raises(NaiveDatetimeError):
        check_infusion_window(PREP, datetime(2024, 6, 12, 9, 30), None)


# --- Room temperature ------------------------------------------------------------------


def test_it_gives_the_out_of_fridge_window():
    earliest, latest = room_temperature_window(START)
    assert earliest == local(2024, 6, 12, 9, 10).astimezone(UTC)
    assert latest == local(2024, 6, 12, 9, 20).astimezone(UTC)


@pytest.mark.parametrize(
    ("minutes_before", "status"),
    [(9, "too_short"), (10, "ok"), (15, "ok"), (20, "ok"), (21, "too_long")],
)
def test_it_checks_the_actual_out_of_fridge_time(minutes_before, status):
    finding = check_out_of_fridge(START - timedelta(minutes=minutes_before), START)
    assert finding.rule_id == "B-ADM-2"
    assert finding.status == status
    assert finding.severity == ("info" if status == "ok" else "warning")
    assert finding.reason_params["minutes"] == str(minutes_before)


def test_out_of_the_fridge_after_the_start_is_a_handling_error_not_a_negative_interval():
    """B-ADM-2 (issue 15): taken out 5 min after the recorded start is a handling error."""
    finding = check_out_of_fridge(START + timedelta(minutes=5), START, display_zone=SHANGHAI)
    assert (finding.status, finding.severity) == ("handling_error", "block")
    assert "Handling error" in finding.reason and "-5" not in finding.reason
    assert "after the start at 09:30" in finding.reason


@pytest.mark.parametrize(
    ("after_start", "status"),
    [(timedelta(0), "too_short"), (timedelta(seconds=1), "handling_error")],
)
def test_b_adm_2_out_of_the_fridge_one_second_after_the_start_is_a_handling_error(
    after_start, status
):
    # Issue 19 (B-ADM-2): not a "too short" warning worded "-30 min before the start".
    finding = check_out_of_fridge(START + after_start, START, display_zone=SHANGHAI)
    assert finding.status == status
    assert finding.severity == ("block" if status == "handling_error" else "warning")
    assert ("Handling error" in finding.reason) is (status == "handling_error")


def test_out_of_the_fridge_after_the_planned_start_says_when_to_start():
    finding = check_out_of_fridge(
        START + timedelta(minutes=30), START, display_zone=SHANGHAI, start_is_planned=True
    )
    assert (finding.status, finding.severity) == ("after_planned_start", "warning")
    assert "after the planned start at 09:30" in finding.reason
    assert "start between 10:10 and 10:20" in finding.reason


def test_seven_seconds_at_room_temperature_is_too_short_in_local_time_not_iso():
    """B-ADM-2: started 7 s after "out of fridge": a warning with local times."""
    finding = check_out_of_fridge(START - timedelta(seconds=7), START, display_zone=SHANGHAI)
    assert (finding.status, finding.severity) == ("too_short", "warning")
    assert finding.reason == (
        "Out of the refrigerator at 09:29, 7 s before the start at 09:30: too short: "
        "10–20 min at room temperature."
    )
    six = check_out_of_fridge(START - timedelta(minutes=6), START, display_zone=SHANGHAI)
    assert "6 min before the start at 09:30" in six.reason and "T09" not in six.reason


def test_it_states_the_handling_instructions():
    result = check_infusion_window(PREP, START, START + timedelta(minutes=40))
    text = " ".join(f.reason for f in result.handling)
    assert "2–8 °C" in text and "protected from light" in text
    assert "shake" in text and "warm" in text
    assert {f.rule_id for f in result.handling} == {"B-ADM-1", "B-ADM-2"}
