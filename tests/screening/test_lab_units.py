"""C-UNIT-1 at the screening edges: the API, the form and the reference ranges.

The attack report's finding, "Mixed units read silently": a creatinine of 3.39 mg/dL with a
ULN of 84 (a µmol/L number) read "≤ 1.5 × ULN" (eligible); Hb 105 "g/dL" was 1,050 g/L.
"""

import json
from decimal import Decimal
from pathlib import Path

import pytest

from core.models import ReferenceRange
from tests.screening.conftest import LAB, form_data, start

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples" / "screening"
URL = "/api/screening/evaluate"


def sle():
    return json.loads((EXAMPLES / "sle.json").read_text(encoding="utf-8"))


def post(client, doc):
    return client.post(URL, data=json.dumps(doc), content_type="application/json")


def a_org_4(payload):
    return next(c for c in payload["criteria"] if c["rule_id"] == "A-ORG-4")


@pytest.mark.django_db
def test_mixed_units_read_silently_api_hb_105_g_dl_is_400_naming_g_l(login, nurse):
    doc = sle()
    doc["labs"]["haemoglobin"].update(value=105, unit="g/dL")
    response = post(login(nurse), doc)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == "labs.haemoglobin.value"
    assert "105 g/dL is not plausible for haemoglobin" in error["message"]
    assert "did you mean 105 g/L?" in error["message"]


@pytest.mark.django_db
def test_mixed_units_read_silently_api_creatinine_uln_in_its_own_unit_is_converted(login, nurse):
    doc = sle()
    doc["patient"].update(date_of_birth="1947-01-01", sex="male")
    doc["patient"]["weight_kg"]["value"] = 50
    doc["labs"]["creatinine"].update(value=3.39, unit="mg/dL", uln=84, uln_unit="umol/L")
    client = login(nurse)
    response = post(client, doc)
    assert response.status_code == 200
    payload = response.json()
    assert payload["overall"] == "ineligible"
    assert a_org_4(payload)["status"] == "not_met"
    assert "ULN 84 µmol/L (= 0.95 mg/dL" in a_org_4(payload)["reason"]
    # Without its unit the same ULN reads as 84 mg/dL: an error, not a verdict.
    del doc["labs"]["creatinine"]["uln_unit"]
    response = post(client, doc)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == "labs.creatinine.uln"
    assert "did you mean 84 µmol/L?" in error["message"]


@pytest.mark.django_db
@pytest.mark.usefixtures("frozen")
def test_mixed_units_read_silently_the_form_keeps_hb_105_g_dl_with_the_error(login, nurse, labs):
    screening = start(nurse, labs)
    data = form_data(
        screening, **{"labs.haemoglobin.value": "105", "labs.haemoglobin.unit": "g/dL"}
    )
    response = login(nurse).post(f"/screening/{screening.pk}/evaluate/", data)
    html = response.content.decode()
    assert response.status_code == 400
    assert "did you mean 105 g/L?" in html
    assert 'name="labs.haemoglobin.value"' in html and 'value="105"' in html
    screening.refresh_from_db()
    assert screening.facts["labs"]["haemoglobin"]["value"] == 118  # the record's, kept
    assert screening.invalid_inputs["labs.haemoglobin.value"] == "105"


@pytest.mark.django_db
@pytest.mark.usefixtures("frozen")
def test_mixed_units_read_silently_the_form_gives_the_uln_its_own_unit(login, nurse, labs):
    screening = start(nurse, labs)
    data = form_data(
        screening,
        **{
            "labs.creatinine.value": "3.39",
            "labs.creatinine.unit": "mg/dL",
            "labs.creatinine.uln": "88",
            "labs.creatinine.uln_unit": "µmol/L",
        },
    )
    login(nurse).post(f"/screening/{screening.pk}/evaluate/", data)
    screening.refresh_from_db()
    creatinine = screening.facts["labs"]["creatinine"]
    assert (creatinine["unit"], creatinine["uln"], creatinine["uln_unit"]) == (
        "mg/dL",
        88,
        "µmol/L",
    )
    # 88 µmol/L = 0.995… mg/dL; 1.5 × that = 1.49 mg/dL, below 3.39 mg/dL.
    assert "ULN 88 µmol/L (= 1 mg/dL; limit 1.49 mg/dL)" in a_org_4(screening.evaluation)["reason"]


@pytest.mark.django_db
def test_c_unit_1_an_implausible_reference_range_is_not_used_as_a_uln(login, nurse):
    # 1.2 "umol/L" for bilirubin is a mg/dL number: no ULN, and the reason says why.
    ReferenceRange.objects.create(
        lab=LAB, analyte="bilirubin", sex="", unit="umol/L", upper=Decimal("1.2")
    )
    doc = sle()
    doc["labs"]["total_bilirubin"].pop("uln")
    doc["labs"]["total_bilirubin"]["lab"] = LAB
    response = post(login(nurse), doc)
    assert response.status_code == 200
    result = next(c for c in response.json()["criteria"] if c["rule_id"] == "A-ORG-3")
    assert result["status"] == "unknown"
    assert "gives 1.2 umol/L, which is not a plausible upper limit of normal" in result["reason"]
