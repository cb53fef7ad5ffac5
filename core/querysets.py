"""Managers for audited models: no write may skip the audit trail.

`QuerySet.update()`, `QuerySet.delete()`, `bulk_create()` and `bulk_update()` write rows
without going through a service function, so nothing would be audited. On audited models
they are made impossible; writes go through the services, one audited row at a time.
"""

from django.db import models


class AuditBypassError(RuntimeError):
    pass


def _refuse(what):
    raise AuditBypassError(
        f"{what} on an audited model would skip the audit trail; use the service functions."
    )


class AuditedQuerySet(models.QuerySet):
    def update(self, **kwargs):
        _refuse("QuerySet.update()")

    def delete(self):
        _refuse("QuerySet.delete()")

    def bulk_create(self, objs, *args, **kwargs):
        _refuse("bulk_create()")

    def bulk_update(self, objs, fields, *args, **kwargs):
        _refuse("bulk_update()")

    def update_or_create(self, *args, **kwargs):
        _refuse("update_or_create()")


AuditedManager = models.Manager.from_queryset(AuditedQuerySet)
