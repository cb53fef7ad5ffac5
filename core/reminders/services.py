"""Reminders: schedule, move, cancel, sweep, deliver, escalate, acknowledge.

Life cycle of a `Reminder` row::

    scheduled ──sweep──▶ sending ──deliver──▶ sent ──ack──▶ acknowledged
        │                  │  ▲                 │
        │                  └──┘ lease expired   └──15 min──▶ escalated ──ack──▶ acknowledged
        └──────────── cancel (any state before acknowledged) ──────────▶ cancelled

Why every due reminder is delivered exactly once (per channel and recipient)
----------------------------------------------------------------------------
Delivery is *at least once* and every send is *deduplicated*; together they give
exactly once.

At least once:
1. The reminder is a committed row before anything else happens (the caller's plan
   transaction writes it). Nothing about it lives only in the broker: no ETA tasks.
2. `sweep` (beat, every 30 s) claims due rows with `SELECT … FOR UPDATE SKIP LOCKED` and an
   UPDATE scheduled → sending that sets `lease_until = now + lease`, and only after that
   commit enqueues `deliver_reminders(ids)` (a few ids per task). A sweep that misses
   ticks (beat or workers down) finds the same rows next time: nothing is skipped, only
   late — and a reminder delivered late says so.
3. Any loss after the claim — the message vanishes with a flushed or restarted Redis, the
   worker is SIGKILLed mid-task, the broker is down at enqueue time — leaves the row in
   "sending" with an expired lease, and the next sweep claims it again and enqueues a new
   task. Only a finished delivery moves the row out of "sending".

At most once:
4. Two sweepers never claim the same row: SKIP LOCKED hands each locked row to one
   transaction, and PostgreSQL re-checks the WHERE clause on rows committed meanwhile.
5. A delivery may still run twice (a re-claim while the first task was only slow, Redis's
   visibility timeout, `acks_late` redelivery after a lost worker). Each (reminder,
   channel, recipient) send is guarded by a `ReminderDelivery` row with a unique
   constraint, written in three steps (`deliver_many`):
   - step 1, one transaction: insert the rows (INSERT … ON CONFLICT DO NOTHING). For a
     database-only channel (the notification centre) the row is "sent" and the channel's
     write happens in this same transaction: exactly once by construction. For an
     external channel (e-mail) the row is "pending" and is committed *before* sending.
     A run that finds a row "sent", or "pending" and younger than the lease, leaves it;
     a "failed" row, or a "pending" one older than the lease (its sender died), is taken
     over with a conditional UPDATE that exactly one run wins;
   - step 2, no transaction: send what this run owns, one message at a time, and mark
     each row "sent" in its own transaction (one autocommitted UPDATE) as soon as its
     message has gone, before the next message starts;
   - step 3, one transaction: mark the rows whose send failed "failed" (retried after
     REMINDER_RETRY_SECONDS up to REMINDER_MAX_ATTEMPTS) and the reminders "sent".
6. The delivery task's hard time limit is half the lease, so a sender that is merely
   slow is killed before anyone may take its row over.

The one window left is in the outside world: a sender killed after the SMTP server said
"250 OK" but before that message's "sent" committed. Its successor sends that one message
again (at least once wins over losing a clinical reminder), and only that one: every
message before it in the batch is already marked, every message after it was never
sent. So a SIGKILL costs at most one duplicate per killed worker process (one task at a
time each), and the copy carries the same Message-ID (the delivery's idempotency key,
reminder and recipient), so mail systems can fold the two. A broker outage costs none:
the task's messages are re-claimed from the database and every row already "sent" is
left alone. (tests/reminders/test_reliability.py kills workers and Redis for real.)

Audit: schedule, reschedule, cancel, acknowledge and escalate write audit events (the
reminder as object, its patient id). Claims and sends are not clinical decisions and are
recorded by the rows themselves (`claimed_at`, `attempts`, `ReminderDelivery`).
"""

import json
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from celery import current_app
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit
from core.models import Role, User

from .channels import enabled_channels
from .models import (
    CalendarFeedToken,
    DeliveryStatus,
    Reminder,
    ReminderDelivery,
    ReminderStatus,
)
from .selectors import reminders_for_user
from .times import shift_wall_clock

logger = logging.getLogger(__name__)

ESCALATION_SUFFIX = "/escalation"
MAX_STEP_LENGTH = 60
AUDITED_FIELDS = (
    "subject_type",
    "subject_id",
    "step",
    "occurrence",
    "patient",
    "ward",
    "recipient_role",
    "recipient_user",
    "due_at",
    "title_template",
    "title_params",
    "rule_id",
    "escalate",
)
# States in which a reminder may still be cancelled.
CANCELLABLE = (
    ReminderStatus.SCHEDULED,
    ReminderStatus.SENDING,
    ReminderStatus.SENT,
    ReminderStatus.ESCALATED,
)


def _lease():
    return timedelta(seconds=settings.REMINDER_LEASE_SECONDS)


# --- Scheduling (called from the plan/order services, inside their transaction) -------


def _validate(*, step, due_at, ward, recipient_role, recipient_user, title_template, title_params):
    if not step or len(step) > MAX_STEP_LENGTH or step.endswith(ESCALATION_SUFFIX):
        raise ValueError(
            f"step {step!r}: 1..{MAX_STEP_LENGTH} characters, not ending {ESCALATION_SUFFIX}"
        )
    if due_at is None or timezone.is_naive(due_at):
        raise ValueError("due_at must be an aware datetime (use times.local_to_utc).")
    if ward is None:
        raise ValueError("ward is required: it receives the reminder and its escalation.")
    if (recipient_role is None) == (recipient_user is None):
        raise ValueError("give exactly one of recipient_role and recipient_user.")
    if recipient_role is not None and recipient_role not in Role.values:
        raise ValueError(f"unknown role {recipient_role!r}")
    try:
        json.dumps(title_params)
        title_template % title_params
    except (TypeError, ValueError, KeyError) as exc:
        raise ValueError(f"title_template does not render with title_params: {exc!r}")


def reminder_schedule(
    *,
    subject_type,
    subject_id,
    step,
    occurrence=0,
    due_at,
    patient=None,
    ward,
    recipient_role=None,
    recipient_user=None,
    title_template,
    title_params=None,
    rule_id="",
    escalate=True,
    actor=None,
):
    """Create or update the reminder with key (subject_type, subject_id, step, occurrence).

    Idempotent: calling it again with the same values changes nothing; with new values it
    updates the row while it is still "scheduled". Once sent, acknowledged or cancelled
    the row is history and is returned unchanged (schedule a new `occurrence` to remind
    again). `title_template` is an English gettext msgid (mark it with gettext_noop) with
    %(name)s placeholders; put a patient's name in the `patient` parameter (the calendar
    feed shows initials only). Call it inside the transaction of the plan or order that
    causes it.
    """
    title_params = dict(title_params or {})
    _validate(
        step=step,
        due_at=due_at,
        ward=ward,
        recipient_role=recipient_role,
        recipient_user=recipient_user,
        title_template=title_template,
        title_params=title_params,
    )
    key = {
        "subject_type": subject_type,
        "subject_id": str(subject_id),
        "step": step,
        "occurrence": occurrence,
    }
    fields = {
        "patient": patient,
        "ward": ward,
        "recipient_role": recipient_role or "",
        "recipient_user": recipient_user,
        "due_at": due_at,
        "title_template": title_template,
        "title_params": title_params,
        "rule_id": rule_id,
        "escalate": escalate,
    }
    with transaction.atomic():
        try:
            with transaction.atomic():  # savepoint: a duplicate key must not spoil the caller
                reminder = Reminder.objects.create(**key, **fields)
        except IntegrityError:
            reminder = None
        if reminder is not None:
            audit.record(
                "reminder_schedule",
                actor=actor,
                obj=reminder,
                patient_id=reminder.patient_id,
                new=audit.snapshot(reminder, AUDITED_FIELDS),
            )
            return reminder

        reminder = Reminder.objects.select_for_update().get(**key)
        if reminder.status != ReminderStatus.SCHEDULED:
            return reminder
        before = audit.snapshot(reminder, AUDITED_FIELDS)
        for name, value in fields.items():
            setattr(reminder, name, value)
        old, new = audit.diff(before, audit.snapshot(reminder, AUDITED_FIELDS))
        if not new:
            return reminder
        if "due_at" in new:
            reminder.sequence += 1
        reminder.save()
        audit.record(
            "reminder_reschedule" if "due_at" in new else "reminder_update",
            actor=actor,
            obj=reminder,
            patient_id=reminder.patient_id,
            old=old,
            new=new,
        )
    return reminder


def _mover(shift):
    if isinstance(shift, timedelta):
        return lambda r: shift_wall_clock(r.due_at, shift)
    if isinstance(shift, Mapping):
        for value in shift.values():
            if value is None or timezone.is_naive(value):
                raise ValueError("new due times must be aware datetimes.")
        return lambda r: shift.get((r.step, r.occurrence), shift.get(r.step))
    raise TypeError("shift is a timedelta or a mapping of step (or (step, occurrence)) to due_at")


def reminders_reschedule(*, subject_type, subject_id, shift, actor=None, reason=""):
    """Move the subject's still-scheduled reminders; returns the moved ones.

    `shift` is either a timedelta, applied in the ward's local wall-clock time (one day
    later keeps 08:00 at 08:00 across a DST change), or a mapping of step — or
    (step, occurrence) — to a new aware due time; steps not in the mapping stay. Reminders
    already sent are history and do not move.
    """
    new_due = _mover(shift)
    moved = []
    with transaction.atomic():
        rows = (
            Reminder.objects.select_for_update()
            .filter(
                subject_type=subject_type,
                subject_id=str(subject_id),
                status=ReminderStatus.SCHEDULED,
            )
            .order_by("pk")
        )
        for reminder in rows:
            due_at = new_due(reminder)
            if due_at is None or due_at == reminder.due_at:
                continue
            old = reminder.due_at
            reminder.due_at = due_at
            reminder.sequence += 1
            reminder.save(update_fields=["due_at", "sequence", "updated_at"])
            audit.record(
                "reminder_reschedule",
                actor=actor,
                obj=reminder,
                patient_id=reminder.patient_id,
                old={"due_at": old},
                new={"due_at": due_at},
                reason=reason,
            )
            moved.append(reminder)
    return moved


def reminders_cancel(*, subject_type, subject_id, reason, actor, steps=None):
    """Cancel the subject's reminders that are not yet acknowledged; returns them.

    Scheduled ones will not be sent; sent ones leave the notification centre and will
    not escalate. `steps` limits it to those steps (and their escalations).
    """
    now = timezone.now()
    cancelled = []
    with transaction.atomic():
        rows = Reminder.objects.select_for_update().filter(
            subject_type=subject_type, subject_id=str(subject_id), status__in=CANCELLABLE
        )
        if steps is not None:
            steps = list(steps)
            rows = rows.filter(step__in=steps + [s + ESCALATION_SUFFIX for s in steps])
        for reminder in rows.order_by("pk"):
            _cancel(reminder, actor, now, reason=reason)
            cancelled.append(reminder)
    return cancelled


def reminder_supersede(*, reminder, actor, reason):
    """Close one reminder that was already sent because the moment it announced moved
    (a new occurrence is scheduled for the new time by the caller). An acknowledged one
    stays as it is: history, and nothing left to act on."""
    with transaction.atomic():
        reminder = Reminder.objects.select_for_update().get(pk=reminder.pk)
        if reminder.status in CANCELLABLE:
            _cancel(reminder, actor, timezone.now(), reason=reason)
    return reminder


def _cancel(reminder, actor, now, *, reason):
    previous = reminder.status
    reminder.status = ReminderStatus.CANCELLED
    reminder.cancelled_at = now
    reminder.cancel_reason = reason
    reminder.save(update_fields=["status", "cancelled_at", "cancel_reason", "updated_at"])
    audit.record(
        "reminder_cancel",
        actor=actor,
        obj=reminder,
        patient_id=reminder.patient_id,
        old={"status": previous},
        new={"status": ReminderStatus.CANCELLED},
        reason=reason,
    )


# --- Acknowledgement -----------------------------------------------------------------


def reminder_acknowledge(*, reminder, user):
    """The recipient has seen it and acts on it. Also closes its escalation (or original).

    Idempotent for an already acknowledged reminder. Raises PermissionDenied when the
    reminder is not addressed to the user, ValidationError when it is not shown yet or
    was cancelled.
    """
    if not reminders_for_user(user).filter(pk=reminder.pk).exists():
        raise PermissionDenied("not a recipient of this reminder")
    now = timezone.now()
    with transaction.atomic():
        reminder = Reminder.objects.select_for_update().get(pk=reminder.pk)
        if reminder.status == ReminderStatus.ACKNOWLEDGED:
            return reminder
        if (
            reminder.status
            not in (
                ReminderStatus.SENDING,
                ReminderStatus.SENT,
                ReminderStatus.ESCALATED,
            )
            or reminder.notified_at is None
        ):
            raise ValidationError(_("This reminder cannot be acknowledged now."))
        _acknowledge(reminder, user, now, reason="")
        linked = Reminder.objects.select_for_update().filter(
            Q(pk=reminder.escalation_of_id) | Q(escalation_of=reminder), status__in=CANCELLABLE
        )
        for other in linked:
            why = f"acknowledged with reminder {reminder.pk}"
            if other.status == ReminderStatus.SCHEDULED:  # an escalation not sent yet
                _cancel(other, user, now, reason=why)
            else:
                _acknowledge(other, user, now, reason=why)
    return reminder


def _acknowledge(reminder, user, now, *, reason):
    previous = reminder.status
    reminder.status = ReminderStatus.ACKNOWLEDGED
    reminder.acknowledged_at = now
    reminder.acknowledged_by = user
    reminder.save(update_fields=["status", "acknowledged_at", "acknowledged_by", "updated_at"])
    audit.record(
        "reminder_acknowledge",
        actor=user,
        obj=reminder,
        patient_id=reminder.patient_id,
        old={"status": previous},
        new={"status": ReminderStatus.ACKNOWLEDGED},
        reason=reason,
    )


# --- The sweeper (beat, every REMINDER_SWEEP_SECONDS) ------------------------------------

DELIVERY_TASK = "core.tasks.deliver_reminders"


def enqueue_delivery(ids):
    """Hand claimed reminders to delivery tasks, a few per task (REMINDER_DELIVERY_BATCH).

    Runs after the claim has committed. A few ids per task keeps each task short while
    sparing the broker one round trip per reminder (one worker then drains > 500/s).
    """
    size = settings.REMINDER_DELIVERY_BATCH
    for start in range(0, len(ids), size):
        try:
            # By task name: core.tasks calls these services, never the other way round.
            current_app.signature(DELIVERY_TASK, args=(list(ids[start : start + size]),)).delay()
        except Exception:
            # Broker down: the rows stay "sending"; the sweep after their lease re-sends.
            logger.warning(
                "broker unavailable: %d claimed reminder(s) wait for their lease",
                len(ids) - start,
                exc_info=True,
            )
            return


def sweep(now=None, *, limit=None, enqueue=None):
    """Claim every due reminder (and every one whose delivery lease ran out); enqueue them.

    Claims in batches of `limit` rows, each batch its own short transaction, until no due
    row is left; returns the claimed ids. Safe to run in several processes at once.
    """
    now = now or timezone.now()
    limit = limit or settings.REMINDER_SWEEP_BATCH
    enqueue = enqueue or enqueue_delivery
    lease_until = now + _lease()
    claimed = []
    while True:
        with transaction.atomic():
            ids = list(
                Reminder.objects.select_for_update(skip_locked=True)
                .filter(
                    Q(status=ReminderStatus.SCHEDULED, due_at__lte=now)
                    | Q(status=ReminderStatus.SENDING, lease_until__lt=now)
                )
                .order_by("due_at")
                .values_list("pk", flat=True)[:limit]
            )
            if ids:
                # The rows are locked by this transaction, so the update takes them all.
                updated = Reminder.objects.filter(pk__in=ids).update(
                    status=ReminderStatus.SENDING,
                    claimed_at=now,
                    lease_until=lease_until,
                    attempts=F("attempts") + 1,
                    updated_at=now,
                )
                if updated != len(ids):
                    raise RuntimeError(f"claimed {len(ids)} rows but updated {updated}")
                transaction.on_commit(partial(enqueue, ids))
        claimed.extend(ids)
        if len(ids) < limit:
            return claimed


def escalate_due(now=None, *, limit=500):
    """Escalate reminders shown but unacknowledged for REMINDER_ESCALATE_MINUTES.

    The escalation is a new reminder to the ward's physician on duty (to the ward's
    physicians when nobody is on duty), due now, delivered like any other; the original
    becomes "escalated" and stays open until someone acknowledges either. Returns the new
    reminders' ids.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.REMINDER_ESCALATE_MINUTES)
    created = []
    with transaction.atomic():
        rows = (
            Reminder.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("ward__physician_on_duty")
            .filter(
                status=ReminderStatus.SENT,
                escalate=True,
                escalation_of__isnull=True,
                notified_at__lte=cutoff,
            )
            .order_by("notified_at")[:limit]
        )
        for reminder in rows:
            on_duty = reminder.ward.physician_on_duty
            if on_duty is not None and not on_duty.is_active:
                on_duty = None
            escalation = Reminder.objects.create(
                subject_type=reminder.subject_type,
                subject_id=reminder.subject_id,
                step=reminder.step + ESCALATION_SUFFIX,
                occurrence=reminder.occurrence,
                patient_id=reminder.patient_id,
                ward_id=reminder.ward_id,
                recipient_user=on_duty,
                recipient_role="" if on_duty else Role.PHYSICIAN,
                due_at=now,
                title_template=reminder.title_template,
                title_params=reminder.title_params,
                rule_id=reminder.rule_id,
                escalate=False,
                escalation_of=reminder,
            )
            reminder.status = ReminderStatus.ESCALATED
            reminder.escalated_at = now
            reminder.save(update_fields=["status", "escalated_at", "updated_at"])
            audit.record(
                "reminder_escalate",
                obj=reminder,
                patient_id=reminder.patient_id,
                old={"status": ReminderStatus.SENT},
                new={
                    "status": ReminderStatus.ESCALATED,
                    "escalated_to_user": on_duty.pk if on_duty else None,
                    "escalated_to_role": "" if on_duty else Role.PHYSICIAN,
                    "escalation_reminder": escalation.pk,
                },
                reason=f"not acknowledged within {settings.REMINDER_ESCALATE_MINUTES} min",
            )
            created.append(escalation.pk)
    return created


# --- Delivery (short tasks, each a few claimed reminders) --------------------------------


def recipients_of(reminder):
    if reminder.recipient_user_id:
        user = reminder.recipient_user
        return [user] if user.is_active else []
    return list(
        User.objects.filter(
            is_active=True, ward_id=reminder.ward_id, groups__name=reminder.recipient_role
        )
        .distinct()
        .order_by("pk")
    )


def deliver(reminder_id):
    """Deliver one claimed reminder; see `deliver_many`. Returns its outcome."""
    return deliver_many([reminder_id])[reminder_id]


@dataclass
class _Send:
    reminder: Reminder
    channel: object
    target: object
    late: bool
    delivery_id: int | None = None
    outcome: str = ""  # sent | done | busy | failed
    error: str = ""


def deliver_many(reminder_ids):
    """Send claimed reminders on every channel, each (channel, recipient) at most once.

    Safe to call again with the same ids, concurrently or after a crash at any point.
    Returns {id: outcome}: "sent"; "skipped" (not claimed: already sent, cancelled,
    unknown); "busy" (another live task is sending part of it and will finish it); "retry"
    (a channel failed; the sweeper tries again after REMINDER_RETRY_SECONDS).

    Three steps, so that nothing leaves the building without a committed record first:
    1. one transaction inserts a delivery row per (reminder, channel, recipient) —
       "sent" for database-only channels, whose write happens in this same transaction;
       "pending" for external ones — or takes over a failed or abandoned row;
    2. outside any transaction, the external sends of the rows this call owns, each row
       marked "sent" in its own transaction right after its message has gone;
    3. one transaction marks the failed ones and finishes the reminders.
    """
    ids = list(dict.fromkeys(reminder_ids))
    outcomes = dict.fromkeys(ids, "skipped")
    reminders = list(
        Reminder.objects.select_related("recipient_user")
        .filter(pk__in=ids, status=ReminderStatus.SENDING)
        .order_by("pk")
    )
    if not reminders:
        return outcomes
    now = timezone.now()
    late_after = settings.REMINDER_LATE_AFTER_SECONDS
    recipients = {}
    sends = []
    for reminder in reminders:
        key = (reminder.recipient_user_id, reminder.ward_id, reminder.recipient_role)
        if key not in recipients:
            recipients[key] = recipients_of(reminder)
        late = (now - reminder.due_at).total_seconds() > late_after
        for channel in enabled_channels():
            for target in channel.targets(reminder, recipients[key]):
                sends.append(_Send(reminder, channel, target, late))

    with transaction.atomic():
        _claim_deliveries(sends, now)
    _send_external([s for s in sends if s.outcome == "claimed"], now)
    with transaction.atomic():
        _finish(reminders, sends, now, outcomes)
    return outcomes


def _claim_deliveries(sends, now):
    """Step 1: insert (or take over) the delivery rows; do the database-only sends."""
    table = ReminderDelivery._meta.db_table
    # Raw SQL gets the value exactly as the ORM stores it, so `claimed_at=now` matches later.
    at = ReminderDelivery._meta.get_field("claimed_at").get_db_prep_value(now, connection)
    rows = []
    for send in sends:
        internal = send.channel.transactional
        rows.append(
            (
                send.reminder.pk,
                send.channel.name,
                send.target.key,
                send.target.user.pk if send.target.user else None,
                DeliveryStatus.SENT if internal else DeliveryStatus.PENDING,
                at,
                at if internal else None,
            )
        )
    inserted = {}
    if rows:
        # One statement, rows in (reminder, channel, key) order: concurrent callers queue
        # behind each other on the unique index instead of deadlocking.
        rows.sort(key=lambda r: (r[0], r[1], r[2]))
        values = ", ".join(["(%s, %s, %s, %s, %s, 1, %s, %s, '')"] * len(rows))
        # Only the table name is interpolated (from the model); every value is a parameter.
        sql = (
            f"INSERT INTO {table} (reminder_id, channel, recipient_key, recipient_id, status,"  # noqa: S608
            f" attempts, claimed_at, sent_at, error) VALUES {values}"
            " ON CONFLICT (reminder_id, channel, recipient_key) DO NOTHING"
            " RETURNING id, reminder_id, channel, recipient_key"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [v for row in rows for v in row])
            inserted = {(r, c, k): pk for pk, r, c, k in cursor.fetchall()}
    existing = {}
    if len(inserted) < len(sends):
        for d in ReminderDelivery.objects.filter(reminder_id__in={s.reminder.pk for s in sends}):
            existing[(d.reminder_id, d.channel, d.recipient_key)] = d
    lease = _lease()
    internal = {}  # channel -> its sends, done together in this transaction
    for send in sorted(sends, key=lambda s: (s.reminder.pk, s.channel.name, s.target.key)):
        key = (send.reminder.pk, send.channel.name, send.target.key)
        if key in inserted:
            send.delivery_id = inserted[key]
            if send.channel.transactional:
                internal.setdefault(send.channel, []).append(send)
                send.outcome = "sent"
            else:
                send.outcome = "claimed"
            continue
        delivery = existing[key]
        send.delivery_id = delivery.pk
        if delivery.status == DeliveryStatus.SENT:
            send.outcome = "done"  # an earlier run delivered it
        elif delivery.status == DeliveryStatus.PENDING and delivery.claimed_at > now - lease:
            send.outcome = "busy"  # its sender is alive (within its time limit) and finishes it
        else:
            # Failed, or pending with a dead sender: take it over; exactly one taker wins.
            taken = ReminderDelivery.objects.filter(
                pk=delivery.pk, status=delivery.status, claimed_at=delivery.claimed_at
            ).update(
                status=DeliveryStatus.PENDING, claimed_at=now, attempts=F("attempts") + 1, error=""
            )
            send.outcome = "claimed" if taken == 1 else "busy"
    for channel, batch in internal.items():
        channel.send_batch([(s.reminder, s.target, s.late) for s in batch], now=now, session=None)


def _send_external(sends, now):
    """Step 2: the sends this call owns, one channel session (connection) per channel,
    each marked "sent" in its own transaction the moment it has gone."""
    for channel in {id(s.channel): s.channel for s in sends}.values():
        batch = [s for s in sends if s.channel is channel]
        try:
            with channel.session() as session:
                for send in batch:
                    try:
                        channel.send(
                            send.reminder, send.target, late=send.late, now=now, session=session
                        )
                    except Exception as exc:
                        _failed(send, exc)
                        continue
                    send.outcome = "sent"  # it has left: never "failed" from here on
                    _mark_sent(send, now)
        except Exception as exc:  # the channel itself is down (e.g. no SMTP connection)
            for send in batch:
                if send.outcome == "claimed":
                    _failed(send, exc)


def _mark_sent(send, now):
    """Commit one send as soon as it has gone, before the next one starts: a worker
    killed mid-batch sends again at most the message it was sending (point 5 above).

    One statement outside any transaction, so its own transaction; on PostgreSQL it is
    committed asynchronously (set_config(..., true) is SET LOCAL for this statement's
    transaction): the commit does not wait for the WAL to reach the disk, 0.3 ms instead
    of 1.6 ms a mark on the bench host (waiting for it halved the drain rate). The mark is
    committed all the same: every other session sees it at once, and a killed worker
    cannot undo it. Only a crash of PostgreSQL itself could lose the last fraction of a
    second of marks (wal_writer_delay); those messages would then be sent again, with the
    same Message-ID: a duplicate, never a loss. Clinical writes keep synchronous commits.
    """
    field = ReminderDelivery._meta.get_field("claimed_at")
    claimed_at = field.get_db_prep_value(now, connection)
    sent_at = field.get_db_prep_value(timezone.now(), connection)
    if connection.vendor == "postgresql":
        # Only the table name is interpolated (from the model); every value is a parameter.
        sql = (
            f"UPDATE {ReminderDelivery._meta.db_table} SET status = %s, sent_at = %s"  # noqa: S608
            " FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit"
            " WHERE id = %s AND status = %s AND claimed_at = %s"
        )
        params = [
            DeliveryStatus.SENT,
            sent_at,
            send.delivery_id,
            DeliveryStatus.PENDING,
            claimed_at,
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            marked = cursor.rowcount
    else:  # the SQLite demo
        marked = ReminderDelivery.objects.filter(
            pk=send.delivery_id, status=DeliveryStatus.PENDING, claimed_at=now
        ).update(status=DeliveryStatus.SENT, sent_at=timezone.now())
    if marked != 1:  # cannot happen while the time limit is below the lease
        logger.error(
            "reminder %s: delivery %s was taken over mid-send", send.reminder.pk, send.delivery_id
        )


def _failed(send, exc):
    logger.warning(
        "reminder %s: %s to %s failed",
        send.reminder.pk,
        send.channel.name,
        send.target.key,
        exc_info=exc,
    )
    send.outcome, send.error = "failed", repr(exc)[:1000]


def _finish(reminders, sends, now, outcomes):
    """Step 3: record the failed sends (the sent ones are marked already) and move the
    reminders on."""
    for send in sends:
        if send.outcome == "failed":
            ReminderDelivery.objects.filter(pk=send.delivery_id, claimed_at=now).update(
                status=DeliveryStatus.FAILED, error=send.error
            )
    by_reminder = {}
    for send in sends:
        by_reminder.setdefault(send.reminder.pk, set()).add(send.outcome)
    finished = {True: [], False: []}
    retry = []
    for reminder in reminders:
        results = by_reminder.get(reminder.pk, set())
        if "busy" in results:
            outcomes[reminder.pk] = "busy"
        elif "failed" in results and reminder.attempts < settings.REMINDER_MAX_ATTEMPTS:
            outcomes[reminder.pk] = "retry"
            retry.append(reminder.pk)
        else:
            if "failed" in results:
                logger.error(
                    "reminder %s: giving up on failed deliveries after %d attempts",
                    reminder.pk,
                    reminder.attempts,
                )
            outcomes[reminder.pk] = "sent"
            late = (now - reminder.due_at).total_seconds() > settings.REMINDER_LATE_AFTER_SECONDS
            finished[late].append(reminder.pk)
    if retry:
        Reminder.objects.filter(pk__in=retry, status=ReminderStatus.SENDING).update(
            lease_until=timezone.now() + timedelta(seconds=settings.REMINDER_RETRY_SECONDS)
        )
    sent_at = timezone.now()
    for late, pks in finished.items():
        if pks:
            Reminder.objects.filter(pk__in=pks, status=ReminderStatus.SENDING).update(
                status=ReminderStatus.SENT,
                sent_at=sent_at,
                late=late,
                lease_until=None,
                updated_at=sent_at,
            )


# --- Calendar feed tokens ----------------------------------------------------------------


def calendar_token_regenerate(*, user):
    """A new secret feed URL for the user; the previous one stops working."""
    with transaction.atomic():
        calendar_token_revoke(user=user)
        token = CalendarFeedToken.objects.create(user=user, token=secrets.token_urlsafe(32))
        audit.record("calendar_token_create", actor=user, obj=token)
    return token


def calendar_token_revoke(*, user):
    now = timezone.now()
    with transaction.atomic():
        live = CalendarFeedToken.objects.select_for_update().filter(
            user=user, revoked_at__isnull=True
        )
        for token in live:
            token.revoked_at = now
            token.save(update_fields=["revoked_at"])
            audit.record("calendar_token_revoke", actor=user, obj=token)
