# Issue 17: keyed audit chain (key id, actor's role and software version per event), a
# TRUNCATE guard on the audit table, and the security log (anonymous and
# pre-authentication events, kept out of the chain). Written by hand.

from django.db import migrations, models

from core.roles import grant

# Statement-level: TRUNCATE fires no row trigger, so 0002's UPDATE/DELETE guard never saw
# it. The same function refuses it (for the table's owner too, unless they disable it).
TRUNCATE_GUARD_SQL = """
CREATE TRIGGER core_auditevent_no_truncate
    BEFORE TRUNCATE ON core_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION core_auditevent_append_only();
"""
TRUNCATE_UNGUARD_SQL = "DROP TRIGGER IF EXISTS core_auditevent_no_truncate ON core_auditevent;"


def guard_truncate(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRUNCATE_GUARD_SQL, params=None)


def unguard_truncate(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRUNCATE_UNGUARD_SQL, params=None)


def security_log_readers(apps, schema_editor):
    grant(apps, {"admin": ["core.view_securityevent"]})


class Migration(migrations.Migration):
    dependencies = [("core", "0003_reminders")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="actor_role",
            field=models.CharField(blank=True, editable=False, max_length=32, verbose_name="role"),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="app_version",
            field=models.CharField(
                blank=True, editable=False, max_length=64, verbose_name="software version"
            ),
        ),
        # Empty for the events written before this change: they verify under the plain
        # SHA-256 rule (core/audit.py), and none may follow a keyed event.
        migrations.AddField(
            model_name="auditevent",
            name="key_id",
            field=models.CharField(blank=True, editable=False, max_length=32),
        ),
        migrations.RunPython(guard_truncate, unguard_truncate),
        migrations.CreateModel(
            name="SecurityEvent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("at", models.DateTimeField(db_index=True, verbose_name="time (UTC)")),
                ("kind", models.CharField(max_length=40, verbose_name="event")),
                (
                    "username",
                    models.CharField(blank=True, max_length=150, verbose_name="user name given"),
                ),
                (
                    "client_ip",
                    models.GenericIPAddressField(blank=True, null=True, verbose_name="client IP"),
                ),
                ("path", models.CharField(blank=True, max_length=300, verbose_name="path")),
                ("request_id", models.CharField(blank=True, max_length=64)),
                ("rate_key", models.CharField(blank=True, max_length=64)),
                ("window_start", models.DateTimeField(blank=True, null=True)),
                ("count", models.PositiveIntegerField(default=1)),
            ],
            options={
                "verbose_name": "security event",
                "ordering": ["-at"],
                "indexes": [
                    models.Index(fields=["client_ip", "at"], name="core_securi_client__a618f5_idx")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("kind", "suppressed")),
                        fields=("rate_key", "window_start"),
                        name="core_securityevent_one_summary_per_minute",
                    )
                ],
            },
        ),
        migrations.RunPython(security_log_readers, migrations.RunPython.noop),
    ]
