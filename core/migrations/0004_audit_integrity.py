# Placeholder in the chain: issue 17 (keyed audit chain, checkpoints, security log, software version): filled by its change.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("core", "0003_reminders")]

    operations = []
