"""The per-user ICS feed: RFC 5545 text at a secret, revocable URL."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from core.models import AuditEvent
from core.reminders import services
from core.reminders.ics import build_calendar, escape_text, fold
from core.reminders.models import CalendarFeedToken

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)


def _unfold(text):
    return text.replace("\r\n ", "")


def _feed(token):
    return Client().get(f"/calendar/{token.token}.ics")


def test_the_feed_lists_the_users_upcoming_reminders(nurse, remind):
    token = services.calendar_token_regenerate(user=nurse)
    with time_machine.travel(NOW, tick=False):
        soon = remind("dexamethasone", due_at=datetime(2026, 3, 2, 1, 30, tzinfo=UTC))
        remind("too-far", due_at=NOW + timedelta(days=90))
        remind("someone-else", due_at=NOW + timedelta(days=1), recipient_role="pharmacist")
        response = _feed(token)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"] == "private, no-store"
    text = response.content.decode()
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:")
    assert text.endswith("END:VCALENDAR\r\n")
    assert all(line.endswith("\r") or not line for line in text.split("\n")[:-1])
    lines = _unfold(text).split("\r\n")
    assert lines.count("BEGIN:VEVENT") == 1
    assert f"UID:reminder-{soon.pk}@localhost" in lines
    assert "DTSTART:20260302T013000Z" in lines
    assert "DTSTAMP:20260301T000000Z" in lines
    assert "SEQUENCE:0" in lines
    # Patients by initials only: the feed leaves the hospital.
    assert "SUMMARY:Give dexamethasone 5 mg IV to A. E." in lines
    assert "Alice" not in text


def test_the_uid_is_stable_and_the_sequence_follows_reschedules(nurse, remind):
    token = services.calendar_token_regenerate(user=nurse)
    with time_machine.travel(NOW, tick=False):
        reminder = remind("dexamethasone", due_at=NOW + timedelta(days=1))
        first = _unfold(_feed(token).content.decode())
        services.reminders_reschedule(
            subject_type=reminder.subject_type,
            subject_id=reminder.subject_id,
            shift=timedelta(hours=2),
        )
        second = _unfold(_feed(token).content.decode())
    uid = f"UID:reminder-{reminder.pk}@localhost"
    assert uid in first and uid in second
    assert "DTSTART:20260302T000000Z" in first
    assert "DTSTART:20260302T020000Z" in second
    assert "SEQUENCE:1" in second


def test_a_cancelled_reminder_leaves_the_feed(nurse, physician, remind):
    token = services.calendar_token_regenerate(user=nurse)
    with time_machine.travel(NOW, tick=False):
        reminder = remind("dexamethasone", due_at=NOW + timedelta(days=1))
        services.reminders_cancel(
            subject_type=reminder.subject_type,
            subject_id=reminder.subject_id,
            reason="x",
            actor=physician,
        )
        assert "BEGIN:VEVENT" not in _feed(token).content.decode()


def test_the_feed_needs_no_session_but_a_revoked_token_is_404(nurse):
    token = services.calendar_token_regenerate(user=nurse)
    assert _feed(token).status_code == 200
    services.calendar_token_revoke(user=nurse)
    assert _feed(token).status_code == 404
    assert Client().get("/calendar/not-a-token.ics").status_code == 404


def test_regenerating_replaces_the_link_and_is_audited(nurse):
    old = services.calendar_token_regenerate(user=nurse)
    new = services.calendar_token_regenerate(user=nurse)
    assert old.token != new.token
    assert len(new.token) >= 40
    assert _feed(old).status_code == 404
    assert _feed(new).status_code == 200
    assert CalendarFeedToken.objects.filter(user=nurse, revoked_at__isnull=True).count() == 1
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
    assert actions == ["calendar_token_create", "calendar_token_revoke", "calendar_token_create"]
    assert not AuditEvent.objects.filter(new_values__icontains=new.token).exists()


def test_an_inactive_users_feed_is_404(nurse):
    token = services.calendar_token_regenerate(user=nurse)
    nurse.is_active = False
    nurse.save()
    assert _feed(token).status_code == 404


def test_the_feed_is_in_the_users_language(nurse, remind):
    nurse.language = "zh-hans"
    nurse.save()
    token = services.calendar_token_regenerate(user=nurse)
    text = _unfold(_feed(token).content.decode())
    assert "X-WR-CALNAME:病区提醒" in text


def test_the_settings_page_makes_shows_and_revokes_the_link(login, nurse):
    client = login(nurse)
    assert "You have no calendar link." in client.get("/notifications/calendar/").content.decode()
    assert client.post("/notifications/calendar/new/").status_code == 302
    token = CalendarFeedToken.objects.get(user=nurse, revoked_at__isnull=True)
    body = client.get("/notifications/calendar/").content.decode()
    assert f"http://testserver/calendar/{token.token}.ics" in body
    assert client.post("/notifications/calendar/revoke/").status_code == 302
    assert not CalendarFeedToken.objects.filter(user=nurse, revoked_at__isnull=True).exists()
    assert client.get("/notifications/calendar/new/").status_code == 405


def test_text_values_are_escaped_and_long_lines_folded():
    assert escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    line = "SUMMARY:" + "输液提醒" * 30
    folded = fold(line)
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
    assert _unfold(folded) == line


def test_an_empty_calendar_is_still_valid():
    text = build_calendar([], language="en", name="x", link="http://x/", stamp=NOW)
    assert text == (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Ward cell therapy//Reminders//EN\r\n"
        "CALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\nX-WR-CALNAME:x\r\nX-PUBLISHED-TTL:PT15M\r\n"
        "END:VCALENDAR\r\n"
    )
