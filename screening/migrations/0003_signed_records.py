# Issue 17: a signed screening keeps the signer's role and the software version that
# signed, printed on the signed checklist (PDF/A-3b, core.SignedRecord).

from django.db import migrations, models

ROLES = ("physician", "nurse", "pharmacist")


def backfill_roles(apps, schema_editor):
    # Signatures from before: the signer's role now, the best record there is (their
    # software version stays blank: "not recorded" on the page).
    Screening = apps.get_model("screening", "Screening")
    Group = apps.get_model("auth", "Group")
    for role in ROLES:
        group = Group.objects.filter(name=role).first()
        if group is None:
            continue
        signer_ids = group.user_set.values("pk")
        for screening in Screening.objects.filter(signer_role="", signed_by_id__in=signer_ids):
            screening.signer_role = role
            screening.save(update_fields=["signer_role"])


class Migration(migrations.Migration):
    dependencies = [("screening", "0002_roles")]

    operations = [
        migrations.AddField(
            model_name="screening",
            name="signed_software_version",
            field=models.CharField(
                blank=True, max_length=64, verbose_name="software version at signing"
            ),
        ),
        migrations.AddField(
            model_name="screening",
            name="signer_role",
            field=models.CharField(blank=True, max_length=20, verbose_name="signer's role"),
        ),
        migrations.RunPython(backfill_roles, migrations.RunPython.noop),
    ]
