"""Issue 23: the audit browser's chain panel at a million events.

The panel checks only the events after the verified head (and the newest checkpoint); the
full verification (`audit_verify`) reads them all, and the panel says when it last ran.
"""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from core import audit, views
from core.models import AuditChainState, AuditEvent

pytestmark = pytest.mark.django_db


def _events(actor, n, action="update"):
    return [
        audit.record(action, actor=actor, object_type="test.Thing", object_id=str(i))
        for i in range(n)
    ]


def _tamper(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET LOCAL session_replication_role = replica")  # trigger off
        cursor.execute(sql, params)
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")


def _newest():
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()


def test_the_panel_reads_only_the_events_after_the_verified_head(login, auditor, physician):
    client = login(auditor)
    _events(physician, 5)
    call_command("audit_verify")
    verified = _newest()
    _events(physician, 2)
    status = audit.verify_new_events()
    assert status.ok and status.verified_seq == verified + 2
    assert status.read == 3  # the head, unchanged, then the two new events
    assert audit.verify_new_events().read == 1  # nothing new: the head only
    body = client.get("/audit/chain/").content.decode()
    assert f"Hash chain verified: {verified + 2} events, no break." in body
    assert "Last full verification (every event and checkpoint):" in body
    assert f"up to event #{verified};" in body


def test_a_tampered_event_after_the_verified_head_is_reported(login, auditor, physician):
    client = login(auditor)
    _events(physician, 3)
    call_command("audit_verify")
    new = _events(physician, 3)
    _tamper("UPDATE core_auditevent SET reason = 'rewritten' WHERE seq = %s", [new[1].seq])
    body = client.get("/audit/chain/").content.decode()
    assert f"Hash chain BROKEN at event #{new[1].seq}: content does not match its hash" in body
    assert "Hash chain verified" not in body


def test_a_changed_head_event_is_reported(login, auditor, physician):
    client = login(auditor)
    _events(physician, 3)
    call_command("audit_verify")
    head = _newest()
    _tamper("UPDATE core_auditevent SET entry_hash = repeat('a', 64) WHERE seq = %s", [head])
    body = client.get("/audit/chain/").content.decode()
    assert f"Hash chain BROKEN at event #{head}: changed since it was verified" in body


def test_a_break_the_full_verification_found_stays_on_the_panel(login, auditor, physician):
    client = login(auditor)
    old = _events(physician, 4)
    client.get("/audit/chain/")  # the head moves past the events
    _tamper("UPDATE core_auditevent SET reason = 'rewritten' WHERE seq = %s", [old[1].seq])
    assert "Hash chain verified" in client.get("/audit/chain/").content.decode()
    with pytest.raises(CommandError):
        call_command("audit_verify")
    body = client.get("/audit/chain/").content.decode()
    assert f"Hash chain BROKEN at event #{old[1].seq}: content does not match its hash" in body
    assert "Found by the full verification of" in body


def test_a_long_backlog_is_checked_in_steps_that_say_how_far_they_got(
    login, auditor, physician, monkeypatch
):
    client = login(auditor)
    _events(physician, 6)
    monkeypatch.setattr(audit.verify_new_events, "__kwdefaults__", {"limit": 3})
    body = client.get("/audit/chain/").content.decode()
    assert "Hash chain verified so far: events #1 to #3, no break" in body
    assert 'hx-trigger="load delay:1s"' in body  # the panel asks again by itself
    for _ in range(5):
        body = client.get("/audit/chain/").content.decode()
    assert f"Hash chain verified: {_newest()} events, no break." in body
    assert "No full verification recorded yet" in body


def test_a_state_row_not_signed_with_the_key_is_not_trusted(login, auditor, physician):
    client = login(auditor)
    events = _events(physician, 3)
    client.get("/audit/chain/")
    _tamper("UPDATE core_auditevent SET reason = 'rewritten' WHERE seq = %s", [events[0].seq])
    # Someone with the database but not the key moves the head past the changed event.
    AuditChainState.objects.filter(pk=1).update(head_seq=_newest(), head_hash="f" * 64)
    body = client.get("/audit/chain/").content.decode()
    assert f"Hash chain BROKEN at event #{events[0].seq}: content does not match" in body


def test_a_filter_matching_many_events_is_counted_only_a_few_pages_ahead(
    login, auditor, physician, monkeypatch
):
    monkeypatch.setattr(views, "AUDIT_PAGES_COUNTED", 1)
    for i in range(60):
        audit.record("note", actor=physician, object_type="test.Thing", reason=f"marker-{i:02d}")
    client = login(auditor)
    first = client.get("/audit/", {"action": "note"}).content.decode()
    assert "Page 1 of more than 2" in first and "marker-59" in first
    last = client.get("/audit/", {"action": "note", "page": 3}).content.decode()
    assert "Page 3 of 3" in last and "marker-00" in last
