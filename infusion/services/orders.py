"""Orders and their verification: sign, verify, check overrides, the cold-chain deviation,
reject, cancel, edit, administer, complete.

Order life cycle (enforced here, whatever the UI shows)::

    draft ──sign──▶ signed ──verify──▶ verified ──administer──▶ administered ──complete──▶ completed
      │               │  └──reject──▶ rejected
      └──cancel───────┴──────────────┴──cancel──▶ cancelled
    edit (draft/signed/verified) voids every signature and returns the order to draft.

Signing and verifying need the signer's password again; the prescriber cannot verify
their own order. Two pharmacists verifying the same order at once: the order row is
locked (`SELECT … FOR UPDATE`) and its status re-read under the lock, so exactly one
succeeds and the other is told who verified it.

Rules: B-CONSENT-1 (no MSC therapy order signed before the consent), C-VERIFY-1 (no
verification while a check fails; a physician's override with a second physician's
signature), B-ADM-1 (the cold-chain deviation: pharmacist's viability confirmation, then
the physician's reasoned, co-signed deviation), C-MAR-1 and B-AP-1 (one dose row per
administration; the antiplatelet course once daily within its days), B-CYC-1/C-CYC-2 on
cyclophosphamide orders (`cyclophosphamide._cyc_guard`). Conventions as in
`infusion.services`: keyword-only, one transaction, audited, reminders re-synced and the
order sheet re-rendered after commit.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit

from .. import doses, reminders, verification
from ..models import (
    Administration,
    ColdChainDeviation,
    Consent,
    DoseState,
    Order,
    OrderKind,
    OrderStatus,
    SignatureMeaning,
)
from ..protocol import ward_zone
from ._common import (
    NOT_GIVEN,
    ActionRefused,
    _check_lengths,
    _check_password,
    _check_schedule,
    _check_second_physician,
    _check_time,
    _close_order,
    _edit,
    _enqueue,
    _full_name,
    _local,
    _lock_episode,
    _lock_not_started,
    _lock_order,
    _not_cancelled,
    _now,
    _record_override,
    _require,
    _require_ward,
    _required_text,
    _signed_transition,
    _supersede,
    _transition,
)
from .cyclophosphamide import _cyc_guard, _records_cyc_stops, cyclophosphamide_order_check


def _prescriber_signature(order):
    return (
        order.signatures.filter(meaning=SignatureMeaning.PRESCRIBED, voided_at__isnull=True)
        .select_related("signer")
        .first()
    )


@_records_cyc_stops
def order_sign(*, order, actor, password):
    """The prescriber signs a draft order (password re-entered; meaning "prescribed")."""
    _require(actor, "infusion.sign_order")
    _require_ward(actor, order.patient)
    _check_password(actor, password, obj=order, action="order_sign")
    with transaction.atomic():
        order = _sign_one(order, actor, _now())
        reminders.episode_reminders_sync(order.episode, actor=actor)
        _enqueue("prerender_order_sheet", order.episode_id)
    return order


@_records_cyc_stops
def orders_sign_all(*, episode, actor, password):
    """Sign every draft order of the episode with one password entry; returns them."""
    _require(actor, "infusion.sign_order")
    _require_ward(actor, episode.patient)
    _check_password(actor, password, obj=episode, action="orders_sign_all")
    now = _now()
    with transaction.atomic():
        drafts = list(episode.orders.filter(status=OrderStatus.DRAFT).order_by("pk"))
        if not drafts:
            raise ActionRefused(_("There is no draft order to sign."), code="state")
        signed = [_sign_one(order, actor, now) for order in drafts]
        reminders.episode_reminders_sync(episode, actor=actor)
        _enqueue("prerender_order_sheet", episode.pk)
    return signed


def _sign_one(order, actor, now):
    order = _lock_order(order)
    _not_cancelled(order.episode)
    if order.status != OrderStatus.DRAFT:
        raise ActionRefused(
            _("Only a draft order can be signed; this one is %(status)s.")
            % {"status": order.get_status_display().lower()},
            code="state",
        )
    if order.kind == OrderKind.CYCLOPHOSPHAMIDE:
        _cyc_guard(order, order.scheduled_at, actor=actor, action="order_sign")
    elif not Consent.objects.filter(episode_id=order.episode_id).exists():
        # B-CONSENT-1: the MSC therapy's orders (the cells, the premedication, the
        # antiplatelet course) are signed only once the informed consent is on file;
        # cyclophosphamide is not part of the MSC therapy.
        raise ActionRefused(
            _(
                "Record the informed consent first: no order of the MSC therapy can be signed "
                "before it (B-CONSENT-1)."
            ),
            code="consent",
        )
    return _signed_transition(
        order, actor, SignatureMeaning.PRESCRIBED, "order_sign", OrderStatus.SIGNED, now
    )


class ChecksFailed(ActionRefused):
    """C-VERIFY-1: verification refused while checks on the episode fail; ``checks`` are the
    engine's VerificationCheck items that stop it, each named with its rule IDs."""

    def __init__(self, checks):
        from ..verification import check_views

        self.checks = tuple(checks)
        lines = "; ".join(
            f"✗ {view.label} ({view.check.rules}): {view.reason}" for view in check_views(checks)
        )
        super().__init__(
            _(
                "Not verified: %(count)s check(s) on this episode fail (C-VERIFY-1). %(checks)s. "
                "Correct the order, or ask a physician to record an override with a second "
                "physician's signature."
            )
            % {"count": len(self.checks), "checks": lines},
            code="checks",
        )


def _audit_verify_refusal(refused, *, actor, order, action):
    """After the rollback: a verification stopped by a check (C-VERIFY-1), refused to the
    order's own prescriber, or stopped by content changed behind the prescriber's signature
    is on the record."""
    if refused.code == "hash":
        audit.record(
            "signature_refused",
            actor=actor,
            obj=order,
            patient_id=order.patient_id,
            new={"action": action, "current_hash": order.content_hash()},
            reason="content changed after signing",
        )
    elif refused.code in ("own_order", "checks"):
        checks = getattr(refused, "checks", ())
        audit.record(
            "verify_refused",
            actor=actor,
            obj=order,
            patient_id=order.patient_id,
            reason="C-VERIFY-1" if checks else "own order: another pharmacist must verify it",
            new={
                "action": action,
                "checks": [
                    {
                        "check": c.key,
                        "rules": list(c.rule_ids),
                        "status": c.status,
                        "reason": c.reason,
                    }
                    for c in checks
                ],
            },
        )


@_records_cyc_stops
def order_verify(*, order, actor, password):
    """A pharmacist verifies a signed order (password re-entered; not the prescriber).

    C-VERIFY-1: refused while any check on the episode fails and no override covers it
    (``infusion.verification``). Concurrency: the order row is locked and its status
    re-read under the lock, so of two pharmacists verifying at once exactly one succeeds;
    the other is told who did.
    """
    _require(actor, "infusion.verify_order")
    _require_ward(actor, order.patient)
    _check_password(actor, password, obj=order, action="order_verify")
    try:
        with transaction.atomic():
            order = _verify_one(order, actor, _now())
            reminders.episode_reminders_sync(order.episode, actor=actor)
            _enqueue("prerender_order_sheet", order.episode_id)
    except ActionRefused as refused:
        _audit_verify_refusal(refused, actor=actor, order=order, action="order_verify")
        raise
    return order


@_records_cyc_stops
def orders_verify(*, episode, actor, password, reviewed):
    """Verify the orders of one episode that the pharmacist ticked as reviewed, with one
    password entry: one signature event per order, each bound to its content hash.

    ``reviewed`` maps order pk → the version the pharmacist reviewed; an order changed
    since (another version) or not waiting any more refuses the whole batch, and so does
    any failing check (C-VERIFY-1). All or nothing.
    """
    _require(actor, "infusion.verify_order")
    _require_ward(actor, episode.patient)
    if not reviewed:
        raise ActionRefused(
            _("Tick each order you have reviewed, then verify."), code="none_reviewed"
        )
    _check_password(actor, password, obj=episode, action="orders_verify")
    now = _now()
    order = None
    try:
        with transaction.atomic():
            orders = list(
                Order.objects.filter(episode=episode, pk__in=list(reviewed)).order_by("pk")
            )
            if {o.pk for o in orders} != set(reviewed):
                raise ActionRefused(
                    _("An order you ticked is not an order of this episode."), code="state"
                )
            done = []
            for order in orders:
                order = _verify_one(order, actor, now, version=reviewed[order.pk])
                done.append(order)
            reminders.episode_reminders_sync(episode, actor=actor)
            _enqueue("prerender_order_sheet", episode.pk)
    except ActionRefused as refused:
        if order is not None:
            _audit_verify_refusal(refused, actor=actor, order=order, action="orders_verify")
        raise
    return done


def _verify_one(order, actor, now, *, version=None):
    """Verify one order inside the caller's transaction (row locked, state re-read)."""
    order = _lock_order(order)
    _not_cancelled(order.episode)
    if order.status != OrderStatus.SIGNED:
        verified = order.signatures.filter(
            meaning=SignatureMeaning.VERIFIED, voided_at__isnull=True
        ).first()
        if verified is not None:
            raise ActionRefused(
                _("%(name)s already verified this order at %(time)s.")
                % {"name": verified.signer_name, "time": _local(verified.signed_at)},
                code="already_verified",
            )
        raise ActionRefused(
            _("Only a signed order can be verified; this one is %(status)s.")
            % {"status": order.get_status_display().lower()},
            code="state",
        )
    if version is not None and order.version != version:
        raise ActionRefused(
            _("%(order)s changed after you reviewed it; review it again.")
            % {"order": order.get_kind_display()},
            code="stale",
        )
    prescribed = _prescriber_signature(order)
    if prescribed is None or prescribed.content_hash != order.content_hash():
        raise ActionRefused(
            _("The order changed after it was signed; it must be signed again."),
            code="hash",
        )
    if prescribed.signer_id == actor.pk:
        raise ActionRefused(
            _("You prescribed this order; another pharmacist must verify it."),
            code="own_order",
        )
    if order.kind == OrderKind.CYCLOPHOSPHAMIDE:
        _cyc_guard(order, order.scheduled_at, actor=actor, action="order_verify")
    else:
        # C-VERIFY-1: every check on the episode, whatever the order of the episode.
        stops, _checks = verification.blocking_for(order.episode_id)
        if stops:
            raise ChecksFailed(stops)
    return _signed_transition(
        order, actor, SignatureMeaning.VERIFIED, "order_verify", OrderStatus.VERIFIED, now
    )


def check_override(*, episode, actor, check_key, reason, second_physician, second_password):
    """C-VERIFY-1: a physician overrides a failing check of the episode with a written
    reason and a second physician's password signature (not the actor, not a prescriber of
    the episode's orders). Only a "failed" check can be overridden: a "refused" one (an
    unreleased product, a dose above 5 × 10⁶/kg or the certificate's count, no consent…)
    is corrected, never overridden. The override covers the check's current values."""
    _require(actor, "infusion.add_checkoverride")
    _require_ward(actor, episode.patient)
    _not_cancelled(episode)
    reason = _required_text(
        reason, field="reason", message=_("Give the reason for the override."), mark_field=True
    )
    _stops, checks = verification.blocking_for(episode.pk)
    check = next((c for c in checks if c.key == check_key), None)
    if check is None:
        raise ActionRefused(_("There is no such check on this episode."), code="check")
    if check.status == "refused":
        raise ActionRefused(
            _("This check cannot be overridden (%(rules)s): correct the order or the record.")
            % {"rules": check.rules},
            code="not_overridable",
        )
    if check.status != "failed":
        raise ActionRefused(
            _("This check does not fail; there is nothing to override."), code="check"
        )
    _check_second_physician(
        actor, second_physician, episode.patient, not_ids=verification.prescriber_ids(episode.pk)
    )
    _check_password(second_physician, second_password, obj=episode, action="check_override")
    now = _now()
    _check_lengths(reason=reason)
    with transaction.atomic():
        episode = _lock_episode(episode)
        override = _record_override(
            episode,
            check,
            action="check_override",
            actor=actor,
            second=second_physician,
            reason=reason,
            now=now,
        )
        _enqueue("prerender_order_sheet", episode.pk)
    return override


# B-ADM-1 (issue 19): "generally" within 8–12 h; a deviation never reaches past this.
COLD_CHAIN_DEVIATION_MAX_HOURS = 24


def live_cold_chain_deviation(episode):
    """The episode's live cold-chain deviation for its current hard limit (B-ADM-1), or
    None; ``complete`` says whether the physician's reasoned deviation is recorded."""
    return (
        ColdChainDeviation.objects.filter(
            episode=episode,
            voided_at__isnull=True,
            must_complete_by=episode.cold_chain_must_complete_by,
        )
        .order_by("-viability_at", "-pk")
        .first()
    )


def cold_chain_viability_confirm(*, episode, actor, until, note, password):
    """B-ADM-1, first step: a pharmacist confirms (password signature) that the product
    stays viable until ``until``, after the cold-chain hard limit and at most
    ``COLD_CHAIN_DEVIATION_MAX_HOURS`` after preparation. It lets nothing start on its
    own: a physician then records the reasoned deviation (``cold_chain_deviation_record``).
    A previous live confirmation is voided (superseded)."""
    _require(actor, "infusion.verify_order")
    _require_ward(actor, episode.patient)
    _not_cancelled(episode)
    note = _required_text(
        note,
        field="note",
        message=_("Say how the product's viability was confirmed."),
        mark_field=True,
    )
    limit = episode.cold_chain_must_complete_by
    latest = episode.preparation_time + timedelta(hours=COLD_CHAIN_DEVIATION_MAX_HOURS)
    if until is None or until <= limit or until > latest:
        raise ActionRefused(
            _(
                "The viable-until time must be after the cold-chain limit %(limit)s and at "
                "most %(hours)s h after preparation (%(latest)s) (B-ADM-1)."
            )
            % {
                "limit": _local(limit),
                "hours": COLD_CHAIN_DEVIATION_MAX_HOURS,
                "latest": _local(latest),
            },
            code="until",
            field_errors={"until": [_("Outside the allowed range.")]},
        )
    _check_lengths(note=note)
    _check_password(actor, password, obj=episode, action="cold_chain_viability")
    now = _now()
    with transaction.atomic():
        episode = _lock_not_started(episode)
        _supersede(
            ColdChainDeviation.objects.filter(episode=episode),
            action="cold_chain_deviation_void",
            actor=actor,
            patient_id=episode.patient_id,
            now=now,
        )
        deviation = ColdChainDeviation.objects.create(
            episode=episode,
            must_complete_by=limit,
            until=until,
            viability_note=note,
            viability_by=actor,
            viability_by_name=_full_name(actor),
            viability_at=now,
        )
        audit.record(
            "cold_chain_viability_confirm",
            actor=actor,
            obj=episode,
            patient_id=episode.patient_id,
            new={
                "deviation": deviation.pk,
                "rule": "B-ADM-1",
                "must_complete_by": limit,
                "until": until,
                "note": note,
            },
        )
    return deviation


def cold_chain_deviation_record(*, episode, actor, reason, second_physician, second_password):
    """B-ADM-1, second step (C-OVR-1): after a pharmacist confirmed viability, a physician
    records why the infusion may end after the hard limit, co-signed by a second physician
    (password). Then ``infusion_start`` allows an end up to the confirmed time."""
    _require(actor, "infusion.add_checkoverride")
    _require_ward(actor, episode.patient)
    _not_cancelled(episode)
    reason = _required_text(
        reason, field="reason", message=_("Give the reason for the deviation."), mark_field=True
    )
    deviation = live_cold_chain_deviation(episode)
    if deviation is None:
        raise ActionRefused(
            _(
                "A pharmacist must first confirm the product's viability after the cold-chain "
                "limit (B-ADM-1)."
            ),
            code="no_viability",
        )
    if deviation.recorded_at is not None:
        raise ActionRefused(_("The deviation is already recorded."), code="recorded")
    _check_second_physician(actor, second_physician, episode.patient)
    _check_lengths(reason=reason)
    _check_password(second_physician, second_password, obj=episode, action="cold_chain_deviation")
    now = _now()
    with transaction.atomic():
        episode = _lock_episode(episode)
        deviation = ColdChainDeviation.objects.select_for_update().get(pk=deviation.pk)
        if deviation.voided_at is not None or deviation.recorded_at is not None:
            raise ActionRefused(_("The viability confirmation changed; reload."), code="state")
        deviation.reason = reason
        deviation.recorded_by = actor
        deviation.recorded_by_name = _full_name(actor)
        deviation.second_signer = second_physician
        deviation.second_signer_name = _full_name(second_physician)
        deviation.recorded_at = now
        deviation.save()
        audit.record(
            "cold_chain_deviation",
            actor=actor,
            obj=episode,
            patient_id=episode.patient_id,
            new={
                "deviation": deviation.pk,
                "rules": ["B-ADM-1", "C-OVR-1"],
                "must_complete_by": deviation.must_complete_by,
                "until": deviation.until,
                "viability_by": deviation.viability_by_id,
                "second_physician": second_physician.pk,
                "second_physician_name": deviation.second_signer_name,
            },
            reason=reason,
        )
    return deviation


def order_reject(*, order, actor, reason):
    """A pharmacist rejects a signed order, with a reason the prescriber will read."""
    _require(actor, "infusion.verify_order")
    _require_ward(actor, order.patient)
    reason = _required_text(
        reason, field="reason", message=_("Give a reason for rejecting the order."), limit=True
    )
    now = _now()
    with transaction.atomic():
        order = _lock_order(order)
        if order.status != OrderStatus.SIGNED:
            raise ActionRefused(
                _("Only a signed order can be rejected; this one is %(status)s.")
                % {"status": order.get_status_display().lower()},
                code="state",
            )
        order.rejected_by, order.rejected_at, order.reject_reason = actor, now, reason
        _transition(
            order,
            actor=actor,
            action="order_reject",
            new_status=OrderStatus.REJECTED,
            now=now,
            reason=reason,
        )
        reminders.episode_reminders_sync(order.episode, actor=actor)
    return order


def order_cancel(*, order, actor, reason):
    """The physician cancels an order that has not been given."""
    _require(actor, "infusion.sign_order")
    _require_ward(actor, order.patient)
    reason = _required_text(
        reason, field="reason", message=_("Give a reason for cancelling the order."), limit=True
    )
    now = _now()
    with transaction.atomic():
        order = _lock_order(order)
        if order.status not in NOT_GIVEN:
            raise ActionRefused(
                _("This order is %(status)s and can no longer be cancelled.")
                % {"status": order.get_status_display().lower()},
                code="state",
            )
        _close_order(order, OrderStatus.CANCELLED, actor=actor, reason=reason, now=now)
        reminders.episode_reminders_sync(order.episode, actor=actor)
    return order


def order_edit(*, order, actor, changes, reason):
    """Edit an order not yet given. Any change voids its signatures (back to draft).

    `changes` may hold `note` for any order, and `scheduled_at`/`dose` for a
    cyclophosphamide order (re-checked against the 48 h hold). Orders generated by the
    plan change through `episode_update`.
    """
    _require(actor, "infusion.sign_order")
    _require_ward(actor, order.patient)
    reason = _required_text(reason, field="reason", message=_("Give a reason for the change."))
    allowed = {"note"}
    if order.kind == OrderKind.CYCLOPHOSPHAMIDE:
        allowed |= {"scheduled_at", "dose"}
    unknown = set(changes) - allowed
    if unknown:
        raise ActionRefused(
            _("These fields of this order change through the episode: %(fields)s.")
            % {"fields": ", ".join(sorted(unknown))},
            code="fields",
        )
    now = _now()
    _check_lengths(reason=reason, note=changes.get("note"))
    with transaction.atomic():
        order = _lock_order(order)
        if order.status not in NOT_GIVEN:
            raise ActionRefused(
                _("This order is %(status)s and can no longer be edited.")
                % {"status": order.get_status_display().lower()},
                code="state",
            )
        if order.kind == OrderKind.CYCLOPHOSPHAMIDE and "scheduled_at" in changes:
            _check_schedule(changes["scheduled_at"], what=_("The time"), field="scheduled_at")
            check = cyclophosphamide_order_check(patient=order.patient, at=changes["scheduled_at"])
            if not check.allowed:
                raise ActionRefused(
                    check.message, code="cyc_hold", findings=check.findings
                )  # an override belongs to a new order
        changed = _edit(order, dict(changes), actor=actor, reason=reason, now=now)
        if changed:
            reminders.episode_reminders_sync(order.episode, actor=actor)
    return order


@_records_cyc_stops
def order_administer(*, order, actor, given_at=None, dose=None, note=""):
    """Record a dose given (the MAR). The MSC infusion is recorded on the bedside chart."""
    _require(actor, "infusion.administer_order")
    _require_ward(actor, order.patient)
    now = _now()
    given_at = given_at or now
    _check_time(given_at, patient=order.patient, what=_("The administration time"))
    _check_lengths(note=note)
    with transaction.atomic():
        order = _lock_order(order)
        _not_cancelled(order.episode)
        if order.kind == OrderKind.MSC_IV:
            raise ActionRefused(
                _("Record the MSC infusion on the bedside chart (start and end)."), code="chart"
            )
        repeat = order.kind == OrderKind.ANTIPLATELET and order.status == OrderStatus.ADMINISTERED
        if order.status != OrderStatus.VERIFIED and not repeat:
            raise ActionRefused(
                _("Only a verified order can be given; this one is %(status)s.")
                % {"status": order.get_status_display().lower()},
                code="state",
            )
        if order.kind == OrderKind.ANTIPLATELET:
            _check_course_day(order, given_at)
        if order.kind == OrderKind.CYCLOPHOSPHAMIDE:
            _cyc_guard(order, given_at, actor=actor, action="order_administer")
        dose_row = _dose_row_to_give(order, given_at, actor=actor)
        record = Administration.objects.create(
            order=order,
            episode=order.episode,
            given_at=given_at,
            given_by=actor,
            dose=dose if dose is not None else order.dose,
            dose_unit=order.dose_unit,
            note=(note or "").strip(),
            recorded_at=now,
        )
        audit.record(
            "order_administer",
            actor=actor,
            obj=record,
            patient_id=order.patient_id,
            new={
                "order": order.pk,
                "given_at": given_at,
                "dose": record.dose,
                "dose_unit": record.dose_unit,
                "note": record.note,
            },
        )
        if dose_row is not None:  # C-MAR-1: the dose row is given only by this record
            doses.mark_given(dose_row, record, actor=actor, now=now)
        if not repeat:
            _transition(
                order,
                actor=actor,
                action="order_status",
                new_status=OrderStatus.ADMINISTERED,
                now=now,
                extra={"administration": record.pk},
            )
        reminders.episode_reminders_sync(order.episode, actor=actor)
    return record


def _dose_row_to_give(order, given_at, *, actor):
    """C-MAR-1: the due dose this administration gives (rows made first for an episode
    that predates them); a dose already recorded as given, held or refused is refused."""
    doses.doses_sync(order.episode, list(order.episode.orders.all()), actor=actor)
    row = doses.dose_for_administration(order, given_at)
    if row is not None and row.state not in (DoseState.DUE, DoseState.MISSED):
        raise ActionRefused(
            _("This dose was already recorded as %(state)s at %(time)s.")
            % {"state": row.get_state_display().lower(), "time": _local(row.at or row.recorded_at)},
            code="dose_recorded",
        )
    return row


def _check_course_day(order, given_at):
    day = timezone.localtime(given_at, ward_zone()).date()
    if not order.first_day <= day <= order.last_day:
        raise ActionRefused(
            _("%(day)s is outside the course (%(first)s to %(last)s, B-AP-1).")
            % {"day": day, "first": order.first_day, "last": order.last_day},
            code="course",
        )
    for given in order.administrations.all():
        if timezone.localtime(given.given_at, ward_zone()).date() == day:
            raise ActionRefused(
                _("Today's dose was already given at %(time)s (once daily).")
                % {"time": _local(given.given_at)},
                code="course",
            )


def order_complete(*, order, actor, note=""):
    """Close an order that was given (a course: after its last dose, or stopped early)."""
    _require(actor, "infusion.administer_order")
    _require_ward(actor, order.patient)
    now = _now()
    _check_lengths(note=note)
    with transaction.atomic():
        order = _lock_order(order)
        if order.kind == OrderKind.MSC_IV:
            raise ActionRefused(
                _("The MSC order is completed when the infusion end is recorded."), code="chart"
            )
        if order.status != OrderStatus.ADMINISTERED:
            raise ActionRefused(
                _("Only an administered order can be completed; this one is %(status)s.")
                % {"status": order.get_status_display().lower()},
                code="state",
            )
        _close_order(
            order, OrderStatus.COMPLETED, actor=actor, reason=(note or "").strip(), now=now
        )
        reminders.episode_reminders_sync(order.episode, actor=actor)
    return order
