"""The nurse's bedside chart of the MSC infusion.

Received, out of the refrigerator (B-ADM-2: 10–20 min before the start), start (the MSC
order verified; B-ADM-1: the infusion must end before the cold-chain hard limit unless a
deviation covers it; B-PREMED-1 dexamethasone warned), rate steps (B-ADM-4: ≤ 2 mL/min
for the first 5 min, never above 4 mL/min), end or stop (an early end needs the volume
given and a reason; the B-CYC-1 hold runs from the end), vital signs (B-ADM-5). Every
time is checked by C-TIME-1. Conventions as in `infusion.services`: keyword-only, one
transaction, audited, reminders re-synced.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from core import audit
from infusion.engine import end_status, plan_from_document

from .. import reminders
from ..models import (
    Administration,
    Episode,
    EpisodeStatus,
    OrderKind,
    OrderStatus,
    RateStep,
    VitalSigns,
)
from ..protocol import VITAL_FIELDS, protocol_settings, vital_ranges, ward_zone
from ._common import (
    ActionRefused,
    _check_lengths,
    _check_time,
    _close_order,
    _enqueue,
    _local,
    _lock_episode,
    _lock_not_started,
    _lock_running,
    _not_cancelled,
    _now,
    _require,
    _require_ward,
    _transition,
)
from .orders import live_cold_chain_deviation

RATE_MAX_ML_PER_MIN = Decimal(4)  # B-ADM-4: never above 4 mL/min
INITIAL_RATE_MAX_ML_PER_MIN = Decimal(2)  # B-ADM-4: ≤ 2 mL/min for the first 5 min at least
INITIAL_PHASE_MIN = timedelta(minutes=5)


def _chart_write(episode, actor, at, what):
    _require(actor, "infusion.chart_infusion")
    _require_ward(actor, episode.patient)
    _check_time(at, patient=episode.patient, what=what)


def _check_chart_time(at, episode, what, **bounds):
    """C-TIME-1 for a time on the chart: never before the product's preparation either."""
    _check_time(
        at, patient=episode.patient, what=what, prepared_at=episode.preparation_time, **bounds
    )


def _set_chart_time(episode, *, actor, action, field_name, by_field, at, extra=None):
    old = {field_name: getattr(episode, field_name)}
    setattr(episode, field_name, at)
    setattr(episode, by_field, actor)
    episode.updated_at = _now()
    episode.save()
    audit.record(
        action,
        actor=actor,
        obj=episode,
        patient_id=episode.patient_id,
        old=old,
        new={field_name: at, **(extra or {})},
    )


def infusion_record_received(*, episode, actor, at=None):
    at = at or _now()
    _chart_write(episode, actor, at, _("The time received"))
    with transaction.atomic():
        episode = _lock_not_started(episode)
        _check_chart_time(at, episode, _("The time received"))
        _set_chart_time(
            episode,
            actor=actor,
            action="infusion_received",
            field_name="received_at",
            by_field="received_by",
            at=at,
        )
        reminders.episode_reminders_sync(episode, actor=actor)
    return episode


def infusion_record_out_of_fridge(*, episode, actor, at=None):
    """B-ADM-2: the suspension leaves the refrigerator 10–20 min before the start."""
    at = at or _now()
    _chart_write(episode, actor, at, _("The time out of the refrigerator"))
    with transaction.atomic():
        episode = _lock_not_started(episode)
        if episode.received_at is None:
            raise ActionRefused(_("Record that the product was received first."), code="order")
        _check_chart_time(
            at,
            episode,
            _("The time out of the refrigerator"),
            not_before=(episode.received_at, _("the product was received")),
        )
        _set_chart_time(
            episode,
            actor=actor,
            action="infusion_out_of_fridge",
            field_name="out_of_fridge_at",
            by_field="out_of_fridge_by",
            at=at,
        )
        reminders.episode_reminders_sync(episode, actor=actor)
    return episode


@dataclass(frozen=True)
class StartResult:
    episode: Episode
    warnings: tuple[str, ...]


def infusion_start(*, episode, actor, at=None):
    """Start the MSC infusion: the MSC order is administered, the first rate recorded.

    Refused when the MSC order is not verified, when the out-of-fridge time is missing,
    or when the infusion could not end before the cold-chain hard limit (B-ADM-1).
    Warnings (an end after the cold-chain "late from" time, room-temperature time outside
    10–20 min, dexamethasone not recorded as given) are returned and audited.
    """
    at = at or _now()
    _chart_write(episode, actor, at, _("The start time"))
    settings = protocol_settings()
    from infusion.engine import check_out_of_fridge

    with transaction.atomic():
        episode = _lock_not_started(episode)
        msc = (
            episode.orders.filter(kind=OrderKind.MSC_IV)
            .exclude(status__in=(OrderStatus.CANCELLED, OrderStatus.REJECTED))
            .first()
        )
        if msc is None or msc.status != OrderStatus.VERIFIED:
            raise ActionRefused(
                _("The MSC order must be signed and verified before the infusion starts."),
                code="not_verified",
            )
        if episode.out_of_fridge_at is None:
            raise ActionRefused(
                _("Record when the suspension left the refrigerator first (B-ADM-2)."),
                code="order",
            )
        # B-ADM-2: a start before the recorded out-of-fridge time is a handling error.
        _check_chart_time(
            at,
            episode,
            _("The start time"),
            not_before=(episode.out_of_fridge_at, _("the suspension left the refrigerator")),
        )
        duration = (
            (episode.planned_end - episode.planned_start) if episode.planned_end else timedelta()
        )
        projected_end = at + duration
        end = end_status(
            projected_end, episode.cold_chain_late_from, episode.cold_chain_must_complete_by
        )
        warnings = []
        deviation = live_cold_chain_deviation(episode) if end == "refused" else None
        if end == "refused" and (
            deviation is None or not deviation.complete or projected_end > deviation.until
        ):
            raise ActionRefused(
                _(
                    "Starting at %(at)s the infusion would end at %(end)s, after the cold-chain "
                    "limit %(limit)s (B-ADM-1): do not start; contact the physician and the "
                    "cell-processing lab (a deviation needs the pharmacist's viability "
                    "confirmation and the physician's reasoned deviation)."
                )
                % {
                    "at": _local(at),
                    "end": _local(projected_end),
                    "limit": _local(episode.cold_chain_must_complete_by),
                },
                code="cold_chain",
            )
        if end == "refused":
            # B-ADM-1 / C-OVR-1: inside a recorded deviation; the nurse is told whose.
            warnings.append(
                _(
                    "Ends at %(end)s, after the cold-chain limit %(limit)s: allowed up to "
                    "%(until)s by the deviation of %(physician)s (viability confirmed by "
                    "%(pharmacist)s)."
                )
                % {
                    "end": _local(projected_end),
                    "limit": _local(episode.cold_chain_must_complete_by),
                    "until": _local(deviation.until),
                    "physician": deviation.recorded_by_name,
                    "pharmacist": deviation.viability_by_name,
                }
            )
        if end == "late":
            # B-ADM-1: generally complete within 8–12 h of preparation; past the "late from"
            # time the start is allowed (the hard limit above refuses) but the nurse is told.
            warnings.append(
                _(
                    "Starting at %(at)s the infusion would end at %(end)s, more than %(hours)s h "
                    "after preparation (late from %(late)s, B-ADM-1); it must be complete by "
                    "%(limit)s."
                )
                % {
                    "at": _local(at),
                    "end": _local(projected_end),
                    "hours": f"{settings.late_warning_minutes / 60:g}",
                    "late": _local(episode.cold_chain_late_from),
                    "limit": _local(episode.cold_chain_must_complete_by),
                }
            )
        fridge = check_out_of_fridge(
            episode.out_of_fridge_at, at, settings, display_zone=ward_zone()
        )
        if fridge.severity == "warning":
            warnings.append(_translated(fridge))
        dexa = episode.orders.filter(kind=OrderKind.DEXAMETHASONE).exclude(
            status__in=(OrderStatus.CANCELLED, OrderStatus.REJECTED)
        )
        if not Administration.objects.filter(order__in=dexa).exists():
            warnings.append(
                _(
                    "Dexamethasone 5 mg IV is not recorded as given before the start (B-PREMED-1, R7 2C)."
                )
            )
        first_rate = Decimal(msc.rate_plan[0]["rate_ml_per_min"]) if msc.rate_plan else Decimal(2)
        now = _now()
        episode.status = EpisodeStatus.IN_PROGRESS
        _set_chart_time(
            episode,
            actor=actor,
            action="infusion_start",
            field_name="started_at",
            by_field="started_by",
            at=at,
            extra={"status": EpisodeStatus.IN_PROGRESS, "warnings": warnings},
        )
        step = RateStep.objects.create(
            episode=episode, at=at, rate_ml_per_min=first_rate, recorded_by=actor, recorded_at=now
        )
        audit.record(
            "infusion_rate",
            actor=actor,
            obj=step,
            patient_id=episode.patient_id,
            new={"at": at, "rate_ml_per_min": first_rate},
        )
        given = Administration.objects.create(
            order=msc,
            episode=episode,
            given_at=at,
            given_by=actor,
            dose=msc.dose,
            dose_unit=msc.dose_unit,
            recorded_at=now,
        )
        audit.record(
            "order_administer",
            actor=actor,
            obj=given,
            patient_id=episode.patient_id,
            new={"order": msc.pk, "given_at": at, "dose": msc.dose, "dose_unit": msc.dose_unit},
        )
        _transition(
            msc,
            actor=actor,
            action="order_status",
            new_status=OrderStatus.ADMINISTERED,
            now=now,
            extra={"administration": given.pk},
        )
        reminders.episode_reminders_sync(episode, actor=actor)
    return StartResult(episode, tuple(warnings))


def _translated(finding):
    try:
        return _(finding.reason_template) % finding.reason_params
    except (KeyError, ValueError, TypeError):
        return finding.reason


def infusion_rate_step(*, episode, actor, rate_ml_per_min, at=None):
    """B-ADM-4: ≤ 2 mL/min for the first 5 min (at least), never above 4 mL/min."""
    at = at or _now()
    _chart_write(episode, actor, at, _("The time of the rate change"))
    rate = Decimal(rate_ml_per_min)
    with transaction.atomic():
        episode = _lock_running(episode)
        _check_chart_time(
            at,
            episode,
            _("The time of the rate change"),
            not_before=(episode.started_at, _("the start")),
        )
        if rate <= 0:
            raise ActionRefused(
                _("The rate must be above 0 mL/min; to stop, record the end."), code="rate"
            )
        if rate > RATE_MAX_ML_PER_MIN:
            raise ActionRefused(
                _("%(rate)s mL/min is above the maximum of 4 mL/min (B-ADM-4).") % {"rate": rate},
                code="rate",
            )
        if rate > INITIAL_RATE_MAX_ML_PER_MIN and at < episode.started_at + INITIAL_PHASE_MIN:
            raise ActionRefused(
                _(
                    "Keep the rate at or below 2 mL/min for the first 5–10 min (B-ADM-4); a "
                    "step-up is possible from %(from)s."
                )
                % {"from": _local(episode.started_at + INITIAL_PHASE_MIN)},
                code="rate",
            )
        previous = episode.rate_steps.order_by("-at", "-pk").first()
        step = RateStep.objects.create(
            episode=episode, at=at, rate_ml_per_min=rate, recorded_by=actor, recorded_at=_now()
        )
        audit.record(
            "infusion_rate",
            actor=actor,
            obj=step,
            patient_id=episode.patient_id,
            old={"rate_ml_per_min": previous.rate_ml_per_min if previous else None},
            new={"at": at, "rate_ml_per_min": rate},
        )
        reminders.episode_reminders_sync(episode, actor=actor)
    return step


def infusion_end(*, episode, actor, at=None, stopped=False, reason="", volume_given_ml=None):
    """End (or stop) the infusion. The cyclophosphamide hold now runs from this end.

    An end before the suspension volume could have run in at the charted rates (issue 15,
    B-ADM-4) needs the volume actually given and a reason, "stopped early" or "completed"
    alike; without them it is refused. That volume is kept in the audit event.
    """
    at = at or _now()
    _chart_write(episode, actor, at, _("The end time"))
    reason = (reason or "").strip()
    if stopped and not reason:
        raise ActionRefused(_("Give the reason for stopping the infusion."), code="reason")
    _check_lengths(reason=reason)
    with transaction.atomic():
        episode = _lock_running(episode)
        # C-TIME-1: an end strictly after its start (an end at the start instant is
        # refused: nothing was infused), never before the preparation.
        _check_chart_time(
            at, episode, _("The end time"), after=(episode.started_at, _("the start"))
        )
        early = _early_end(episode, at, stopped=stopped, reason=reason, volume=volume_given_ml)
        before = audit.snapshot(episode, ("status", "ended_at", "cyc_hold_until", "planned_end"))
        now = _now()
        document = dict(episode.plan_input)
        # B-ADM-2 is measured to the recorded start (infusion.bedside.room_temperature), not
        # by the plan against the planned start: the out-of-fridge time stays off the plan.
        document["order"] = {**document["order"], "actual_infusion_end": at.isoformat()}
        document["order"].pop("out_of_fridge_at", None)
        plan, errors = plan_from_document(document, protocol_settings())
        if plan is not None:  # the stored input was valid when opened; keep it in step
            episode.plan_input = document
            episode.plan = plan.to_dict()
            episode.cyc_hold_until = plan.cyclophosphamide.hold_until
        else:  # pragma: no cover - defensive; the hold still follows the actual end
            episode.cyc_hold_until = at + timedelta(
                hours=protocol_settings().cyclophosphamide_hold_hours
            )
        episode.ended_at, episode.ended_by = at, actor
        episode.stopped_early, episode.stop_reason = stopped, reason
        if early.get("volume_given_ml") is not None:
            episode.volume_given_ml = Decimal(early["volume_given_ml"])
        episode.status = EpisodeStatus.INFUSED
        episode.updated_at = now
        episode.save()
        past_limit = (
            end_status(at, episode.cold_chain_late_from, episode.cold_chain_must_complete_by)
            == "refused"
        )
        audit.record(
            "infusion_stop" if stopped else "infusion_end",
            actor=actor,
            obj=episode,
            patient_id=episode.patient_id,
            old=before,
            new={
                **audit.snapshot(
                    episode, ("status", "ended_at", "cyc_hold_until", "volume_given_ml")
                ),
                "after_cold_chain_limit": past_limit,
                **early,
            },
            reason=reason,
        )
        for order in episode.orders.filter(
            kind__in=(OrderKind.MSC_IV, OrderKind.MSC_INTRATHECAL), status=OrderStatus.ADMINISTERED
        ):
            _close_order(order, OrderStatus.COMPLETED, actor=actor, reason=reason, now=now)
        reminders.episode_reminders_sync(episode, actor=actor)
        _enqueue("prerender_order_sheet", episode.pk)
    return episode


EARLY_END_TOLERANCE = timedelta(minutes=1)  # charted to the minute


def _early_end(episode, at, *, stopped, reason, volume):
    """The audit fields of an early end; refuses one without the volume and a reason."""
    from infusion.engine.infused import earliest_complete_end, volume_infused_ml

    total = episode.suspension_volume_ml
    steps = [(s.at, s.rate_ml_per_min) for s in episode.rate_steps.all()]
    complete_at = earliest_complete_end(steps, total) if total else None
    if complete_at is None or at >= complete_at - EARLY_END_TOLERANCE:
        if volume is None:
            return {}
        return {"volume_given_ml": str(volume)}
    at_rates = volume_infused_ml(steps, at).quantize(Decimal(1))
    errors = {}
    if volume is None:
        errors["volume_given_ml"] = [_("Give the volume actually given (mL).")]
    elif not 0 <= Decimal(volume) <= total:
        errors["volume_given_ml"] = [
            _("Between 0 and %(total)s mL.") % {"total": f"{total.normalize():f}"}
        ]
    if not reason:
        errors["reason"] = [
            _("Say why: stopped early (tick the box), or completed sooner than charted.")
        ]
    if errors:
        raise ActionRefused(
            _(
                "At the charted rates %(total)s mL cannot have run in by %(end)s (about "
                "%(ml)s mL; complete at %(complete)s at the earliest). Give the volume actually "
                "given and the reason."
            )
            % {
                "total": f"{total.normalize():f}",
                "end": _local(at),
                "ml": at_rates,
                "complete": _local(complete_at),
            },
            code="early_end",
            field_errors=errors,
        )
    return {
        "early_end": True,
        "volume_given_ml": str(Decimal(volume)),
        "volume_at_charted_rates_ml": str(at_rates),
        "complete_at_charted_rates": complete_at,
        "outcome": "stopped" if stopped else "completed",
    }


def vitals_record(*, episode, actor, at=None, values, on_demand=False):
    """B-ADM-5: respiration, pulse, blood pressure, SpO₂, temperature; out-of-range flagged."""
    at = at or _now()
    _chart_write(episode, actor, at, _("The time of the observation"))
    ranges = vital_ranges()
    clean = {}
    errors = {}
    for name in VITAL_FIELDS:
        value = values.get(name)
        if value in (None, ""):
            continue
        value = Decimal(value)
        r = ranges[name]
        if not r.plausible_low <= value <= r.plausible_high:
            errors[name] = [
                _("%(value)s is not a plausible value (%(low)s–%(high)s).")
                % {"value": value, "low": r.plausible_low, "high": r.plausible_high}
            ]
        clean[name] = value if name == "temperature_c" else int(value)
    if errors:
        raise ActionRefused(_("Check the values."), code="vitals", field_errors=errors)
    if not clean:
        raise ActionRefused(_("Enter at least one vital sign."), code="vitals")
    flagged = [name for name, value in clean.items() if ranges[name].out_of_range(value)]
    with transaction.atomic():
        episode = _lock_episode(episode)
        _not_cancelled(episode)
        record = VitalSigns.objects.create(
            episode=episode,
            at=at,
            out_of_range=flagged,
            on_demand=on_demand,
            recorded_by=actor,
            recorded_at=_now(),
            **clean,
        )
        audit.record(
            "vitals_record",
            actor=actor,
            obj=record,
            patient_id=episode.patient_id,
            new={"at": at, **clean, "out_of_range": flagged, "on_demand": on_demand},
        )
        reminders.episode_reminders_sync(episode, actor=actor)
    return record
