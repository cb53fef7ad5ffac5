"""The system administrator (issue 17): users and wards in the Django admin, each change
audited with its reason; no clinical record; never another administrator's account."""

import pytest

from core.models import AuditEvent, Role, User, Ward
from tests.factories import PASSWORD, make_patient, make_user

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Ward-nurse-passphrase-2026"


def _new_user(ward, **changes):
    data = {
        "username": "nurse.new",
        "first_name": "New",
        "last_name": "Nurse",
        "email": "new@ward.example",
        "language": "en",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
        "role": "nurse",
        "ward": ward.pk if ward else "",
        "is_active": "on",
        "reason": "joined ward A on 1 December",
        "_save": "Save",
    }
    data.update(changes)
    return data


def _change(user, **changes):
    data = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "language": user.language,
        "role": user.role,
        "ward": user.ward_id or "",
        "is_active": "on" if user.is_active else "",
        "reason": "",
        "_save": "Save",
    }
    if user.is_investigator:
        data["is_investigator"] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_a_sysadmin_creates_a_nurse_with_a_reason_and_it_is_audited(login, sysadmin, ward_a):
    response = login(sysadmin).post("/django-admin/core/user/add/", _new_user(ward_a))

    assert response.status_code == 302
    user = User.objects.get(username="nurse.new")
    assert user.role == Role.NURSE
    assert user.ward == ward_a
    assert not user.is_staff
    assert user.check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(action="user_create")
    assert event.actor == sysadmin
    assert event.object_id == str(user.pk)
    assert event.new_values["role"] == "nurse"
    assert event.new_values["ward"] == ward_a.pk
    assert event.reason == "joined ward A on 1 December"
    assert NEW_PASSWORD not in str(event.new_values)
    assert "password" not in event.new_values


def test_a_user_without_a_reason_is_not_created(login, sysadmin, ward_a):
    response = login(sysadmin).post("/django-admin/core/user/add/", _new_user(ward_a, reason=""))
    assert response.status_code == 200
    assert b"This field is required" in response.content
    assert not User.objects.filter(username="nurse.new").exists()


def test_a_role_change_is_audited_before_and_after(login, sysadmin, ward_a):
    nurse = make_user("nurse", ward_a, username="n1")
    client = login(sysadmin)

    refused = client.post(
        f"/django-admin/core/user/{nurse.pk}/change/",
        _change(nurse, role="auditor", reason="moved to quality"),
    )
    assert refused.status_code == 200
    assert b"belong to no ward" in refused.content

    response = client.post(
        f"/django-admin/core/user/{nurse.pk}/change/",
        _change(nurse, role="auditor", ward="", reason="moved to quality"),
    )
    assert response.status_code == 302
    user = User.objects.get(pk=nurse.pk)
    assert user.role == Role.AUDITOR
    assert user.is_staff
    assert user.ward is None
    event = AuditEvent.objects.get(action="user_update")
    assert event.old_values == {"role": "nurse", "ward": ward_a.pk, "is_staff": False}
    assert event.new_values == {"role": "auditor", "ward": None, "is_staff": True}
    assert event.reason == "moved to quality"


def test_a_sysadmin_cannot_make_a_sysadmin(login, sysadmin):
    client = login(sysadmin)
    page = client.get("/django-admin/core/user/add/")
    assert b'value="sysadmin"' not in page.content
    response = client.post(
        "/django-admin/core/user/add/", _new_user(None, username="sys.new", role="sysadmin")
    )
    assert response.status_code == 200
    assert not User.objects.filter(username="sys.new").exists()
    assert not AuditEvent.objects.filter(action="user_create").exists()


def test_a_sysadmin_cannot_change_another_sysadmin_or_themselves(login, sysadmin, sysadmin2):
    client = login(sysadmin)
    for target in (sysadmin2, sysadmin):
        response = client.post(
            f"/django-admin/core/user/{target.pk}/change/",
            _change(target, first_name="Hacked", reason="x"),
        )
        assert response.status_code == 403
        set_password = client.post(
            f"/django-admin/core/user/{target.pk}/password/",
            {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD, "reason": "x"},
        )
        assert set_password.status_code == 403
        target.refresh_from_db()
        assert target.first_name != "Hacked"
        assert target.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(action__startswith="user_").exists()


def test_a_superuser_makes_a_sysadmin(login, db):
    root = User.objects.create_superuser("root", "root@ward.example", PASSWORD)
    response = login(root).post(
        "/django-admin/core/user/add/",
        _new_user(None, username="sys.new", role="sysadmin", reason="second administrator"),
    )
    assert response.status_code == 302
    user = User.objects.get(username="sys.new")
    assert user.role == Role.SYSADMIN
    assert user.is_staff


def test_a_password_set_by_a_sysadmin_is_audited_without_the_password(login, sysadmin, ward_a):
    nurse = make_user("nurse", ward_a, username="n1")
    response = login(sysadmin).post(
        f"/django-admin/core/user/{nurse.pk}/password/",
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD, "reason": "forgotten"},
    )
    assert response.status_code == 302
    nurse.refresh_from_db()
    assert nurse.check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(action="user_password_set")
    assert event.object_id == str(nurse.pk)
    assert event.reason == "forgotten"
    assert event.new_values is None


def test_wards_are_created_and_changed_with_an_audited_reason(login, sysadmin, ward_a):
    client = login(sysadmin)
    response = client.post(
        "/django-admin/core/ward/add/",
        {"code": "rheum-c", "name": "Rheumatology C", "reason": "new ward opens", "_save": "Save"},
    )
    assert response.status_code == 302
    ward = Ward.objects.get(code="rheum-c")
    created = AuditEvent.objects.get(action="ward_create")
    assert created.new_values["name"] == "Rheumatology C"
    assert created.reason == "new ward opens"

    doctor = make_user("physician", ward, username="doc.c")
    response = client.post(
        f"/django-admin/core/ward/{ward.pk}/change/",
        {
            "code": "rheum-c",
            "name": "Rheumatology C",
            "physician_on_duty": doctor.pk,
            "reason": "rota",
            "_save": "Save",
        },
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="ward_update")
    assert event.old_values == {"physician_on_duty": None}
    assert event.new_values == {"physician_on_duty": doctor.pk}
    assert (
        client.post(f"/django-admin/core/ward/{ward.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )


def test_an_auditor_cannot_manage_users_or_wards(login, auditor, ward_a):
    nurse = make_user("nurse", ward_a, username="n1")
    client = login(auditor)
    assert client.get("/django-admin/core/user/").status_code == 403
    assert client.post("/django-admin/core/user/add/", _new_user(ward_a)).status_code == 403
    assert (
        client.post(
            f"/django-admin/core/user/{nurse.pk}/change/", _change(nurse, reason="x")
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/django-admin/core/user/{nurse.pk}/password/",
            {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD, "reason": "x"},
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/django-admin/core/ward/{ward_a.pk}/change/",
            {"code": "x", "name": "x", "reason": "x", "_save": "Save"},
        ).status_code
        == 403
    )
    assert User.objects.filter(username="nurse.new").count() == 0
    assert Ward.objects.get(pk=ward_a.pk).code == "ward-a"


def test_a_sysadmin_reads_no_clinical_record(login, sysadmin, ward_a):
    patient = make_patient(ward_a)
    client = login(sysadmin)
    assert client.get("/patients/").status_code == 403
    assert client.get(f"/patients/{patient.pk}/").status_code == 403
    assert client.get("/audit/").status_code == 403
    home = client.get("/")
    assert home.status_code == 200
    assert b"/django-admin/" in home.content
