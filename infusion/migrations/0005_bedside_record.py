# Issue 15 (the bedside record): C-MAR-1, one row per due dose (infusion.DoseDue).
# Written by hand (the chain's placeholders are filled by their own changes).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("infusion", "0004_signed_records"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="DoseDue",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("seq", models.PositiveSmallIntegerField(verbose_name="dose number")),
                ("day", models.DateField(blank=True, null=True, verbose_name="course day")),
                ("due_from", models.DateTimeField(verbose_name="due from")),
                ("due_until", models.DateTimeField(verbose_name="due until")),
                (
                    "planned_dose",
                    models.DecimalField(
                        decimal_places=3, max_digits=20, verbose_name="dose ordered"
                    ),
                ),
                ("dose_unit", models.CharField(max_length=20, verbose_name="unit")),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("due", "Due"),
                            ("given", "Given"),
                            ("held", "Held"),
                            ("refused", "Refused by the patient"),
                            ("missed", "Missed (nothing recorded)"),
                            ("cancelled", "No longer due"),
                        ],
                        default="due",
                        max_length=10,
                        verbose_name="state",
                    ),
                ),
                (
                    "at",
                    models.DateTimeField(
                        blank=True, null=True, verbose_name="time given, held or refused"
                    ),
                ),
                (
                    "dose_given",
                    models.DecimalField(
                        blank=True,
                        decimal_places=3,
                        max_digits=20,
                        null=True,
                        verbose_name="dose given",
                    ),
                ),
                ("reason", models.TextField(blank=True, verbose_name="why")),
                (
                    "recorded_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="recorded at"),
                ),
                (
                    "missed_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="marked missed at"),
                ),
                ("created_at", models.DateTimeField(verbose_name="created at")),
                (
                    "administration",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="dose_due",
                        to="infusion.administration",
                    ),
                ),
                (
                    "episode",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="doses",
                        to="infusion.episode",
                    ),
                ),
                (
                    "order",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="doses",
                        to="infusion.order",
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "dose due",
                "verbose_name_plural": "doses due",
                "ordering": ["due_from", "order", "seq"],
                "indexes": [
                    models.Index(fields=["episode", "due_from"], name="dose_due_episode"),
                    models.Index(
                        condition=models.Q(("state", "due")),
                        fields=["due_until"],
                        name="dose_due_open",
                    ),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("order", "seq"), name="dose_due_unique_per_order"
                    )
                ],
            },
        ),
    ]
