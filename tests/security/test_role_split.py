"""The admin role split (issue 17), read off the URL × role matrix.

The auditor reads everything and writes nothing: every POST in the matrix answers them
403, but for their own session and account. The system administrator reads no clinical
record: every page but their own account's answers them 403. (The matrix itself checks
that each URL really answers what it states: tests/security/test_url_matrix.py.)
"""

import pytest

from tests.security.matrix import entries_of
from tests.security.test_url_matrix import ENTRIES

# One's own session and account, not a record: every signed-in role may.
OWN_ACCOUNT = {
    "login": "signing in",
    "logout": "signing out",
    "password_change": "one's own password",
    "set_language": "one's own language",
    "calendar_regenerate": "one's own calendar feed token",
    "calendar_revoke": "one's own calendar feed token",
    "calendar_settings": "one's own calendar feed token",
    "calendar_feed": "the token is the credential",
    "notification_list": "one's own notifications",
    "notification_badge": "one's own notifications",
    "home": "the start page",
    "health": "liveness",
}
# Computations over the request body that read and write nothing stored.
STATELESS = {
    "screening_api:evaluate": "evaluates the JSON posted, stores nothing",
    "infusion_api:plan": "plans from the JSON posted, stores nothing",
}
# Issue 16's data repair: the one clinical write the system administrator makes. The page
# lists table, row and the unreadable stored time only (no patient identity); a correction
# needs a reason and a C-TIME-1-plausible value, and is audited with both values.
DATA_REPAIR = {"implausible_times": "repairs times only raw SQL could store; no patient shown"}
# Refused with 404 rather than 403: nothing of the kind is addressed to the role.
NOT_ADDRESSED = {"notification_acknowledge": "reminders go to ward staff, never to them"}


def _cases(method=None):
    for name, value in sorted(ENTRIES.items()):
        for entry in entries_of(value):
            if method is None or entry.method == method:
                yield name, entry


def test_the_auditor_gets_403_on_every_write():
    allowed = {}
    for name, entry in _cases("post"):
        if name in OWN_ACCOUNT or name in STATELESS:
            continue
        expected = 404 if name in NOT_ADDRESSED else 403
        if entry.expect["auditor"] != expected:
            allowed[name] = entry.expect["auditor"]
    assert not allowed, f"writes the auditor is not refused: {allowed}"


def test_the_sysadmin_reads_no_clinical_record_and_writes_none():
    reached = {}
    for name, entry in _cases():
        if name in OWN_ACCOUNT or name in STATELESS or name in DATA_REPAIR:
            continue
        expected = 404 if name in NOT_ADDRESSED else 403
        if entry.expect["sysadmin"] != expected:
            reached[f"{name} {entry.method.upper()}"] = entry.expect["sysadmin"]
    assert not reached, f"clinical URLs the system administrator reaches: {reached}"


@pytest.mark.parametrize(
    "name", sorted({**OWN_ACCOUNT, **STATELESS, **NOT_ADDRESSED, **DATA_REPAIR})
)
def test_each_exemption_names_a_real_url(name):
    assert name in ENTRIES
