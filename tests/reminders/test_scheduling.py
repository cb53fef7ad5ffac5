"""Scheduling, rescheduling and cancelling reminders: idempotent, audited, in the caller's
transaction."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.db import transaction

from core.models import AuditEvent
from core.reminders import services
from core.reminders.models import Reminder, ReminderStatus
from core.reminders.times import local_to_utc
from tests.reminders.conftest import T0

pytestmark = pytest.mark.django_db


def _events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


def test_it_creates_one_row_per_key_and_audits_it(remind, patient):
    reminder = remind("dexamethasone", due_at=T0)
    assert reminder.status == ReminderStatus.SCHEDULED
    assert reminder.due_at == T0
    [event] = _events("reminder_schedule")
    assert event.object_type == "core.Reminder"
    assert event.object_id == str(reminder.pk)
    assert event.patient_id == patient.pk
    assert event.new_values["step"] == "dexamethasone"


def test_scheduling_twice_with_the_same_values_changes_nothing(remind):
    first = remind("dexamethasone", due_at=T0)
    again = remind("dexamethasone", due_at=T0)
    assert again.pk == first.pk
    assert Reminder.objects.count() == 1
    assert len(_events("reminder_schedule")) == 1
    assert not _events("reminder_reschedule")


def test_scheduling_again_with_a_new_time_moves_the_scheduled_row(remind):
    first = remind("dexamethasone", due_at=T0)
    moved = remind("dexamethasone", due_at=T0 + timedelta(hours=2))
    assert moved.pk == first.pk
    assert moved.due_at == T0 + timedelta(hours=2)
    assert moved.sequence == 1
    [event] = _events("reminder_reschedule")
    assert event.old_values == {"due_at": "2026-03-02T08:00:00Z"}


def test_occurrences_are_separate_reminders(remind):
    a = remind("vitals", due_at=T0, occurrence=0)
    b = remind("vitals", due_at=T0 + timedelta(minutes=15), occurrence=1)
    assert a.pk != b.pk


def test_a_sent_reminder_is_history_and_is_not_rescheduled(remind):
    reminder = remind("dexamethasone", due_at=T0)
    Reminder.objects.filter(pk=reminder.pk).update(status=ReminderStatus.SENT)
    again = remind("dexamethasone", due_at=T0 + timedelta(days=1))
    assert again.due_at == T0
    assert again.status == ReminderStatus.SENT


def test_a_duplicate_key_does_not_break_the_callers_transaction(remind, ward_a):
    remind("dexamethasone", due_at=T0)
    with transaction.atomic():
        remind("dexamethasone", due_at=T0)  # IntegrityError inside, handled in a savepoint
        assert Reminder.objects.count() == 1  # the transaction is still usable
    assert Reminder.objects.count() == 1


def test_a_reminder_scheduled_in_a_rolled_back_plan_does_not_exist(remind):
    with pytest.raises(RuntimeError), transaction.atomic():
        remind("dexamethasone", due_at=T0)
        raise RuntimeError("the plan failed validation")
    assert not Reminder.objects.exists()
    assert not _events("reminder_schedule")


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"due_at": datetime(2026, 3, 2, 8, 0)}, "aware"),
        ({"recipient_role": None}, "exactly one"),
        ({"recipient_role": "surgeon"}, "unknown role"),
        ({"title_params": {}}, "does not render"),
        ({"step": "x" * 61}, "characters"),
        ({"step": "dex/escalation"}, "characters"),
    ],
)
def test_it_refuses_a_reminder_it_could_not_deliver(remind, overrides, message):
    with pytest.raises(ValueError, match=message):
        remind(**{"step": "dexamethasone", "due_at": T0, **overrides})
    assert not Reminder.objects.exists()


def test_a_reminder_may_go_to_one_user(remind, physician):
    reminder = remind("dexamethasone", due_at=T0, recipient_user=physician)
    assert reminder.recipient_user == physician
    assert reminder.recipient_role == ""


def test_reschedule_by_a_shift_moves_every_scheduled_reminder_of_the_subject(remind, physician):
    a = remind("antiplatelet", due_at=T0)
    b = remind("dexamethasone", due_at=T0 + timedelta(days=1))
    sent = remind("consent", due_at=T0 - timedelta(days=1))
    Reminder.objects.filter(pk=sent.pk).update(status=ReminderStatus.SENT)
    other = remind("dexamethasone", due_at=T0, subject_id=2)

    moved = services.reminders_reschedule(
        subject_type="infusion.Episode",
        subject_id=1,
        shift=timedelta(days=2),
        actor=physician,
        reason="infusion postponed",
    )

    assert {r.pk for r in moved} == {a.pk, b.pk}
    for reminder, due in [(a, T0), (b, T0 + timedelta(days=1))]:
        reminder.refresh_from_db()
        assert reminder.due_at == due + timedelta(days=2)
        assert reminder.sequence == 1
    sent.refresh_from_db()
    other.refresh_from_db()
    assert sent.due_at == T0 - timedelta(days=1)
    assert other.due_at == T0
    events = _events("reminder_reschedule")
    assert len(events) == 2
    assert {e.reason for e in events} == {"infusion postponed"}
    assert {e.actor_id for e in events} == {physician.pk}


def test_reschedule_by_a_day_keeps_the_local_wall_time_across_a_dst_change(settings, remind):
    settings.TIME_ZONE = "Europe/London"
    # 08:00 GMT on Saturday 28 March 2026; the clocks go forward on Sunday 29 March.
    due = local_to_utc(datetime(2026, 3, 28).date(), time(8, 0), "Europe/London")
    reminder = remind("antiplatelet", due_at=due)
    services.reminders_reschedule(
        subject_type="infusion.Episode", subject_id=1, shift=timedelta(days=1)
    )
    reminder.refresh_from_db()
    # 08:00 BST on Sunday is 07:00 UTC: 23 h later, not 24.
    assert reminder.due_at == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)


def test_reschedule_by_mapping_moves_only_the_named_steps(remind):
    a = remind("antiplatelet", due_at=T0)
    b = remind("dexamethasone", due_at=T0)
    c = remind("vitals", due_at=T0, occurrence=3)
    new = T0 + timedelta(hours=5)
    moved = services.reminders_reschedule(
        subject_type="infusion.Episode",
        subject_id=1,
        shift={"antiplatelet": new, ("vitals", 3): new + timedelta(minutes=1)},
    )
    assert {r.pk for r in moved} == {a.pk, c.pk}
    b.refresh_from_db()
    assert b.due_at == T0
    c.refresh_from_db()
    assert c.due_at == new + timedelta(minutes=1)


def test_reschedule_refuses_a_naive_time(remind):
    remind("antiplatelet", due_at=T0)
    with pytest.raises(ValueError):
        services.reminders_reschedule(
            subject_type="infusion.Episode",
            subject_id=1,
            shift={"antiplatelet": datetime(2026, 3, 3, 8, 0)},
        )


def test_cancel_cancels_every_unacknowledged_reminder_of_the_subject(remind, physician):
    scheduled = remind("antiplatelet", due_at=T0)
    sent = remind("dexamethasone", due_at=T0)
    acked = remind("consent", due_at=T0)
    other = remind("antiplatelet", due_at=T0, subject_id=2)
    Reminder.objects.filter(pk=sent.pk).update(status=ReminderStatus.SENT)
    Reminder.objects.filter(pk=acked.pk).update(status=ReminderStatus.ACKNOWLEDGED)

    cancelled = services.reminders_cancel(
        subject_type="infusion.Episode", subject_id=1, reason="plan cancelled", actor=physician
    )

    assert {r.pk for r in cancelled} == {scheduled.pk, sent.pk}
    statuses = dict(Reminder.objects.values_list("pk", "status"))
    assert statuses[scheduled.pk] == statuses[sent.pk] == ReminderStatus.CANCELLED
    assert statuses[acked.pk] == ReminderStatus.ACKNOWLEDGED
    assert statuses[other.pk] == ReminderStatus.SCHEDULED
    events = _events("reminder_cancel")
    assert len(events) == 2
    assert all(e.reason == "plan cancelled" and e.actor_id == physician.pk for e in events)


def test_cancel_can_be_limited_to_steps(remind, physician):
    a = remind("antiplatelet", due_at=T0)
    b = remind("dexamethasone", due_at=T0)
    services.reminders_cancel(
        subject_type="infusion.Episode",
        subject_id=1,
        reason="already on long-term aspirin",
        actor=physician,
        steps=["antiplatelet"],
    )
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.status == ReminderStatus.CANCELLED
    assert b.status == ReminderStatus.SCHEDULED


def test_a_cancelled_reminder_is_not_revived_by_scheduling_it_again(remind, physician):
    remind("antiplatelet", due_at=T0)
    services.reminders_cancel(
        subject_type="infusion.Episode", subject_id=1, reason="x", actor=physician
    )
    again = remind("antiplatelet", due_at=T0 + timedelta(hours=1))
    assert again.status == ReminderStatus.CANCELLED
