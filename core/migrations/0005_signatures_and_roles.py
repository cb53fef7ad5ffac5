# Issue 17: the admin role split into auditor and system administrator, reference-range
# changes approved by a second administrator, signed records stored once as PDF/A.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from core.roles import grant

# The grants as they are at this migration (frozen: later models' permissions do not exist
# yet when it runs). The former "admin" role read every ward and the audit trail, and could
# also change reference ranges; its users become auditors, who cannot.
AUDITOR = [
    "core.view_patient",
    "core.view_measurement",
    "core.view_labresult",
    "core.view_auditevent",
    "core.view_securityevent",
    "core.view_referencerange",
    "core.view_referencerangechange",
    "core.view_signedrecord",
    "screening.view_screening",
    "infusion.view_episode",
    "infusion.view_order",
    "infusion.view_signature",
    "infusion.view_administration",
    "infusion.view_ratestep",
    "infusion.view_vitalsigns",
    "infusion.view_adversereaction",
    "infusion.view_seriousadverseeventreport",
    "infusion.view_consent",
    "infusion.view_checkoverride",
]
SYSADMIN = [
    "core.view_user",
    "core.add_user",
    "core.change_user",
    "core.view_ward",
    "core.add_ward",
    "core.change_ward",
    "core.view_referencerange",
    "core.add_referencerange",
    "core.change_referencerange",
    "core.delete_referencerange",
    "core.view_referencerangechange",
    "core.approve_referencerangechange",
]
OLD_ADMIN_WRITES = ["add_referencerange", "change_referencerange", "delete_referencerange"]


def split_admin_role(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    User = apps.get_model("core", "User")
    grant(apps, {"auditor": AUDITOR, "sysadmin": SYSADMIN})
    auditor = Group.objects.get(name="auditor")
    old = Group.objects.filter(name="admin").first()
    if old is None:
        return
    # Whatever else the old role was given (by hand) stays, except writing reference ranges.
    auditor.permissions.add(*old.permissions.exclude(codename__in=OLD_ADMIN_WRITES))
    for user in User.objects.filter(groups=old):
        user.groups.add(auditor)
        user.groups.remove(old)
    old.delete()


def merge_back(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    User = apps.get_model("core", "User")
    auditor = Group.objects.filter(name="auditor").first()
    old, _ = Group.objects.get_or_create(name="admin")
    if auditor is not None:
        old.permissions.add(*auditor.permissions.all())
        for user in User.objects.filter(groups=auditor):
            user.groups.add(old)
            user.groups.remove(auditor)
        auditor.delete()
    Permission = apps.get_model("auth", "Permission")
    old.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="core",
            codename__in=["add_referencerange", "change_referencerange"],
        )
    )
    Group.objects.filter(name="sysadmin").delete()


# A stored signed record is never changed or removed: the database refuses it.
GUARD_SQL = """
CREATE OR REPLACE FUNCTION core_signedrecord_write_once() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'signed records are stored once: % refused on core_signedrecord', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER core_signedrecord_no_update_delete
    BEFORE UPDATE OR DELETE ON core_signedrecord
    FOR EACH ROW EXECUTE FUNCTION core_signedrecord_write_once();
"""
UNGUARD_SQL = """
DROP TRIGGER IF EXISTS core_signedrecord_no_update_delete ON core_signedrecord;
DROP FUNCTION IF EXISTS core_signedrecord_write_once();
"""


def guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARD_SQL, params=None)


def unguard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNGUARD_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_audit_integrity"),
        # Every migration that granted the old "admin" role runs first, so none of them
        # re-creates it after the split.
        ("infusion", "0003_consent_overrides_followup"),
        ("screening", "0002_roles"),
    ]

    operations = [
        migrations.CreateModel(
            name="ReferenceRangeChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("action", models.CharField(choices=[("create", "New range"), ("update", "Change"), ("delete", "Removal")], max_length=10, verbose_name="change")),
                ("lab", models.CharField(max_length=60, verbose_name="laboratory")),
                ("analyte", models.CharField(max_length=40, verbose_name="analyte")),
                ("sex", models.CharField(blank=True, choices=[("F", "Female"), ("M", "Male")], max_length=1, verbose_name="sex")),
                ("unit", models.CharField(max_length=20, verbose_name="unit")),
                ("lower", models.DecimalField(blank=True, decimal_places=4, max_digits=10, null=True, verbose_name="lower limit")),
                ("upper", models.DecimalField(decimal_places=4, max_digits=10, verbose_name="upper limit of normal")),
                ("before", models.JSONField(blank=True, null=True, verbose_name="values when proposed")),
                ("reason", models.TextField(verbose_name="reason for the change")),
                ("proposed_at", models.DateTimeField(verbose_name="proposed at")),
                ("status", models.CharField(choices=[("pending", "Waiting for a second administrator"), ("approved", "Approved, in effect"), ("rejected", "Rejected")], default="pending", max_length=10, verbose_name="status")),
                ("decided_at", models.DateTimeField(blank=True, null=True, verbose_name="decided at")),
                ("decision_comment", models.TextField(blank=True, verbose_name="comment on the decision")),
                ("decided_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL, verbose_name="decided by")),
                ("proposed_by", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL, verbose_name="proposed by")),
                ("reference_range", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="changes", to="core.referencerange", verbose_name="reference range")),
            ],
            options={
                "verbose_name": "reference-range change",
                "ordering": ["-proposed_at", "-pk"],
                "permissions": [("approve_referencerangechange", "Can approve or reject another administrator's reference-range change")],
                "constraints": [models.UniqueConstraint(condition=models.Q(("status", "pending")), fields=("lab", "analyte", "sex"), name="one_pending_change_per_reference_range")],
            },
        ),
        migrations.CreateModel(
            name="SignedRecord",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(max_length=40, verbose_name="record")),
                ("object_id", models.BigIntegerField(verbose_name="object id")),
                ("language", models.CharField(max_length=10, verbose_name="language")),
                ("signed_json", models.TextField(verbose_name="signed document (JSON)")),
                ("signed_sha256", models.CharField(max_length=64, verbose_name="SHA-256 of the signed document")),
                ("html_sha256", models.CharField(max_length=64, verbose_name="SHA-256 of the page rendered")),
                ("pdf", models.BinaryField(verbose_name="PDF/A-3b")),
                ("pdf_sha256", models.CharField(max_length=64, verbose_name="SHA-256 of the PDF")),
                ("software_version", models.CharField(blank=True, max_length=64, verbose_name="software version")),
                ("created_at", models.DateTimeField(verbose_name="stored at")),
                ("patient", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+", to="core.patient", verbose_name="patient")),
            ],
            options={
                "verbose_name": "signed record (PDF/A)",
                "ordering": ["-created_at", "-pk"],
                "indexes": [models.Index(fields=["kind", "object_id"], name="core_signed_kind_a6e037_idx")],
                "constraints": [models.UniqueConstraint(fields=("kind", "object_id", "language", "html_sha256"), name="signed_record_once")],
            },
        ),
        migrations.RunPython(guard, unguard),
        migrations.RunPython(split_admin_role, merge_back),
    ]
