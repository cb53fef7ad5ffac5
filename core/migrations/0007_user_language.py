# Issue 15 (language per user): the user's language is a profile setting, blank until the
# first sign-in chooses it (core.views.LoginView).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("core", "0006_reminder_messages")]

    operations = [
        migrations.AlterField(
            model_name="user",
            name="language",
            field=models.CharField(
                blank=True,
                choices=[("en", "English"), ("zh-hans", "简体中文")],
                default="",
                max_length=10,
                verbose_name="language",
            ),
        ),
    ]
