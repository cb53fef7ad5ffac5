"""The people and objects the URL × role matrix requests pages with.

Roles: anon, physician (an investigator), nurse, pharmacist, auditor (read-only
everywhere), sysadmin (users, wards and reference ranges; no clinical record), and
other_ward (a nurse of ward B reaching for ward A's objects). Objects are created lazily
and cached: `world.get("episode", make_episode)` builds once per test.
"""

from tests.factories import make_patient, make_user, make_ward

ROLES = ("anon", "physician", "nurse", "pharmacist", "auditor", "sysadmin", "other_ward")


class World:
    def __init__(self):
        self.ward_a = make_ward("ward-a", "Ward A")
        self.ward_b = make_ward("ward-b", "Ward B")
        self.users = {
            "physician": make_user("physician", self.ward_a, username="doc", investigator=True),
            "nurse": make_user("nurse", self.ward_a, username="nurse"),
            "pharmacist": make_user("pharmacist", self.ward_a, username="pharm"),
            "auditor": make_user("auditor", None, username="auditor", is_staff=True),
            "sysadmin": make_user("sysadmin", None, username="sysadmin", is_staff=True),
            "other_ward": make_user("nurse", self.ward_b, username="nurse_b"),
        }
        self.patient = make_patient(self.ward_a, name="Matrix Patient")
        self._cache = {}

    def get(self, name, factory):
        if name not in self._cache:
            self._cache[name] = factory(self)
        return self._cache[name]
