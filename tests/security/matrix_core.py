"""Expected status per role for core URLs. 302 for anon = redirect to the login page."""

from tests.factories import PASSWORD
from tests.security.matrix import Entry, everyone, readers, staff_only

P = {"pk": lambda w: w.patient.pk}
# The audit trail is the auditor's; the system administrator, whose changes it records,
# does not read it.
AUDITOR_ONLY = {
    "anon": 302,
    "physician": 403,
    "nurse": 403,
    "pharmacist": 403,
    "auditor": 200,
    "sysadmin": 403,
    "other_ward": 403,
}

SYSADMIN_ONLY = {**AUDITOR_ONLY, "auditor": 403, "sysadmin": 200}

ENTRIES = {
    "home": Entry("get", expect=everyone(200)),
    "health": Entry("get", expect=everyone(200, anon=200)),
    # Form pages: the page (GET) and an empty submission (POST), which is re-shown with errors.
    "login": (
        Entry("get", expect=everyone(302, anon=200)),
        Entry("post", expect=everyone(302, anon=200)),
    ),
    "logout": Entry("post", expect=everyone(302, anon=302)),
    "password_change": (Entry("get", expect=everyone(200)), Entry("post", expect=everyone(200))),
    "set_language": Entry("post", data={"language": "en"}, expect=everyone(302, anon=302)),
    "patient_list": Entry("get", expect=readers(200)),
    "patient_create": (
        Entry("get", expect=staff_only(200)),
        Entry("post", expect=staff_only(200)),
    ),
    "patient_detail": Entry("get", kwargs=P, expect=readers(200, other_ward=404)),
    # (A non-empty body: an empty one is test_fuzz_forms' known failure, see there.)
    "patient_edit": (
        Entry("get", kwargs=P, expect=staff_only(200, other_ward=404)),
        Entry("post", kwargs=P, data={"reason": ""}, expect=staff_only(200, other_ward=404)),
    ),
    "measurement_add": Entry("post", kwargs=P, expect=staff_only(400, other_ward=404)),
    "lab_add": Entry("post", kwargs=P, expect=staff_only(400, other_ward=404)),
    "audit_browser": Entry("get", expect=AUDITOR_ONLY),
    "audit_chain_status": Entry("get", expect=AUDITOR_ONLY),
    "audit_export": Entry("get", expect=AUDITOR_ONLY),
    # Issue 16: implausible clinical times, corrected by the system administrator only.
    "implausible_times": (
        Entry("get", expect=SYSADMIN_ONLY),
        Entry("post", expect={**SYSADMIN_ONLY, "sysadmin": 400}),
    ),
}

# Forms to fuzz: url name -> (url kwargs, a valid example body the fuzzer mutates).
FORMS = {
    "patient_create": (
        {},
        lambda w: {
            "hospital_number": "F0001",
            "name": "Fuzz",
            "sex": "F",
            "date_of_birth": "1990-01-01",
            "ward": w.ward_a.pk,
        },
    ),
    "patient_edit": (
        P,
        lambda w: {
            "hospital_number": w.patient.hospital_number,
            "name": "Fuzz",
            "sex": "F",
            "date_of_birth": "1990-01-01",
            "ward": w.ward_a.pk,
            "reason": "fuzz",
        },
    ),
    "measurement_add": (
        P,
        lambda w: {"kind": "weight_kg", "value": "60.5", "measured_at": "2026-11-01T08:00"},
    ),
    "lab_add": (
        P,
        lambda w: {
            "analyte": "inr",
            "value": "1.1",
            "unit": "ratio",
            "lab": "Central",
            "observed_at": "2026-11-01T08:00",
        },
    ),
    "set_language": ({}, lambda w: {"language": "en", "next": "/"}),
    "password_change": (
        {},
        lambda w: {
            "old_password": PASSWORD,
            "new_password1": "Fuzzed-Passphrase-2026",
            "new_password2": "Fuzzed-Passphrase-2026",
        },
    ),
    "login": ({}, lambda w: {"username": "doc", "password": PASSWORD}),
}
SUBMITTERS = {"login": "anon"}
# A failed sign-in goes to the security log (and is counted by django-axes), not the
# audit chain: it may leave no audit event at all.
AUDITED_REFUSALS = {
    "login": set(),
    # A wrong old password is audited and counted (core.reauth); at the limit, the lockout
    # and the sign-out it causes.
    "password_change": {"password_change_refused", "reauth_lockout", "logout"},
}
FORM_EXEMPT = {
    "logout": "no input: it ends the session",
    # Sysadmin only, and a correction needs a row stored out of range, which no form can
    # write: tests/core/test_time_bounds.py posts year 1, year 10000 and text into it.
    "implausible_times": "corrects rows only raw SQL can write (tests/core/test_time_bounds)",
}
