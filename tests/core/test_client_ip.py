"""The client IP in the audit trail, directly and behind the TLS proxy."""

import pytest
from django.test import override_settings

from core.models import AuditEvent, SecurityEvent

pytestmark = pytest.mark.django_db


def _audited_ip(client, **headers):
    # A refused page is audited (permission_denied) with the request's client IP.
    response = client.get("/patients/new/", REMOTE_ADDR="10.0.0.5", **headers)
    assert response.status_code == 403
    return AuditEvent.objects.filter(action="permission_denied").latest("seq").client_ip


def test_without_trusted_proxies_x_forwarded_for_is_ignored(login, pharmacist):
    client = login(pharmacist)
    assert _audited_ip(client, HTTP_X_FORWARDED_FOR="203.0.113.9") == "10.0.0.5"


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_one_proxy_the_address_it_appended_is_the_client(login, pharmacist):
    client = login(pharmacist)
    # The client forged the first entry; the proxy appended the real address.
    ip = _audited_ip(client, HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9")
    assert ip == "203.0.113.9"


@override_settings(TRUSTED_PROXY_COUNT=2)
def test_behind_two_proxies_the_second_entry_from_the_right_is_the_client(login, pharmacist):
    client = login(pharmacist)
    ip = _audited_ip(client, HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9 , 10.1.1.1")
    assert ip == "203.0.113.9"


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_a_missing_or_malformed_header_falls_back_to_the_peer(login, pharmacist):
    client = login(pharmacist)
    assert _audited_ip(client) == "10.0.0.5"
    assert _audited_ip(client, HTTP_X_FORWARDED_FOR="not-an-ip") == "10.0.0.5"


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_an_ipv6_client_is_recorded_compressed(login, pharmacist):
    client = login(pharmacist)
    ip = _audited_ip(client, HTTP_X_FORWARDED_FOR="2001:0db8:0000:0000:0000:0000:0000:0001")
    assert ip == "2001:db8::1"


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_the_proxy_lockout_counts_per_client_not_per_proxy(nurse, settings):
    from django.test import Client

    # Both clients reach Django through the same proxy (one REMOTE_ADDR).
    attacker = Client(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="203.0.113.66")
    colleague = Client(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="203.0.113.9")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attacker.post("/login/", {"username": "nurse", "password": "wrong"})
    locked = attacker.post("/login/", {"username": "nurse", "password": "Correct-horse-42"})
    assert locked.status_code == 429
    signed_in = colleague.post("/login/", {"username": "nurse", "password": "Correct-horse-42"})
    assert signed_in.status_code == 302
    failures = SecurityEvent.objects.filter(kind="login_failed").values_list("client_ip", flat=True)
    assert set(failures) == {"203.0.113.66"}
