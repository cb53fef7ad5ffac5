"""The investigator's password on the eligibility sign-off (core.reauth): the lockout
after wrong passwords, and §11.200(a)(1)(i)'s username on the first signature of a
session."""

import pytest
from django.conf import settings
from django.test import Client

from core.models import AuditEvent
from tests.factories import PASSWORD
from tests.screening.conftest import complete, start

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


@pytest.fixture
def eligible(labs, physician):
    screening = complete(start(physician, labs), physician)
    assert screening.outcome == "eligible"
    return screening


def sign(client, screening, password=PASSWORD, **extra):
    return client.post(
        f"/screening/{screening.pk}/sign/",
        {"password": password, "content_hash": screening.content_hash(), **extra},
    )


def test_twelve_wrong_passwords_then_the_right_one_sign_nothing_and_lock_the_investigator_out(
    login, physician, eligible
):
    client = login(physician)
    for n in range(12):
        sign(client, eligible, f"guess-{n}", username="doc")
    response = sign(client, eligible, PASSWORD, username="doc")

    eligible.refresh_from_db()
    assert eligible.status == "draft" and not eligible.signature_hash
    assert response.status_code == 302 and response.url.startswith("/login/")
    assert client.get(f"/screening/{eligible.pk}/").status_code == 302  # signed out
    refused = Client().post("/login/", {"username": "doc", "password": PASSWORD})
    assert refused.status_code == 429
    lockout = AuditEvent.objects.get(action="reauth_lockout")
    assert lockout.actor == physician and lockout.object_id == str(eligible.pk)
    assert lockout.new_values["action"] == "screening_sign"
    assert lockout.new_values["failures"] == settings.REAUTH_FAILURE_LIMIT


def test_a_correct_password_resets_the_count(login, physician, eligible):
    client = login(physician)
    for n in range(settings.REAUTH_FAILURE_LIMIT - 1):
        assert sign(client, eligible, f"guess-{n}", username="doc").status_code == 400
    assert sign(client, eligible, username="doc").status_code == 302
    physician.refresh_from_db()
    assert physician.reauth_failures == 0
    eligible.refresh_from_db()
    assert eligible.status == "signed"


def test_the_first_signature_without_the_username_is_refused_and_with_it_accepted(
    login, physician, eligible
):
    client = login(physician)
    page = client.get(f"/screening/{eligible.pk}/sign/").content.decode()
    assert '<input type="text" name="username" id="id_username"' in page
    refused = sign(client, eligible)
    assert refused.status_code == 400
    assert "This is your first signature since you signed in" in refused.content.decode()
    eligible.refresh_from_db()
    assert eligible.status == "draft"
    assert sign(client, eligible, username="doc").status_code == 302
    eligible.refresh_from_db()
    assert eligible.status == "signed"


def test_a_later_signature_in_the_same_session_needs_the_password_only(
    login, physician, eligible, labs
):
    client = login(physician)
    sign(client, eligible, username="doc")
    second = complete(start(physician, labs, indication="SLE"), physician)
    page = client.get(f"/screening/{second.pk}/sign/").content.decode()
    assert 'name="username"' not in page
    assert sign(client, second).status_code == 302
    second.refresh_from_db()
    assert second.status == "signed"


def test_a_new_session_asks_for_the_username_again(login, physician, eligible, labs):
    sign(login(physician), eligible, username="doc")
    second = complete(start(physician, labs, indication="SLE"), physician)
    client = login(physician)
    assert 'name="username"' in client.get(f"/screening/{second.pk}/sign/").content.decode()
    assert sign(client, second).status_code == 400
