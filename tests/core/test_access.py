import pytest
from django.test import Client

from core.models import Patient

pytestmark = pytest.mark.django_db


def test_a_nurse_on_ward_a_gets_404_for_a_ward_b_patient(login, nurse, patient_b):
    assert login(nurse).get(f"/patients/{patient_b.pk}/").status_code == 404


def test_ward_b_patients_are_not_listed_for_ward_a_staff(login, nurse, patient, patient_b):
    body = login(nurse).get("/patients/").content.decode()
    assert patient.hospital_number in body
    assert patient_b.hospital_number not in body


def test_the_auditor_sees_every_ward_but_changes_nothing(
    login, auditor, patient, patient_b, ward_a
):
    client = login(auditor)
    body = client.get("/patients/").content.decode()
    assert patient.hospital_number in body and patient_b.hospital_number in body
    response = client.post(f"/patients/{patient.pk}/edit/", {"name": "x", "reason": "x"})
    assert response.status_code == 403
    response = client.post(
        "/patients/new/",
        {
            "hospital_number": "Z1",
            "name": "x",
            "sex": "F",
            "date_of_birth": "1990-01-01",
            "ward": ward_a.pk,
        },
    )
    assert response.status_code == 403
    assert not Patient.objects.filter(hospital_number="Z1").exists()


def test_an_htmx_post_without_csrf_token_is_refused(nurse, patient):
    client = Client(enforce_csrf_checks=True)
    client.force_login(nurse)
    response = client.post(
        f"/patients/{patient.pk}/measurements/",
        {"kind": "weight_kg", "value": "60", "measured_at": "2026-11-01T08:00"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 403
    assert not patient.measurements.exists()


def test_an_htmx_post_with_the_csrf_header_is_accepted(nurse, patient):
    client = Client(enforce_csrf_checks=True)
    client.force_login(nurse)
    page = client.get(f"/patients/{patient.pk}/")
    token = page.context["csrf_token"]
    response = client.post(
        f"/patients/{patient.pk}/measurements/",
        {"kind": "weight_kg", "value": "60", "measured_at": "2026-11-01T08:00"},
        HTTP_HX_REQUEST="true",
        HTTP_X_CSRFTOKEN=str(token),
    )
    assert response.status_code == 200
    assert patient.measurements.count() == 1


def test_logout_by_get_is_not_allowed(login, nurse):
    assert login(nurse).get("/logout/").status_code == 405
