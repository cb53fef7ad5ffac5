"""Issue 16, item 3: request hygiene. Control characters in a query string or a form are
refused with a 400 (never a 500, nothing saved); page numbers beyond the last page show
the last page and absurd ones never fail; free text has a length."""

import pytest

from core import services
from core.models import AuditEvent, Patient
from core.paging import MAX_PAGE, page_number
from tests.factories import make_patient

pytestmark = pytest.mark.django_db

ABSURD_PAGES = ["99999999999999999999999", "9" * 5000, "-1", "0", "1e9", "abc", "²", ""]


def test_a_nul_byte_in_the_patient_search_is_a_400_not_a_500(login, nurse):
    response = login(nurse).get("/patients/?q=%00")
    assert response.status_code == 400
    assert "control character (U+0000)" in response.content.decode()


@pytest.mark.parametrize("char", ["%00", "%0B", "%1B", "%7F", "%C2%85", "%0A"])
def test_a_control_character_in_any_query_string_is_a_400(login, auditor, char):
    response = login(auditor).get(f"/audit/?user=a{char}b")
    assert response.status_code == 400


def test_a_control_character_in_an_api_query_string_is_a_json_400(login, nurse):
    response = login(nurse).get("/api/infusion/plan?x=%00")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "x"


@pytest.mark.parametrize("char", ["\x00", "\x0b", "\x1b", "\x7f", "\x9b"])
def test_a_control_character_in_a_form_field_is_refused_and_nothing_is_saved(login, nurse, char):
    client = login(nurse)
    events = AuditEvent.objects.count()
    response = client.post(
        "/patients/new/",
        {
            "hospital_number": "H-NUL-1",
            "name": f"Alice{char}Example",
            "sex": "F",
            "date_of_birth": "1980-01-01",
            "ward": nurse.ward_id,
        },
    )
    assert response.status_code == 400
    assert "“name” contains a control character" in response.content.decode()
    assert not Patient.objects.filter(hospital_number="H-NUL-1").exists()
    assert AuditEvent.objects.count() == events


def test_multi_line_text_keeps_its_line_breaks_and_tabs(login, physician, patient):
    response = login(physician).post(
        f"/patients/{patient.pk}/edit/",
        {
            "hospital_number": patient.hospital_number,
            "name": "Alice Renamed",
            "sex": patient.sex,
            "date_of_birth": patient.date_of_birth.isoformat(),
            "ward": patient.ward_id,
            "reason": "Typo on admission.\r\n\tChecked with the ID card.",
        },
    )
    assert response.status_code == 302
    assert Patient.objects.get(pk=patient.pk).name == "Alice Renamed"


def test_a_reason_longer_than_2000_characters_is_refused(login, physician, patient):
    response = login(physician).post(
        f"/patients/{patient.pk}/edit/",
        {
            "hospital_number": patient.hospital_number,
            "name": "Alice Renamed",
            "sex": patient.sex,
            "date_of_birth": patient.date_of_birth.isoformat(),
            "ward": patient.ward_id,
            "reason": "r" * 2001,
        },
    )
    assert response.status_code == 200
    assert "longer than 2000 characters" in response.content.decode()
    assert Patient.objects.get(pk=patient.pk).name == "Alice Example"
    with pytest.raises(Exception) as raised:
        services.patient_update(
            actor=physician, patient=patient, data={"name": "X"}, reason="r" * 2001
        )
    assert "reason" in raised.value.message_dict


# --- Page numbers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "page"),
    [("3", 3), ("0", 1), ("-2", 1), ("x", 1), ("", 1), (None, 1), ("9" * 30, MAX_PAGE)],
)
def test_page_numbers_are_read_without_trusting_them(raw, page):
    assert page_number(raw) == page


def test_a_page_beyond_the_last_shows_the_last_page(login, nurse, ward_a):
    for n in range(30):
        make_patient(ward_a, hospital_number=f"H{n:03d}", name=f"Patient {n:03d}")
    body = login(nurse).get("/patients/?page=7").content.decode()
    assert "Patient 029" in body and "Patient 000" not in body


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("nurse", "/patients/"),
        ("auditor", "/audit/"),
        ("auditor", "/audit/?action=login"),
        ("nurse", "/screening/"),
        ("nurse", "/notifications/"),
        ("pharmacist", "/infusion/queue/"),
    ],
)
@pytest.mark.parametrize("page", ABSURD_PAGES)
def test_an_absurd_page_number_on_any_paginated_list_is_never_a_500(request, login, who, url, page):
    user = request.getfixturevalue(who)
    separator = "&" if "?" in url else "?"
    response = login(user).get(f"{url}{separator}page={page}")
    assert response.status_code == 200
