"""Unacknowledged reminders escalate to the physician on duty; acknowledging closes them."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from core.models import AuditEvent
from core.reminders import services
from core.reminders.models import Reminder, ReminderStatus
from core.tasks import sweep_reminders
from tests.reminders.conftest import T0

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_duty(ward_a, physician2):
    physician2.email = "duty@ward.example"
    physician2.save()
    ward_a.physician_on_duty = physician2
    ward_a.save()
    return physician2


def _sent(remind, run_sweep, at=T0, **kwargs):
    reminder = remind(due_at=at, **kwargs)
    with time_machine.travel(at, tick=False):
        run_sweep()
        assert services.deliver(reminder.pk) == "sent"
    reminder.refresh_from_db()
    return reminder


def test_it_escalates_to_the_physician_on_duty_after_15_minutes(
    settings, on_duty, nurse, remind, run_sweep, enqueued
):
    settings.REMINDER_ESCALATE_MINUTES = 15
    reminder = _sent(remind, run_sweep)

    with time_machine.travel(T0 + timedelta(minutes=14, seconds=59), tick=False):
        assert services.escalate_due() == []

    with time_machine.travel(T0 + timedelta(minutes=15), tick=False):
        [escalation_id] = services.escalate_due()
        assert services.escalate_due() == []  # once only

    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.ESCALATED
    escalation = Reminder.objects.get(pk=escalation_id)
    assert escalation.escalation_of == reminder
    assert escalation.recipient_user == on_duty
    assert escalation.due_at == T0 + timedelta(minutes=15)
    assert escalation.escalate is False
    assert escalation.patient_id == reminder.patient_id

    [event] = AuditEvent.objects.filter(action="reminder_escalate")
    assert event.object_id == str(reminder.pk)
    assert event.patient_id == reminder.patient_id
    assert event.actor_id is None  # the system did it
    assert event.new_values["escalated_to_user"] == on_duty.pk
    assert event.new_values["escalation_reminder"] == escalation.pk

    # The escalation is delivered like any reminder, to the physician on duty.
    with time_machine.travel(T0 + timedelta(minutes=15, seconds=10), tick=False):
        assert run_sweep() == [escalation.pk]
        services.deliver(escalation.pk)
    assert mail.outbox[-1].to == ["duty@ward.example"]
    assert "Escalated, not acknowledged within 15 min" in mail.outbox[-1].subject


def test_without_a_physician_on_duty_it_escalates_to_the_wards_physicians(
    settings, nurse, remind, run_sweep
):
    reminder = _sent(remind, run_sweep)
    with time_machine.travel(T0 + timedelta(minutes=16), tick=False):
        [escalation_id] = services.escalate_due()
    escalation = Reminder.objects.get(pk=escalation_id)
    assert escalation.recipient_user is None
    assert escalation.recipient_role == "physician"
    assert escalation.ward_id == reminder.ward_id


def test_the_escalation_delay_is_a_setting(settings, on_duty, remind, run_sweep):
    settings.REMINDER_ESCALATE_MINUTES = 5
    _sent(remind, run_sweep)
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        assert len(services.escalate_due()) == 1


def test_acknowledged_and_non_escalating_reminders_do_not_escalate(
    on_duty, nurse, remind, run_sweep
):
    acked = _sent(remind, run_sweep)
    services.reminder_acknowledge(reminder=acked, user=nurse)
    _sent(remind, run_sweep, escalate=False)
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        assert services.escalate_due() == []


def test_the_sweep_task_escalates_and_sends_in_one_tick(
    on_duty, nurse, remind, run_sweep, monkeypatch, django_capture_on_commit_callbacks
):
    _sent(remind, run_sweep)
    handed = []
    monkeypatch.setattr("core.reminders.services.enqueue_delivery", handed.extend)
    with (
        time_machine.travel(T0 + timedelta(minutes=15), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        sweep_reminders()
    escalation = Reminder.objects.get(escalation_of__isnull=False)
    assert handed == [escalation.pk]


def test_acknowledging_records_who_and_when(nurse, remind, run_sweep):
    reminder = _sent(remind, run_sweep)
    with time_machine.travel(T0 + timedelta(minutes=3), tick=False):
        services.reminder_acknowledge(reminder=reminder, user=nurse)
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.ACKNOWLEDGED
    assert reminder.acknowledged_by == nurse
    assert reminder.acknowledged_at == T0 + timedelta(minutes=3)
    [event] = AuditEvent.objects.filter(action="reminder_acknowledge")
    assert event.actor_id == nurse.pk
    assert event.patient_id == reminder.patient_id
    # Twice is fine and changes nothing.
    services.reminder_acknowledge(reminder=reminder, user=nurse)
    assert AuditEvent.objects.filter(action="reminder_acknowledge").count() == 1


def test_the_physician_acknowledging_the_escalation_closes_the_original(
    on_duty, nurse, remind, run_sweep
):
    reminder = _sent(remind, run_sweep)
    with time_machine.travel(T0 + timedelta(minutes=15), tick=False):
        [escalation_id] = services.escalate_due()
        run_sweep()
        services.deliver(escalation_id)
    escalation = Reminder.objects.get(pk=escalation_id)
    services.reminder_acknowledge(reminder=escalation, user=on_duty)
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.ACKNOWLEDGED
    assert reminder.acknowledged_by == on_duty
    assert AuditEvent.objects.filter(action="reminder_acknowledge").count() == 2


def test_the_nurse_acknowledging_late_closes_the_escalation_too(on_duty, nurse, remind, run_sweep):
    reminder = _sent(remind, run_sweep)
    with time_machine.travel(T0 + timedelta(minutes=15), tick=False):
        [escalation_id] = services.escalate_due()
        run_sweep()
        services.deliver(escalation_id)
    reminder.refresh_from_db()
    services.reminder_acknowledge(reminder=reminder, user=nurse)
    assert Reminder.objects.get(pk=escalation_id).status == ReminderStatus.ACKNOWLEDGED


def test_acknowledging_before_the_escalation_went_out_cancels_it(on_duty, nurse, remind, run_sweep):
    reminder = _sent(remind, run_sweep)
    with time_machine.travel(T0 + timedelta(minutes=15), tick=False):
        [escalation_id] = services.escalate_due()
    reminder.refresh_from_db()
    services.reminder_acknowledge(reminder=reminder, user=nurse)
    escalation = Reminder.objects.get(pk=escalation_id)
    assert escalation.status == ReminderStatus.CANCELLED
    with time_machine.travel(T0 + timedelta(minutes=16), tick=False):
        assert run_sweep() == []  # the physician is not disturbed


def test_only_a_recipient_may_acknowledge(nurse, nurse_b, pharmacist, remind, run_sweep):
    reminder = _sent(remind, run_sweep)
    for outsider in (nurse_b, pharmacist):
        with pytest.raises(PermissionDenied):
            services.reminder_acknowledge(reminder=reminder, user=outsider)
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.SENT


def test_a_reminder_not_yet_shown_cannot_be_acknowledged(nurse, remind):
    reminder = remind(due_at=T0 + timedelta(days=1))
    with pytest.raises(ValidationError):
        services.reminder_acknowledge(reminder=reminder, user=nurse)
