"""The security log: anonymous and pre-authentication events, kept apart from the chain.

A CSRF failure without a signed-in user, a failed sign-in and a lockout say nothing about
a patient and may come by the thousand from one script. In the clinical chain each one
would take the chain's lock and stay forever; here each is one row in its own table,
without a lock, pruned after SECURITY_LOG_RETENTION_DAYS. Refusals of a signed-in user
stay in the audit chain (core/views.py, core/auth_audit.py).

Rate limit: per client address and minute, SECURITY_LOG_PER_IP_PER_MINUTE rows are
written one by one; past that, the address's `suppressed` row of that minute counts the
rest. SECURITY_LOG_PER_MINUTE caps all addresses together the same way (a flood from
many addresses), counted in the minute's "all" row. Two requests counting at once may
each write one row past the limit: the overshoot is at most the number of web workers.
"""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from . import context
from .audit import _clean_ip
from .models import SecurityEvent

SUPPRESSED = SecurityEvent.SUPPRESSED


def record(kind, *, username="", path=""):
    """Write one security event, or count it in its minute's summary row past the limit.
    Returns the row written (None when it was only counted)."""
    now = timezone.now()
    window = now.replace(second=0, microsecond=0)
    ctx = context.current()
    ip = _clean_ip(ctx.client_ip)
    same_ip = Q(client_ip=ip) if ip else Q(client_ip__isnull=True)
    counts = (
        SecurityEvent.objects.filter(at__gte=window)
        .exclude(kind=SUPPRESSED)
        .aggregate(total=Count("pk"), this_ip=Count("pk", filter=same_ip))
    )
    if counts["this_ip"] >= settings.SECURITY_LOG_PER_IP_PER_MINUTE:
        return _count_suppressed(f"ip:{ip or 'unknown'}", window, now, ip)
    if counts["total"] >= settings.SECURITY_LOG_PER_MINUTE:
        return _count_suppressed("all", window, now, None)
    return SecurityEvent.objects.create(
        at=now,
        kind=kind[:40],
        username=str(username or "")[:150],
        client_ip=ip,
        path=str(path or "")[:300],
        request_id=ctx.request_id or "",
    )


def _count_suppressed(rate_key, window, now, ip):
    summary = SecurityEvent.objects.filter(kind=SUPPRESSED, rate_key=rate_key, window_start=window)
    if summary.update(count=F("count") + 1):
        return None
    try:
        with transaction.atomic():
            SecurityEvent.objects.create(
                at=now, kind=SUPPRESSED, rate_key=rate_key, window_start=window, client_ip=ip
            )
    except IntegrityError:  # another request created it first
        summary.update(count=F("count") + 1)
    return None


def prune(*, now=None):
    """Delete the security events older than SECURITY_LOG_RETENTION_DAYS; how many."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.SECURITY_LOG_RETENTION_DAYS)
    deleted, _ = SecurityEvent.objects.filter(at__lt=cutoff).delete()
    return deleted
