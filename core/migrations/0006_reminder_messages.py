# Placeholder in the chain: issue 17 (reminders exactly once per message): filled by its change.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("core", "0005_signatures_and_roles")]

    operations = []
