"""The sweeper claims what is due — each row once — and re-claims what a lost task left."""

import threading
import time
from datetime import timedelta

import pytest
import time_machine
from celery import current_app
from django.db import connection
from django.utils import timezone

from core.reminders import services
from core.reminders.models import Reminder, ReminderStatus
from tests.factories import make_patient, make_user, make_ward
from tests.reminders.conftest import T0


@pytest.mark.django_db
def test_it_claims_only_due_scheduled_reminders(remind, run_sweep, enqueued):
    due = remind("a", due_at=T0 - timedelta(minutes=1))
    exactly_now = remind("b", due_at=T0)
    future = remind("c", due_at=T0 + timedelta(seconds=1))
    cancelled = remind("d", due_at=T0 - timedelta(hours=1))
    Reminder.objects.filter(pk=cancelled.pk).update(status=ReminderStatus.CANCELLED)

    claimed = run_sweep(T0)

    assert sorted(claimed) == sorted([due.pk, exactly_now.pk])
    assert sorted(enqueued) == sorted(claimed)
    rows = {r.pk: r for r in Reminder.objects.all()}
    assert rows[due.pk].status == ReminderStatus.SENDING
    assert rows[due.pk].claimed_at == T0
    assert rows[due.pk].attempts == 1
    assert rows[future.pk].status == ReminderStatus.SCHEDULED
    assert rows[cancelled.pk].status == ReminderStatus.CANCELLED


@pytest.mark.django_db
def test_a_second_sweep_claims_nothing_new(remind, run_sweep, enqueued):
    remind("a", due_at=T0)
    assert len(run_sweep(T0)) == 1
    assert run_sweep(T0 + timedelta(seconds=30)) == []


@pytest.mark.django_db
def test_it_reclaims_a_reminder_whose_delivery_lease_ran_out(settings, remind, run_sweep, enqueued):
    settings.REMINDER_LEASE_SECONDS = 300
    reminder = remind("a", due_at=T0)
    run_sweep(T0)
    # The task was lost (flushed broker, killed worker): nothing until the lease ends...
    assert run_sweep(T0 + timedelta(seconds=299)) == []
    # ...then it is claimed and enqueued again.
    assert run_sweep(T0 + timedelta(seconds=301)) == [reminder.pk]
    reminder.refresh_from_db()
    assert reminder.attempts == 2
    assert enqueued == [reminder.pk, reminder.pk]


@pytest.mark.django_db
def test_missed_ticks_catch_up_in_one_sweep(remind, run_sweep, enqueued):
    # Beat was down for an hour: every reminder due in that hour goes in the next sweep.
    ids = [remind(f"s{i}", due_at=T0 + timedelta(minutes=i)).pk for i in range(60)]
    claimed = run_sweep(T0 + timedelta(hours=1), limit=7)  # several batches
    assert sorted(claimed) == sorted(ids)


@pytest.mark.django_db
def test_it_enqueues_only_after_the_claim_commits(remind, django_capture_on_commit_callbacks):
    remind("a", due_at=T0)
    seen = []
    with django_capture_on_commit_callbacks() as callbacks:
        services.sweep(T0, enqueue=seen.extend)
        assert seen == []  # nothing reaches the broker before the claim is committed
    assert len(callbacks) == 1
    callbacks[0]()
    assert len(seen) == 1


@pytest.mark.django_db
def test_a_broker_outage_at_enqueue_leaves_the_rows_for_the_lease(
    remind, monkeypatch, django_capture_on_commit_callbacks
):
    reminder = remind("a", due_at=T0)

    def broker_down(*args, **kwargs):
        raise ConnectionError("redis is down")

    # The sweep enqueues by task name (services.DELIVERY_TASK): the registered task's send.
    monkeypatch.setattr(current_app.tasks[services.DELIVERY_TASK], "apply_async", broker_down)
    with time_machine.travel(T0, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert services.sweep() == [reminder.pk]
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.SENDING
    assert reminder.lease_until == T0 + timedelta(seconds=300)


@pytest.mark.django_db(transaction=True)
def test_two_sweepers_at_once_claim_every_reminder_exactly_once():
    ward = make_ward("ward-a", "Ward A")
    make_user("nurse", ward)
    patient = make_patient(ward)
    now = timezone.now()
    Reminder.objects.bulk_create(
        Reminder(
            subject_type="bench",
            subject_id=str(i),
            step="s",
            patient=patient,
            ward=ward,
            recipient_role="nurse",
            due_at=now - timedelta(seconds=i),
            title_template="Reminder %(n)s",
            title_params={"n": i},
        )
        for i in range(200)
    )
    start = threading.Barrier(2)
    results = {}

    def run(name):
        try:
            start.wait()
            got = []
            # Small batches so the two sweepers interleave many times.
            services.sweep(now, limit=10, enqueue=lambda ids: (got.extend(ids), time.sleep(0.002)))
            results[name] = got
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in ("one", "two")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    one, two = results["one"], results["two"]
    assert one and two, "both sweepers took part"
    assert not set(one) & set(two)
    assert len(one) + len(two) == 200
    assert set(one) | set(two) == set(Reminder.objects.values_list("pk", flat=True))
    assert set(Reminder.objects.values_list("attempts", flat=True)) == {1}
