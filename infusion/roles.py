"""Permissions of the infusion app per role (granted by migration 0002 via core.roles.grant).

Physicians open episodes, sign orders, order cyclophosphamide and co-sign hold overrides;
nurses chart the infusion and record administrations (they cannot sign or verify);
pharmacists verify or reject orders and read episodes; the auditor reads everything and
writes nothing; the system administrator reads none of it. Physicians and nurses both record adverse reactions and SAE reports.
"""

READ = [
    "infusion.view_episode",
    "infusion.view_order",
    "infusion.view_signature",
    "infusion.view_administration",
    "infusion.view_ratestep",
    "infusion.view_vitalsigns",
    "infusion.view_adversereaction",
    "infusion.view_seriousadverseeventreport",
    "infusion.view_consent",
    "infusion.view_checkoverride",
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
        "infusion.add_consent",
        "infusion.change_consent",
        "infusion.add_checkoverride",
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
    "auditor": list(READ),
    "sysadmin": [],  # no clinical record
}
