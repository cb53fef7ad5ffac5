"""A-ORG-1..6: blood count, coagulation, liver, kidney, heart, lungs (SLE example,
screening date 2026-03-02)."""

import pytest

from screening.engine import validate_facts

from . import make_case as case

# --- A-ORG-1: ANC ≥ 0.5, platelets ≥ 20 ×10⁹/L, haemoglobin ≥ 60 g/L ---------------------


@pytest.mark.parametrize(
    ("analyte", "value", "unit", "status"),
    [
        ("anc", 0.49, "10^9/L", "not_met"),
        ("anc", 0.5, "10^9/L", "met"),
        ("anc", 490, "/µL", "not_met"),
        ("anc", 500, "/µL", "met"),
        ("platelets", 19.9, "×10⁹/L", "not_met"),
        ("platelets", 20, "×10⁹/L", "met"),
        ("platelets", 19900, "cells/µL", "not_met"),
        ("platelets", 20000, "cells/uL", "met"),
        ("haemoglobin", 59, "g/L", "not_met"),
        ("haemoglobin", 60, "g/L", "met"),
        ("haemoglobin", 5.9, "g/dL", "not_met"),
        ("haemoglobin", 6.0, "g/dL", "met"),
    ],
)
def test_it_applies_the_blood_count_minimums(analyte, value, unit, status):
    assert case("SLE").lab(analyte, value, unit).status("A-ORG-1") == status


def test_it_shows_the_conversion():
    result = case("SLE").lab("haemoglobin", 5.9, "g/dL").result("A-ORG-1")
    assert "haemoglobin 5.9 g/dL (= 59 g/L) < 60 g/L" in result.reason
    assert str(result.values["haemoglobin_g_per_l"]) == "59.0"


@pytest.mark.parametrize(("days_before", "status"), [(28, "met"), (29, "unknown"), (-1, "unknown")])
def test_it_uses_labs_from_the_screening_window_only(days_before, status):
    c = case("SLE").lab("anc", 2.0, "10^9/L", days_before=days_before)
    assert c.status("A-ORG-1") == status


def test_it_is_unknown_with_a_missing_count():
    c = case("SLE").delete("labs.platelets")
    result = c.result("A-ORG-1")
    assert result.status.value == "unknown"
    assert result.reason.endswith("platelets missing; haemoglobin 10.8 g/dL (= 108 g/L) ≥ 60 g/L")
    assert [(m.field, m.reason.render()) for m in result.missing] == [("labs.platelets", "missing")]


def test_a_failing_count_decides_even_with_another_missing():
    c = case("SLE").delete("labs.platelets").lab("anc", 0.3, "10^9/L")
    assert c.status("A-ORG-1") == "not_met"


# --- A-ORG-2: INR and APTT ≤ 1.5 × ULN ---------------------------------------------------


@pytest.mark.parametrize(("inr", "status"), [(1.8, "met"), (1.81, "not_met")])
def test_inr_1_8_is_exactly_1_5_times_uln_1_2(inr, status):
    result = case("SLE").lab("inr", inr, "ratio", uln=1.2).result("A-ORG-2")
    assert result.status.value == status
    op = "≤" if status == "met" else ">"
    assert result.reason.startswith(f"INR {inr} {op} 1.5 × ULN 1.2 (= 1.8)")


@pytest.mark.parametrize(("aptt", "status"), [(54, "met"), (54.1, "not_met")])
def test_aptt_at_most_1_5_times_uln(aptt, status):
    assert case("SLE").lab("aptt", aptt, "s", uln=36).status("A-ORG-2") == status


def test_a_lab_without_uln_is_unknown():
    c = case("SLE").lab("inr", 1.0, "ratio")
    result = c.result("A-ORG-2")
    assert result.status.value == "unknown"
    assert result.reason.startswith("INR 1.0: no ULN for the reporting lab")
    assert [(m.field, m.reason.render()) for m in result.missing] == [
        ("labs.inr.uln", "no ULN for the reporting lab")
    ]


# --- A-ORG-3: AST, ALT ≤ 3 × ULN; total bilirubin ≤ 1.5 × ULN ---------------------------


@pytest.mark.parametrize(
    ("analyte", "value", "unit", "uln", "status"),
    [
        ("ast", 120, "U/L", 40, "met"),
        ("ast", 121, "U/L", 40, "not_met"),
        ("alt", 120, "U/L", 40, "met"),
        ("alt", 120.1, "U/L", 40, "not_met"),
        ("total_bilirubin", 31.5, "µmol/L", 21, "met"),
        ("total_bilirubin", 31.6, "µmol/L", 21, "not_met"),
        ("total_bilirubin", 1.8, "mg/dL", 1.2, "met"),
        ("total_bilirubin", 1.81, "mg/dL", 1.2, "not_met"),
    ],
)
def test_it_applies_the_liver_limits(analyte, value, unit, uln, status):
    assert case("SLE").lab(analyte, value, unit, uln=uln).status("A-ORG-3") == status


def test_it_is_unknown_when_a_liver_test_is_stale():
    c = case("SLE").lab("alt", 30, "U/L", uln=40, days_before=45)
    assert c.missing_fields("A-ORG-3") == ["labs.alt"]


# --- A-ORG-4: creatinine ≤ 1.5 × ULN or Cockcroft–Gault ≥ 30 mL/min ---------------------


def kidney(c, creatinine, unit="mg/dL", uln=1.2, weight=48, sex="male", born="1976-03-02"):
    # Born 1976-03-02: 50 on 2026-03-02. (140 − 50) × 48 / (72 × 2.0) = 30 mL/min.
    c.lab("creatinine", creatinine, unit, uln=uln)
    c.set("patient.sex", sex).set("patient.date_of_birth", born)
    if weight is None:
        c.delete("patient.weight_kg")
    else:
        c.observed("patient.weight_kg", weight)
    if sex == "male":
        c.delete("general.pregnancy_test")
    return c


def test_creatinine_exactly_1_5_times_uln_is_enough():
    assert kidney(case("SLE"), 1.8).status("A-ORG-4") == "met"


@pytest.mark.parametrize(("weight", "status"), [(48, "met"), (47.84, "not_met")])
def test_clearance_alone_suffices_when_creatinine_is_high(weight, status):
    result = kidney(case("SLE"), 2.0, weight=weight).result("A-ORG-4")
    assert result.status.value == status
    assert "creatinine 2.0 mg/dL > 1.5 × ULN 1.2 mg/dL (= 1.8 mg/dL)" in result.reason
    crcl = "30 mL/min ≥ 30" if status == "met" else "29.9 mL/min < 30"
    assert f"Cockcroft–Gault CrCl {crcl} mL/min (age 50, weight {weight} kg" in result.reason


def test_clearance_from_micromoles():
    c = kidney(case("SLE"), 176.8, unit="µmol/L", uln=106)  # 176.8 / 88.4 = 2.0 mg/dL
    result = c.result("A-ORG-4")
    assert result.status.value == "met"
    assert "creatinine 2 mg/dL)" in result.reason


def test_women_get_0_85():
    c = kidney(case("SLE"), 2.0, weight=48 / 0.85 + 0.01, sex="female")
    assert c.status("A-ORG-4") == "met"
    c = kidney(case("SLE"), 2.0, weight=56, sex="female")  # 30 × 56/48 × 0.85 = 29.75
    assert c.status("A-ORG-4") == "not_met"


def test_creatinine_alone_suffices_without_a_weight():
    assert kidney(case("SLE"), 1.5, weight=None).status("A-ORG-4") == "met"


def test_high_creatinine_without_a_weight_is_unknown():
    c = kidney(case("SLE"), 2.0, weight=None)
    result = c.result("A-ORG-4")
    assert result.status.value == "unknown"
    assert [m.field for m in result.missing] == ["patient.weight_kg"]


def test_clearance_needs_a_recent_weight():
    c = kidney(case("SLE"), 2.0)
    c.set("patient.weight_kg.date", c.days_before(60))
    assert c.status("A-ORG-4") == "unknown"


def test_an_unknown_sex_decides_when_both_formulas_agree():
    c = kidney(case("SLE"), 2.0, weight=70, sex="male").delete("patient.sex")
    assert c.status("A-ORG-4") == "met"  # ≥ 30 even × 0.85
    c = kidney(case("SLE"), 2.0, weight=40, sex="male").delete("patient.sex")
    assert c.status("A-ORG-4") == "not_met"  # < 30 even for a man
    c = kidney(case("SLE"), 2.0, weight=50, sex="male").delete("patient.sex")
    result = c.result("A-ORG-4")
    assert result.status.value == "unknown"  # 26.6 for a woman, 31.25 for a man
    assert "patient.sex" in [m.field for m in result.missing]


def test_creatinine_must_be_positive():
    c = case("SLE").lab("creatinine", 0, "µmol/L", uln=84)
    assert [e.path for e in validate_facts(c.doc)] == ["labs.creatinine.value"]


# --- A-ORG-5: NYHA I–II, LVEF ≥ 50%, no pericardial effusion, no significant ECG finding --


@pytest.mark.parametrize(
    ("path", "value", "status"),
    [
        ("organ_function.nyha_class", 2, "met"),
        ("organ_function.nyha_class", 3, "not_met"),
        ("organ_function.lvef_percent", 50, "met"),
        ("organ_function.lvef_percent", 49, "not_met"),
        ("organ_function.lvef_percent", 49.9, "not_met"),
        ("organ_function.pericardial_effusion", True, "not_met"),
        ("organ_function.ecg_significant_abnormality", True, "not_met"),
    ],
)
def test_it_applies_the_cardiac_criteria(path, value, status):
    assert case("SLE").observed(path, value).status("A-ORG-5") == status


def test_it_names_nyha_in_roman_numerals():
    result = case("SLE").observed("organ_function.nyha_class", 3).result("A-ORG-5")
    assert result.reason.startswith("NYHA class III > II")


@pytest.mark.parametrize(
    "field", ["nyha_class", "lvef_percent", "pericardial_effusion", "ecg_significant_abnormality"]
)
def test_each_cardiac_finding_is_needed(field):
    c = case("SLE").delete(f"organ_function.{field}")
    assert c.status("A-ORG-5") == "unknown"
    assert c.missing_fields("A-ORG-5") == [f"organ_function.{field}"]


# --- A-ORG-6: SpO₂ ≥ 92% on room air; no significant pleural effusion ------------------


@pytest.mark.parametrize(
    ("path", "value", "status"),
    [
        ("organ_function.spo2_room_air_percent", 92, "met"),
        ("organ_function.spo2_room_air_percent", 91, "not_met"),
        ("organ_function.spo2_room_air_percent", 91.9, "not_met"),
        ("organ_function.pleural_effusion_significant", True, "not_met"),
    ],
)
def test_it_applies_the_lung_criteria(path, value, status):
    assert case("SLE").observed(path, value).status("A-ORG-6") == status


def test_it_is_unknown_with_a_stale_spo2():
    c = case("SLE").observed("organ_function.spo2_room_air_percent", 97, days_before=29)
    assert c.status("A-ORG-6") == "unknown"
    assert c.missing_fields("A-ORG-6") == ["organ_function.spo2_room_air_percent"]
