"""Reference ranges supply the ULNs behind screening verdicts: admin edits are audited."""

from decimal import Decimal

import pytest

from core import services
from core.models import AuditEvent, ReferenceRange
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def creatinine(db):
    return ReferenceRange.objects.create(
        lab="Central", analyte="creatinine", sex="F", unit="umol/L", lower=45, upper=84
    )


def _form(rr, **changes):
    data = {
        "lab": rr.lab,
        "analyte": rr.analyte,
        "sex": rr.sex,
        "unit": rr.unit,
        "lower": str(rr.lower),
        "upper": str(rr.upper),
        "reason": "",
        "_save": "Save",
    }
    data.update(changes)
    return data


def _change_url(rr):
    return f"/django-admin/core/referencerange/{rr.pk}/change/"


def test_it_audits_a_change_with_old_and_new_values_and_the_reason(login, auditor, creatinine):
    response = login(auditor).post(
        _change_url(creatinine), _form(creatinine, upper="90", reason="new lab method, 2026")
    )
    assert response.status_code == 302
    creatinine.refresh_from_db()
    assert creatinine.upper == Decimal("90")
    event = AuditEvent.objects.get(action="update", object_type="core.ReferenceRange")
    assert event.object_id == str(creatinine.pk)
    assert event.actor == auditor
    assert event.old_values == {"upper": "84.0000"}
    assert event.new_values == {"upper": "90.0000"}
    assert event.reason == "new lab method, 2026"


def test_it_refuses_a_change_without_a_reason(login, auditor, creatinine):
    response = login(auditor).post(_change_url(creatinine), _form(creatinine, upper="90"))
    assert response.status_code == 200
    assert b"This field is required" in response.content
    creatinine.refresh_from_db()
    assert creatinine.upper == Decimal("84")
    assert not AuditEvent.objects.filter(object_type="core.ReferenceRange").exists()


def test_it_audits_a_new_range(login, auditor):
    response = login(auditor).post(
        "/django-admin/core/referencerange/add/",
        {
            "lab": "Central",
            "analyte": "alt",
            "sex": "",
            "unit": "U/L",
            "lower": "7",
            "upper": "40",
            "reason": "lab added ALT",
            "_save": "Save",
        },
    )
    assert response.status_code == 302
    rr = ReferenceRange.objects.get(analyte="alt")
    event = AuditEvent.objects.get(action="create", object_type="core.ReferenceRange")
    assert event.object_id == str(rr.pk)
    assert event.new_values["upper"] == "40.0000"
    assert event.old_values is None
    assert event.reason == "lab added ALT"


def test_a_save_without_changes_writes_no_event(login, auditor, creatinine):
    response = login(auditor).post(_change_url(creatinine), _form(creatinine, reason="looked"))
    assert response.status_code == 302
    assert not AuditEvent.objects.filter(object_type="core.ReferenceRange").exists()


def test_a_delete_is_audited_with_the_old_values_and_the_reason(login, creatinine):
    superuser = make_user("admin", None, username="root", is_staff=True, is_superuser=True)
    client = login(superuser)
    url = f"/django-admin/core/referencerange/{creatinine.pk}/delete/"
    assert b'name="reason"' in client.get(url).content

    refused = client.post(url, {"post": "yes", "reason": " "})
    assert refused.status_code == 302
    assert ReferenceRange.objects.filter(pk=creatinine.pk).exists()

    response = client.post(url, {"post": "yes", "reason": "duplicate of the unisex range"})
    assert response.status_code == 302
    assert not ReferenceRange.objects.filter(pk=creatinine.pk).exists()
    event = AuditEvent.objects.get(action="delete", object_type="core.ReferenceRange")
    assert event.object_id == str(creatinine.pk)
    assert event.old_values["upper"] == "84.0000"
    assert event.reason == "duplicate of the unisex range"


def test_the_bulk_delete_action_is_not_offered(login, auditor, creatinine):
    superuser = make_user("admin", None, username="root", is_staff=True, is_superuser=True)
    response = login(superuser).get("/django-admin/core/referencerange/")
    assert response.status_code == 200
    assert b"delete_selected" not in response.content


@pytest.mark.parametrize("role", ["nurse", "physician", "pharmacist"])
def test_ward_staff_cannot_reach_the_admin_change_page(login, ward_a, creatinine, role):
    user = make_user(role, ward_a)
    client = login(user)
    response = client.get(_change_url(creatinine))
    assert response.status_code in (302, 403)
    if response.status_code == 302:
        assert "/django-admin/login/" in response["Location"]
    response = client.post(_change_url(creatinine), _form(creatinine, upper="1", reason="x"))
    assert response.status_code in (302, 403)
    creatinine.refresh_from_db()
    assert creatinine.upper == Decimal("84")


def test_even_a_staff_flag_without_the_permission_is_refused(login, ward_a, creatinine):
    nurse = make_user("nurse", ward_a, is_staff=True)
    response = login(nurse).get(_change_url(creatinine))
    assert response.status_code == 403


def test_the_service_refuses_a_blank_reason(auditor, creatinine):
    creatinine.upper = Decimal("99")
    with pytest.raises(ValueError, match="needs a reason"):
        services.reference_range_save(actor=auditor, reference_range=creatinine, reason="  ")
    with pytest.raises(ValueError, match="needs a reason"):
        services.reference_range_delete(actor=auditor, reference_range=creatinine, reason="")
    creatinine.refresh_from_db()
    assert creatinine.upper == Decimal("84")
    assert ReferenceRange.objects.filter(pk=creatinine.pk).exists()
