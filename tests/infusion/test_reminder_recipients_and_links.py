"""Issue 15: one reminder per recipient per event (signing all orders was three identical
reminders to the pharmacist), each with a deep link to its page, at the site URL the app
runs on, in the recipient's language."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, transaction

from core.reminders import links
from core.reminders import services as reminder_services
from core.reminders.models import Reminder, ReminderStatus
from infusion import reminders, services
from infusion.models import OrderStatus
from infusion.reminders import EPISODE_SUBJECT, ORDER_SUBJECT
from tests.factories import PASSWORD
from tests.infusion.conftest import sign_all

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def pharmacy_rows(episode):
    return list(
        Reminder.objects.filter(
            subject_type=EPISODE_SUBJECT,
            subject_id=str(episode.pk),
            step__startswith=reminders.PHARMACY_STEP,
        )
    )


def deliver_due(reminder, django_capture_on_commit_callbacks):
    with time_machine.travel(reminder.due_at, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            reminder_services.sweep(enqueue=lambda ids: None)
        assert reminder_services.deliver(reminder.pk) == "sent"


@pytest.fixture
def mailboxes(pharmacist, pharmacist2, nurse):
    for user in (pharmacist, pharmacist2, nurse):
        user.email = f"{user.username}@ward.example"
        user.save()


def test_signing_all_orders_gives_each_pharmacist_one_reminder_linking_to_the_queue_card(
    settings,
    episode,
    physician,
    pharmacist,
    pharmacist2,
    mailboxes,
    django_capture_on_commit_callbacks,
):
    settings.REMINDER_SITE_URL = "http://127.0.0.1:8123"
    signed = sign_all(episode, physician)
    assert len(signed) >= 3  # the cells, the dexamethasone, the antiplatelet course
    [row] = pharmacy_rows(episode)
    assert not Reminder.objects.filter(subject_type=ORDER_SUBJECT).exists()
    deliver_due(row, django_capture_on_commit_callbacks)
    to = sorted(address for m in mail.outbox for address in m.to)
    assert to == sorted([pharmacist.email, pharmacist2.email])  # one each, not three each
    link = f"http://127.0.0.1:8123/infusion/queue/#queue-item-{episode.pk}"
    assert all(link in m.body for m in mail.outbox)


def test_the_reminder_stays_one_while_some_orders_wait_and_ends_when_all_are_verified(
    episode, physician, pharmacist
):
    sign_all(episode, physician)
    orders = list(episode.orders.filter(status=OrderStatus.SIGNED).order_by("pk"))
    services.order_verify(order=orders[0], actor=pharmacist, password=PASSWORD)
    [row] = pharmacy_rows(episode)
    assert row.status == ReminderStatus.SCHEDULED
    for order in orders[1:]:
        services.order_verify(order=order, actor=pharmacist, password=PASSWORD)
    [row] = pharmacy_rows(episode)
    assert row.status == ReminderStatus.CANCELLED


def test_syncing_again_never_adds_a_second_reminder_for_the_same_signing(episode, physician):
    sign_all(episode, physician)
    [row] = pharmacy_rows(episode)
    reminders.episode_reminders_sync(episode)
    reminders.episode_reminders_sync(episode)
    assert [r.pk for r in pharmacy_rows(episode)] == [row.pk]
    with pytest.raises(IntegrityError), transaction.atomic():  # the uniqueness rule
        Reminder.objects.create(
            subject_type=row.subject_type,
            subject_id=row.subject_id,
            step=row.step,
            occurrence=row.occurrence,
            ward=row.ward,
            recipient_role="pharmacist",
            due_at=row.due_at,
            title_template=row.title_template,
        )


def test_the_nurses_reminders_link_to_the_chart_and_the_physicians_to_the_episode(episode):
    rows = {
        r.step: r
        for r in Reminder.objects.filter(subject_type=EPISODE_SUBJECT, subject_id=str(episode.pk))
    }
    chart = f"/infusion/episodes/{episode.pk}/chart/"
    for step in ("dexamethasone", "out_of_fridge", "rate_step_up", "vitals-1", "cold_chain_warn"):
        assert links.reminder_path(rows[step]) == chart, step
    assert links.reminder_path(rows["cyc_hold_end"]) == f"/infusion/episodes/{episode.pk}/"
    assert links.reminder_path(rows["blood_count_week_1"]) == f"/infusion/episodes/{episode.pk}/"


def test_the_notification_centre_links_each_reminder_to_its_page(
    episode, nurse, login, django_capture_on_commit_callbacks
):
    dexa = Reminder.objects.get(
        subject_type=EPISODE_SUBJECT, subject_id=str(episode.pk), step="dexamethasone"
    )
    deliver_due(dexa, django_capture_on_commit_callbacks)
    body = login(nurse).get("/notifications/").content.decode()
    assert f'<a href="/infusion/episodes/{episode.pk}/chart/">' in body


def test_a_chinese_nurse_gets_the_reminder_email_in_chinese_and_an_english_one_in_english(
    episode, nurse, ward_a, mailboxes, django_capture_on_commit_callbacks
):
    from tests.factories import make_user

    english = make_user("nurse", ward_a, username="nurse-en", email="en@ward.example")
    english.language = "en"
    english.save()
    nurse.language = "zh-hans"
    nurse.save()
    dexa = Reminder.objects.get(
        subject_type=EPISODE_SUBJECT, subject_id=str(episode.pk), step="dexamethasone"
    )
    deliver_due(dexa, django_capture_on_commit_callbacks)
    subjects = {m.to[0]: m.subject for m in mail.outbox}
    assert subjects[nurse.email].startswith("病区提醒")
    assert subjects["en@ward.example"].startswith("Ward reminder:")


def _settings_value(expr, **env):
    full_env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"APP_ENV", "DATABASE_URL", "PORT", "REMINDER_SITE_URL"}
    }
    full_env.update(env, DJANGO_SETTINGS_MODULE="config.settings")
    result = subprocess.run(
        [sys.executable, "-c", f"from django.conf import settings; print({expr})"],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_site_url_follows_the_port_the_app_runs_on_unless_set():
    assert _settings_value("settings.REMINDER_SITE_URL", PORT="8123") == "http://127.0.0.1:8123"
    assert _settings_value("settings.REMINDER_SITE_URL") == "http://127.0.0.1:8000"
    assert (
        _settings_value(
            "settings.REMINDER_SITE_URL", PORT="8123", REMINDER_SITE_URL="https://ward.example"
        )
        == "https://ward.example"
    )
