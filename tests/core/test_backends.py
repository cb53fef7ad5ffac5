"""The authentication backend: the same permissions as ModelBackend, in fewer queries."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import User

pytestmark = pytest.mark.django_db


def fresh(user):
    return User.objects.get(pk=user.pk)  # no permission cache from an earlier check


def test_it_grants_the_roles_permissions_and_the_users_own(nurse):
    nurse = fresh(nurse)
    assert nurse.has_perm("core.view_patient")
    assert not nurse.has_perm("infusion.verify_order")
    nurse.user_permissions.add(Permission.objects.get(codename="verify_order"))
    assert fresh(nurse).has_perm("infusion.verify_order")
    expected = {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Permission.objects.filter(group__user=nurse)
        | Permission.objects.filter(user=nurse)
    }
    assert fresh(nurse).get_all_permissions() == expected


def test_an_inactive_user_has_none_and_a_superuser_has_all(nurse):
    nurse.is_active = False
    nurse.save()
    assert fresh(nurse).get_all_permissions() == set()
    boss = User.objects.create_superuser("boss", password="x-Secret-2026")
    assert len(boss.get_all_permissions()) == Permission.objects.count()


def test_a_role_taken_away_applies_to_the_next_request(nurse, login):
    client = login(nurse)
    assert client.get("/patients/").status_code == 200
    nurse.groups.remove(Group.objects.get(name="nurse"))
    assert client.get("/patients/").status_code == 403


def test_a_signed_in_page_costs_three_queries(physician, login):
    client = login(physician)
    client.get("/")  # content types warm
    with CaptureQueriesContext(connection) as queries:
        body = client.get("/").content.decode()
    assert physician.ward.name in body  # the header shows the ward, read with the user
    assert "investigator" in body  # and the role, read with the permissions
    tables = [q["sql"].split(" FROM ")[1].split()[0] for q in queries.captured_queries]
    assert tables == ['"django_session"', '"core_user"', "auth_group"], [
        q["sql"] for q in queries.captured_queries
    ]


@pytest.mark.parametrize("role", ["physician", "nurse", "pharmacist", "auditor", "sysadmin"])
def test_each_role_and_its_permissions_are_djangos(role, ward_a):
    from django.contrib.auth.backends import ModelBackend

    from tests.factories import make_user

    user = make_user(
        role, None if role in ("auditor", "sysadmin") else ward_a, username=f"u-{role}"
    )
    user.user_permissions.add(Permission.objects.get(codename="add_auditevent"))
    assert fresh(user).role == role
    assert fresh(user).get_all_permissions() == ModelBackend().get_all_permissions(fresh(user))
    assert "core.add_auditevent" in fresh(user).get_all_permissions()


def test_a_user_without_a_group_has_no_role_and_only_their_own_permissions(ward_a):
    user = User.objects.create_user("nobody", password="x-Secret-2026", ward=ward_a)
    assert fresh(user).role is None
    assert fresh(user).get_all_permissions() == set()
    user.user_permissions.add(Permission.objects.get(codename="view_patient"))
    assert fresh(user).get_all_permissions() == {"core.view_patient"}
    assert fresh(user).role is None
