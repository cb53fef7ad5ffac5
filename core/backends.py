"""The authentication backend: Django's ModelBackend with fewer queries on every request.

Each signed-in request loads the user, their ward (the page header shows it), their role
(a group) and their permissions. ModelBackend reads the ward on first use and the
permissions in two queries (the user's own, then their groups'), and the role would be a
third; here the ward comes with the user, and the role with both kinds of permission in
one query (`load_access`). Nothing is cached beyond the request, so a role or permission
change applies to the next request.
"""

import functools

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection


class WardModelBackend(ModelBackend):
    def get_user(self, user_id):
        model = get_user_model()
        try:
            user = model._default_manager.select_related("ward").get(pk=user_id)
        except model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            load_access(user_obj)
        return user_obj._perm_cache


@functools.cache
def _access_sql():
    # Written out once: building the same ORM union on every request cost ~0.8 ms of CPU
    # (SQL compilation), eight times the query itself. Table names come from the models.
    user_model = get_user_model()
    user_groups = user_model.groups.through._meta.db_table
    user_perms = user_model.user_permissions.through._meta.db_table
    group_perms = Group.permissions.through._meta.db_table
    return f"""
        SELECT 'g', g.name, '' FROM {Group._meta.db_table} g
          JOIN {user_groups} ug ON ug.group_id = g.id
         WHERE ug.user_id = %s
        UNION
        SELECT 'p', ct.app_label, p.codename FROM {Permission._meta.db_table} p
          JOIN {ContentType._meta.db_table} ct ON ct.id = p.content_type_id
         WHERE p.id IN (SELECT permission_id FROM {user_perms} WHERE user_id = %s)
            OR p.id IN (SELECT gp.permission_id FROM {group_perms} gp
                          JOIN {user_groups} ug ON ug.group_id = gp.group_id
                         WHERE ug.user_id = %s)
    """  # noqa: S608 (table names from the models; the user id is a parameter)


def load_access(user):
    """Set the user's group names (``_group_names``, the role comes from them) and
    permissions (``_perm_cache``) from one query: a page asks for both."""
    with connection.cursor() as cursor:
        cursor.execute(_access_sql(), [user.pk] * 3)
        rows = cursor.fetchall()
    user._group_names = {first for tag, first, _second in rows if tag == "g"}
    if user.is_superuser:  # every permission, as ModelBackend gives a superuser
        user._perm_cache = {
            f"{app_label}.{codename}"
            for app_label, codename in Permission.objects.values_list(
                "content_type__app_label", "codename"
            )
        }
    else:
        user._perm_cache = {f"{first}.{second}" for tag, first, second in rows if tag == "p"}
