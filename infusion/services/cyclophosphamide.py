"""Cyclophosphamide around an MSC infusion.

B-CYC-1: no cyclophosphamide within 48 h after the infusion; an order in the hold is
stopped (the stop audited once the write rolled back: `CycStopped`,
`_records_cyc_stops`) unless a reason and a second physician's signature override it,
and the override covers its scheduled time only (C-CYC-2, `CycEarly`). B-PRE-1
(R5 2C): a dose in the days before an infusion is allowed with a warning that must be
acknowledged. Conventions as in `infusion.services`: keyword-only, one transaction,
audited, reminders re-synced.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from functools import wraps

from django.conf import settings as django_settings
from django.db import transaction
from django.utils.translation import gettext as _

from core import audit
from infusion.engine import Finding, cyc_allowed_at

from .. import reminders
from ..models import Episode, EpisodeStatus, Order, OrderKind, SignatureMeaning
from ..planning import ORDER_RULES
from ..protocol import PRECONDITIONING_WINDOW_DAYS, protocol_settings, ward_zone
from ._common import (
    ORDER_AUDIT_FIELDS,
    ActionRefused,
    _check_lengths,
    _check_password,
    _check_schedule,
    _check_second_physician,
    _finding_summary,
    _local,
    _not_cancelled,
    _now,
    _require,
    _require_ward,
    _sign,
)


class CycStopped(ActionRefused):
    """B-CYC-1 stopped an order or a dose; the stop is audited once the write rolled back."""

    def __init__(self, check, *, actor, patient, order, action):
        super().__init__(check.message, code="cyc_hold", findings=check.findings)
        self.check, self.actor, self.patient, self.order, self.action = (
            check,
            actor,
            patient,
            order,
            action,
        )

    def record(self):
        with transaction.atomic():
            audit.record(
                "cyclophosphamide_stopped",
                actor=self.actor,
                object_type="infusion.Order" if self.order else "infusion.Episode",
                object_id=self.order.pk if self.order else "",
                patient_id=self.patient.pk,
                new={
                    "action": self.action,
                    "at": self.check.at,
                    "hold_until": self.check.hold_until,
                },
                reason="B-CYC-1",
            )


class CycEarly(ActionRefused):
    """C-CYC-2: an overridden cyclophosphamide order is given before the one time its
    override authorised (less the tolerance); audited, like a B-CYC-1 stop, once the write
    rolled back."""

    def __init__(self, *, order, at, earliest, hold_until, actor, action):
        super().__init__(
            _(
                "Refused: the override authorises cyclophosphamide at %(scheduled)s, not "
                "earlier than %(earliest)s (C-CYC-2); no cyclophosphamide within 48 h after the "
                "MSC infusion otherwise (B-CYC-1). Give it at the authorised time, or order a "
                "new time with a new override."
            )
            % {"scheduled": _local(order.scheduled_at), "earliest": _local(earliest)},
            code="cyc_early",
        )
        self.order, self.at, self.earliest, self.hold_until = order, at, earliest, hold_until
        self.actor, self.action = actor, action

    def record(self):
        with transaction.atomic():
            audit.record(
                "cyclophosphamide_stopped",
                actor=self.actor,
                obj=self.order,
                patient_id=self.order.patient_id,
                new={
                    "action": self.action,
                    "at": self.at,
                    "authorised_at": self.order.scheduled_at,
                    "earliest": self.earliest,
                    "hold_until": self.hold_until,
                },
                reason="C-CYC-2",
            )


def _records_cyc_stops(service):
    """Audit a B-CYC-1 or C-CYC-2 stop after the service's transaction has rolled back."""

    @wraps(service)
    def wrapper(*args, **kwargs):
        try:
            return service(*args, **kwargs)
        except (CycStopped, CycEarly) as stop:
            stop.record()
            raise

    return wrapper


@dataclass(frozen=True)
class CycCheck:
    allowed: bool
    at: object
    hold_until: object  # the latest hold end that refuses `at`, else the nearest hold end
    preconditioning: bool
    findings: tuple[Finding, ...]
    message: str

    @property
    def warnings(self):
        return tuple(f for f in self.findings if f.severity == "warning")


def cyclophosphamide_order_check(*, patient, at):
    """May cyclophosphamide be given to `patient` at `at`? Checked against every
    non-cancelled MSC episode of the patient (B-CYC-1), with the pre-conditioning warning
    for a dose in the days before an infusion (B-PRE-1, R5 2C). Nothing is written."""
    zone = ward_zone()
    settings = protocol_settings()
    allowed, hold, precon = True, None, False
    findings = []
    episodes = Episode.objects.filter(patient=patient).exclude(status=EpisodeStatus.CANCELLED)
    for ep in episodes.order_by("planned_start"):
        start = ep.infusion_start
        pre = start - timedelta(days=PRECONDITIONING_WINDOW_DAYS) <= at < start
        decision = cyc_allowed_at(
            ep.ended_at,
            at,
            planned_end=ep.planned_end,
            infusion_start=start,
            preconditioning=pre,
            settings=settings,
            display_zone=zone,
        )
        relevant = not decision.allowed or pre
        if relevant:
            findings.extend(decision.findings)
        if not decision.allowed:
            allowed = False
            if decision.hold_until and (hold is None or decision.hold_until > hold):
                hold = decision.hold_until
        elif allowed and decision.hold_until and (hold is None or at < decision.hold_until):
            hold = hold or decision.hold_until
        precon = precon or pre
    if allowed:
        message = _("Cyclophosphamide at %(at)s is allowed.") % {"at": _local(at)}
        if precon:
            message += " " + _(
                "Warning: pre-conditioning with cyclophosphamide before MSC is not recommended "
                "(B-PRE-1, R5 2C)."
            )
    else:
        message = _(
            "Stopped: no cyclophosphamide within 48 h after the MSC infusion (B-CYC-1). "
            "Allowed from %(until)s."
        ) % {"until": _local(hold) if hold else "?"}
    return CycCheck(
        allowed=allowed,
        at=at,
        hold_until=hold,
        preconditioning=precon,
        findings=tuple(findings),
        message=message,
    )


def _has_hold_override(order):
    return (
        bool(order.hold_override_reason)
        and order.signatures.filter(
            meaning=SignatureMeaning.HOLD_OVERRIDE, voided_at__isnull=True
        ).exists()
    )


def _cyc_guard(order, at, *, actor, action):
    """Refuse (and audit the stop) unless `at` is outside every hold (B-CYC-1) or the
    order's override authorised it: an override covers its scheduled time only, so `at`
    more than CYC_OVERRIDE_TOLERANCE_MINUTES before it is refused (C-CYC-2). Exactly the
    tolerance before is still allowed; any time after the scheduled one is too."""
    check = cyclophosphamide_order_check(patient=order.patient, at=at)
    if _has_hold_override(order) and order.scheduled_at is not None:
        earliest = order.scheduled_at - timedelta(
            minutes=django_settings.CYC_OVERRIDE_TOLERANCE_MINUTES
        )
        if at < earliest:
            raise CycEarly(
                order=order,
                at=at,
                earliest=earliest,
                hold_until=check.hold_until,
                actor=actor,
                action=action,
            )
        return check
    if check.allowed:
        return check
    raise CycStopped(check, actor=actor, patient=order.patient, order=order, action=action)


def cyclophosphamide_order_create(
    *,
    episode,
    actor,
    scheduled_at,
    dose_mg,
    note="",
    acknowledged=False,
    override_reason="",
    second_physician=None,
    second_password="",
):
    """A physician orders cyclophosphamide for the patient of `episode` (draft).

    Within 48 h after an MSC infusion it is stopped and the hold end shown; it may go ahead
    only with a reason and a second physician's signature (their password), audited.
    Before an infusion it is allowed with the pre-conditioning warning (R5), which must be
    acknowledged.
    """
    _require(actor, "infusion.sign_order")
    _require_ward(actor, episode.patient)
    _not_cancelled(episode)
    if dose_mg is None or Decimal(dose_mg) <= 0:
        raise ActionRefused(
            _("Give the dose in mg."), code="dose", field_errors={"dose_mg": [_("Required.")]}
        )
    override_reason = (override_reason or "").strip()
    _check_schedule(scheduled_at, what=_("The scheduled time"), field="scheduled_at")
    check = cyclophosphamide_order_check(patient=episode.patient, at=scheduled_at)
    if not check.allowed:
        if not override_reason or second_physician is None:
            stop = CycStopped(
                check, actor=actor, patient=episode.patient, order=None, action="order_create"
            )
            stop.record()
            raise stop
        _check_second_physician(actor, second_physician, episode.patient)
        _check_password(second_physician, second_password, obj=episode, action="cyc_hold_override")
    if check.warnings and not acknowledged:
        raise ActionRefused(check.message, code="acknowledgement_required", findings=check.warnings)
    now = _now()
    _check_lengths(note=note, override_reason=override_reason)
    with transaction.atomic():
        rule_ids = list(ORDER_RULES[OrderKind.CYCLOPHOSPHAMIDE])
        if check.preconditioning:
            rule_ids.append("B-PRE-1")
        order = Order(
            episode=episode,
            patient=episode.patient,
            kind=OrderKind.CYCLOPHOSPHAMIDE,
            drug="cyclophosphamide",
            dose=Decimal(dose_mg),
            dose_unit="mg",
            route="iv",
            scheduled_at=scheduled_at,
            rule_ids=rule_ids,
            instructions=[
                {"rule_id": f.rule_id, "template": f.reason_template, "params": f.reason_params}
                for f in check.findings
            ],
            note=(note or "").strip(),
            preconditioning=check.preconditioning,
            hold_override_reason=override_reason if not check.allowed else "",
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        order.save()
        audit.record(
            "order_create",
            actor=actor,
            obj=order,
            patient_id=order.patient_id,
            new={
                **audit.snapshot(order, ORDER_AUDIT_FIELDS),
                "cyc_check": _finding_summary(check.findings),
                "acknowledged": bool(check.warnings),
            },
        )
        if not check.allowed:
            signature = _sign(order, second_physician, SignatureMeaning.HOLD_OVERRIDE, now)
            audit.record(
                "cyclophosphamide_hold_override",
                actor=actor,
                obj=order,
                patient_id=order.patient_id,
                new={
                    "scheduled_at": scheduled_at,
                    "hold_until": check.hold_until,
                    "second_physician": second_physician.pk,
                    "second_signature": signature.pk,
                },
                reason=override_reason,
            )
        reminders.episode_reminders_sync(episode, actor=actor)
    return order
