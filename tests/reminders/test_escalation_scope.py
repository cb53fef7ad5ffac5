"""Only infusion-day steps escalate when unacknowledged (premedication, fridge, rate step-up,
vitals, cold chain, the pharmacist's verification wait); follow-ups months ahead, the
antiplatelet course and the end of the cyclophosphamide hold do not."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from core.reminders import services
from core.reminders.models import Reminder, ReminderStatus
from infusion.reminders import EPISODE_SUBJECT
from tests.factories import add_lab, add_weight
from tests.infusion.conftest import open_episode, run_infusion, sign_all, verify_all

pytestmark = pytest.mark.django_db

INFUSION_DAY = {"dexamethasone", "out_of_fridge", "rate_step_up", "cold_chain_warn"}
INFUSION_DAY |= {"cold_chain_alarm", "vitals-1"}
NOT_ESCALATING = {"antiplatelet_start", "antiplatelet_stop", "blood_count_week_1"}


@pytest.fixture
def episode(patient, nurse, physician):
    now = timezone.now()
    add_weight(patient, nurse, "60", when=now - timedelta(days=2))
    add_lab(patient, nurse, "platelets", 180, "10^9/L", when=now - timedelta(days=1))
    return open_episode(patient, physician, start=now + timedelta(days=2))


def _rows(episode):
    return {
        r.step: r
        for r in Reminder.objects.filter(subject_type=EPISODE_SUBJECT, subject_id=str(episode.pk))
    }


def test_it_marks_infusion_day_steps_to_escalate_and_the_others_not(episode):
    rows = _rows(episode)
    assert INFUSION_DAY <= set(rows), sorted(rows)
    assert NOT_ESCALATING <= set(rows), sorted(rows)
    for step in INFUSION_DAY | {s for s in rows if s.startswith("vitals-")}:
        assert rows[step].escalate, step
    for step in NOT_ESCALATING:
        assert not rows[step].escalate, step
    follow_ups = [r for r in rows.values() if r.rule_id.startswith("B-FU")]
    assert follow_ups
    assert not any(r.escalate for r in follow_ups)


def test_the_cyclophosphamide_hold_end_does_not_escalate(episode, physician, pharmacist, nurse):
    sign_all(episode, physician)
    verify_all(episode, pharmacist)
    run_infusion(episode, nurse)
    hold = _rows(episode)["cyc_hold_end"]
    assert not hold.escalate


def test_the_pharmacists_verification_wait_escalates(episode, physician):
    sign_all(episode, physician)
    waits = Reminder.objects.filter(
        subject_type=EPISODE_SUBJECT, step__startswith="pharmacy_verify"
    )
    assert waits.exists()
    assert all(r.escalate for r in waits)


def test_an_unacknowledged_follow_up_stays_with_its_recipient_and_premed_escalates(
    settings, episode
):
    settings.REMINDER_ESCALATE_MINUTES = 15
    rows = _rows(episode)
    follow_up, premed = rows["blood_count_week_1"], rows["dexamethasone"]
    now = timezone.now()
    Reminder.objects.filter(pk__in=[follow_up.pk, premed.pk]).update(due_at=now)
    services.sweep(now, enqueue=lambda ids: None)
    assert services.deliver(follow_up.pk) == "sent"
    assert services.deliver(premed.pk) == "sent"

    with time_machine.travel(now + timedelta(minutes=16), tick=False):
        created = services.escalate_due()

    follow_up.refresh_from_db()
    premed.refresh_from_db()
    assert follow_up.status == ReminderStatus.SENT
    assert premed.status == ReminderStatus.ESCALATED
    assert [r.escalation_of_id for r in Reminder.objects.filter(pk__in=created)] == [premed.pk]
