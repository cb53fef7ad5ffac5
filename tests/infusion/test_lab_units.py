"""C-UNIT-1: the plan's platelet count is read from the record by its own unit."""

from datetime import timedelta

import pytest
from django.utils import timezone

from infusion.inputs import record_values
from tests.factories import add_lab

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [("150000", "/uL", 150), ("150", "10^9/L", 150), ("150", "furlongs", None)],
)
def test_mixed_units_read_silently_the_platelet_count_is_converted_by_its_unit(
    nurse, patient, value, unit, expected
):
    add_lab(patient, nurse, "platelets", value, unit, when=timezone.now() - timedelta(days=1))
    record = record_values(patient)
    assert record.platelets_10e9_per_l == expected
    # A count that cannot be read is no count at all, with no date to make it look current.
    assert (record.platelets_observed_at is None) is (expected is None)
