"""Reads: which reminders a user may see, and what the notification centre lists.

A reminder addressed to a user is theirs; one addressed to a role on a ward belongs to
every active user with that role on that ward. Nobody else sees it — not even another
ward's staff of the same role, and not the auditor (who reads the audit trail instead).
"""

from datetime import timedelta

from django.db.models import Case, IntegerField, Q, Value, When
from django.http import Http404

from .models import OPEN_STATUSES, Reminder, ReminderStatus


def reminders_for_user(user):
    if not user.is_authenticated or not user.is_active:
        return Reminder.objects.none()
    addressed = Q(recipient_user=user)
    if user.role and user.ward_id:
        addressed |= Q(recipient_user__isnull=True, recipient_role=user.role, ward_id=user.ward_id)
    return Reminder.objects.filter(addressed)


def notifications_for_user(user, *, open_only=False):
    """Reminders that reached the notification centre, open ones first, newest first."""
    qs = (
        reminders_for_user(user)
        .filter(notified_at__isnull=False)
        .exclude(status=ReminderStatus.CANCELLED)
        .select_related("patient", "acknowledged_by", "escalation_of")
    )
    if open_only:
        qs = qs.filter(status__in=OPEN_STATUSES)
    return qs.annotate(
        closed=Case(
            When(status__in=OPEN_STATUSES, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
    ).order_by("closed", "-due_at", "-pk")


def open_notification_count(user):
    return (
        reminders_for_user(user).filter(notified_at__isnull=False, status__in=OPEN_STATUSES).count()
    )


def get_notification_for_user(user, pk):
    """The user's notification, or 404 (another user's or ward's looks like none)."""
    reminder = notifications_for_user(user).filter(pk=pk).first()
    if reminder is None:
        raise Http404("No such notification.")
    return reminder


def upcoming_for_calendar(user, now, *, days):
    """The user's reminders still to come (and those of the last day), for the ICS feed."""
    return (
        reminders_for_user(user)
        .filter(
            due_at__gte=now - timedelta(days=1),
            due_at__lte=now + timedelta(days=days),
        )
        .exclude(status=ReminderStatus.CANCELLED)
        .filter(escalation_of__isnull=True)
        .order_by("due_at", "pk")
    )
