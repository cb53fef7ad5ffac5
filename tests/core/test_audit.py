import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, InternalError, ProgrammingError, connection, transaction

from core import audit
from core.models import AuditEvent, Patient, SecurityEvent
from core.querysets import AuditBypassError, AuditedQuerySet
from tests.factories import add_weight, make_patient

pytestmark = pytest.mark.django_db


def test_it_chains_each_event_to_the_previous_one(physician):
    first = audit.record("create", actor=physician, object_type="x", object_id="1", new={"a": 1})
    second = audit.record(
        "update", actor=physician, object_type="x", object_id="1", old={"a": 1}, new={"a": 2}
    )
    assert second.prev_hash == first.entry_hash
    assert second.seq == first.seq + 1
    assert audit.verify_chain().ok


def test_the_database_refuses_update_of_an_audit_row(physician):
    event = audit.record("create", actor=physician, object_type="x", object_id="1")
    with pytest.raises((InternalError, ProgrammingError)), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE core_auditevent SET reason = 'edited' WHERE id = %s", [event.pk])


def test_the_database_refuses_delete_of_an_audit_row(physician):
    event = audit.record("create", actor=physician, object_type="x", object_id="1")
    with pytest.raises((InternalError, ProgrammingError)), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [event.pk])


def _tamper(sql, params):
    # A superuser connection (the test's) can disable the trigger: the hash chain is the
    # second line of defence, and audit_verify must find what was changed.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # triggers off
        cursor.execute(sql, params)
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")


def test_audit_verify_names_the_first_tampered_event(physician, capsys):
    events = [
        audit.record("create", actor=physician, object_type="x", object_id=str(i)) for i in range(5)
    ]
    call_command("audit_verify")  # intact chain: exits normally
    _tamper("UPDATE core_auditevent SET reason = 'rewritten' WHERE id = %s", [events[2].pk])
    with pytest.raises(CommandError, match=rf"event #{events[2].seq}: content does not match"):
        call_command("audit_verify")


def test_audit_verify_finds_a_deleted_event(physician):
    events = [
        audit.record("create", actor=physician, object_type="x", object_id=str(i)) for i in range(4)
    ]
    _tamper("DELETE FROM core_auditevent WHERE id = %s", [events[1].pk])
    status = audit.verify_chain()
    assert not status.ok
    assert status.first_broken_seq == events[2].seq
    assert "missing" in status.problem


def test_audit_verify_exits_non_zero_from_the_shell(physician):
    audit.record("create", actor=physician, object_type="x", object_id="1")
    ev = audit.record("create", actor=physician, object_type="x", object_id="2")
    _tamper("UPDATE core_auditevent SET new_values = '{\"forged\": true}' WHERE id = %s", [ev.pk])
    with pytest.raises(CommandError) as excinfo:
        call_command("audit_verify")
    assert excinfo.value.returncode == 1


def test_queryset_update_on_an_audited_model_is_impossible(patient):
    with pytest.raises(AuditBypassError):
        Patient.objects.filter(pk=patient.pk).update(name="Changed silently")
    patient.refresh_from_db()
    assert patient.name == "Alice Example"


def _audited_managers():
    """Every (model, manager name) whose queryset is an AuditedQuerySet, in every app."""
    found = []
    for model in apps.get_models():
        for manager in model._meta.managers:
            if isinstance(manager.get_queryset(), AuditedQuerySet):
                found.append(
                    pytest.param(model, manager.name, id=f"{model._meta.label}.{manager.name}")
                )
    return found


AUDITED_MANAGERS = _audited_managers()


def test_the_audited_models_are_all_found():
    labels = {p.values[0]._meta.label for p in AUDITED_MANAGERS}
    assert {"core.Patient", "core.Measurement", "core.LabResult"} <= labels
    assert any(label.startswith("screening.") for label in labels)
    assert any(label.startswith("infusion.") for label in labels)


def _bypass_attempts(model, manager):
    some_field = next(f.name for f in model._meta.concrete_fields if not f.primary_key)
    return {
        "update": lambda: manager.all().update(**{some_field: None}),
        "delete": lambda: manager.all().delete(),
        "bulk_create": lambda: manager.bulk_create([model()]),
        "bulk_update": lambda: manager.bulk_update([model()], [some_field]),
        "update_or_create": lambda: manager.update_or_create(pk=0, defaults={}),
    }


@pytest.mark.parametrize("model,manager_name", AUDITED_MANAGERS)
@pytest.mark.parametrize(
    "operation", ["update", "delete", "bulk_create", "bulk_update", "update_or_create"]
)
def test_bulk_writes_on_every_audited_model_are_impossible(model, manager_name, operation):
    manager = getattr(model, manager_name)
    rows_before = manager.count()
    with pytest.raises(AuditBypassError, match="would skip the audit trail"):
        _bypass_attempts(model, manager)[operation]()
    assert manager.count() == rows_before


def test_bulk_writes_leave_the_patient_untouched(ward_a, patient):
    with pytest.raises(AuditBypassError):
        Patient.objects.bulk_create(
            [
                Patient(
                    hospital_number="X1", name="x", sex="F", date_of_birth="1990-01-01", ward=ward_a
                )
            ]
        )
    with pytest.raises(AuditBypassError):
        Patient.objects.bulk_update([patient], ["name"])
    with pytest.raises(AuditBypassError):
        Patient.objects.filter(pk=patient.pk).delete()
    assert Patient.objects.filter(pk=patient.pk, name="Alice Example").exists()
    assert not Patient.objects.filter(hospital_number="X1").exists()


def test_related_managers_of_a_patient_refuse_bulk_writes_too(patient, nurse):
    add_weight(patient, nurse, 60)
    with pytest.raises(AuditBypassError):
        patient.measurements.update(value=99)
    with pytest.raises(AuditBypassError):
        patient.lab_results.all().delete()
    assert patient.measurements.get().value == 60


def test_audit_rows_cannot_be_edited_through_the_orm_either(physician):
    event = audit.record("create", actor=physician, object_type="x", object_id="1")
    event.reason = "edited"
    with pytest.raises((InternalError, ProgrammingError, IntegrityError)), transaction.atomic():
        event.save()


def test_patient_create_and_update_through_the_ui_are_audited_with_old_new_and_reason(
    login, nurse, ward_a
):
    client = login(nurse)
    response = client.post(
        "/patients/new/",
        {
            "hospital_number": "h9000001",
            "name": "New Person",
            "sex": "F",
            "date_of_birth": "1988-02-03",
            "ward": ward_a.pk,
        },
    )
    patient = Patient.objects.get(hospital_number="H9000001")
    assert response.status_code == 302
    created = AuditEvent.objects.filter(action="create", object_type="core.Patient").latest("seq")
    assert created.actor == nurse
    assert created.new_values["name"] == "New Person"
    assert created.patient_id == patient.pk
    assert created.request_id and created.client_ip == "127.0.0.1"

    response = client.post(
        f"/patients/{patient.pk}/edit/",
        {
            "hospital_number": "H9000001",
            "name": "Renamed Person",
            "sex": "F",
            "date_of_birth": "1988-02-03",
            "ward": ward_a.pk,
            "reason": "spelling on admission form",
        },
    )
    assert response.status_code == 302
    updated = AuditEvent.objects.filter(action="update", object_type="core.Patient").latest("seq")
    assert updated.old_values == {"name": "New Person"}
    assert updated.new_values == {"name": "Renamed Person"}
    assert updated.reason == "spelling on admission form"


def test_an_edit_without_a_reason_is_refused_and_keeps_what_was_typed(
    login, nurse, patient, ward_a
):
    client = login(nurse)
    response = client.post(
        f"/patients/{patient.pk}/edit/",
        {
            "hospital_number": patient.hospital_number,
            "name": "Typed Name",
            "sex": "F",
            "date_of_birth": "1990-05-17",
            "ward": ward_a.pk,
            "reason": "",
        },
    )
    assert response.status_code == 200
    assert b"Give a reason" in response.content
    assert b'value="Typed Name"' in response.content
    patient.refresh_from_db()
    assert patient.name == "Alice Example"


def test_measurement_and_lab_entries_are_audited(login, nurse, patient):
    client = login(nurse)
    client.post(
        f"/patients/{patient.pk}/measurements/",
        {"kind": "weight_kg", "value": "61.5", "measured_at": "2026-11-01T08:00"},
    )
    client.post(
        f"/patients/{patient.pk}/labs/",
        {
            "analyte": "inr",
            "value": "1.1",
            "unit": "ratio",
            "lab": "Central",
            "observed_at": "2026-11-01T08:00",
        },
    )
    actions = list(
        AuditEvent.objects.filter(patient_id=patient.pk).values_list("object_type", "action")
    )
    assert ("core.Measurement", "create") in actions
    assert ("core.LabResult", "create") in actions


def test_login_and_logout_are_audited_and_a_failed_login_goes_to_the_security_log(client, nurse):
    client.post("/login/", {"username": "nurse", "password": "wrong-password"})
    client.post("/login/", {"username": "nurse", "password": "Correct-horse-42"})
    client.post("/logout/")
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
    assert actions[-2:] == ["login", "logout"]
    assert "login_failed" not in actions  # pre-authentication: not a clinical event
    failed = SecurityEvent.objects.get(kind="login_failed")
    assert failed.username == "nurse" and failed.path == "/login/"
    assert failed.client_ip == "127.0.0.1"
    assert "wrong-password" not in str(SecurityEvent.objects.values())


def test_permission_denied_is_audited(login, pharmacist):
    response = login(pharmacist).get("/patients/new/")
    assert response.status_code == 403
    event = AuditEvent.objects.get(action="permission_denied")
    assert event.actor == pharmacist
    assert event.new_values["path"] == "/patients/new/"


def test_reaching_for_another_wards_patient_is_audited(login, nurse, patient_b):
    assert login(nurse).get(f"/patients/{patient_b.pk}/").status_code == 404
    event = AuditEvent.objects.get(action="access_denied")
    assert event.patient_id == patient_b.pk and event.actor == nurse


def test_audit_export_is_itself_audited(login, auditor, physician):
    make_patient(physician.ward)
    response = login(auditor).get("/audit/export.csv?action=login")
    assert response.status_code == 200
    assert AuditEvent.objects.filter(action="export", actor=auditor).exists()
