"""Celery tasks of the core app. Thin: take ids, call services (core.reminders.services)."""

import io
import logging

from celery import shared_task
from django.conf import settings

from core import audit_checkpoints, security_log
from core.reminders import services

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def sweep_reminders():
    """Beat, every REMINDER_SWEEP_SECONDS: escalate, then claim and enqueue what is due."""
    services.escalate_due()
    services.sweep()


_DELIVERY = {
    "ignore_result": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    # Below the lease, so a slow sender is killed before anyone may take its send over.
    "soft_time_limit": settings.REMINDER_DELIVERY_TIME_LIMIT_SECONDS - 1,
    "time_limit": settings.REMINDER_DELIVERY_TIME_LIMIT_SECONDS,
}


@shared_task(**_DELIVERY)
def deliver_reminders(reminder_ids):
    """Deliver claimed reminders (a few per task); idempotent, safe to run twice."""
    services.deliver_many(reminder_ids)


@shared_task(**_DELIVERY)
def deliver_reminder(reminder_id):
    services.deliver(reminder_id)


@shared_task(ignore_result=True)
def write_audit_checkpoint():
    """Beat, every AUDIT_CHECKPOINT_MINUTES: anchor the audit chain's head outside the
    database (core/audit_checkpoints.py); nothing when it has not moved since."""
    audit_checkpoints.checkpoint_write(source="beat", skip_unchanged=True)


@shared_task(ignore_result=True)
def prune_security_log():
    """Beat, hourly: drop security events older than SECURITY_LOG_RETENTION_DAYS."""
    security_log.prune()


@shared_task(ignore_result=True)
def verify_audit_chain():
    """Beat, nightly at AUDIT_FULL_VERIFY_UTC_HOUR: the full verification of every event
    and checkpoint (`manage.py audit_verify`, streamed). Its result is what the audit
    browser's chain panel reports as "last full verification"; a break is logged here and
    shown there until a full verification passes again."""
    from django.core.management import CommandError, call_command

    out = io.StringIO()
    try:
        call_command("audit_verify", stdout=out)
    except CommandError as error:
        logger.error("nightly audit verification: %s", error)
    else:
        logger.info("nightly audit verification: %s", out.getvalue().strip())
