from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Ward core")

    def ready(self):
        # Auth events (login success/failure, logout) come only as Django signals.
        from . import auth_audit  # noqa: F401
        from .version import app_version

        app_version()  # once per process, at startup: every audit event records it
