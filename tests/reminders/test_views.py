"""The notification centre: list, htmx partials, the passive badge, acknowledge, access."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from core.middleware import SessionTimeoutMiddleware
from core.reminders import services
from core.reminders.models import ReminderStatus
from tests.reminders.conftest import T0

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def shown(remind, run_sweep):
    """shown(**kwargs) -> a reminder that has reached the notification centre."""

    def _shown(**kwargs):
        kwargs.setdefault("due_at", timezone.now() - timedelta(seconds=1))
        reminder = remind(**kwargs)
        run_sweep()
        services.deliver(reminder.pk)
        reminder.refresh_from_db()
        assert reminder.notified_at is not None
        return reminder

    return _shown


def test_the_list_shows_the_nurses_open_reminders(login, nurse, shown, remind):
    reminder = shown()
    remind("not-yet", due_at=timezone.now() + timedelta(hours=1))  # not shown before it is due
    response = login(nurse).get("/notifications/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" in body
    assert "Give dexamethasone 5 mg IV to Alice Example" in body
    assert f'id="notification-{reminder.pk}"' in body
    assert body.count('<tr id="notification-') == 1
    assert f'hx-post="/notifications/{reminder.pk}/acknowledge/"' in body


def test_an_htmx_request_for_the_table_gets_only_the_partial(login, nurse, shown):
    shown()
    response = login(nurse).get(
        "/notifications/?show=all", HTTP_HX_TARGET="notification-table", **HTMX
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert body.strip().startswith('<div id="notification-table">')
    assert "Alice Example" in body


def test_acknowledged_reminders_leave_the_open_list_but_stay_in_all(login, nurse, shown):
    reminder = shown()
    services.reminder_acknowledge(reminder=reminder, user=nurse)
    client = login(nurse)
    assert f"notification-{reminder.pk}" not in client.get("/notifications/").content.decode()
    assert f"notification-{reminder.pk}" in client.get("/notifications/?show=all").content.decode()


def test_the_badge_counts_open_reminders_as_an_htmx_fragment(login, nurse, shown):
    shown()
    shown()
    response = login(nurse).get("/notifications/badge/", **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and "hx-trigger" not in body  # only the inner part is swapped
    assert ">2</span>" in body
    assert 'href="/notifications/"' in body


def test_the_badge_without_htmx_is_a_link_to_the_list(login, nurse):
    response = login(nurse).get("/notifications/badge/")
    assert response.status_code == 302
    assert response["Location"] == "/notifications/"


def test_every_page_polls_the_badge_every_30_seconds(login, nurse):
    body = login(nurse).get("/").content.decode()
    assert 'id="reminder-badge"' in body
    assert 'hx-get="/notifications/badge/"' in body
    assert 'hx-trigger="load, every 30s"' in body


def test_polling_the_badge_does_not_extend_the_session(settings, nurse):
    settings.SESSION_IDLE_TIMEOUT_SECONDS = 1800
    client = Client()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.force_login(nurse)
        client.get("/notifications/")
    last_seen = client.session[SessionTimeoutMiddleware.LAST_SEEN]
    with time_machine.travel(start + timedelta(minutes=20), tick=False):
        assert client.get("/notifications/badge/", **HTMX).status_code == 200
    assert client.session[SessionTimeoutMiddleware.LAST_SEEN] == last_seen
    # 31 minutes after the last real request the session is over, polling or not.
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        response = client.get("/notifications/badge/", **HTMX)
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/login/")


def test_an_anonymous_badge_poll_sends_htmx_to_the_login_page():
    response = Client().get("/notifications/badge/", **HTMX)
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/login/"
    assert Client().get("/notifications/badge/").status_code == 302


def test_acknowledging_with_htmx_returns_the_row_and_the_new_badge(login, nurse, shown):
    reminder = shown()
    shown()
    response = login(nurse).post(f"/notifications/{reminder.pk}/acknowledge/", **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert f'<tr id="notification-{reminder.pk}">' in body
    assert "Acknowledged" in body
    assert 'hx-swap-oob="innerHTML"' in body and ">1</span>" in body
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.ACKNOWLEDGED
    assert reminder.acknowledged_by == nurse


def test_acknowledging_without_javascript_redirects_to_the_list(login, nurse, shown):
    reminder = shown()
    response = login(nurse).post(f"/notifications/{reminder.pk}/acknowledge/")
    assert response.status_code == 302
    assert response["Location"] == "/notifications/"
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.ACKNOWLEDGED


def test_acknowledge_needs_post(login, nurse, shown):
    reminder = shown()
    assert login(nurse).get(f"/notifications/{reminder.pk}/acknowledge/").status_code == 405


def test_a_cancelled_reminder_cannot_be_acknowledged(login, nurse, physician, shown):
    reminder = shown()
    services.reminders_cancel(
        subject_type=reminder.subject_type,
        subject_id=reminder.subject_id,
        reason="x",
        actor=physician,
    )
    assert (
        login(nurse).post(f"/notifications/{reminder.pk}/acknowledge/", **HTMX).status_code == 404
    )


def test_each_user_sees_only_their_own_and_their_role_on_their_ward(
    login, nurse, nurse_b, pharmacist, physician, physician2, auditor, shown
):
    to_nurses = shown()
    to_doc = shown(recipient_user=physician)
    seen = {}
    for user in (nurse, nurse_b, pharmacist, physician, physician2, auditor):
        body = login(user).get("/notifications/?show=all").content.decode()
        seen[user.username] = {
            r.pk for r in (to_nurses, to_doc) if f'id="notification-{r.pk}"' in body
        }
    assert seen == {
        "nurse": {to_nurses.pk},
        "nurse_b": set(),
        "pharm": set(),
        "doc": {to_doc.pk},
        "doc2": set(),
        "auditor": set(),
    }


def test_another_wards_nurse_gets_404_when_acknowledging(login, nurse_b, shown):
    reminder = shown()
    response = login(nurse_b).post(f"/notifications/{reminder.pk}/acknowledge/", **HTMX)
    assert response.status_code == 404
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.SENT


def test_reminder_texts_follow_the_readers_language(settings, login, nurse, shown):
    settings.REMINDER_LATE_AFTER_SECONDS = 60
    settings.TIME_ZONE = "Asia/Shanghai"
    nurse.language = "zh-hans"
    nurse.save()
    due = T0  # long ago: delivered late
    shown(due_at=due)
    body = login(nurse).get("/notifications/").content.decode()
    assert "(迟发:应于 16:00)" in body


def test_the_email_is_in_the_recipients_language(settings, nurse, physician, shown, mailoutbox):
    settings.REMINDER_LATE_AFTER_SECONDS = 60
    settings.TIME_ZONE = "Asia/Shanghai"
    nurse.language = "zh-hans"
    nurse.email = "nurse@ward.example"
    nurse.save()
    physician.email = "doc@ward.example"
    physician.save()
    # The title template is a msgid of a catalogue: here one of the shell's own.
    shown(due_at=T0, title_template="Notifications", title_params={})
    shown(due_at=T0, title_template="Notifications", title_params={}, recipient_user=physician)
    by_address = {m.to[0]: m for m in mailoutbox}
    chinese, english = by_address["nurse@ward.example"], by_address["doc@ward.example"]
    assert chinese.subject == "病区提醒:通知(迟发:应于 16:00)"
    assert "请在通知中心确认" in chinese.body
    assert english.subject == "Ward reminder: Notifications (late: due 16:00)"
