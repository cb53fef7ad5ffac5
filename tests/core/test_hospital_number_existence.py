"""Existence checks never reveal another ward's records (issue 17).

Hospital numbers are unique across the hospital, so a ward-B nurse typing a ward-A
patient's number cannot register it; she is told only that the number cannot be
registered on her ward (check it, or ask the medical records office) — never that a
patient with that number exists, nor where. Her own ward's duplicates are named as such.
The attempt is audited, as a look at another ward's record is.
"""

import pytest

from core.forms import NUMBER_NOT_REGISTRABLE
from core.models import AuditEvent, Patient
from tests.factories import make_patient

pytestmark = pytest.mark.django_db


def _new(ward, number):
    return {
        "hospital_number": number,
        "name": "Someone New",
        "sex": "F",
        "date_of_birth": "1990-01-01",
        "ward": ward.pk,
    }


def test_a_ward_b_nurse_is_not_told_a_ward_a_number_exists(login, nurse_b, ward_a, ward_b):
    held = make_patient(ward_a, hospital_number="H0042", name="Alice Wardone")

    response = login(nurse_b).post("/patients/new/", _new(ward_b, "h0042 "))

    assert response.status_code == 200
    page = response.content.decode()
    assert str(NUMBER_NOT_REGISTRABLE) in page
    assert "exists" not in page
    assert "Alice Wardone" not in page
    assert "Ward A" not in page
    assert Patient.objects.filter(hospital_number="H0042").count() == 1
    event = AuditEvent.objects.get(action="access_denied")
    assert event.actor == nurse_b
    assert event.patient_id == held.pk
    assert event.new_values == {
        "reason": "hospital number of another ward",
        "action": "patient_create",
    }


def test_the_refusal_reads_the_same_whoever_holds_the_number(login, nurse_b, ward_a, ward_b):
    make_patient(ward_a, hospital_number="H0001", name="First")
    make_patient(ward_a, hospital_number="H0002", name="Second", sex="M")
    client = login(nurse_b)

    def errors(number):
        response = client.post("/patients/new/", _new(ward_b, number))
        return response.context["form"].errors["hospital_number"]

    assert errors("H0001") == errors("H0002") == [str(NUMBER_NOT_REGISTRABLE)]


def test_a_number_nobody_holds_is_registered(login, nurse_b, ward_a, ward_b):
    make_patient(ward_a, hospital_number="H0042")
    response = login(nurse_b).post("/patients/new/", _new(ward_b, "H0043"))
    assert response.status_code == 302
    assert Patient.objects.get(hospital_number="H0043").ward == ward_b


def test_a_duplicate_on_ones_own_ward_is_named(login, nurse, ward_a):
    make_patient(ward_a, hospital_number="H0042")
    response = login(nurse).post("/patients/new/", _new(ward_a, "H0042"))
    assert response.status_code == 200
    assert response.context["form"].errors["hospital_number"] == [
        "A patient with this hospital number is already on your ward."
    ]
    assert not AuditEvent.objects.filter(action="access_denied").exists()


def test_changing_a_number_to_another_wards_is_refused_the_same_way(login, nurse_b, ward_a, ward_b):
    make_patient(ward_a, hospital_number="H0042", name="Alice Wardone")
    mine = make_patient(ward_b, hospital_number="B0001")
    response = login(nurse_b).post(
        f"/patients/{mine.pk}/edit/", {**_new(ward_b, "H0042"), "reason": "typo"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["hospital_number"] == [str(NUMBER_NOT_REGISTRABLE)]
    assert "exists" not in response.content.decode()
    mine.refresh_from_db()
    assert mine.hospital_number == "B0001"
    event = AuditEvent.objects.get(action="access_denied")
    assert event.new_values["action"] == "patient_update"


def test_keeping_ones_own_number_on_an_edit_is_no_duplicate(login, nurse, ward_a):
    patient = make_patient(ward_a, hospital_number="H0042", name="Before")
    response = login(nurse).post(
        f"/patients/{patient.pk}/edit/", {**_new(ward_a, "H0042"), "name": "After", "reason": "x"}
    )
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.name == "After"
