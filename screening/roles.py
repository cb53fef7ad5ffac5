"""Permissions of the screening app per role (granted by migration 0002 via core.roles.grant).

Physicians and nurses enter screening data (start, draft saves); only physicians amend a
signed assessment, and of them only investigators sign (the sign permission is held by
every physician; services also require ``user.is_investigator``). Pharmacists read
nothing in screening: eligibility for the trial is not part of their work, so every
screening page and the API answer them 403. The auditor reads every ward's screenings
and writes nothing; the system administrator reads none.
"""

READ = ["screening.view_screening"]
WRITE = ["screening.add_screening", "screening.change_screening"]

PERMISSIONS = {
    "physician": [*READ, *WRITE, "screening.sign_screening", "screening.amend_screening"],
    "nurse": [*READ, *WRITE],
    "pharmacist": [],
    "auditor": list(READ),
    "sysadmin": [],  # no clinical record
}
