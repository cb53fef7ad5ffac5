"""Re-authentication lockout (core.reauth) on the password change page, and what a
lockout means for signing in and for the user's other sessions. The signature pages
have their own tests (tests/infusion/test_reauth.py, tests/screening/test_reauth.py)."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client, override_settings
from django.utils import timezone

from core.models import AuditEvent, User
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Another-horse-2026"


def change_password(client, old):
    return client.post(
        "/password/",
        {"old_password": old, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )


def sign_in(username, password=PASSWORD):
    client = Client()
    response = client.post("/login/", {"username": username, "password": password})
    return client, response


def test_twelve_wrong_old_passwords_sign_the_user_out_and_lock_them_out(nurse, login):
    client = login(nurse)
    for n in range(12):
        change_password(client, f"guess-{n}")
    response = change_password(client, PASSWORD)

    nurse.refresh_from_db()
    assert nurse.check_password(PASSWORD)  # the right one, after the lockout, changed nothing
    assert response.status_code == 302 and response.url.startswith("/login/")
    assert client.get("/patients/").status_code == 302  # signed out
    _client, refused = sign_in("nurse")
    assert refused.status_code == 429
    assert "Too many failed sign-in attempts" in refused.content.decode()
    # The lock is the user's, not one address's (as django-axes' sign-in lockout is).
    elsewhere = Client(REMOTE_ADDR="10.0.0.9").post(
        "/login/", {"username": "nurse", "password": PASSWORD}
    )
    assert elsewhere.status_code == 429
    limit = settings.REAUTH_FAILURE_LIMIT
    refusals = AuditEvent.objects.filter(action="password_change_refused", actor=nurse)
    assert refusals.count() == limit  # only the ones typed before the sign-out reached it
    assert [e.new_values["failures"] for e in refusals.order_by("seq")] == list(range(1, limit + 1))
    lockout = AuditEvent.objects.get(action="reauth_lockout")
    assert lockout.actor == nurse
    assert lockout.new_values["action"] == "password_change"
    assert lockout.new_values["failures"] == limit


def test_the_lockout_page_tells_the_user_why_they_were_signed_out(nurse, login):
    client = login(nurse)
    for n in range(settings.REAUTH_FAILURE_LIMIT):
        response = change_password(client, f"guess-{n}")
    page = client.get(response.url).content.decode()
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    assert "Too many wrong passwords were typed for your account: you were signed out" in page
    assert f"you can sign in again in {minutes} minutes" in page


def test_a_wrong_old_password_says_so_and_warns_before_the_last_attempts(nurse, login):
    client = login(nurse)
    limit = settings.REAUTH_FAILURE_LIMIT
    first = change_password(client, "guess-0").content.decode()
    assert "Your old password was entered incorrectly" in first
    for n in range(1, limit - 2):
        change_password(client, f"guess-{n}")
    warned = change_password(client, "guess-last-but-one").content.decode()
    assert "After one more wrong attempt this account is locked" in warned


def test_a_success_resets_the_count(nurse, login):
    client = login(nurse)
    limit = settings.REAUTH_FAILURE_LIMIT
    for n in range(limit - 1):
        change_password(client, f"guess-{n}")
    assert change_password(client, PASSWORD).status_code == 302  # changed
    nurse.refresh_from_db()
    assert nurse.reauth_failures == 0
    for n in range(limit - 1):
        assert change_password(client, f"guess-again-{n}").status_code == 200
    assert client.get("/patients/").status_code == 200  # still signed in
    assert change_password(client, "one-too-many").status_code == 302  # now locked
    assert client.get("/patients/").status_code == 302


def test_failures_older_than_the_cool_off_do_not_count(nurse, login):
    client = login(nurse)
    limit = settings.REAUTH_FAILURE_LIMIT
    for n in range(limit - 1):
        change_password(client, f"guess-{n}")
    later = timezone.now() + settings.AXES_COOLOFF_TIME + timedelta(minutes=1)
    with time_machine.travel(later):
        client = login(nurse)
        response = change_password(client, "guess-later")
        assert response.status_code == 200  # one failure, not the limit
    nurse.refresh_from_db()
    assert nurse.reauth_failures == 1


@override_settings(REAUTH_FAILURE_LIMIT=2)
def test_the_limit_is_a_setting(nurse, login):
    client = login(nurse)
    assert change_password(client, "guess-1").status_code == 200
    assert change_password(client, "guess-2").status_code == 302
    assert client.get("/patients/").status_code == 302


def test_after_the_cool_off_the_user_signs_in_again(nurse, login):
    client = login(nurse)
    for n in range(settings.REAUTH_FAILURE_LIMIT):
        change_password(client, f"guess-{n}")
    assert sign_in("nurse")[1].status_code == 429
    with time_machine.travel(timezone.now() + settings.AXES_COOLOFF_TIME + timedelta(seconds=5)):
        client, response = sign_in("nurse")
        assert response.status_code == 302 and response.url == "/"
        assert client.get("/patients/").status_code == 200


def test_a_lockout_ends_the_users_other_sessions(nurse, login):
    tablet = login(nurse)
    assert tablet.get("/patients/").status_code == 200
    desk = login(nurse)
    for n in range(settings.REAUTH_FAILURE_LIMIT):
        change_password(desk, f"guess-{n}")
    response = tablet.get("/patients/")
    assert response.status_code == 302 and response.url.startswith("/login/")
    assert tablet.get("/patients/").status_code == 302  # for good, not only during the lock


def test_another_users_lockout_leaves_a_user_signed_in(nurse, physician, login):
    doctor = login(physician)
    nurse_client = login(nurse)
    for n in range(settings.REAUTH_FAILURE_LIMIT):
        change_password(nurse_client, f"guess-{n}")
    assert doctor.get("/patients/").status_code == 200
    assert User.objects.get(pk=physician.pk).reauth_locked_at is None
    _client, response = sign_in("doc")
    assert response.status_code == 302
