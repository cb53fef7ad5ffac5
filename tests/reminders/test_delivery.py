"""Delivery: every channel once per recipient, however often the task runs; late marking;
retries after a failed or interrupted send."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend

from core.reminders import services
from core.reminders.models import DeliveryStatus, Reminder, ReminderDelivery, ReminderStatus
from core.tasks import deliver_reminder, deliver_reminders
from tests.factories import make_user
from tests.reminders.conftest import T0

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(nurse, physician, nurse_b):
    nurse.email = "nurse@ward.example"
    nurse.save()
    physician.email = "doc@ward.example"
    physician.save()
    nurse_b.email = "nurse.b@ward.example"
    nurse_b.save()
    return nurse


def _claimed(remind, run_sweep, *, due_at=T0, **kwargs):
    reminder = remind(due_at=due_at, **kwargs)
    with time_machine.travel(due_at, tick=False):
        run_sweep()
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.SENDING
    return reminder


def test_it_shows_the_reminder_in_app_and_emails_each_recipient_once(staff, remind, run_sweep):
    reminder = _claimed(remind, run_sweep)
    with time_machine.travel(T0 + timedelta(seconds=5), tick=False):
        assert services.deliver(reminder.pk) == "sent"
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.SENT
    assert reminder.notified_at == reminder.sent_at == T0 + timedelta(seconds=5)
    assert reminder.late is False
    # The nurse of ward A, not the physician (another role) nor ward B's nurse.
    assert [m.to for m in mail.outbox] == [["nurse@ward.example"]]
    message = mail.outbox[0]
    assert "Give dexamethasone 5 mg IV to Alice Example" in message.subject
    assert "B-PREMED-1" in message.body
    assert "/notifications/" in message.body
    assert message.extra_headers["Message-ID"].startswith(f"<reminder-{reminder.pk}-")
    deliveries = ReminderDelivery.objects.filter(reminder=reminder)
    assert sorted(deliveries.values_list("channel", "recipient_key", "status")) == [
        ("email", f"user:{staff.pk}", "sent"),
        ("in_app", "*", "sent"),
    ]


def test_delivering_twice_sends_once(staff, remind, run_sweep):
    reminder = _claimed(remind, run_sweep)
    assert services.deliver(reminder.pk) == "sent"
    assert services.deliver(reminder.pk) == "skipped"
    # Even if the row is claimed again (a lease ran out while the first task was slow):
    Reminder.objects.filter(pk=reminder.pk).update(status=ReminderStatus.SENDING)
    assert services.deliver(reminder.pk) == "sent"
    assert len(mail.outbox) == 1
    assert ReminderDelivery.objects.filter(reminder=reminder).count() == 2


def test_the_tasks_are_thin_and_idempotent(staff, remind, run_sweep):
    first = _claimed(remind, run_sweep)
    deliver_reminder(first.pk)
    deliver_reminder(first.pk)
    deliver_reminder(999_999)  # an unknown id is ignored
    assert len(mail.outbox) == 1
    second, third = _claimed(remind, run_sweep), _claimed(remind, run_sweep)
    deliver_reminders([second.pk, third.pk, second.pk, first.pk, 999_999])
    deliver_reminders([third.pk, second.pk])
    assert len(mail.outbox) == 3


def test_a_batch_sends_over_one_connection_and_reports_each_reminder(staff, remind, run_sweep):
    a, b = _claimed(remind, run_sweep), _claimed(remind, run_sweep)
    cancelled = _claimed(remind, run_sweep, subject_id=2)
    Reminder.objects.filter(pk=cancelled.pk).update(status=ReminderStatus.CANCELLED)
    outcomes = services.deliver_many([a.pk, b.pk, cancelled.pk])
    assert outcomes == {a.pk: "sent", b.pk: "sent", cancelled.pk: "skipped"}
    assert len(mail.outbox) == 2


def test_a_reminder_to_one_user_reaches_only_that_user(staff, physician, remind, run_sweep):
    reminder = _claimed(remind, run_sweep, recipient_user=physician)
    services.deliver(reminder.pk)
    assert [m.to for m in mail.outbox] == [["doc@ward.example"]]


def test_inactive_users_and_users_without_email_get_no_email(staff, ward_a, remind, run_sweep):
    make_user("nurse", ward_a, email="")
    make_user("nurse", ward_a, email="gone@ward.example", is_active=False)
    reminder = _claimed(remind, run_sweep)
    services.deliver(reminder.pk)
    assert [m.to for m in mail.outbox] == [["nurse@ward.example"]]


def test_a_reminder_cancelled_after_the_claim_is_not_sent(staff, physician, remind, run_sweep):
    reminder = _claimed(remind, run_sweep)
    services.reminders_cancel(
        subject_type=reminder.subject_type,
        subject_id=reminder.subject_id,
        reason="plan cancelled",
        actor=physician,
    )
    assert services.deliver(reminder.pk) == "skipped"
    assert mail.outbox == []
    reminder.refresh_from_db()
    assert reminder.notified_at is None


@pytest.mark.parametrize("delay_s, late", [(119, False), (121, True)])
def test_a_reminder_sent_more_than_two_minutes_late_says_so(
    settings, staff, remind, run_sweep, delay_s, late
):
    settings.REMINDER_LATE_AFTER_SECONDS = 120
    settings.TIME_ZONE = "Asia/Shanghai"
    reminder = _claimed(remind, run_sweep)
    with time_machine.travel(T0 + timedelta(seconds=delay_s), tick=False):
        services.deliver(reminder.pk)
    reminder.refresh_from_db()
    assert reminder.late is late
    # T0 is 08:00 UTC = 16:00 in Shanghai.
    assert ("(late: due 16:00)" in mail.outbox[0].subject) is late


def test_a_sender_that_is_still_sending_is_left_alone(settings, staff, remind, run_sweep):
    settings.REMINDER_LEASE_SECONDS = 300
    reminder = _claimed(remind, run_sweep)
    # Another worker inserted its pending row 10 s ago and is talking to the mail server.
    ReminderDelivery.objects.create(
        reminder=reminder,
        channel="email",
        recipient_key=f"user:{staff.pk}",
        recipient=staff,
        status=DeliveryStatus.PENDING,
        claimed_at=T0,
    )
    with time_machine.travel(T0 + timedelta(seconds=10), tick=False):
        assert services.deliver(reminder.pk) == "busy"
    assert mail.outbox == []
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.SENDING  # the other sender finishes it
    assert reminder.notified_at is not None  # the notification centre did not wait


def test_a_send_whose_worker_died_is_taken_over_after_the_lease(settings, staff, remind, run_sweep):
    settings.REMINDER_LEASE_SECONDS = 300
    reminder = _claimed(remind, run_sweep)
    dead = ReminderDelivery.objects.create(
        reminder=reminder,
        channel="email",
        recipient_key=f"user:{staff.pk}",
        recipient=staff,
        status=DeliveryStatus.PENDING,
        claimed_at=T0,
    )
    with time_machine.travel(T0 + timedelta(seconds=301), tick=False):
        assert run_sweep() == [reminder.pk]  # its lease ran out too
        assert services.deliver(reminder.pk) == "sent"
    dead.refresh_from_db()
    assert dead.status == DeliveryStatus.SENT
    assert dead.attempts == 2
    assert len(mail.outbox) == 1


class FailingBackend(LocmemBackend):
    def send_messages(self, messages):
        raise ConnectionRefusedError("smtp down")


def test_a_failed_send_is_retried_by_the_sweeper(settings, staff, remind, run_sweep):
    settings.REMINDER_RETRY_SECONDS = 60
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    reminder = _claimed(remind, run_sweep)
    with time_machine.travel(T0, tick=False):
        assert services.deliver(reminder.pk) == "retry"
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.SENDING
    assert reminder.notified_at == T0  # shown in the app regardless
    assert reminder.lease_until == T0 + timedelta(seconds=60)
    failed = ReminderDelivery.objects.get(reminder=reminder, channel="email")
    assert failed.status == DeliveryStatus.FAILED
    assert "smtp down" in failed.error

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with time_machine.travel(T0 + timedelta(seconds=61), tick=False):
        assert run_sweep() == [reminder.pk]
        assert services.deliver(reminder.pk) == "sent"
    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.SENT
    assert failed.attempts == 2
    assert len(mail.outbox) == 1
    assert ReminderDelivery.objects.filter(reminder=reminder, channel="in_app").count() == 1


class UnreachableBackend(LocmemBackend):
    def open(self):
        raise ConnectionRefusedError("no route to the mail server")


def test_an_unreachable_channel_fails_the_batch_for_a_retry_not_the_notification(
    settings, staff, remind, run_sweep
):
    settings.EMAIL_BACKEND = f"{__name__}.UnreachableBackend"
    a, b = _claimed(remind, run_sweep), _claimed(remind, run_sweep)
    assert services.deliver_many([a.pk, b.pk]) == {a.pk: "retry", b.pk: "retry"}
    emails = ReminderDelivery.objects.filter(channel="email")
    assert set(emails.values_list("status", flat=True)) == {DeliveryStatus.FAILED}
    assert Reminder.objects.filter(notified_at__isnull=False).count() == 2


def test_it_gives_up_on_a_failing_channel_after_the_last_attempt(
    settings, staff, remind, run_sweep
):
    settings.REMINDER_MAX_ATTEMPTS = 1
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    reminder = _claimed(remind, run_sweep)
    assert services.deliver(reminder.pk) == "sent"
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.SENT
    assert ReminderDelivery.objects.get(reminder=reminder, channel="email").status == "failed"


def test_only_the_configured_channels_are_used(settings, staff, remind, run_sweep):
    settings.REMINDER_CHANNELS = ["core.reminders.channels.InAppChannel"]
    reminder = _claimed(remind, run_sweep)
    services.deliver(reminder.pk)
    assert mail.outbox == []
    assert list(ReminderDelivery.objects.values_list("channel", flat=True)) == ["in_app"]
