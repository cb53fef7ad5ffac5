from decimal import Decimal

import pytest
from django.http import Http404
from django.test import Client
from django.utils import timezone

from core.access import get_for_user
from core.models import AuditEvent, LabResult, Patient

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


def _denials():
    return list(
        AuditEvent.objects.filter(action="access_denied")
        .order_by("seq")
        .values_list("object_type", "object_id", "patient_id")
    )


def test_one_check_serves_every_object_type_and_audits_the_other_wards(
    nurse, auditor, patient, patient_b
):
    """`get_for_user` behind patients, screenings, episodes, orders and reactions: here
    on patients and on a lab result, found through its patient."""
    lab = LabResult.objects.create(
        patient=patient_b,
        analyte="platelets",
        value=Decimal("180"),
        unit="10^9/L",
        lab="Central",
        observed_at=timezone.now(),
        recorded_by=nurse,
    )
    labs = LabResult.objects.select_related("patient")
    assert (
        get_for_user(nurse, Patient.objects.all(), patient.pk, ward_path="ward", patient_path="pk")
        == patient
    )
    assert (
        get_for_user(auditor, labs, lab.pk, ward_path="patient__ward", patient_path="patient_id")
        == lab
    )

    for pk in (patient_b.pk, str(patient_b.pk)):
        with pytest.raises(Http404):
            get_for_user(nurse, Patient.objects.all(), pk, ward_path="ward", patient_path="pk")
    with pytest.raises(Http404):
        get_for_user(nurse, labs, lab.pk, ward_path="patient__ward", patient_path="patient_id")
    assert _denials() == [
        ("core.Patient", str(patient_b.pk), patient_b.pk),
        ("core.Patient", str(patient_b.pk), patient_b.pk),
        ("core.LabResult", str(lab.pk), patient_b.pk),
    ]

    # Nothing there, or not an id at all: 404, and nothing to audit.
    for pk in (lab.pk + 1000, "abc", "1; DROP TABLE", None):
        with pytest.raises(Http404):
            get_for_user(nurse, labs, pk, ward_path="patient__ward", patient_path="patient_id")
    assert len(_denials()) == 3


def test_a_user_without_a_ward_sees_nothing_and_is_audited(ward_a, patient):
    from tests.factories import make_user

    wardless = make_user("nurse", None, username="floating")
    with pytest.raises(Http404):
        get_for_user(
            wardless, Patient.objects.all(), patient.pk, ward_path="ward", patient_path="pk"
        )
    assert _denials() == [("core.Patient", str(patient.pk), patient.pk)]
