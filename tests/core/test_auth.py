from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from core.models import AuditEvent, SecurityEvent

pytestmark = pytest.mark.django_db


def test_login_is_locked_after_five_failures(nurse, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login/", {"username": "nurse", "password": "wrong"})
    response = client.post("/login/", {"username": "nurse", "password": "Correct-horse-42"})
    assert response.status_code == 429
    assert b"Too many failed sign-in attempts" in response.content
    assert "_auth_user_id" not in client.session
    assert SecurityEvent.objects.filter(kind="login_locked_out", username="nurse").exists()
    assert not AuditEvent.objects.filter(action__startswith="login_").exists()


def test_four_failures_then_the_right_password_still_signs_in(nurse, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post("/login/", {"username": "nurse", "password": "wrong"})
    response = client.post("/login/", {"username": "nurse", "password": "Correct-horse-42"})
    assert response.status_code == 302


def test_the_session_key_is_rotated_at_login(nurse):
    client = Client()
    client.get("/login/")
    client.session.save()
    session = client.session
    session["pre_login"] = "x"
    session.save()
    before = session.session_key
    client.post("/login/", {"username": "nurse", "password": "Correct-horse-42"})
    assert client.session.session_key != before


def test_an_idle_session_ends_after_30_minutes(nurse):
    client = Client()
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client.post("/login/", {"username": "nurse", "password": "Correct-horse-42"})
        assert client.get("/patients/").status_code == 200
        traveller.shift(timedelta(minutes=29))
        assert client.get("/patients/").status_code == 200
        traveller.shift(timedelta(minutes=31))
        response = client.get("/patients/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?timeout=idle"
    assert AuditEvent.objects.filter(action="session_timeout", new_values__kind="idle").exists()


def test_an_active_session_still_ends_after_12_hours(nurse):
    client = Client()
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client.post("/login/", {"username": "nurse", "password": "Correct-horse-42"})
        for _ in range(24):  # active every 29 minutes: never idle
            traveller.shift(timedelta(minutes=29))
            client.get("/")
        traveller.shift(timedelta(minutes=29))
        response = client.get("/patients/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?timeout=absolute"


def test_an_htmx_request_after_timeout_redirects_the_whole_page(nurse):
    client = Client()
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client.post("/login/", {"username": "nurse", "password": "Correct-horse-42"})
        traveller.shift(timedelta(minutes=31))
        response = client.get("/patients/", HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == "/login/?timeout=idle"


def test_password_change_applies_validators_and_is_audited(login, nurse):
    client = login(nurse)
    weak = client.post(
        "/password/",
        {
            "old_password": "Correct-horse-42",
            "new_password1": "12345678",
            "new_password2": "12345678",
        },
    )
    assert weak.status_code == 200
    assert b"too short" in weak.content or b"entirely numeric" in weak.content
    ok = client.post(
        "/password/",
        {
            "old_password": "Correct-horse-42",
            "new_password1": "Ward-tablet-9931",
            "new_password2": "Ward-tablet-9931",
        },
    )
    assert ok.status_code == 302
    assert AuditEvent.objects.filter(action="password_change", actor=nurse).exists()
