# Placeholder in the chain: issue 17 (re-authentication lockout, roles split, reference-range approval, signed PDF/A records): filled by its change.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("core", "0004_audit_integrity")]

    operations = []
