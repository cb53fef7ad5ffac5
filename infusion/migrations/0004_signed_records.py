# Issue 17: each signature keeps the signer's role and the software version that signed,
# printed on the signed order sheet (PDF/A-3b, core.SignedRecord).

from django.db import migrations, models

ROLES = ("physician", "nurse", "pharmacist")


def backfill_roles(apps, schema_editor):
    # Signatures from before: the signer's role now, the best record there is (their
    # software version stays blank: "not recorded" on the page).
    Signature = apps.get_model("infusion", "Signature")
    Group = apps.get_model("auth", "Group")
    for role in ROLES:
        group = Group.objects.filter(name=role).first()
        if group is None:
            continue
        signer_ids = group.user_set.values("pk")
        for signature in Signature.objects.filter(signer_role="", signer_id__in=signer_ids):
            signature.signer_role = role
            signature.save(update_fields=["signer_role"])


class Migration(migrations.Migration):
    dependencies = [("infusion", "0003_consent_overrides_followup")]

    operations = [
        migrations.AddField(
            model_name="signature",
            name="signer_role",
            field=models.CharField(blank=True, max_length=20, verbose_name="signer's role"),
        ),
        migrations.AddField(
            model_name="signature",
            name="software_version",
            field=models.CharField(blank=True, max_length=64, verbose_name="software version"),
        ),
        migrations.RunPython(backfill_roles, migrations.RunPython.noop),
    ]
