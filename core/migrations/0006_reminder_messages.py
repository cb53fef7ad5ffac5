# Issue 17: the re-authentication counts on the user (core.reauth: lockout after wrong
# passwords typed to sign or to change the password). Written by hand.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("core", "0005_signatures_and_roles")]

    operations = [
        migrations.AddField(
            model_name="user",
            name="reauth_failures",
            field=models.PositiveSmallIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="user",
            name="reauth_failed_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="user",
            name="reauth_locked_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
    ]
