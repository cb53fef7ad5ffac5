"""Issue 17, item 1: the keyed, anchored audit chain.

Each tamper kind an inspector would try, done the way an attacker could (the trigger off,
as only the table's owner or a superuser can; or a plain INSERT, as the app's own
database role can), and `audit_verify` exits non-zero naming the first bad event or the
checkpoint that no longer matches.
"""

import hashlib
import json
import secrets

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import InternalError, ProgrammingError, connection, transaction
from django.test import override_settings

from core import audit, tasks
from core.audit_checkpoints import checkpoint_path, checkpoint_write, read_checkpoints
from core.models import AuditEvent

pytestmark = pytest.mark.django_db


def _events(actor, n):
    return [
        audit.record("update", actor=actor, object_type="test.Thing", object_id=str(i))
        for i in range(n)
    ]


def _sql(*statements):
    with connection.cursor() as cursor:
        # Run the deferred foreign-key checks of the rows this test wrote now: PostgreSQL
        # refuses ALTER TABLE and TRUNCATE on a table with checks still pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for statement, params in statements:
            cursor.execute(statement, params)


def _tamper(sql, params=()):
    # Row triggers off for this transaction, as the table's owner or a superuser can.
    _sql(
        ("SET LOCAL session_replication_role = replica", ()),
        (sql, params),
        ("SET LOCAL session_replication_role = DEFAULT", ()),
    )


def _verify_fails():
    with pytest.raises(CommandError) as failure:
        call_command("audit_verify")
    assert failure.value.returncode == 1
    return str(failure.value)


def _lines():
    return [json.loads(line) for line in checkpoint_path().read_text().splitlines()]


# --- The chain: edit, delete, reorder, forged insert ----------------------------------------


def test_an_edited_event_with_every_later_hash_recomputed_without_the_key_is_named(physician):
    events = _events(physician, 5)
    # The attacker rewrites event 3 and re-chains 3..5 as the old code did (plain SHA-256):
    # without the key, the best they can do.
    prev = events[1].entry_hash
    for event in events[2:]:
        event.reason = "rewritten" if event.pk == events[2].pk else event.reason
        event.key_id = ""  # a hash they can compute: the pre-key rule
        event.prev_hash = prev
        event.entry_hash = audit.compute_hash(prev, event)
        _tamper(
            "UPDATE core_auditevent SET reason = %s, key_id = '', prev_hash = %s, "
            "entry_hash = %s WHERE id = %s",
            [event.reason, event.prev_hash, event.entry_hash, event.pk],
        )
        prev = event.entry_hash
    message = _verify_fails()
    assert f"Audit chain BROKEN at event #{events[2].seq}:" in message
    assert "written without the audit key after keyed events" in message


def test_an_edited_event_rehashed_with_a_guessed_key_is_named(physician):
    events = _events(physician, 4)
    _tamper("UPDATE core_auditevent SET reason = 'rewritten' WHERE id = %s", [events[1].pk])
    forged = AuditEvent.objects.get(pk=events[1].pk)
    with override_settings(AUDIT_HMAC_KEYS={forged.key_id: "a-guess"}):
        guessed = audit.compute_hash(forged.prev_hash, forged)
    _tamper("UPDATE core_auditevent SET entry_hash = %s WHERE id = %s", [guessed, forged.pk])
    message = _verify_fails()
    assert f"event #{events[1].seq}: content does not match its hash" in message


def test_an_event_deleted_from_the_middle_is_named(physician):
    events = _events(physician, 5)
    _tamper("DELETE FROM core_auditevent WHERE id = %s", [events[2].pk])
    message = _verify_fails()
    assert f"at event #{events[3].seq}: event #{events[2].seq} is missing" in message


def test_a_deleted_tail_is_named_from_the_last_checkpoint(physician):
    events = _events(physician, 5)
    tasks.write_audit_checkpoint()  # beat's periodic checkpoint: head #5
    assert audit.verify_chain().ok
    _tamper("DELETE FROM core_auditevent WHERE seq > %s", [events[2].seq])
    # The shortened chain is a valid chain on its own; only the checkpoint sees the loss.
    assert audit.verify_chain(checkpoints=False).ok
    message = _verify_fails()
    assert f"at event #{events[3].seq}: event #{events[3].seq} is missing" in message
    assert f"the trail ends at #{events[2].seq}" in message
    assert f"recorded #{events[4].seq}" in message


def test_a_deleted_tail_with_new_events_after_it_is_named(physician):
    events = _events(physician, 5)
    tasks.write_audit_checkpoint()
    _tamper("DELETE FROM core_auditevent WHERE seq > %s", [events[2].seq])
    refill = _events(physician, 3)  # the app appends on: seq 4, 5, 6 again, validly keyed
    assert refill[-1].seq == events[-1].seq + 1
    message = _verify_fails()
    assert f"at event #{events[4].seq}: does not match the checkpoint written" in message


def test_a_table_truncated_as_owner_with_the_trigger_disabled_is_named(physician):
    events = _events(physician, 4)
    call_command("audit_verify")  # a passing run checkpoints head #4
    _sql(
        ("ALTER TABLE core_auditevent DISABLE TRIGGER core_auditevent_no_truncate", ()),
        ("TRUNCATE core_auditevent", ()),
        ("ALTER TABLE core_auditevent ENABLE TRIGGER core_auditevent_no_truncate", ()),
    )
    assert not AuditEvent.objects.exists()
    message = _verify_fails()
    assert "at event #1: event #1 is missing: the trail ends at #0" in message
    assert f"recorded #{events[-1].seq}" in message


def test_a_truncated_table_that_was_checkpointed_again_is_still_named(physician):
    _events(physician, 6)
    tasks.write_audit_checkpoint()  # head #6
    _sql(
        ("ALTER TABLE core_auditevent DISABLE TRIGGER core_auditevent_no_truncate", ()),
        ("TRUNCATE core_auditevent", ()),
        ("ALTER TABLE core_auditevent ENABLE TRIGGER core_auditevent_no_truncate", ()),
    )
    _events(physician, 2)
    tasks.write_audit_checkpoint()  # head #2 of the new table: the file's seq goes down
    message = _verify_fails()
    assert "at event #3: event #3 is missing: the trail ends at #2" in message
    assert "recorded #6" in message
    _events(physician, 5)  # and once the new table is longer than the old one was
    message = _verify_fails()
    assert "at event #6: does not match the checkpoint written" in message


def test_two_events_swapped_are_named(physician):
    events = _events(physician, 5)
    a, b = events[1], events[3]
    _tamper("UPDATE core_auditevent SET seq = -1 WHERE id = %s", [a.pk])
    _tamper("UPDATE core_auditevent SET seq = %s WHERE id = %s", [a.seq, b.pk])
    _tamper("UPDATE core_auditevent SET seq = %s WHERE id = %s", [b.seq, a.pk])
    message = _verify_fails()
    assert f"at event #{a.seq}: previous-hash link does not match" in message


def _forge(prev, *, key_id, entry_hash_of):
    event = AuditEvent(
        seq=prev.seq + 1,
        at=prev.at,
        actor_id=prev.actor_id,
        actor_username=prev.actor_username,
        action="order_verify",
        object_type="infusion.Order",
        object_id="1",
        prev_hash=prev.entry_hash,
        key_id=key_id,
        actor_role="pharmacist",
        app_version=prev.app_version,
    )
    event.entry_hash = entry_hash_of(event)
    event.save(force_insert=True)  # an INSERT: what the app's own database role may do
    return event


def test_a_forged_insert_signed_with_a_guessed_key_is_named(physician):
    events = _events(physician, 3)
    forged = _forge(
        events[-1],
        key_id=events[-1].key_id,
        entry_hash_of=lambda e: hashlib.sha256(b"no key" + e.prev_hash.encode()).hexdigest(),
    )
    message = _verify_fails()
    assert f"at event #{forged.seq}: content does not match its hash" in message


def test_a_forged_insert_under_the_old_unkeyed_rule_is_named(physician):
    events = _events(physician, 3)
    forged = _forge(
        events[-1], key_id="", entry_hash_of=lambda e: audit.compute_hash(e.prev_hash, e)
    )
    message = _verify_fails()
    assert f"at event #{forged.seq}: written without the audit key after keyed events" in message


def test_a_forged_insert_naming_a_key_the_server_does_not_hold_is_named(physician):
    events = _events(physician, 2)
    forged = _forge(events[-1], key_id="attacker", entry_hash_of=lambda e: "0" * 64)
    message = _verify_fails()
    assert f"at event #{forged.seq}: signed with key id 'attacker', which is not configured" in (
        message
    )


# --- The database's own guard -----------------------------------------------------------


def test_truncate_is_refused_by_the_trigger_even_for_a_role_granted_everything(physician):
    _events(physician, 2)
    role = f"ward_app_{secrets.token_hex(4)}"  # CREATE ROLE is undone with the test
    with pytest.raises((InternalError, ProgrammingError), match="TRUNCATE refused"):
        with transaction.atomic():
            _sql(
                (f"CREATE ROLE {role}", ()),
                (f"GRANT ALL ON core_auditevent TO {role}", ()),
                (f"SET LOCAL ROLE {role}", ()),
                ("TRUNCATE core_auditevent", ()),
            )
    with pytest.raises((InternalError, ProgrammingError), match="TRUNCATE refused"):
        with transaction.atomic():
            _sql(("TRUNCATE core_auditevent", ()))  # the owner (here a superuser) too
    assert AuditEvent.objects.count() == 2


# --- What still verifies -----------------------------------------------------------------


def test_events_from_before_the_key_still_verify_and_keyed_ones_follow(physician):
    # Rows written by the old code: no key id, plain SHA-256 over the old content.
    prev = audit.GENESIS_HASH
    for seq in (1, 2):
        old = AuditEvent(
            seq=seq,
            at=audit.timezone.now(),
            actor_username="legacy",
            action="create",
            object_type="core.Patient",
            object_id=str(seq),
            prev_hash=prev,
        )
        old.entry_hash = audit.compute_hash(prev, old)
        old.save(force_insert=True)
        prev = old.entry_hash
    new = audit.record("update", actor=physician, object_type="core.Patient", object_id="1")
    assert new.seq == 3 and new.prev_hash == prev and new.key_id
    call_command("audit_verify")


def test_a_rotated_key_verifies_old_and_new_events_while_both_are_configured(physician):
    keys = {"2026a": "first-secret-" + "x" * 30, "2026b": "second-secret-" + "y" * 30}
    with override_settings(AUDIT_HMAC_KEYS=keys, AUDIT_HMAC_KEY_ID="2026a"):
        first = audit.record("update", actor=physician, object_type="x", object_id="1")
    with override_settings(AUDIT_HMAC_KEYS=keys, AUDIT_HMAC_KEY_ID="2026b"):
        second = audit.record("update", actor=physician, object_type="x", object_id="2")
        assert audit.verify_chain().ok
    assert (first.key_id, second.key_id) == ("2026a", "2026b")
    with override_settings(AUDIT_HMAC_KEYS={"2026b": keys["2026b"]}, AUDIT_HMAC_KEY_ID="2026b"):
        status = audit.verify_chain()
    assert not status.ok and status.first_broken_seq == first.seq
    assert "'2026a', which is not configured" in status.problem


def test_every_event_records_and_hashes_the_role_and_the_software_version(pharmacist):
    event = audit.record("update", actor=pharmacist, object_type="x", object_id="1")
    assert event.actor_role == "pharmacist"
    assert event.app_version and event.app_version != "unknown"
    _tamper("UPDATE core_auditevent SET actor_role = 'physician' WHERE id = %s", [event.pk])
    assert "content does not match its hash" in _verify_fails()


# --- Checkpoints -----------------------------------------------------------------------------


def test_the_periodic_checkpoint_task_appends_a_signed_line(physician, settings):
    events = _events(physician, 3)
    assert (
        settings.CELERY_BEAT_SCHEDULE["audit-checkpoint"]["task"]
        == tasks.write_audit_checkpoint.name
    )
    tasks.write_audit_checkpoint.apply()
    audit.record("update", actor=physician, object_type="x", object_id="4")
    tasks.write_audit_checkpoint.apply()
    first, second = _lines()
    assert first["seq"] == events[-1].seq and first["hash"] == events[-1].entry_hash
    assert second["seq"] == events[-1].seq + 1
    assert first["source"] == "beat" and first["kid"] == settings.AUDIT_HMAC_KEY_ID
    assert len(first["mac"]) == 64 and first["written_at"] and first["at"]


def test_a_passing_audit_verify_writes_a_checkpoint_and_says_what_it_compared(physician, capsys):
    _events(physician, 2)
    call_command("audit_verify")
    out = capsys.readouterr().out
    assert "Audit chain OK: 2 events verified, no earlier checkpoint" in out
    call_command("audit_verify")
    out = capsys.readouterr().out
    assert "Audit chain OK: 2 events verified, matching 1 checkpoints" in out
    assert [line["source"] for line in _lines()] == ["audit_verify", "audit_verify"]


def test_a_failing_audit_verify_writes_no_checkpoint(physician):
    events = _events(physician, 3)
    _tamper("UPDATE core_auditevent SET reason = 'x' WHERE id = %s", [events[1].pk])
    _verify_fails()
    assert not checkpoint_path().exists()


def test_a_checkpoint_line_forged_without_the_key_is_named(physician):
    _events(physician, 2)
    tasks.write_audit_checkpoint()
    line = _lines()[0]
    line["seq"] = 1  # an attacker "moving the anchor back" before truncating
    line["hash"] = AuditEvent.objects.get(seq=1).entry_hash
    with open(checkpoint_path(), "a") as f:
        f.write(json.dumps(line) + "\n")
    message = _verify_fails()
    assert "Audit chain BROKEN in its checkpoints:" in message
    assert "line 2 of audit-checkpoints.jsonl is not signed with the audit key" in message


def test_a_checkpoint_written_while_verify_reads_is_left_for_the_next_run(physician):
    _events(physician, 2)
    tasks.write_audit_checkpoint()
    reading = read_checkpoints()  # the file is sized now
    audit.record("update", actor=physician, object_type="x", object_id="3")
    tasks.write_audit_checkpoint()
    assert [c.seq for c in reading] == [2]


def test_each_checkpoint_is_one_more_line_in_a_file_only_the_app_reads(physician):
    _events(physician, 1)
    for _ in range(3):
        checkpoint_write(source="test")
    assert len(_lines()) == 3
    assert checkpoint_path().stat().st_mode & 0o777 == 0o640


def test_an_empty_trail_checkpoints_seq_zero_and_still_verifies():
    tasks.write_audit_checkpoint()
    assert _lines()[0]["seq"] == 0 and _lines()[0]["hash"] == audit.GENESIS_HASH
    call_command("audit_verify")


def test_the_chain_status_panel_names_a_checkpoint_mismatch(login, auditor, physician):
    client = login(auditor)  # its sign-in event first: the page itself writes nothing
    events = _events(physician, 3)
    tasks.write_audit_checkpoint()
    _tamper("DELETE FROM core_auditevent WHERE seq = %s", [events[-1].seq])
    body = client.get("/audit/chain/").content.decode()
    assert f"Hash chain BROKEN at event #{events[-1].seq}: event #{events[-1].seq} is missing" in (
        body
    )


def test_an_unreadable_checkpoint_file_fails_the_verification(physician):
    _events(physician, 1)
    checkpoint_path().mkdir(parents=True)  # a directory where the file should be
    message = _verify_fails()
    assert "Audit chain BROKEN in its checkpoints: the checkpoint file cannot be read" in message


def test_a_checkpoint_that_cannot_be_written_fails_audit_verify(physician, settings):
    _events(physician, 1)
    settings.AUDIT_CHECKPOINT_DIR = "/proc/ward-audit-checkpoints"  # no one may create it
    message = _verify_fails()
    assert "Audit chain OK (1 events verified), but its checkpoint could not be written" in message


def test_the_periodic_checkpoint_writes_nothing_while_the_head_has_not_moved(physician):
    _events(physician, 2)
    tasks.write_audit_checkpoint()
    tasks.write_audit_checkpoint()
    assert len(_lines()) == 1
    audit.record("update", actor=physician, object_type="x", object_id="3")
    tasks.write_audit_checkpoint()
    call_command("audit_verify")  # a verification always records what it verified
    assert [(line["seq"], line["source"]) for line in _lines()] == [
        (2, "beat"),
        (3, "beat"),
        (3, "audit_verify"),
    ]
