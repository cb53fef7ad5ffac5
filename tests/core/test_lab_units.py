"""C-UNIT-1 at the ward's lab entry: a value outside its analyte's physiological range
(finding "Mixed units read silently": Hb 105 "g/dL", taken as 1,050 g/L) is refused with
the unit it would fit, the typed value kept, nothing stored."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core import services
from core.forms import LabResultForm
from core.models import AuditEvent, LabResult
from tests.factories import add_lab


def hb(value, unit="g/dL"):
    at = timezone.localtime() - timedelta(hours=1)
    return {
        "analyte": "haemoglobin",
        "value": value,
        "unit": unit,
        "lab": "Central",
        "observed_at": at.strftime("%Y-%m-%dT%H:%M"),
    }


@pytest.mark.parametrize(
    ("value", "unit", "accepted"),
    [("105", "g/dL", False), ("25", "g/dL", True), ("25.1", "g/dL", False), ("105", "g/L", True)],
)
def test_mixed_units_read_silently_lab_entry_form_hb_plausibility(value, unit, accepted):
    form = LabResultForm(hb(value, unit))
    assert form.is_valid() is accepted
    if not accepted:
        [message] = form.errors["value"]
        assert "is not plausible for Haemoglobin" in message


@pytest.mark.django_db
def test_mixed_units_read_silently_lab_entry_hb_105_g_dl_is_refused_naming_g_l(
    login, nurse, patient
):
    response = login(nurse).post(f"/patients/{patient.pk}/labs/", hb("105"))
    html = response.content.decode()
    assert response.status_code == 400
    assert "Did you mean 105 g/L?" in html and 'value="105"' in html
    assert not LabResult.objects.exists()


@pytest.mark.django_db
def test_mixed_units_read_silently_the_service_refuses_it_too(nurse, patient):
    # C-UNIT-1 is enforced in the service, whoever calls it.
    with pytest.raises(ValidationError) as refused:
        services.lab_result_record(
            actor=nurse,
            patient=patient,
            analyte="creatinine",
            value=Decimal("3.39"),
            unit="umol/L",
            lab="Central",
            observed_at=timezone.now() - timedelta(hours=1),
        )
    assert "Did you mean 3.39 mg/dL?" in refused.value.message_dict["value"][0]
    assert not LabResult.objects.exists()
    assert not AuditEvent.objects.filter(object_type="core.LabResult").exists()


@pytest.mark.django_db
def test_mixed_units_read_silently_a_row_stored_before_still_displays_and_is_refused_in_screening(
    login, nurse, patient
):
    from screening import services as screening_services

    add_lab(patient, nurse, "haemoglobin", "105", "g/dL", when=timezone.now() - timedelta(days=1))
    client = login(nurse)
    page = client.get(f"/patients/{patient.pk}/")
    assert page.status_code == 200 and "105" in page.content.decode()
    screening = screening_services.screening_start(actor=nurse, patient=patient, indication="SLE")
    # Prefilled as stored, and an error on its input rather than a verdict.
    assert screening.facts["labs"]["haemoglobin"]["value"] == 105
    assert screening.evaluation is None
    assert "did you mean 105 g/L?" in screening.form_errors["labs.haemoglobin.value"][0]
    assert client.get(f"/screening/{screening.pk}/").status_code == 200


@pytest.mark.django_db
def test_c_unit_1_a_reference_range_in_a_unit_of_another_analyte_is_refused():
    from core.sysadmin import ReferenceRangeForm

    data = {"lab": "Central", "analyte": "creatinine", "sex": "", "lower": "45", "reason": "x"}
    form = ReferenceRangeForm({**data, "unit": "g/L", "upper": "84"})
    assert not form.is_valid()
    assert "g/L is not a unit for Serum creatinine" in form.errors["unit"][0]
    assert ReferenceRangeForm({**data, "unit": "umol/L", "upper": "84"}).is_valid()
