"""Unit conversions and unit errors."""

from decimal import Decimal as D

import pytest

from screening.engine import UnitError, validate_facts
from screening.engine.units import (
    bilirubin_mg_per_dl_to_umol_per_l,
    bilirubin_umol_per_l_to_mg_per_dl,
    cells_10e9_per_l_to_per_ul,
    cells_per_ul_to_10e9_per_l,
    convert,
    creatinine_mg_per_dl_to_umol_per_l,
    creatinine_umol_per_l_to_mg_per_dl,
    haemoglobin_g_per_dl_to_g_per_l,
    haemoglobin_g_per_l_to_g_per_dl,
    normalise_unit,
)

from . import make_case as case


def test_creatinine_both_ways():
    assert creatinine_umol_per_l_to_mg_per_dl(D("88.4")) == 1
    assert creatinine_mg_per_dl_to_umol_per_l(D("2.0")) == D("176.8")
    assert convert("creatinine", D("176.8"), "µmol/L", "mg/dL") == 2


def test_haemoglobin_both_ways():
    assert haemoglobin_g_per_dl_to_g_per_l(D("6.0")) == 60
    assert haemoglobin_g_per_l_to_g_per_dl(D(59)) == D("5.9")
    assert convert("haemoglobin", D("5.9"), "g/dL", "g/L") == 59


def test_cell_counts_both_ways():
    assert cells_10e9_per_l_to_per_ul(D("0.5")) == 500
    assert cells_per_ul_to_10e9_per_l(D(20000)) == 20
    assert convert("platelets", D(19900), "/µL", "10^9/L") == D("19.9")
    assert convert("anc", D("0.49"), "×10⁹/L", "cells/uL") == 490


def test_bilirubin_both_ways():
    assert bilirubin_mg_per_dl_to_umol_per_l(D(1)) == D("17.1")
    assert bilirubin_umol_per_l_to_mg_per_dl(D("34.2")) == 2


@pytest.mark.parametrize(
    ("analyte", "spelling", "canonical"),
    [
        ("anc", "10^9/L", "×10⁹/L"),
        ("anc", "x10^9/L", "×10⁹/L"),
        ("anc", "10 ^ 9 / L", "×10⁹/L"),
        ("platelets", "G/L", "×10⁹/L"),
        ("platelets", "cells/μL", "/µL"),
        ("creatinine", "umol/L", "µmol/L"),
        ("ast", "IU/L", "U/L"),
        ("inr", "INR", "ratio"),
        ("aptt", "sec", "s"),
    ],
)
def test_accepted_spellings(analyte, spelling, canonical):
    assert normalise_unit(analyte, spelling) == canonical


@pytest.mark.parametrize(
    ("analyte", "unit"),
    [
        ("platelets", "g/L"),  # grams, not giga
        ("haemoglobin", "mmol/L"),
        ("creatinine", "mg/L"),
        ("inr", ""),
        ("anc", "furlongs"),
        ("anc", None),
    ],
)
def test_an_unknown_or_unfitting_unit_is_an_error(analyte, unit):
    with pytest.raises(UnitError) as raised:
        normalise_unit(analyte, unit, field=f"labs.{analyte}.unit")
    assert raised.value.field == f"labs.{analyte}.unit"
    assert repr(unit) in str(raised.value)
    assert f"labs.{analyte}.unit" in str(raised.value)


def test_validation_reports_a_bad_unit_as_a_field_error():
    c = case("SLE").lab("platelets", 150, "g/L")
    [error] = validate_facts(c.doc)
    assert error.path == "labs.platelets.unit"
    assert "'g/L'" in error.message and "platelets" in error.message
