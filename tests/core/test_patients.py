import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import make_patient

pytestmark = pytest.mark.django_db


def test_search_by_number_or_name(login, nurse, ward_a):
    make_patient(ward_a, hospital_number="H0000777", name="Searchable Sam")
    make_patient(ward_a, hospital_number="H0000888", name="Other Olga")
    client = login(nurse)
    by_number = client.get("/patients/?q=0777").content.decode()
    assert "Searchable Sam" in by_number and "Other Olga" not in by_number
    by_name = client.get("/patients/?q=olga").content.decode()
    assert "Other Olga" in by_name and "Searchable Sam" not in by_name


def test_htmx_search_returns_only_the_table(login, nurse, patient):
    response = login(nurse).get(
        "/patients/?q=Alice", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="patient-table"
    )
    body = response.content.decode()
    assert body.strip().startswith('<div id="patient-table">')
    assert "<html" not in body and "Alice Example" in body


def test_the_full_page_is_rendered_without_htmx(login, nurse, patient):
    body = login(nurse).get("/patients/").content.decode()
    assert "<html" in body and 'id="patient-table"' in body


def test_the_list_paginates_25_per_page(login, nurse, ward_a):
    for i in range(30):
        make_patient(ward_a, hospital_number=f"P{i:05d}")
    client = login(nurse)
    first = client.get("/patients/").content.decode()
    second = client.get("/patients/?page=2").content.decode()
    assert "P00000" in first and "P00025" not in first
    assert "P00025" in second and "Page 2 of 2" in second


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_list_query_count_does_not_grow_with_rows(login, nurse, ward_a):
    client = login(nurse)
    make_patient(ward_a)
    few = _count_queries(client, "/patients/")
    for _ in range(20):
        make_patient(ward_a)
    assert _count_queries(client, "/patients/") == few


def test_a_bad_measurement_shows_a_specific_message_and_keeps_the_input(login, nurse, patient):
    response = login(nurse).post(
        f"/patients/{patient.pk}/measurements/",
        {"kind": "weight_kg", "value": "900", "measured_at": "2026-11-01T08:00"},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert "Weight (kg) must be between 1 and 400." in body
    assert 'value="900"' in body
    assert not patient.measurements.exists()


def test_a_lab_in_a_wrong_unit_is_refused_with_the_allowed_units(login, nurse, patient):
    response = login(nurse).post(
        f"/patients/{patient.pk}/labs/",
        {
            "analyte": "creatinine",
            "value": "80",
            "unit": "g/L",
            "lab": "Central",
            "observed_at": "2026-11-01T08:00",
        },
        HTTP_HX_REQUEST="true",
    )
    assert (
        "g/L is not a unit for Serum creatinine; use one of: umol/L, mg/dL."
        in response.content.decode()
    )
    assert not patient.lab_results.exists()


def test_a_future_date_of_birth_is_refused(login, nurse, ward_a):
    response = login(nurse).post(
        "/patients/new/",
        {
            "hospital_number": "H1",
            "name": "Future",
            "sex": "F",
            "date_of_birth": "2999-01-01",
            "ward": ward_a.pk,
        },
    )
    assert response.status_code == 200
    assert b"The date of birth is in the future." in response.content
    assert b'value="Future"' in response.content


def test_staff_cannot_create_a_patient_on_another_ward(login, nurse, ward_b):
    response = login(nurse).post(
        "/patients/new/",
        {
            "hospital_number": "H2",
            "name": "Sneaky",
            "sex": "F",
            "date_of_birth": "1990-01-01",
            "ward": ward_b.pk,
        },
    )
    assert response.status_code == 200
    assert b"Select a valid choice" in response.content


def test_times_are_shown_in_the_ward_time_zone(login, nurse, patient, settings):
    from datetime import UTC, datetime

    from tests.factories import add_weight

    add_weight(patient, nurse, 60, when=datetime(2026, 11, 1, 23, 30, tzinfo=UTC))
    body = login(nurse).get(f"/patients/{patient.pk}/").content.decode()
    assert "2026-11-02 07:30" in body  # Asia/Shanghai is UTC+8
    assert "Times shown in Asia/Shanghai" in body
