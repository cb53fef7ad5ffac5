"""C-UNIT-1 in the infusion plan input: the platelet count read from the patient record
(B-AP-1's bleeding check) must be plausible; a count that is a unit mix-up (a /µL number
read as × 10⁹/L) is a field error, never a planning input."""

import pytest

from infusion.engine import validate_plan_input
from infusion.engine.contract import PLATELETS_PLAUSIBLE_10E9_PER_L
from screening.engine.units import PLAUSIBLE_VALUE

from . import example_doc

PATH = "patient.platelets.value_10e9_per_l"


def errors_at(doc):
    return {e.path: e.message for e in validate_plan_input(doc)}


@pytest.mark.parametrize(
    ("count", "accepted"),
    [("1", True), ("0.99", False), ("2000", True), ("2000.01", False), ("4500", False)],
)
def test_mixed_units_read_silently_an_implausible_platelet_count_is_an_error(count, accepted):
    doc = example_doc()
    doc["patient"]["platelets"] = {"value_10e9_per_l": count, "date": "2024-03-01"}
    errors = errors_at(doc)
    assert (PATH not in errors) is accepted
    if not accepted:
        assert "not plausible for platelets" in errors[PATH] and "C-UNIT-1" in errors[PATH]


def test_c_unit_1_the_infusion_platelet_range_is_the_screening_engines():
    assert PLATELETS_PLAUSIBLE_10E9_PER_L == PLAUSIBLE_VALUE["platelets"]
