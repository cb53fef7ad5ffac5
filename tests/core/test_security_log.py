"""Issue 17, item 2: security events are not clinical events.

Anonymous and pre-authentication events go to the security log (rate-limited, pruned by
age), never into the clinical chain; a signed-in user's refusals stay in the chain; and
every page that says "The attempt has been recorded." has recorded it.
"""

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.test import Client, RequestFactory
from django.urls import reverse

from core import security_log, tasks
from core.models import AuditEvent, SecurityEvent
from core.views import permission_denied
from tests.factories import PASSWORD
from tests.screening.conftest import start

pytestmark = pytest.mark.django_db

RECORDED = "The attempt has been recorded."
ROOT = Path(__file__).resolve().parents[2]


def _seq():
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


# --- Anonymous floods ------------------------------------------------------------------------


def test_200_anonymous_csrf_failures_write_no_chain_event_and_a_bounded_security_log(nurse):
    before = _seq()
    client = Client(enforce_csrf_checks=True)
    # The clock runs, from the start of a minute: the 200 posts fall in one window.
    with time_machine.travel(datetime(2026, 11, 2, 8, 0, 1, tzinfo=UTC), tick=True):
        started = time.perf_counter()
        for _ in range(200):
            response = client.post("/login/", {"username": "nurse", "password": "x"})
            assert response.status_code == 403
        elapsed = time.perf_counter() - started
    assert _seq() == before  # nothing in the clinical chain, no chain lock taken
    limit = settings.SECURITY_LOG_PER_IP_PER_MINUTE
    assert SecurityEvent.objects.count() == limit + 1
    assert SecurityEvent.objects.filter(kind="csrf_failure", path="/login/").count() == limit
    summary = SecurityEvent.objects.get(kind=SecurityEvent.SUPPRESSED)
    assert summary.count == 200 - limit
    assert summary.rate_key == "ip:127.0.0.1" and summary.client_ip == "127.0.0.1"
    print(f"200 anonymous CSRF failures: {elapsed:.2f} s, {limit + 1} security rows")


def test_the_per_address_limit_counts_the_rest_in_one_row_per_minute(settings):
    settings.SECURITY_LOG_PER_IP_PER_MINUTE = 3
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR="198.51.100.7")
    with time_machine.travel(datetime(2026, 11, 2, 8, 0, 5, tzinfo=UTC), tick=False) as t:
        for _ in range(10):
            client.post("/login/", {})
        t.shift(timedelta(minutes=1))  # a new minute: three more one by one
        for _ in range(4):
            client.post("/login/", {})
    rows = list(SecurityEvent.objects.order_by("at", "pk").values_list("kind", "count"))
    assert rows == [
        ("csrf_failure", 1),
        ("csrf_failure", 1),
        ("csrf_failure", 1),
        ("suppressed", 7),
        ("csrf_failure", 1),
        ("csrf_failure", 1),
        ("csrf_failure", 1),
        ("suppressed", 1),
    ]


def test_a_flood_from_many_addresses_is_capped_across_all_of_them(settings):
    settings.SECURITY_LOG_PER_IP_PER_MINUTE = 2
    settings.SECURITY_LOG_PER_MINUTE = 5
    with time_machine.travel(datetime(2026, 11, 2, 8, 0, 5, tzinfo=UTC), tick=False):
        for i in range(20):
            Client(enforce_csrf_checks=True, REMOTE_ADDR=f"203.0.113.{i}").post("/login/", {})
    assert SecurityEvent.objects.filter(kind="csrf_failure").count() == 5
    everyone = SecurityEvent.objects.get(kind=SecurityEvent.SUPPRESSED)
    assert everyone.rate_key == "all" and everyone.count == 15 and everyone.client_ip is None


# --- Failed sign-ins, lockouts, signed-in refusals ----------------------------------------


def test_a_failed_login_goes_to_the_security_log_not_the_chain(nurse):
    before = _seq()
    Client().post("/login/", {"username": "nurse", "password": "wrong"})
    assert _seq() == before
    event = SecurityEvent.objects.get()
    assert (event.kind, event.username, event.client_ip) == ("login_failed", "nurse", "127.0.0.1")


def test_a_lockout_goes_to_the_security_log_not_the_chain(nurse, settings):
    client = Client()
    before = _seq()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login/", {"username": "nurse", "password": "wrong"})
    assert client.post("/login/", {"username": "nurse", "password": PASSWORD}).status_code == 429
    assert _seq() == before
    assert SecurityEvent.objects.filter(kind="login_locked_out", username="nurse").exists()


def test_a_signed_in_users_csrf_failure_stays_in_the_chain(nurse):
    client = Client(enforce_csrf_checks=True)
    client.force_login(nurse)
    response = client.post("/patients/new/", {"name": "x"})
    assert response.status_code == 403
    event = AuditEvent.objects.get(action="csrf_failure")
    assert event.actor == nurse and event.actor_role == "nurse"
    assert not SecurityEvent.objects.exists()


# --- Pruning ---------------------------------------------------------------------------------


def test_the_security_log_is_pruned_by_age(settings):
    settings.SECURITY_LOG_RETENTION_DAYS = 30
    now = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    for days in (31, 29):
        with time_machine.travel(now - timedelta(days=days), tick=False):
            security_log.record("login_failed", username=f"u{days}")
    with time_machine.travel(now, tick=False):
        tasks.prune_security_log.apply()
    assert list(SecurityEvent.objects.values_list("username", flat=True)) == ["u29"]
    assert settings.CELERY_BEAT_SCHEDULE["security-log-prune"]["task"] == (
        tasks.prune_security_log.name
    )


# --- "The attempt has been recorded." --------------------------------------------------------


def test_the_recorded_promise_is_made_only_by_the_403_page_and_its_recording_handler():
    sources = [
        p
        for p in ROOT.rglob("*")
        if p.suffix in {".py", ".html"}
        and not any(part in {".venv", "var", "locale", "tests"} for part in p.parts)
        and p.is_file()
    ]
    promising = [p for p in sources if "attempt has been recorded" in p.read_text()]
    assert [str(p.relative_to(ROOT)) for p in promising] == ["templates/403.html"]
    rendering = [p for p in sources if "403.html" in p.read_text()]
    assert [str(p.relative_to(ROOT)) for p in rendering] == ["core/views.py"]


def test_a_role_refusal_says_recorded_and_is_in_the_chain(login, pharmacist):
    response = login(pharmacist).get("/patients/new/")
    assert response.status_code == 403 and RECORDED in response.content.decode()
    event = AuditEvent.objects.get(action="permission_denied")
    assert event.actor == pharmacist and event.new_values["path"] == "/patients/new/"


def test_a_refused_self_verification_says_recorded_and_is_in_the_chain(
    login, physician, patient, nurse
):
    # The prescriber tries the pharmacist's verification of their own order.
    from infusion.models import OrderKind
    from tests.factories import add_weight
    from tests.infusion.conftest import open_episode, order_of, record_consent, sign_all

    add_weight(patient, nurse, 60)
    episode = open_episode(patient, physician)
    record_consent(episode, physician)
    sign_all(episode, physician)
    order = order_of(episode, OrderKind.MSC_IV)
    before = _seq()
    response = login(physician).post(
        reverse("infusion:order_verify", args=[order.pk]), {"password": PASSWORD}
    )
    assert response.status_code == 403 and RECORDED in response.content.decode()
    refused = AuditEvent.objects.filter(seq__gt=before, action="permission_denied").get()
    assert refused.actor == physician and refused.actor_role == "physician"
    assert refused.new_values == {"path": f"/infusion/orders/{order.pk}/verify/", "method": "POST"}


def test_a_non_investigator_refused_a_signature_says_recorded_and_is_in_the_chain(
    login, physician, physician2, patient
):
    screening = start(physician, patient)
    response = login(physician2).get(reverse("screening:sign", args=[screening.pk]))
    assert response.status_code == 403 and RECORDED in response.content.decode()
    assert AuditEvent.objects.filter(action="permission_denied", actor=physician2).exists()


def test_an_anonymous_refusal_says_recorded_and_is_in_the_security_log():
    request = RequestFactory().get("/somewhere/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    response = permission_denied(request)
    response.render()
    assert response.status_code == 403 and RECORDED in response.content.decode()
    assert SecurityEvent.objects.filter(kind="permission_denied", path="/somewhere/").exists()
    assert not AuditEvent.objects.filter(action="permission_denied").exists()
