"""The audit trail: append-only, keyed hash chain, anchored by checkpoints.

Every create, update, delete and signature of clinical data calls `record()` inside the
same transaction as the write. Each event's `entry_hash` is HMAC-SHA256, under the key
named by its `key_id` (settings.AUDIT_HMAC_KEYS: outside the database), of the previous
event's hash and the event's canonical JSON (its actor's role and the software version
included). A changed, inserted or reordered row breaks the chain at that row, and only a
holder of the key could write a row that verifies. Events written before the chain was
keyed (empty `key_id`) keep their plain SHA-256 rule; none may follow a keyed event.

What the chain alone cannot see is rows removed from its end, or all of them: checkpoints
of the chain's head, kept outside PostgreSQL (core/audit_checkpoints.py), cover that.
`verify_chain()` (and `manage.py audit_verify`) compares the table with the chain and with
every checkpoint, and names the first event that does not match.
"""

import hashlib
import hmac
import ipaddress
import json
from dataclasses import dataclass
from datetime import UTC

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from . import context
from .models import AuditChainState, AuditEvent
from .version import app_version

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
    content = {
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
    if event.key_id:  # keyed events also bind who acted in which role, with what software
        content["actor_role"] = event.actor_role
        content["app_version"] = event.app_version
        content["key_id"] = event.key_id
    return content


class UnknownKeyError(KeyError):
    """An event names a key id that settings.AUDIT_HMAC_KEYS does not hold."""


def hmac_key(key_id):
    try:
        return settings.AUDIT_HMAC_KEYS[key_id].encode("utf-8")
    except KeyError:
        raise UnknownKeyError(key_id) from None


def compute_hash(prev_hash, event):
    """The event's entry_hash: HMAC-SHA256 under its key, or SHA-256 for a pre-key event."""
    payload = (prev_hash + _canonical(_content(event))).encode("utf-8")
    if not event.key_id:
        return hashlib.sha256(payload).hexdigest()
    return hmac.new(hmac_key(event.key_id), payload, hashlib.sha256).hexdigest()


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
    # The role as the request already loaded it with the permissions (core/backends.py).
    role = (getattr(actor, "role", None) or "") if is_user else ""
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
            actor_role=str(role)[:32],
            app_version=app_version(),
            key_id=settings.AUDIT_HMAC_KEY_ID,
            prev_hash=last["entry_hash"] if last else GENESIS_HASH,
        )
        event.entry_hash = compute_hash(event.prev_hash, event)
        event.save(force_insert=True)
    return event


@dataclass(frozen=True)
class ChainStatus:
    ok: bool
    checked: int
    # The first event that is wrong or missing; None when the fault is in the checkpoint
    # file itself (a line not signed with the key).
    first_broken_seq: int | None = None
    problem: str = ""
    # The newest event verified (seq 0 and the genesis hash for an empty trail).
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    head_at: object = None
    checkpoints: int = 0  # checkpoint lines compared with the table


# The columns an event is hashed and verified by (bench/seed_scale.py writes the same).
VERIFIED_FIELDS = (
    "seq",
    "at",
    "actor_id",
    "actor_username",
    "action",
    "object_type",
    "object_id",
    "patient_id",
    "old_values",
    "new_values",
    "reason",
    "request_id",
    "client_ip",
    "actor_role",
    "app_version",
    "key_id",
    "prev_hash",
    "entry_hash",
)


def _check(event, prev_hash, expected_seq, keyed):
    """What is wrong with `event` as the one after `prev_hash` and `expected_seq - 1`
    (None: nothing)."""
    if event.seq != expected_seq:
        return f"event #{expected_seq} is missing"
    if event.prev_hash != prev_hash:
        return "previous-hash link does not match"
    if keyed and not event.key_id:
        return "written without the audit key after keyed events (not genuine)"
    try:
        entry_hash = compute_hash(prev_hash, event)
    except UnknownKeyError:
        return f"signed with key id {event.key_id!r}, which is not configured"
    if entry_hash != event.entry_hash:
        return "content does not match its hash"
    return None


def verify_chain(*, checkpoints=True):
    """Recompute every hash in order and compare the table with every checkpoint; report
    the first event that does not match. Streams the table and the checkpoint file (both
    in seq order, merged as they are read): memory stays flat however long the trail.

    The checkpoint file is sized before the table is read, so a checkpoint written while
    this runs (of events this read may not see) is left for the next run. A full run
    (with the checkpoints) is recorded, found good or not, for the audit browser
    (`verify_new_events`).
    """
    status = _verify_all(checkpoints)
    if checkpoints:
        _record_full(status)
    return status


def _verify_all(checkpoints):
    from .audit_checkpoints import CheckpointError, read_checkpoints

    prev_hash = GENESIS_HASH
    expected_seq = 1
    checked = compared = 0
    keyed = False
    head = None

    def broken(seq, problem):
        return ChainStatus(False, checked, seq, problem, checkpoints=compared)

    try:
        anchors = read_checkpoints() if checkpoints else iter(())
        anchor = next(anchors, None)
        # Named tuples, not model instances: ~15 % less CPU an event, the same values;
        # a server-side cursor, 2,000 rows a fetch.
        rows = AuditEvent.objects.order_by("seq").values_list(*VERIFIED_FIELDS, named=True)
        for event in rows.iterator(chunk_size=2000):
            problem = _check(event, prev_hash, expected_seq, keyed)
            if problem:
                return broken(event.seq, problem)
            keyed = keyed or bool(event.key_id)
            while anchor is not None and anchor.seq <= event.seq:
                if anchor.seq == event.seq and anchor.hash != event.entry_hash:
                    return broken(event.seq, f"does not match the checkpoint {anchor.describe()}")
                compared += 1
                anchor = next(anchors, None)
            prev_hash = event.entry_hash
            expected_seq += 1
            checked += 1
            head = event
        while anchor is not None:  # checkpoints beyond the newest event (or of seq 0)
            if anchor.seq > checked:
                return broken(checked + 1, _beyond_the_end(checked, anchor))
            if anchor.hash != GENESIS_HASH:
                return broken(1, f"does not match the checkpoint {anchor.describe()}")
            compared += 1
            anchor = next(anchors, None)
    except CheckpointError as error:
        return broken(error.seq, error.problem)
    if head is None:
        return ChainStatus(True, 0, checkpoints=compared)
    return ChainStatus(
        True,
        checked,
        head_seq=head.seq,
        head_hash=head.entry_hash,
        head_at=head.at,
        checkpoints=compared,
    )


def _beyond_the_end(newest, anchor):
    return (
        f"event #{newest + 1} is missing: the trail ends at #{newest} but the "
        f"checkpoint {anchor.describe()} recorded #{anchor.seq} (events removed "
        "from its end, or the table truncated)"
    )


# --- What the audit browser shows: only the events since the verified head -------------
#
# A full verification reads every event (about 30 s for a million); the audit browser
# cannot do that on each view. AuditChainState keeps the newest event verified (seq and
# hash) and what the last full verification found; a view checks that the head event is
# unchanged, the events after it (at most INCREMENT_EVENTS a view) and the newest
# checkpoint, and moves the head. Events before the head are re-read only by the full
# verification (`manage.py audit_verify`), and the page says when that last ran.

INCREMENT_EVENTS = 20_000
_STATE_CONTEXT = b"ward audit chain state v1\n"


@dataclass(frozen=True)
class ChainProgress:
    """What the audit browser's chain panel says (see `verify_new_events`)."""

    ok: bool
    verified_seq: int  # events #1..verified_seq verified, link by link
    newest_seq: int  # the newest event seen (more may follow when `pending`)
    pending: bool = False  # events after verified_seq are still to be checked
    first_broken_seq: int | None = None
    problem: str = ""
    full_at: object = None  # the last full verification: when, up to which event
    full_seq: int = 0
    full_found: bool = False  # the break reported was found by the full verification
    read: int = 0  # events read by this call (the head included)

    @property
    def checked(self):  # as ChainStatus names it
        return self.verified_seq


def _state_mac(state):
    fields = {
        "head_seq": state.head_seq,
        "head_hash": state.head_hash,
        "head_checked_at": _iso(state.head_checked_at),
        "full_at": _iso(state.full_at),
        "full_seq": state.full_seq,
        "full_ok": state.full_ok,
        "full_broken_seq": state.full_broken_seq,
        "full_problem": state.full_problem,
        "key_id": state.key_id,
    }
    body = _STATE_CONTEXT + _canonical(fields).encode("utf-8")
    return hmac.new(hmac_key(state.key_id), body, hashlib.sha256).hexdigest()


def _iso(moment):
    return moment.astimezone(UTC).isoformat(timespec="microseconds") if moment else None


def _genuine_state(state):
    """The stored state if its MAC verifies; else None (then verification starts again
    from the first event, as if nothing had been verified)."""
    if state is None:
        return None
    try:
        return state if hmac.compare_digest(state.mac, _state_mac(state)) else None
    except UnknownKeyError:
        return None


def _save_state(update):
    """Apply ``update(state)`` to the state row under its row lock and re-sign it."""
    with transaction.atomic():
        state = AuditChainState.objects.select_for_update().filter(pk=1).first()
        state = _genuine_state(state) or AuditChainState(pk=1, head_hash=GENESIS_HASH)
        update(state)
        state.key_id = settings.AUDIT_HMAC_KEY_ID
        state.mac = _state_mac(state)
        state.save()


def _record_full(status):
    now = timezone.now()

    def update(state):
        state.full_at = now
        state.full_ok = status.ok
        state.full_seq = status.head_seq if status.ok else status.checked
        state.full_broken_seq = status.first_broken_seq
        state.full_problem = status.problem
        if status.ok and status.head_seq >= state.head_seq:
            state.head_seq, state.head_hash = status.head_seq, status.head_hash
            state.head_checked_at = now

    _save_state(update)


def verify_new_events(*, limit=INCREMENT_EVENTS):
    """Verify the chain from the verified head on: the head event unchanged, at most
    `limit` events after it, and the newest checkpoint against the table. Moves the head.

    A break the last full verification found is reported until a full verification
    passes again. Cost: the events after the head, plus three index lookups.
    """
    from .audit_checkpoints import CheckpointError, last_checkpoint

    state = _genuine_state(AuditChainState.objects.filter(pk=1).first())
    full = {"full_at": state.full_at, "full_seq": state.full_seq} if state else {}
    if state and state.full_at and not state.full_ok:
        return ChainProgress(
            False,
            state.head_seq,
            state.head_seq,
            first_broken_seq=state.full_broken_seq,
            problem=state.full_problem,
            full_found=True,
            **full,
        )
    head_seq = state.head_seq if state else 0
    prev_hash = state.head_hash if state else GENESIS_HASH
    verified = head_seq
    read = 0
    keyed = False

    def broken(seq, problem):
        return ChainProgress(
            False, verified, verified, first_broken_seq=seq, problem=problem, read=read, **full
        )

    # The newest checkpoint, read before the table: one written meanwhile (by beat, of an
    # event this read may not see) is left for the next view.
    try:
        anchor = last_checkpoint()
    except CheckpointError as error:
        return broken(error.seq, error.problem)
    rows = (
        AuditEvent.objects.filter(seq__gte=max(head_seq, 1))
        .order_by("seq")
        .values_list(*VERIFIED_FIELDS, named=True)[: limit + (1 if head_seq else 0) + 1]
    )
    pending = False
    for event in rows.iterator(chunk_size=2000):
        read += 1
        if head_seq and read == 1:  # the verified head itself: still there, unchanged
            if event.seq != head_seq:
                return broken(head_seq, f"event #{head_seq} is missing")
            if event.entry_hash != prev_hash:
                return broken(head_seq, "changed since it was verified")
            keyed = bool(event.key_id)
            continue
        if verified - head_seq >= limit:
            pending = True
            break
        problem = _check(event, prev_hash, verified + 1, keyed)
        if problem:
            return broken(event.seq, problem)
        keyed = keyed or bool(event.key_id)
        prev_hash = event.entry_hash
        verified += 1
    if head_seq and read == 0:  # the trail ends before the head: its end was removed
        newest = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
        return broken(newest + 1, f"event #{newest + 1} is missing (the trail ends at #{newest})")
    if not pending:
        # The chain alone cannot show events removed from its end; the checkpoint can.
        if anchor is not None and anchor.seq > verified:
            return broken(verified + 1, _beyond_the_end(verified, anchor))
        if anchor is not None and anchor.seq:
            stored = AuditEvent.objects.filter(seq=anchor.seq).values_list("entry_hash", flat=True)
            if stored.first() != anchor.hash:
                return broken(anchor.seq, f"does not match the checkpoint {anchor.describe()}")
    if verified > head_seq:
        now = timezone.now()

        def update(state):
            if verified > state.head_seq:
                state.head_seq, state.head_hash, state.head_checked_at = verified, prev_hash, now

        _save_state(update)
    return ChainProgress(True, verified, verified, pending=pending, read=read, **full)
