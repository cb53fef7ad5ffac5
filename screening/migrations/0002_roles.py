from django.db import migrations

from core.roles import grant
from screening.roles import PERMISSIONS


def roles(apps, schema_editor):
    grant(apps, PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("screening", "0001_initial"),
        ("core", "0002_roles_and_audit_guard"),
    ]

    operations = [migrations.RunPython(roles, migrations.RunPython.noop)]
