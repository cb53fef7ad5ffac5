"""What every infusion service shares (private to `infusion.services`).

The conventions the action modules follow: every service is keyword-only; it checks the
actor's permission and ward first (`_require`, `_require_ward`: `PermissionDenied`), then
its inputs (`ActionRefused` with a translated message, a code and field errors:
`_required_text` for a required reason or note, `_check_lengths` for the 2,000-character
limit, `_check_time` for C-TIME-1, `_check_password` for a signature), and writes in one
transaction: rows locked (`_lock_episode`, `_lock_order`), audit events with the old and
new values and the reason, background work enqueued by task name after the commit
(`_enqueue`, never for a rolled-back write).

Also here: signatures bound to an order's content hash and the audited order transitions
and edits (signatures voided), the C-OVR-1/C-VERIFY-1 override record co-signed by a second
physician (`_record_override`, `_check_second_physician`) and the audited "superseded" void
(`_supersede`).
"""

import logging

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit, text
from core.clinical_time import check_clinical_time, check_scheduled_time
from core.models import Role
from core.version import app_version

from ..models import CheckOverride, Episode, EpisodeStatus, Order, OrderStatus, Signature
from ..planning import episode_columns
from ..protocol import CLOCK_TOLERANCE_MINUTES, ward_zone

logger = logging.getLogger(__package__)  # "infusion.services", as before the split

# The states of an order that has not been given: it may still be edited or cancelled.
NOT_GIVEN = (OrderStatus.DRAFT, OrderStatus.SIGNED, OrderStatus.VERIFIED)
ORDER_AUDIT_FIELDS = (
    "kind",
    "status",
    "drug",
    "dose",
    "dose_unit",
    "route",
    "scheduled_at",
    "first_day",
    "last_day",
    "volume_ml",
    "note",
    "version",
)


class ActionRefused(Exception):
    """The action is not allowed now; `message` says why (translated), for the user."""

    def __init__(self, message, *, code="", findings=(), field_errors=None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.findings = tuple(findings)
        self.field_errors = field_errors or {}


def _check_lengths(**texts):
    """Issue 16: notes and reasons are at most 2,000 characters (the forms say so first;
    this holds for every caller)."""
    for name, value in texts.items():
        if value is not None and len(str(value)) > text.NOTE_MAX_LENGTH:
            message = _("At most %(max)s characters (%(length)s given).") % {
                "max": text.NOTE_MAX_LENGTH,
                "length": len(str(value)),
            }
            raise ActionRefused(message, code="too_long", field_errors={name: [message]})


def _required_text(value, *, field, message, mark_field=False, limit=False):
    """A required free text (a reason, a note, what was done) trimmed; refused when empty
    with ``message`` (code ``field``; with ``mark_field`` the field says "Required." too)
    and, with ``limit``, when longer than the 2,000 characters of `_check_lengths` (a
    service that checks more first checks the length later, as it always did)."""
    value = (value or "").strip()
    if not value:
        errors = {field: [_("Required.")]} if mark_field else None
        raise ActionRefused(message, code=field, field_errors=errors)
    if limit:
        _check_lengths(**{field: value})
    return value


class InvalidPlanInput(ActionRefused):
    """The engine refused the input document: field errors (engine paths → messages)."""

    def __init__(self, errors):
        super().__init__(_("Some values are missing or not valid."), code="invalid")
        self.errors = errors


def _now():
    return timezone.now()


def _require(actor, perm):
    if not actor.has_perm(perm):
        raise PermissionDenied(perm)


def _require_ward(actor, patient):
    # Views already 404 another ward's objects; the services refuse them too.
    if actor.ward_id is None or actor.ward_id != patient.ward_id:
        raise PermissionDenied("other ward")


def _full_name(user):
    return user.get_full_name() or user.get_username()


def _check_password(actor, password, *, obj, action):
    """Re-authentication for a signature (core.reauth: audited, counted towards the
    lockout, username too on the first signature of a session); refused as ActionRefused.
    """
    from core import reauth

    try:
        reauth.verify_password(actor, password, obj=obj, action=action)
    except reauth.Refused as refused:
        raise ActionRefused(refused.message, code=refused.code) from None


def _local(value):
    return timezone.localtime(value, ward_zone()).strftime("%Y-%m-%d %H:%M")


def _check_time(at, *, patient, what, field="at", prepared_at=None, after=None, not_before=None):
    """C-TIME-1: refuse an implausible recorded clinical time (the one rule,
    `core.clinical_time.check_clinical_time`) with a field error; nothing is stored."""
    problems = check_clinical_time(
        at,
        now=_now(),
        what=what,
        birth_date=patient.date_of_birth,
        prepared_at=prepared_at,
        after=after,
        not_before=not_before,
        zone=ward_zone(),
        tolerance_minutes=CLOCK_TOLERANCE_MINUTES,
    )
    if problems:
        messages = [_(p.template) % p.params for p in problems]
        raise ActionRefused(
            " ".join(messages),
            code="future" if [p.code for p in problems] == ["future"] else "time",
            field_errors={field: messages},
        )


def _check_schedule(at, *, what, field):
    """Issue 16: a scheduled time between 1900 and 2199 and at most two years ahead
    (`core.clinical_time.check_scheduled_time`), else a field error; nothing is stored."""
    problems = check_scheduled_time(at, now=_now(), what=what)
    if problems:
        messages = [_(p.template) % p.params for p in problems]
        raise ActionRefused(" ".join(messages), code="time", field_errors={field: messages})


def _enqueue(task_name, *args):
    """Run a Celery task after the transaction commits (never for a rolled-back write)."""

    def send():
        from .. import tasks

        try:
            getattr(tasks, task_name).delay(*args)
        except Exception:  # broker down: the write stands; the task is an optimisation/notice
            logger.warning("could not enqueue %s%r", task_name, args, exc_info=True)

    transaction.on_commit(send)


def _lock_episode(episode):
    return Episode.objects.select_for_update().select_related("patient").get(pk=episode.pk)


def _lock_not_started(episode):
    """The episode locked, refused unless its infusion has not started (it is planned)."""
    episode = _lock_episode(episode)
    if episode.status != EpisodeStatus.PLANNED:
        raise ActionRefused(_("The infusion has already started."), code="state")
    return episode


def _lock_running(episode):
    """The episode locked, refused unless its infusion is running."""
    episode = _lock_episode(episode)
    if episode.status != EpisodeStatus.IN_PROGRESS:
        raise ActionRefused(_("The infusion is not running."), code="state")
    return episode


def _lock_order(order):
    return (
        Order.objects.select_for_update(of=("self",))
        .select_related("episode", "patient")
        .get(pk=order.pk)
    )


def _not_cancelled(episode):
    if episode.status == EpisodeStatus.CANCELLED:
        raise ActionRefused(_("This episode is cancelled."), code="episode_closed")


def _check_second_physician(actor, second, patient, *, not_ids=()):
    """The co-signer of an override (B-CYC-1, C-OVR-1, C-VERIFY-1): an active physician of
    the patient's ward with the co-sign permission, neither the actor nor ``not_ids`` (the
    episode's prescribers)."""
    if (
        second is None
        or actor is None
        or second.pk == actor.pk
        or second.pk in set(not_ids)
        or not second.is_active
        or second.role != Role.PHYSICIAN
        or second.ward_id != patient.ward_id
        or not second.has_perm("infusion.override_cyclophosphamide_hold")
    ):
        raise ActionRefused(
            _(
                "The override needs a second physician of this ward who is neither you nor "
                "the prescriber."
            ),
            code="second_physician",
        )


def _sign(order, actor, meaning, now):
    return Signature.objects.create(
        order=order,
        signer=actor,
        signer_name=_full_name(actor),
        meaning=meaning,
        signed_at=now,
        content_hash=order.content_hash(),
        # On the signed order sheet (issue 17): the role and software at signing.
        signer_role=actor.role or "",
        software_version=app_version(),
    )


def _signed_transition(order, actor, meaning, action, new_status, now):
    """Sign ``order`` (the signature bound to its content hash) and move it on, audited."""
    signature = _sign(order, actor, meaning, now)
    _transition(
        order,
        actor=actor,
        action=action,
        new_status=new_status,
        now=now,
        extra={
            "signature": signature.pk,
            "meaning": signature.meaning,
            "content_hash": signature.content_hash,
        },
    )
    return order


def _transition(order, *, actor, action, new_status, now, reason="", extra=None):
    old = {"status": order.status, "version": order.version}
    order.status = new_status
    order.version += 1
    order.updated_at = now
    order.save()
    audit.record(
        action,
        actor=actor,
        obj=order,
        patient_id=order.patient_id,
        old=old,
        new={"status": new_status, "version": order.version, **(extra or {})},
        reason=reason,
    )


def _close_order(order, new_status, *, actor, reason, now):
    """Cancel an order not yet given or complete an administered one (the caller checked
    its state): who and when on the order, then the audited transition with the reason."""
    if new_status == OrderStatus.CANCELLED:
        order.cancelled_by, order.cancelled_at, order.cancel_reason = actor, now, reason
        action = "order_cancel"
    else:
        order.completed_by, order.completed_at = actor, now
        action = "order_complete"
    _transition(order, actor=actor, action=action, new_status=new_status, now=now, reason=reason)


def _void_signatures(order, *, actor, reason, now):
    for signature in order.signatures.filter(voided_at__isnull=True):
        signature.voided_at = now
        signature.void_reason = reason
        signature.save()
        audit.record(
            "signature_void",
            actor=actor,
            obj=signature,
            patient_id=order.patient_id,
            old={"meaning": signature.meaning, "signer": signature.signer_id, "voided_at": None},
            new={"voided_at": now},
            reason=reason,
        )


def _edit(order, content, *, actor, reason, now):
    before = audit.snapshot(order, ORDER_AUDIT_FIELDS)
    old_hash = order.content_hash()
    for name, value in content.items():
        setattr(order, name, value)
    if order.content_hash() == old_hash:
        return False
    was = order.status
    _void_signatures(order, actor=actor, reason="order edited", now=now)
    order.status = OrderStatus.DRAFT
    order.version += 1
    order.updated_at = now
    order.save()
    old, new = audit.diff(before, audit.snapshot(order, ORDER_AUDIT_FIELDS))
    audit.record(
        "order_edit",
        actor=actor,
        obj=order,
        patient_id=order.patient_id,
        old={**old, "status": was},
        new={**new, "status": OrderStatus.DRAFT, "signatures_voided": was != OrderStatus.DRAFT},
        reason=reason,
    )
    return True


def _supersede(rows, *, action, actor, patient_id, now):
    """Void the live rows (an override or a deviation replaced by a new one), audited."""
    for previous in rows.filter(voided_at__isnull=True):
        previous.voided_at, previous.void_reason = now, "superseded"
        previous.save()
        audit.record(
            action,
            actor=actor,
            obj=previous,
            patient_id=patient_id,
            old={"voided_at": None},
            new={"voided_at": now},
            reason="superseded",
        )


def _record_override(episode, check, *, action, actor, second, reason, now, extra=None):
    """Store a C-VERIFY-1/C-OVR-1 override of ``check`` (an engine VerificationCheck) for
    the episode, co-signed by ``second`` (whose password was checked), and audit it. A
    live override of the same check that it replaces is voided."""
    _supersede(
        CheckOverride.objects.filter(episode=episode, check_key=check.key),
        action="check_override_void",
        actor=actor,
        patient_id=episode.patient_id,
        now=now,
    )
    override = CheckOverride.objects.create(
        episode=episode,
        check_key=check.key,
        rule_ids=list(check.rule_ids),
        values=check.values,
        values_hash=check.values_key,
        reason=reason,
        requested_by=actor,
        requested_by_name=_full_name(actor),
        second_signer=second,
        second_signer_name=_full_name(second),
        signed_at=now,
    )
    audit.record(
        action,
        actor=actor,
        obj=episode,
        patient_id=episode.patient_id,
        new={
            "check": check.key,
            "rules": list(check.rule_ids),
            "status": check.status,
            "values": check.values,
            "override": override.pk,
            "second_physician": second.pk,
            "second_physician_name": override.second_signer_name,
            **(extra or {}),
        },
        reason=reason,
    )
    return override


def _finding_summary(findings):
    return [
        {"rule_id": f.rule_id, "citation": f.citation, "status": f.status, "reason": f.reason}
        for f in findings
    ]


def _apply_plan(episode, plan):
    for name, value in episode_columns(plan).items():
        setattr(episode, name, value)
    episode.plan = plan.to_dict()
