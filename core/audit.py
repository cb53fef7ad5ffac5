"""The audit trail: append-only, hash-chained events.

Every create, update, delete and signature of clinical data calls `record()` inside the
same transaction as the write. Each event's `entry_hash` is SHA-256 over the previous
event's hash and the event's canonical JSON, so a changed or removed row breaks the chain
at that row; `verify_chain()` (and `manage.py audit_verify`) finds the first break.
"""

import hashlib
import ipaddress
import json
from dataclasses import dataclass
from datetime import UTC

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from . import context
from .models import AuditEvent

GENESIS_HASH = "0" * 64
# An arbitrary constant naming the PostgreSQL advisory lock that serialises chain appends.
_CHAIN_LOCK_KEY = 7_240_001


def normalise(value):
    """JSON-safe copy of a value as it will read back from the database."""
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def snapshot(instance, fields=None):
    """The audited field values of a model instance (foreign keys as ids)."""
    data = {}
    for field in instance._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        if isinstance(field, models.ForeignKey):
            data[field.name] = getattr(instance, field.attname)
        else:
            data[field.name] = getattr(instance, field.name)
    return normalise(data)


def diff(old, new):
    """Only the fields that changed, as (old_subset, new_subset)."""
    keys = sorted(set(old or {}) | set(new or {}))
    changed = [k for k in keys if (old or {}).get(k) != (new or {}).get(k)]
    return ({k: (old or {}).get(k) for k in changed}, {k: (new or {}).get(k) for k in changed})


def _canonical(fields):
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _content(event):
    return {
        "seq": event.seq,
        "at": event.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "actor_username": event.actor_username,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "patient_id": event.patient_id,
        "old_values": event.old_values,
        "new_values": event.new_values,
        "reason": event.reason,
        "request_id": event.request_id,
        "client_ip": event.client_ip,
    }


def compute_hash(prev_hash, event):
    payload = prev_hash + _canonical(_content(event))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _clean_ip(ip):
    if not ip:
        return None
    try:
        return ipaddress.ip_address(ip).compressed
    except ValueError:
        return None


_LOCK_AND_LAST = (
    "SELECT pg_advisory_xact_lock(%s); "
    "SELECT seq, entry_hash FROM core_auditevent ORDER BY seq DESC LIMIT 1"
)


def _lock_chain_and_read_last():
    """Take the chain's lock (until the transaction ends), then read the newest event's
    seq and hash, or None for an empty trail.

    On PostgreSQL both statements go in one round trip (Django's psycopg cursors bind
    client-side, which allows several statements a call; config/settings.py leaves the
    ``server_side_binding`` option off). Under READ COMMITTED each
    statement takes its own snapshot, so the SELECT, run once the lock is held, sees the
    event the previous holder committed. SQLite writes one transaction at a time anyway.
    """
    if connection.vendor != "postgresql":
        return AuditEvent.objects.order_by("-seq").values("seq", "entry_hash").first()
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_AND_LAST, [_CHAIN_LOCK_KEY])
        cursor.nextset()
        row = cursor.fetchone()
    return {"seq": row[0], "entry_hash": row[1]} if row else None


def record(
    action,
    *,
    actor=None,
    obj=None,
    object_type="",
    object_id="",
    patient=None,
    patient_id=None,
    old=None,
    new=None,
    reason="",
):
    """Append one audit event; returns it. Call inside the transaction of the write."""
    ctx = context.current()
    if obj is not None:
        object_type = object_type or obj._meta.label
        object_id = object_id or str(obj.pk)
    if patient is not None:
        patient_id = patient.pk
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    # No savepoint of its own (two round trips on every clinical write): inside the
    # write's transaction, a failed append fails the whole write, as it must.
    with transaction.atomic(savepoint=False):
        last = _lock_chain_and_read_last()
        event = AuditEvent(
            seq=(last["seq"] + 1) if last else 1,
            at=timezone.now(),
            actor=actor if is_user else None,
            actor_username=(actor.get_username() if is_user else "")[:150],
            action=action,
            object_type=object_type,
            object_id=str(object_id or ""),
            patient_id=patient_id,
            old_values=normalise(old),
            new_values=normalise(new),
            reason=reason or "",
            request_id=ctx.request_id,
            client_ip=_clean_ip(ctx.client_ip),
            prev_hash=last["entry_hash"] if last else GENESIS_HASH,
        )
        event.entry_hash = compute_hash(event.prev_hash, event)
        event.save(force_insert=True)
    return event


@dataclass(frozen=True)
class ChainStatus:
    ok: bool
    checked: int
    first_broken_seq: int | None = None
    problem: str = ""


def verify_chain():
    """Recompute every hash in order; report the first event that does not match."""
    prev_hash = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        if event.seq != expected_seq:
            return ChainStatus(False, checked, event.seq, f"event #{expected_seq} is missing")
        if event.prev_hash != prev_hash:
            return ChainStatus(False, checked, event.seq, "previous-hash link does not match")
        if compute_hash(prev_hash, event) != event.entry_hash:
            return ChainStatus(False, checked, event.seq, "content does not match its hash")
        prev_hash = event.entry_hash
        expected_seq += 1
        checked += 1
    return ChainStatus(True, checked)
