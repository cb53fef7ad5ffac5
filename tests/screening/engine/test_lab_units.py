"""C-UNIT-1: every lab value and its ULN carry their own units; a ULN whose unit cannot be
reconciled with its value's, or a value (or ULN) outside its analyte's physiological
range, is an error, never a verdict.

The attack report's finding, "Mixed units read silently": a creatinine of 3.39 mg/dL
entered with a ULN of 84 (a µmol/L number) read "≤ 1.5 × ULN" and the patient came out
eligible (true Cockcroft–Gault clearance 12.5 mL/min); Hb 105 "g/dL" was taken as
1,050 g/L.
"""

from dataclasses import replace
from decimal import Decimal as D

import pytest

from screening.engine import ValidationErrors, evaluate, parse_facts, validate_facts
from screening.engine.results import Status
from screening.engine.units import (
    ANALYTE_UNITS,
    PLAUSIBLE_ULN,
    PLAUSIBLE_VALUE,
    lab_problems,
    reference_unit,
)

from . import make_case as case

MET, NOT_MET = Status.MET, Status.NOT_MET
STEP = D("0.001")


def kidney(value, unit, uln, uln_unit=None):
    """An SLE case whose A-ORG-4 rests on this creatinine: a man of 79 weighing 50 kg (at
    3.39 mg/dL his Cockcroft–Gault clearance is 12.5 mL/min)."""
    c = case("SLE")
    c.set("patient.date_of_birth", "1947-01-01")
    c.set("patient.sex", "male")
    c.observed("patient.weight_kg", 50)
    c.lab("creatinine", value, unit, uln=uln)
    if uln_unit is not None:
        c.doc["labs"]["creatinine"]["uln_unit"] = uln_unit
    return c


def errors_of(c):
    return {e.path: e.message for e in validate_facts(c.doc)}


# --- The finding ---------------------------------------------------------------------------


def test_mixed_units_read_silently_creatinine_mg_dl_against_umol_uln_is_converted_not_eligible():
    c = kidney(3.39, "mg/dL", 84, uln_unit="µmol/L")
    evaluation = c.evaluate()
    result = evaluation.criterion("A-ORG-4")
    assert result.status is NOT_MET
    assert evaluation.overall.value == "ineligible"
    # 84 µmol/L = 0.95 mg/dL; 1.5 × that = 1.425… mg/dL (shown rounded towards the value's
    # side of the comparison), far below 3.39 mg/dL.
    assert "ULN 84 µmol/L (= 0.95 mg/dL; limit 1.42 mg/dL)" in result.reason
    assert "creatinine 3.39 mg/dL >" in result.reason
    assert "Cockcroft–Gault CrCl 12.49 mL/min < 30 mL/min" in result.reason
    assert result.values["creatinine_uln_unit"] == "µmol/L"
    assert result.values["creatinine_uln_as_reported"] == 84


def test_mixed_units_read_silently_creatinine_uln_84_without_its_unit_is_an_error_not_a_verdict():
    # Read in the value's unit, 84 mg/dL is no upper limit of normal: refused, and the
    # message names the unit it fits.
    c = kidney(3.39, "mg/dL", 84)
    message = errors_of(c)["labs.creatinine.uln"]
    assert "84 mg/dL is not plausible for creatinine" in message
    assert "did you mean 84 µmol/L?" in message and "C-UNIT-1" in message
    with pytest.raises(ValidationErrors):
        evaluate(c.doc)


def test_mixed_units_read_silently_hb_105_g_dl_is_a_field_error_naming_g_l():
    c = case("SLE").lab("haemoglobin", 105, "g/dL")
    message = errors_of(c)["labs.haemoglobin.value"]
    assert message.startswith("105 g/dL is not plausible for haemoglobin (plausible: 2–25 g/dL)")
    assert message.endswith("did you mean 105 g/L? (C-UNIT-1)")
    with pytest.raises(ValidationErrors) as raised:
        evaluate(c.doc)
    assert [e.path for e in raised.value.errors] == ["labs.haemoglobin.value"]


def test_mixed_units_read_silently_creatinine_3_39_read_as_umol_is_an_error_naming_mg_dl():
    c = kidney(3.39, "µmol/L", 84)
    assert "did you mean 3.39 mg/dL?" in errors_of(c)["labs.creatinine.value"]


def test_mixed_units_read_silently_a_uln_unit_that_does_not_fit_cannot_be_reconciled():
    c = kidney(3.39, "mg/dL", 84, uln_unit="g/L")
    message = errors_of(c)["labs.creatinine.uln_unit"]
    assert "does not fit creatinine" in message
    assert "cannot be compared with the value in mg/dL (C-UNIT-1)" in message


def test_mixed_units_read_silently_typed_facts_with_an_implausible_lab_are_an_error_too():
    # Facts built in code skip document validation; evaluate still refuses the lab.
    facts = parse_facts(case("SLE").doc)
    hb = facts.labs["haemoglobin"]
    facts.labs = {**facts.labs, "haemoglobin": replace(hb, value=D(105), unit="g/dL")}
    with pytest.raises(ValidationErrors) as raised:
        evaluate(facts)
    assert "did you mean 105 g/L?" in raised.value.errors[0].message


# --- ULNs in their own unit: converted exactly, then compared (A-ORG-3, A-ORG-4) ----------


@pytest.mark.parametrize(
    ("value", "status"),
    [
        # ULN 1.2 mg/dL = 106.08 µmol/L; 1.5 × ULN = 159.12 µmol/L.
        ("159.12", MET),
        ("159.13", NOT_MET),
    ],
)
def test_a_org_4_creatinine_umol_against_a_mg_dl_uln_at_the_converted_limit(value, status):
    # The man of 79 and 50 kg: his clearance at 1.8 mg/dL (23.5 mL/min) is below 30, so
    # the ULN alone decides.
    result = kidney(D(value), "µmol/L", D("1.2"), uln_unit="mg/dL").result("A-ORG-4")
    assert result.status is status
    assert result.values["creatinine_limit"] == D("159.120")


@pytest.mark.parametrize(("value", "status"), [("30.78", "met"), ("30.79", "not_met")])
def test_a_org_3_bilirubin_umol_against_a_mg_dl_uln_at_the_converted_limit(value, status):
    # ULN 1.2 mg/dL = 20.52 µmol/L; 1.5 × ULN = 30.78 µmol/L.
    c = case("SLE").lab("total_bilirubin", D(value), "µmol/L", uln=D("1.2"))
    c.doc["labs"]["total_bilirubin"]["uln_unit"] = "mg/dL"
    assert c.status("A-ORG-3") == status


def test_a_uln_unit_equal_to_the_values_reads_as_before():
    with_unit = kidney(2, "mg/dL", D("1.2"), uln_unit="mg/dL").result("A-ORG-4")
    without = kidney(2, "mg/dL", D("1.2")).result("A-ORG-4")
    assert with_unit.reason == without.reason and with_unit.status is without.status


# --- Plausibility boundaries: at the limit accepted, just beyond refused ---------------------


def _cases(table):
    for analyte, (low, high) in table.items():
        yield pytest.param(analyte, low, True, id=f"{analyte}-low")
        yield pytest.param(analyte, high, True, id=f"{analyte}-high")
        yield pytest.param(analyte, high + STEP, False, id=f"{analyte}-above")
        if low > 0:
            yield pytest.param(analyte, low - STEP, False, id=f"{analyte}-below")


@pytest.mark.parametrize(("analyte", "value", "accepted"), list(_cases(PLAUSIBLE_VALUE)))
def test_c_unit_1_value_plausibility_boundaries(analyte, value, accepted):
    problems = lab_problems(analyte, value, reference_unit(analyte))
    assert (problems == []) is accepted
    if not accepted:
        assert problems[0][0] == "value" and "not plausible" in problems[0][1]


@pytest.mark.parametrize(("analyte", "uln", "accepted"), list(_cases(PLAUSIBLE_ULN)))
def test_c_unit_1_uln_plausibility_boundaries(analyte, uln, accepted):
    unit = reference_unit(analyte)
    value = PLAUSIBLE_VALUE[analyte][1]  # a plausible value: only the ULN is judged
    problems = lab_problems(analyte, value, unit, uln, unit)
    assert (problems == []) is accepted
    if not accepted:
        assert problems[0][0] == "uln" and "upper limit of normal" in problems[0][1]


@pytest.mark.parametrize(
    ("analyte", "value", "unit", "accepted"),
    [
        ("haemoglobin", D(2), "g/dL", True),  # = 20 g/L
        ("haemoglobin", D("1.99"), "g/dL", False),
        ("haemoglobin", D(25), "g/dL", True),  # = 250 g/L
        ("haemoglobin", D("25.01"), "g/dL", False),
        ("platelets", D(1000), "/µL", True),  # = 1 × 10⁹/L
        ("platelets", D(999), "/µL", False),
        ("anc", D(100000), "/µL", True),  # = 100 × 10⁹/L
        ("anc", D(100001), "/µL", False),
        ("creatinine", D("22.6"), "mg/dL", True),  # 1997.84 µmol/L
        ("creatinine", D("22.63"), "mg/dL", False),  # 2000.492 µmol/L
        ("total_bilirubin", D("58.47"), "mg/dL", True),  # 999.837 µmol/L
        ("total_bilirubin", D("58.48"), "mg/dL", False),
    ],
)
def test_c_unit_1_boundaries_hold_in_the_other_unit(analyte, value, unit, accepted):
    assert unit in ANALYTE_UNITS[analyte]
    assert (lab_problems(analyte, value, unit) == []) is accepted


def test_c_unit_1_a_single_unit_analyte_asks_to_check_the_value():
    [(part, message)] = lab_problems("alt", D(30), "U/L", D(4000), None)
    assert part == "uln"
    assert message.endswith("check the value and its unit (C-UNIT-1)")


def test_c_unit_1_every_analyte_has_both_ranges_and_they_are_ordered():
    for table in (PLAUSIBLE_VALUE, PLAUSIBLE_ULN):
        assert set(table) == set(ANALYTE_UNITS)
        assert all(low < high for low, high in table.values())
    # A plausible ULN is always a plausible value.
    for analyte, (low, high) in PLAUSIBLE_ULN.items():
        value_low, value_high = PLAUSIBLE_VALUE[analyte]
        assert value_low <= low and high <= value_high, analyte
