"""Migration 0005 turns the former "admin" role into the auditor (issue 17)."""

import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission

from core.models import Role
from tests.factories import make_user

pytestmark = pytest.mark.django_db

migration = importlib.import_module("core.migrations.0005_signatures_and_roles")


def _old_admin_role():
    """The "admin" group as migrations 0002 and the app migrations left it."""
    group = Group.objects.create(name="admin")
    codenames = [
        "view_patient",
        "view_auditevent",
        "view_referencerange",
        "add_referencerange",
        "change_referencerange",
        "view_screening",
        "view_episode",
    ]
    group.permissions.add(*Permission.objects.filter(codename__in=codenames))
    return group


def test_existing_admin_users_become_auditors_who_cannot_change_reference_ranges(db):
    old = _old_admin_role()
    user = make_user("auditor", None, username="old.admin", is_staff=True)
    user.groups.set([old])

    migration.split_admin_role(apps, None)

    user = type(user).objects.get(pk=user.pk)
    assert user.role == Role.AUDITOR
    assert not Group.objects.filter(name="admin").exists()
    perms = user.get_all_permissions()
    assert {"core.view_auditevent", "core.view_referencerange", "infusion.view_episode"} <= perms
    assert "screening.view_screening" in perms
    assert not {"core.add_referencerange", "core.change_referencerange"} & perms
    sysadmin = Group.objects.get(name="sysadmin")
    assert sysadmin.permissions.filter(codename="approve_referencerangechange").exists()
    assert not sysadmin.user_set.exists()


def test_the_split_is_idempotent_without_an_admin_role(db):
    migration.split_admin_role(apps, None)
    migration.split_admin_role(apps, None)
    assert Group.objects.filter(name__in=["auditor", "sysadmin"]).count() == 2


def test_a_migrated_database_has_the_two_roles_and_no_admin_role(db):
    names = set(Group.objects.values_list("name", flat=True))
    assert {"auditor", "sysadmin"} <= names
    assert "admin" not in names
    auditor = Group.objects.get(name="auditor")
    assert not auditor.permissions.filter(
        codename__in=["add_referencerange", "change_referencerange", "delete_referencerange"]
    ).exists()
    assert auditor.permissions.filter(codename="view_consent").exists()
