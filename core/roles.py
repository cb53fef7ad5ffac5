"""Roles are Django groups; each app grants its permissions to them from a migration.

`grant(apps, {role: [perm codenames]})` is called by data migrations (core 0002 and the
screening/infusion migrations), so groups and permissions exist right after `migrate`.
"""

ROLES = ("physician", "nurse", "pharmacist", "auditor", "sysadmin")

# The core permissions as migration 0002 granted them, frozen (it runs before the later
# models exist). Its "admin" role became "auditor" and "sysadmin" in migration 0005; the
# current grants are PERMISSIONS below.
CORE_PERMISSIONS = {
    "physician": [
        "core.view_patient",
        "core.add_patient",
        "core.change_patient",
        "core.view_measurement",
        "core.add_measurement",
        "core.view_labresult",
        "core.add_labresult",
    ],
    "nurse": [
        "core.view_patient",
        "core.add_patient",
        "core.change_patient",
        "core.view_measurement",
        "core.add_measurement",
        "core.view_labresult",
        "core.add_labresult",
    ],
    "pharmacist": ["core.view_patient", "core.view_measurement", "core.view_labresult"],
    "admin": [
        "core.view_patient",
        "core.view_measurement",
        "core.view_labresult",
        "core.view_auditevent",
        "core.view_referencerange",
        "core.add_referencerange",
        "core.change_referencerange",
    ],
}


def _ensure_permissions(apps):
    # Permissions are normally created after migrate (post_migrate); create them now so
    # a data migration can assign them.
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        had_models = getattr(app_config, "models_module", None)
        app_config.models_module = had_models or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = had_models


def grant(apps, role_permissions):
    _ensure_permissions(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in role_permissions.items():
        group, _ = Group.objects.get_or_create(name=role)
        for perm in perms:
            app_label, codename = perm.split(".", 1)
            permission = Permission.objects.get(
                content_type__app_label=app_label, codename=codename
            )
            group.permissions.add(permission)


_CLINICAL_READ = ["core.view_patient", "core.view_measurement", "core.view_labresult"]
_CLINICAL_WRITE = [
    "core.view_patient",
    "core.add_patient",
    "core.change_patient",
    "core.view_measurement",
    "core.add_measurement",
    "core.view_labresult",
    "core.add_labresult",
]
# What each role may do today (sync_runtime; migration 0005 applies the auditor/sysadmin split).
PERMISSIONS = {
    "physician": list(_CLINICAL_WRITE),
    "nurse": list(_CLINICAL_WRITE),
    "pharmacist": list(_CLINICAL_READ),
    # Reads every ward, the audit trail and its exports; writes nothing.
    "auditor": [
        *_CLINICAL_READ,
        "core.view_auditevent",
        "core.view_securityevent",  # the security log (migration 0004), read-only
        "core.view_referencerange",
        "core.view_referencerangechange",
        "core.view_signedrecord",
    ],
    # Users, wards and reference ranges in the Django admin, each change audited with a
    # reason; a reference-range change is a proposal until a second sysadmin approves it.
    # No clinical record and no audit browser (the auditor audits the administrators).
    "sysadmin": [
        "core.view_user",
        "core.add_user",
        "core.change_user",
        "core.view_ward",
        "core.add_ward",
        "core.change_ward",
        "core.view_referencerange",
        "core.add_referencerange",
        "core.change_referencerange",
        "core.delete_referencerange",
        "core.view_referencerangechange",
        "core.approve_referencerangechange",
    ],
}


def sync_runtime():
    """Re-create the role groups and their permissions from every app's `roles.PERMISSIONS`.

    Migrations do this once; transactional tests flush the database between tests, and
    their factories call this to put the groups back.
    """
    from importlib import import_module

    from django.apps import apps as global_apps

    for cfg in global_apps.get_app_configs():
        try:
            module = import_module(f"{cfg.name}.roles")
        except ModuleNotFoundError:
            continue
        if hasattr(module, "PERMISSIONS"):
            grant(global_apps, module.PERMISSIONS)
