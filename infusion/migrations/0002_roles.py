from django.db import migrations

from core.roles import grant

# The permissions as they were at this migration (frozen: later models' permissions do
# not exist yet when it runs; later migrations grant theirs).
READ = [
    "infusion.view_episode",
    "infusion.view_order",
    "infusion.view_signature",
    "infusion.view_administration",
    "infusion.view_ratestep",
    "infusion.view_vitalsigns",
    "infusion.view_adversereaction",
    "infusion.view_seriousadverseeventreport",
]
REPORT = ["infusion.add_adversereaction", "infusion.add_seriousadverseeventreport"]
PERMISSIONS = {
    "physician": [
        *READ,
        *REPORT,
        "infusion.add_episode",
        "infusion.change_episode",
        "infusion.add_order",
        "infusion.sign_order",
        "infusion.override_cyclophosphamide_hold",
    ],
    "nurse": [
        *READ,
        *REPORT,
        "infusion.chart_infusion",
        "infusion.administer_order",
        "infusion.add_vitalsigns",
        "infusion.add_ratestep",
        "infusion.add_administration",
    ],
    "pharmacist": [*READ, "infusion.verify_order"],
    "admin": list(READ),
}


def roles(apps, schema_editor):
    grant(apps, PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("infusion", "0001_initial"),
        ("core", "0002_roles_and_audit_guard"),
    ]

    operations = [migrations.RunPython(roles, migrations.RunPython.noop)]
