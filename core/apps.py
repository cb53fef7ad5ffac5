from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Ward core")

    def ready(self):
        # Auth events (login success/failure, logout) come only as Django signals.
        from . import (
            auth_audit,  # noqa: F401
            stored_time,
        )
        from .version import app_version

        # Issue 16: a date or time stored out of range is read clamped, never a 500.
        stored_time.connect()
        app_version()  # once per process, at startup: every audit event records it
