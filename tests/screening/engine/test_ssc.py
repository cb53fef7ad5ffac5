"""A-SSC-1..4 (diffuse cutaneous systemic sclerosis). Screening date 2026-04-15."""

import pytest

from . import make_case as case

# --- A-SSC-1 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("criteria", "diffuse", "status"),
    [(True, True, "met"), (True, False, "not_met"), (False, True, "not_met")],
)
def test_it_needs_classification_and_diffuse_subset(criteria, diffuse, status):
    c = case("dcSSc").set("dcssc.eular_acr_2013_met", criteria)
    c.set("dcssc.leroy_diffuse_cutaneous", diffuse)
    assert c.status("A-SSC-1") == status


def test_it_is_unknown_without_the_subset():
    c = case("dcSSc").delete("dcssc.leroy_diffuse_cutaneous")
    assert c.status("A-SSC-1") == "unknown"
    assert c.missing_fields("A-SSC-1") == ["dcssc.leroy_diffuse_cutaneous"]


# --- A-SSC-2: ILD with 45 ≤ FVC ≤ 70 or 40 ≤ DLCO ≤ 70 % predicted ---------------------


def pulmonary(c, fvc, dlco, days_before=7):
    on = c.days_before(days_before)
    c.set("dcssc.fvc_percent_predicted", [{"value": fvc, "date": on}] if fvc else [])
    c.set("dcssc.dlco_percent_predicted", [{"value": dlco, "date": on}] if dlco else [])
    return c


@pytest.mark.parametrize(
    ("fvc", "dlco", "status"),
    [
        (44, 80, "not_met"),
        (45, 80, "met"),
        (70, 80, "met"),
        (71, 80, "not_met"),
        (80, 39, "not_met"),
        (80, 40, "met"),
        (80, 70, "met"),
        (80, 71, "not_met"),
        (44.9, 39.9, "not_met"),
    ],
)
def test_it_needs_fvc_or_dlco_in_range(fvc, dlco, status):
    assert pulmonary(case("dcSSc"), fvc, dlco).status("A-SSC-2") == status


def test_it_needs_ild():
    c = pulmonary(case("dcSSc"), 60, 50).set("dcssc.ild_present", False)
    assert c.status("A-SSC-2") == "not_met"


def test_it_is_unknown_with_stale_fvc_and_no_dlco():
    c = pulmonary(case("dcSSc"), 60, None, days_before=40)
    result = c.result("A-SSC-2")
    assert result.status.value == "unknown"
    assert [m.field for m in result.missing] == [
        "dcssc.fvc_percent_predicted",
        "dcssc.dlco_percent_predicted",
    ]


def test_it_is_unknown_without_the_ild_status():
    c = pulmonary(case("dcSSc"), 60, 50).delete("dcssc.ild_present")
    c.delete("dcssc.ild_diagnosed_on")
    assert c.status("A-SSC-2") == "unknown"


# --- A-SSC-3: relapsed/refractory after conventional treatment ------------------------


def test_a_ssc_3_relapse_after_remission_needs_the_conventional_course():
    # Digest, A-SSC-3: "the ≥ 6-month conventional course is required for a relapse
    # after remission too (unknown when the history is not recorded; not met when the
    # recorded history lacks it)".
    c = case("dcSSc").set("dcssc.response_to_conventional_treatment", "relapsed_after_remission")
    result = c.result("A-SSC-3")
    assert result.status.value == "met"
    assert result.reason.startswith("response to conventional treatment: relapsed after remission")
    assert "cyclophosphamide 2023-06-15 to 2024-01-15: ≥ 6 months" in result.reason
    c.set("treatment_history", [])
    result = c.result("A-SSC-3")
    assert result.status.value == "not_met"
    assert "cyclophosphamide: none recorded before 2026-04-15" in result.reason
    c.delete("treatment_history")
    assert c.status("A-SSC-3") == "unknown"
    assert c.missing_fields("A-SSC-3") == ["treatment_history"]


@pytest.mark.parametrize(("end", "status"), [("2023-12-15", "met"), ("2023-12-14", "not_met")])
def test_a_ssc_3_relapse_after_remission_counts_six_months_of_cyclophosphamide(end, status):
    c = case("dcSSc").set("dcssc.response_to_conventional_treatment", "relapsed_after_remission")
    c.set("treatment_history.2.end", end)  # started 2023-06-15
    assert c.status("A-SSC-3") == status


def test_sustained_remission_fails():
    c = case("dcSSc").set("dcssc.response_to_conventional_treatment", "sustained_remission")
    assert c.status("A-SSC-3") == "not_met"


def test_ineffective_treatment_needs_six_months_of_each_component():
    result = case("dcSSc").result("A-SSC-3")
    assert result.status.value == "met"
    assert "cyclophosphamide 2023-06-15 to 2024-01-15: ≥ 6 months" in result.reason


@pytest.mark.parametrize(("end", "status"), [("2023-12-15", "met"), ("2023-12-14", "not_met")])
def test_it_counts_six_calendar_months_of_cyclophosphamide(end, status):
    c = case("dcSSc").set("treatment_history.2.end", end)  # started 2023-06-15
    assert c.status("A-SSC-3") == status


def test_it_needs_an_immunosuppressant_besides_cyclophosphamide():
    c = case("dcSSc")
    c.set("treatment_history", c.doc["treatment_history"][1:3])  # prednisone, cyclophosphamide
    result = c.result("A-SSC-3")
    assert result.status.value == "not_met"
    assert "immunosuppressant: none recorded before 2026-04-15" in result.reason


def test_it_is_unknown_without_history_or_response():
    c = case("dcSSc").delete("treatment_history")
    assert c.status("A-SSC-3") == "unknown"
    assert c.missing_fields("A-SSC-3") == ["treatment_history"]
    c = case("dcSSc").delete("dcssc.response_to_conventional_treatment")
    assert c.missing_fields("A-SSC-3") == ["dcssc.response_to_conventional_treatment"]


# --- A-SSC-4: active within the past 6 months -----------------------------------------


def inactive(c):
    """No branch met: stable skin and lungs, ILD known since 2023."""
    c.set("dcssc.mrss", [{"value": 20, "date": "2025-11-01"}, {"value": 20, "date": "2026-04-08"}])
    c.set(
        "dcssc.fvc_percent_predicted",
        [{"value": 80, "date": "2025-11-01"}, {"value": 80, "date": "2026-04-08"}],
    )
    c.set(
        "dcssc.dlco_percent_predicted",
        [{"value": 60, "date": "2025-11-01"}, {"value": 60, "date": "2026-04-08"}],
    )
    return c


def test_it_fails_when_nothing_changed():
    result = inactive(case("dcSSc")).result("A-SSC-4")
    assert result.status.value == "not_met"
    assert "mRSS 20 on 2025-11-01 → 20 on 2026-04-08: increase 0% < 10%" in result.reason


@pytest.mark.parametrize(
    ("old", "new", "status"),
    [
        (20, 22, "met"),  # +10%
        (30, 33, "met"),  # +10%
        (31, 34, "not_met"),  # +9.68%: mRSS is an integer, so +9.9% cannot occur
        (21, 23, "not_met"),  # +9.52%
    ],
)
def test_it_needs_a_10_percent_relative_mrss_increase(old, new, status):
    c = inactive(case("dcSSc"))
    c.set("dcssc.mrss.0.value", old).set("dcssc.mrss.1.value", new)
    assert c.status("A-SSC-4") == status


@pytest.mark.parametrize(
    ("middle", "status"),
    [
        (24, "met"),  # 20 → 22 from the earliest value: +10%
        (15, "met"),  # a lower value in between is not the baseline either
    ],
)
def test_a_ssc_4_mrss_baseline_is_the_earliest_value_in_the_window(middle, status):
    c = inactive(case("dcSSc"))
    c.set(
        "dcssc.mrss",
        [
            {"value": 20, "date": "2025-11-01"},
            {"value": middle, "date": "2026-01-10"},
            {"value": 22, "date": "2026-04-08"},
        ],
    )
    result = c.result("A-SSC-4")
    assert result.status.value == status
    assert result.reason.startswith(
        "mRSS 20 on 2025-11-01 → 22 on 2026-04-08: increase 10% ≥ 10%"
        " (baseline: the earliest value within 6 months)"
    )


def test_a_ssc_4_noise_below_the_baseline_is_not_progression():
    # Issue 18: measured from the most favourable earlier value (18), 21 read as +16.7%.
    c = inactive(case("dcSSc"))
    c.set(
        "dcssc.mrss",
        [
            {"value": 20, "date": "2025-11-01"},
            {"value": 18, "date": "2026-01-10"},
            {"value": 21, "date": "2026-04-08"},
        ],
    )
    result = c.result("A-SSC-4")
    assert result.status.value == "not_met"
    assert "mRSS 20 on 2025-11-01 → 21 on 2026-04-08: increase 5% < 10%" in result.reason


def test_a_ssc_4_fvc_decline_is_from_the_earliest_value_not_the_highest():
    c = inactive(case("dcSSc"))
    c.set(
        "dcssc.fvc_percent_predicted",
        [
            {"value": 80, "date": "2025-11-01"},
            {"value": 84, "date": "2026-01-10"},  # 84 → 75 would be −10.7%
            {"value": 75, "date": "2026-04-08"},
        ],
    )
    result = c.result("A-SSC-4")
    assert result.status.value == "not_met"
    assert (
        "FVC % predicted 80 on 2025-11-01 → 75 on 2026-04-08: decline 6.25% < 10%"
        " (baseline: the earliest value within 6 months)"
    ) in result.reason


@pytest.mark.parametrize(
    ("diagnosed_on", "status"), [("2025-10-15", "met"), ("2025-10-14", "not_met")]
)
def test_new_ild_counts_within_six_months(diagnosed_on, status):
    c = inactive(case("dcSSc")).set("dcssc.ild_diagnosed_on", diagnosed_on)
    assert c.status("A-SSC-4") == status


@pytest.mark.parametrize(
    ("fvc", "dlco", "status"),
    [
        (72, 60, "met"),  # FVC −10%
        (72.08, 60, "not_met"),  # FVC −9.9%
        (76, 51, "met"),  # FVC −5% with DLCO −15%
        (76, 51.06, "not_met"),  # DLCO −14.9%
        (76.08, 51, "not_met"),  # FVC −4.9%
    ],
)
def test_it_reads_relative_fvc_and_dlco_declines(fvc, dlco, status):
    c = inactive(case("dcSSc"))
    c.set("dcssc.fvc_percent_predicted.1.value", fvc)
    c.set("dcssc.dlco_percent_predicted.1.value", dlco)
    assert c.status("A-SSC-4") == status


def test_a_decline_needs_known_ild():
    c = inactive(case("dcSSc")).set("dcssc.fvc_percent_predicted.1.value", 60)
    c.set("dcssc.ild_present", False).delete("dcssc.ild_diagnosed_on")
    assert c.status("A-SSC-4") == "not_met"


def test_only_values_within_six_months_are_baselines():
    c = inactive(case("dcSSc"))
    c.set("dcssc.mrss.0.date", "2025-10-14")
    c.set("dcssc.fvc_percent_predicted.0.date", "2025-10-14")
    c.set("dcssc.dlco_percent_predicted.0.date", "2025-10-14")
    result = c.result("A-SSC-4")
    assert result.status.value == "unknown"
    assert "mRSS: no earlier value within 6 months before 2026-04-08" in result.reason
    assert result.missing[0].reason.render() == (
        "missing: no earlier value within 6 months before 2026-04-08"
    )


def test_it_is_unknown_when_the_screening_mrss_is_stale_and_lungs_unknown():
    c = inactive(case("dcSSc"))
    c.set("dcssc.mrss.1.date", "2026-03-01")
    c.delete("dcssc.fvc_percent_predicted").delete("dcssc.dlco_percent_predicted")
    result = c.result("A-SSC-4")
    assert result.status.value == "unknown"
    assert "dcssc.mrss" in [m.field for m in result.missing]
