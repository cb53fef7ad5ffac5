"""The episode's reminders follow the episode (infusion.reminders → core.reminders)."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from core.models import AuditEvent
from core.reminders.models import Reminder, ReminderStatus
from infusion import services
from infusion.demo import episode_data
from infusion.models import OrderKind
from infusion.reminders import EPISODE_SUBJECT, ORDER_SUBJECT
from tests.infusion.conftest import open_episode, order_of, record_consent, run_infusion

pytestmark = pytest.mark.django_db


def reminders(episode, **filters):
    return {
        r.step: r
        for r in Reminder.objects.filter(
            subject_type=EPISODE_SUBJECT, subject_id=str(episode.pk), **filters
        )
    }


def local(value, zone="Asia/Shanghai"):
    return value.astimezone(ZoneInfo(zone))


def test_opening_schedules_every_step_with_its_rule_and_recipient(weighed_patient, physician):
    # Two days ahead at 10:00 ward time: the antiplatelet course starts at 08:00 the day
    # before, which for an infusion only a day ahead is already past (and more than
    # STALE_AFTER past, so not scheduled) at any hour after 20:00 ward time.
    start = (timezone.localtime() + timedelta(days=2)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    episode = open_episode(weighed_patient, physician, start=start)
    rows = reminders(episode)
    start, end = episode.planned_start, episode.planned_end
    ap = order_of(episode, OrderKind.ANTIPLATELET)
    expected = {
        "antiplatelet_start": (
            timezone.make_aware(datetime.combine(ap.first_day, time(8))),
            "nurse",
            "B-AP-1",
        ),
        "antiplatelet_stop": (
            timezone.make_aware(datetime.combine(ap.last_day + timedelta(days=1), time(8))),
            "nurse",
            "B-AP-1",
        ),
        "dexamethasone": (start - timedelta(minutes=30), "nurse", "B-PREMED-1"),
        "out_of_fridge": (start - timedelta(minutes=20), "nurse", "B-ADM-2"),
        "rate_step_up": (start + timedelta(minutes=10), "nurse", "B-ADM-4"),
        "vitals-1": (start + timedelta(minutes=15), "nurse", "B-ADM-5"),
        "vitals-2": (start + timedelta(minutes=30), "nurse", "B-ADM-5"),
        "vitals-3": (end, "nurse", "B-ADM-5"),
        "cold_chain_warn": (episode.preparation_time + timedelta(hours=8), "nurse", "B-ADM-1"),
        "cold_chain_alarm": (
            episode.preparation_time + timedelta(hours=12, minutes=-30),
            "nurse",
            "B-ADM-1",
        ),
        "cyc_hold_end": (end + timedelta(hours=48), "physician", "B-CYC-1"),
    }
    for step, (due, role, rule) in expected.items():
        row = rows[step]
        assert (row.due_at, row.recipient_role, row.rule_id) == (due, role, rule), step
        assert row.patient_id == episode.patient_id and row.ward_id == episode.patient.ward_id
        assert row.title_params["patient"] == episode.patient.name
        assert row.title_template % row.title_params  # renders
    follow_ups = {
        s: r for s, r in rows.items() if r.recipient_role == "physician" and s != "cyc_hold_end"
    }
    assert {"blood_count_week_1", "labs_month_1", "assessment_month_6", "renal_biopsy"} <= set(
        follow_ups
    )
    week = rows["blood_count_week_1"]
    assert local(week.due_at).date() == local(start).date() + timedelta(days=7)
    assert local(week.due_at).time() == time(8)


def test_signing_asks_the_pharmacy_after_the_set_delay_and_verifying_cancels_it(
    episode, physician, pharmacist, settings
):
    from tests.factories import PASSWORD

    settings.PHARMACY_VERIFY_REMINDER_MINUTES = 45
    dexa = order_of(episode, OrderKind.DEXAMETHASONE)
    record_consent(episode, physician)  # B-CONSENT-1
    services.order_sign(order=dexa, actor=physician, password=PASSWORD)
    row = Reminder.objects.get(
        subject_type=EPISODE_SUBJECT, subject_id=str(episode.pk), step__startswith="pharmacy"
    )
    signed_at = dexa.signatures.get().signed_at
    assert row.step == "pharmacy_verify-1" and row.recipient_role == "pharmacist"
    assert row.due_at == signed_at + timedelta(minutes=45)
    services.order_verify(order=dexa, actor=pharmacist, password=PASSWORD)
    row.refresh_from_db()
    assert row.status == ReminderStatus.CANCELLED


def test_moving_the_planned_start_reschedules_the_reminders(episode, physician):
    before = reminders(episode)
    new_start = episode.planned_start + timedelta(hours=3)
    services.episode_update(
        episode=episode,
        actor=physician,
        data=episode_data(new_start, preparation_time=new_start - timedelta(hours=2)),
        reason="moved",
        acknowledged=True,
    )
    after = reminders(episode)
    for step in ("dexamethasone", "out_of_fridge", "rate_step_up", "cyc_hold_end"):
        assert after[step].pk == before[step].pk
        assert after[step].due_at == before[step].due_at + timedelta(hours=3), step
    assert AuditEvent.objects.filter(action="reminder_reschedule").count() >= 4


def test_cancelling_the_episode_cancels_every_reminder(signed_episode, physician):
    services.episode_cancel(episode=signed_episode, actor=physician, reason="declined")
    statuses = set(
        Reminder.objects.filter(subject_type__in=(EPISODE_SUBJECT, ORDER_SUBJECT)).values_list(
            "status", flat=True
        )
    )
    assert statuses == {ReminderStatus.CANCELLED}


def test_recording_the_actual_end_moves_the_hold_reminder_and_closes_the_infusion_ones(
    verified_episode, nurse
):
    end = run_infusion(verified_episode, nurse, minutes=45)
    rows = reminders(verified_episode)
    assert rows["cyc_hold_end"].due_at == end + timedelta(hours=48)
    assert rows["cyc_hold_end"].status == ReminderStatus.SCHEDULED
    for step in (
        "cold_chain_warn",
        "cold_chain_alarm",
        "vitals-1",
        "out_of_fridge",
        "dexamethasone",
    ):
        assert rows[step].status == ReminderStatus.CANCELLED, step


def test_the_rate_step_up_follows_the_actual_start(verified_episode, nurse):
    start = verified_episode.planned_start + timedelta(minutes=25)
    with time_machine.travel(start, tick=False):
        services.infusion_record_received(
            episode=verified_episode, actor=nurse, at=start - timedelta(minutes=30)
        )
        services.infusion_record_out_of_fridge(
            episode=verified_episode, actor=nurse, at=start - timedelta(minutes=15)
        )
        services.infusion_start(episode=verified_episode, actor=nurse, at=start)
    assert reminders(verified_episode)["rate_step_up"].due_at == start + timedelta(minutes=10)


def test_giving_dexamethasone_closes_its_reminder(verified_episode, nurse):
    services.order_administer(
        order=order_of(verified_episode, OrderKind.DEXAMETHASONE), actor=nurse
    )
    assert reminders(verified_episode)["dexamethasone"].status == ReminderStatus.CANCELLED


def test_a_long_term_antiplatelet_user_gets_no_antiplatelet_reminders(weighed_patient, physician):
    episode = open_episode(
        weighed_patient,
        physician,
        long_term_antiplatelet=True,
        antiplatelet_drug=None,
        antiplatelet_dose_mg=None,
    )
    assert not {"antiplatelet_start", "antiplatelet_stop"} & set(reminders(episode))


def test_moments_long_past_are_not_scheduled_after_the_fact(weighed_patient, physician):
    start = timezone.now() - timedelta(days=2)
    episode = open_episode(weighed_patient, physician, start=start)
    rows = reminders(episode)
    assert "dexamethasone" not in rows and "antiplatelet_start" not in rows
    assert "blood_count_week_1" in rows  # still ahead


def test_the_morning_reminder_is_0800_local_across_a_dst_change(
    weighed_patient, physician, settings
):
    settings.TIME_ZONE = "America/New_York"
    zone = ZoneInfo("America/New_York")
    start = datetime(2031, 11, 3, 9, 30, tzinfo=zone)  # day −1 is 2031-11-02, the change day
    episode = open_episode(weighed_patient, physician, start=start)
    row = reminders(episode)["antiplatelet_start"]
    assert row.due_at.astimezone(zone) == datetime(2031, 11, 2, 8, 0, tzinfo=zone)
    assert row.due_at == datetime(2031, 11, 2, 13, 0, tzinfo=ZoneInfo("UTC"))  # EST = UTC−5


def test_a_reminder_already_sent_is_sent_again_when_the_infusion_is_postponed(episode, physician):
    from core.reminders import services as reminder_services

    dex = reminders(episode)["dexamethasone"]
    # The dexamethasone reminder goes out at its time; then the infusion is put off a day.
    with time_machine.travel(dex.due_at + timedelta(minutes=1), tick=False):
        claimed = reminder_services.sweep(enqueue=lambda ids: None)
        assert dex.pk in claimed
        reminder_services.deliver_many([dex.pk])
        dex.refresh_from_db()
        assert dex.status == ReminderStatus.SENT
        new_start = episode.planned_start + timedelta(days=1)
        services.episode_update(
            episode=episode,
            actor=physician,
            data=episode_data(new_start, preparation_time=new_start - timedelta(hours=2)),
            reason="bed not free",
            acknowledged=True,
        )
    rows = Reminder.objects.filter(
        subject_type=EPISODE_SUBJECT, subject_id=str(episode.pk), step="dexamethasone"
    ).order_by("occurrence")
    old, new = list(rows)
    # The one sent for the old time leaves the notification centre...
    assert old.pk == dex.pk and old.status == ReminderStatus.CANCELLED
    assert old.cancel_reason == "bed not free"
    # ...and the nurse is reminded again, 30 min before the new start.
    assert new.status == ReminderStatus.SCHEDULED
    assert new.due_at == dex.due_at + timedelta(days=1)
    # Syncing again changes nothing (no third row).
    services.episode_update(
        episode=episode,
        actor=physician,
        data=episode_data(new_start, preparation_time=new_start - timedelta(hours=2)),
        reason="same plan",
        acknowledged=True,
    )
    assert rows.count() == 2
