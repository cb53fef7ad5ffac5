"""Reminder rows, their per-channel deliveries, and calendar-feed tokens.

A reminder is a database row first: the Celery broker only ever carries "deliver reminder
#id now", never the due time. See `core.reminders.services` for the life cycle and the
exactly-once argument.

These models belong to the `core` app (imported at the bottom of core/models.py). They are
deliberately *not* on the audited manager: the sweeper claims rows with a conditional
UPDATE, which the audited queryset refuses. Clinical changes (schedule, reschedule,
cancel, acknowledge, escalate) are audited by the service functions, one row at a time.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.choices import Model

__all__ = [
    "CalendarFeedToken",
    "DeliveryStatus",
    "Reminder",
    "ReminderDelivery",
    "ReminderStatus",
]


class ReminderStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    SENDING = "sending", _("Sending")  # claimed by the sweeper; a delivery task is on its way
    SENT = "sent", _("Sent")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    ESCALATED = "escalated", _("Escalated")
    CANCELLED = "cancelled", _("Cancelled")


# Reminders a recipient still has to act on (shown in the badge).
OPEN_STATUSES = (ReminderStatus.SENDING, ReminderStatus.SENT, ReminderStatus.ESCALATED)


class Reminder(Model):
    # What the reminder is about: any object, named by label and id (e.g. an infusion
    # episode). One row per (subject, step, occurrence): scheduling twice is an update.
    subject_type = models.CharField(_("subject type"), max_length=60)
    subject_id = models.CharField(_("subject id"), max_length=64)
    step = models.CharField(_("step"), max_length=80)
    occurrence = models.PositiveIntegerField(_("occurrence"), default=0)

    patient = models.ForeignKey(
        "core.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The ward whose staff receive it (recipient_role), and whose physician on duty gets
    # the escalation.
    ward = models.ForeignKey("core.Ward", on_delete=models.PROTECT, related_name="+")
    recipient_role = models.CharField(_("recipient role"), max_length=20, blank=True)
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    due_at = models.DateTimeField(_("due (UTC)"))
    # The text is a gettext msgid plus its parameters, rendered in each recipient's
    # language when it is delivered or shown.
    title_template = models.CharField(_("title template"), max_length=300)
    title_params = models.JSONField(_("title parameters"), default=dict, blank=True)
    rule_id = models.CharField(_("rule"), max_length=40, blank=True)
    escalate = models.BooleanField(_("escalate when unacknowledged"), default=True)
    escalation_of = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="escalation"
    )

    status = models.CharField(
        _("status"), max_length=20, choices=ReminderStatus.choices, default=ReminderStatus.SCHEDULED
    )
    sequence = models.PositiveIntegerField(default=0)  # bumped on reschedule (ICS SEQUENCE)
    attempts = models.PositiveIntegerField(default=0)  # claims by the sweeper
    claimed_at = models.DateTimeField(null=True, blank=True)
    # While "sending": when the sweeper may assume the delivery task was lost and enqueue
    # another (a killed worker, a flushed broker). Also set short to retry a failed send.
    lease_until = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(_("shown in the notification centre"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    late = models.BooleanField(_("sent late"), default=False)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    escalated_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-due_at"]
        verbose_name = _("reminder")
        constraints = [
            models.UniqueConstraint(
                fields=["subject_type", "subject_id", "step", "occurrence"],
                name="reminder_unique_key",
            ),
            models.CheckConstraint(
                condition=~Q(recipient_role="") | Q(recipient_user__isnull=False),
                name="reminder_has_recipient",
            ),
        ]
        indexes = [
            # The sweeper's two questions: what is due, and what has been "sending" too long.
            models.Index(
                fields=["due_at"],
                name="reminder_due_scheduled",
                condition=Q(status="scheduled"),
            ),
            models.Index(
                fields=["lease_until"],
                name="reminder_sending_lease",
                condition=Q(status="sending"),
            ),
            models.Index(
                fields=["notified_at"],
                name="reminder_sent_escalate",
                condition=Q(status="sent", escalate=True),
            ),
            models.Index(fields=["subject_type", "subject_id"], name="reminder_subject"),
            models.Index(fields=["ward", "recipient_role", "-due_at"], name="reminder_inbox"),
        ]

    def __str__(self):
        return f"{self.subject_type}:{self.subject_id} {self.step}#{self.occurrence} @ {self.due_at:%Y-%m-%d %H:%M}Z"

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class ReminderDelivery(Model):
    """One reminder on one channel to one recipient: the idempotency key of a send.

    The unique constraint is what makes a redelivered task harmless: the second run
    finds the row and does not send again.
    """

    reminder = models.ForeignKey(Reminder, on_delete=models.PROTECT, related_name="deliveries")
    channel = models.CharField(max_length=30)
    recipient_key = models.CharField(max_length=40)  # "*" for the notification centre
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices)
    attempts = models.PositiveIntegerField(default=1)
    claimed_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("reminder delivery")
        constraints = [
            models.UniqueConstraint(
                fields=["reminder", "channel", "recipient_key"], name="reminder_delivery_once"
            )
        ]

    def __str__(self):
        return f"{self.reminder_id} {self.channel} {self.recipient_key} {self.status}"


class CalendarFeedToken(Model):
    """The secret in a user's calendar-feed URL. Revoked tokens stay (audit), unusable."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_tokens"
    )
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed token")
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(revoked_at__isnull=True),
                name="one_live_calendar_token",
            )
        ]

    def __str__(self):
        return f"calendar token of user {self.user_id}{' (revoked)' if self.revoked_at else ''}"
