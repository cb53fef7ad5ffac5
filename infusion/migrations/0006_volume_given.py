from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("infusion", "0005_bedside_record")]

    operations = [
        migrations.AddField(
            model_name="episode",
            name="volume_given_ml",
            field=models.DecimalField(
                blank=True,
                decimal_places=1,
                max_digits=7,
                null=True,
                verbose_name="volume actually given (mL)",
            ),
        ),
    ]
