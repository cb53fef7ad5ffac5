"""MSC episodes: the plan preview, open, change, cancel, the follow-up.

Rules: the plan from the engine (`plan_from_document`: B-IND-*, B-CI-*, B-DOSE-1, B-AP-1,
B-REP-1…); C-OVR-1 (a "not recommended" candidacy, a repeat infusion that is not
"eligible" (B-REP-1) or an antiplatelet course below the platelet floor (B-AP-1) proceed
only with a reason and a second physician's password signature); one active episode per
patient; the generated orders kept in step with the plan (edited orders lose their
signatures); B-AP-1/C-MAR-1 (a course whose first day is past starts today on request);
B-REP-1 follow-up (response and relapse after an infusion).

Conventions as in `infusion.services`: keyword-only, one transaction, audited, reminders
re-synced.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit
from core.models import Patient
from infusion.engine import plan_from_document
from infusion.engine.verification import antiplatelet_check, candidacy_check

from .. import doses, reminders, selectors
from ..inputs import EPISODE_FIELDS, build_document, record_values
from ..models import Episode, EpisodeStatus, Order, OrderKind, OrderStatus
from ..planning import planned_orders, same_content
from ..protocol import protocol_settings, ward_zone
from ._common import (
    NOT_GIVEN,
    ORDER_AUDIT_FIELDS,
    ActionRefused,
    InvalidPlanInput,
    _apply_plan,
    _check_lengths,
    _check_password,
    _check_second_physician,
    _close_order,
    _edit,
    _finding_summary,
    _local,
    _lock_episode,
    _now,
    _record_override,
    _require,
    _require_ward,
    _required_text,
)
from .consent import consent_of

# Candidacy rules: a "not recommended" verdict from these may be overridden with a reason.
CANDIDACY_RULES = (
    "B-IND-1",
    "B-IND-2",
    "B-IND-3",
    "B-IND-4",
    "B-IND-5",
    "B-CI-1",
    "B-CI-2",
    "B-CI-3",
)
# C-OVR-1: findings that proceed only with a reason and a second physician's signature.
# B-REP-1: a repeat infusion whose verdict is not "eligible" (no documented response, no
# relapse after it) is never blocked outright nor passed silently: "otherwise the engine's
# verdict stands (override per C-OVR-1)" (issue 14).
SECOND_SIGNATURE_RULES = ("B-CI-1", "B-CI-2", "B-CI-3", "B-IND-2", "B-REP-1")
# The B-REP-1 verdicts that need that override (the engine's RepeatEligibility.status).
REPEAT_OVERRIDE_STATUSES = ("not_eligible", "unknown")
EPISODE_AUDIT_FIELDS = (
    "status",
    "plan_status",
    "candidacy_overall",
    "release_status",
    "product_lot",
    "preparation_time",
    "planned_start",
    "planned_end",
    "weight_kg",
    "dose_cells",
    "dose_per_kg_e6",
    "suspension_volume_ml",
    "cyc_hold_until",
    "override_reason",
)


class DuplicateEpisode(ActionRefused):
    """The patient already has a planned or running episode (`existing`); one at a time."""

    def __init__(self, existing):
        super().__init__(
            _(
                "This patient already has an active MSC episode (#%(pk)s, %(status)s, planned "
                "start %(start)s): continue with that one, or cancel it before opening another."
            )
            % {
                "pk": existing.pk,
                "status": existing.get_status_display().lower(),
                "start": _local(existing.planned_start),
            },
            code="duplicate_episode",
        )
        self.existing = existing


def _refuse_duplicate(patient):
    """One active episode per patient: a second planned one would double the MSC and the
    antiplatelet course, and its B-REP-1 check would not see the first (not yet infused)."""
    existing = selectors.active_episode(patient)
    if existing is not None:
        raise DuplicateEpisode(existing)


@dataclass
class PlanPreview:
    plan: object | None
    document: dict
    errors: list
    record: object
    needs_override: bool = False
    blocking: list = field(default_factory=list)
    to_acknowledge: list = field(default_factory=list)
    # C-OVR-1: findings that proceed only with a reason and a second physician's signature.
    needs_second_signature: bool = False
    second_signature_findings: list = field(default_factory=list)
    candidacy_check: object | None = None  # engine VerificationCheck "candidacy"
    # B-AP-1 / C-OVR-1: the failing "antiplatelet" check a course below the platelet floor
    # is (issue 19); the second physician's override is recorded against it.
    antiplatelet_check: object | None = None
    course_start_past: object | None = None  # B-AP-1: the course's first day is past


def episode_preview(*, patient, data, consent=None):
    """The plan the episode form would produce (nothing written); `consent` is the
    episode's consent record when changing an episode that has one (B-CONSENT-1)."""
    record = record_values(patient)
    document = build_document(record, data, consent)
    plan, errors = plan_from_document(document, protocol_settings())
    preview = PlanPreview(plan=plan, document=document, errors=errors, record=record)
    if plan is not None:
        preview.needs_override = plan.candidacy.overall in ("not_recommended", "incomplete")
        preview.blocking = [
            f
            for f in plan.findings
            if f.severity == "block"
            and f.rule_id not in CANDIDACY_RULES
            and f.rule_id not in SECOND_SIGNATURE_RULES
        ]
        # B-REP-1: a repeat that is not "eligible" is neither blocked nor silent (C-OVR-1).
        repeat = plan.repeat_infusion
        if repeat is not None and repeat.status in REPEAT_OVERRIDE_STATUSES:
            preview.needs_second_signature = True
            preview.second_signature_findings.append(repeat.finding)
        preview.to_acknowledge = [
            f
            for f in plan.findings
            if f.requires_acknowledgement
            or (f.severity == "warning" and f.rule_id not in CANDIDACY_RULES)
        ]
        # B-AP-1 / C-MAR-1: a course whose first day is already past is shown and warned.
        preview.course_start_past = doses.course_start_finding(plan, timezone.localdate())
        if preview.course_start_past is not None:
            preview.to_acknowledge.append(preview.course_start_past)
        # C-OVR-1 / C-VERIFY-1: one decision, the same check the pharmacist's verify reads.
        preview.candidacy_check = candidacy_check(
            plan.candidacy.overall, repeat.status if repeat is not None else None
        )
        if plan.antiplatelet.below_floor and plan.antiplatelet.status == "course":
            preview.antiplatelet_check = antiplatelet_check(
                long_term=False, has_antiplatelet=True, below_floor=True
            )
            preview.needs_second_signature = True
            preview.second_signature_findings.extend(
                f for f in plan.antiplatelet.findings if f.status == "below_floor_override"
            )
        preview.needs_override = (
            preview.candidacy_check.status == "failed" or preview.antiplatelet_check is not None
        )
    return preview


def _gate(
    preview,
    *,
    override_reason,
    acknowledged,
    actor=None,
    patient=None,
    second_physician=None,
    second_password="",
):
    if preview.errors:
        raise InvalidPlanInput(preview.errors)
    dose = preview.plan.dose
    if not dose.ordered_cells:
        # The preview may go without a dose (it shows the range); an episode may not: the
        # plan drafts no MSC order without one (planning.planned_orders).
        message = _(
            "Give the MSC dose: without it no MSC infusion order can be drafted (B-DOSE-1)."
        )
        if dose.min_cells and dose.max_cells:
            message = _(
                "Give the MSC dose: without it no MSC infusion order can be drafted; for "
                "%(kg)s kg the range is %(min_e6)s–%(max_e6)s × 10⁶ cells (1–2 × 10⁶/kg, "
                "B-DOSE-1, R3 1B)."
            ) % {
                "kg": format(Decimal(dose.weight_kg).normalize(), "f"),
                "min_e6": format((Decimal(dose.min_cells) / 1_000_000).normalize(), "f"),
                "max_e6": format((Decimal(dose.max_cells) / 1_000_000).normalize(), "f"),
            }
        raise ActionRefused(
            message,
            code="dose",
            findings=[f for f in dose.findings if f.rule_id == "B-DOSE-1"],
            field_errors={"dose_cells": [_("Required.")]},
        )
    if preview.blocking:
        raise ActionRefused(
            _("The plan is blocked; correct the inputs first."),
            code="blocked",
            findings=preview.blocking,
        )
    if preview.needs_override and (not override_reason or second_physician is None):
        raise ActionRefused(
            _(
                "The candidacy check says %(overall)s: to continue, give a reason and the "
                "signature of a second physician (C-OVR-1; both are kept in the audit trail)."
            )
            % {"overall": _override_subject(preview)},
            code="override_required",
            findings=[
                *(f for f in preview.plan.candidacy.findings if f.severity in ("block", "unknown")),
                *preview.second_signature_findings,
            ],
        )
    if preview.needs_override:
        _check_second_physician(actor, second_physician, patient)
        _check_password(second_physician, second_password, obj=patient, action="candidacy_override")
    if preview.to_acknowledge and not acknowledged:
        raise ActionRefused(
            _("Read and acknowledge the warnings and cautions first."),
            code="acknowledgement_required",
            findings=preview.to_acknowledge,
        )


def _override_subject(preview):
    overall = preview.plan.candidacy.overall.replace("_", " ")
    repeat = preview.plan.repeat_infusion
    if repeat is not None and repeat.status != "eligible":
        overall = _("%(overall)s; repeat infusion %(repeat)s (B-REP-1)") % {
            "overall": overall,
            "repeat": repeat.status.replace("_", " "),
        }
    if preview.antiplatelet_check is not None:
        overall = _("%(overall)s; antiplatelet course below the ward's platelet floor (B-AP-1)") % {
            "overall": overall
        }
    return overall


def _record_overrides(episode, preview, *, actor, second, reason, now, extra):
    """The C-OVR-1 overrides an episode form asked for: the candidacy check when it fails,
    the antiplatelet course below the platelet floor (B-AP-1) when planned."""
    if preview.candidacy_check.status == "failed":
        _record_override(
            episode,
            preview.candidacy_check,
            action="candidacy_override",
            actor=actor,
            second=second,
            reason=reason,
            now=now,
            extra=extra,
        )
    if preview.antiplatelet_check is not None:
        platelets = preview.plan.antiplatelet
        _record_override(
            episode,
            preview.antiplatelet_check,
            action="antiplatelet_floor_override",
            actor=actor,
            second=second,
            reason=reason,
            now=now,
            extra={
                "findings": _finding_summary(
                    [f for f in platelets.findings if f.status == "below_floor_override"]
                )
            },
        )


def _clean_data(data):
    return {name: data.get(name) for name in EPISODE_FIELDS}


def episode_open(
    *,
    patient,
    actor,
    data,
    override_reason="",
    acknowledged=False,
    second_physician=None,
    second_password="",
    antiplatelet_from_today=False,
):
    """A physician opens an MSC episode: candidacy and plan recorded, orders drafted.

    ``antiplatelet_from_today``: the course's planned first day (day −1) is already past
    and the physician starts it today instead (B-AP-1, C-MAR-1); without it such a plan
    is opened only acknowledged, as planned (its past days then show as missed).
    """
    _require(actor, "infusion.add_episode")
    _require_ward(actor, patient)
    _refuse_duplicate(patient)
    data = _clean_data(data)
    override_reason = (override_reason or "").strip()
    preview = episode_preview(patient=patient, data=data)
    _gate(
        preview,
        override_reason=override_reason,
        acknowledged=acknowledged,
        actor=actor,
        patient=patient,
        second_physician=second_physician,
        second_password=second_password,
    )
    plan = preview.plan
    now = _now()
    _check_lengths(override_reason=override_reason)
    with transaction.atomic():
        # Two physicians opening at once: the patient row is the lock, the check re-read.
        Patient.objects.select_for_update().filter(pk=patient.pk).first()
        _refuse_duplicate(patient)
        episode = Episode(
            patient=patient,
            opened_by=actor,
            opened_at=now,
            updated_at=now,
            plan_input=preview.document,
            override_reason=override_reason if preview.needs_override else "",
            acknowledged=_finding_summary(preview.to_acknowledge),
            product_lot=(data.get("product_lot") or "").strip(),
        )
        _apply_plan(episode, plan)
        episode.save()
        audit.record(
            "episode_open",
            actor=actor,
            obj=episode,
            patient=patient,
            new={
                **audit.snapshot(episode, EPISODE_AUDIT_FIELDS),
                "candidacy": _finding_summary(plan.candidacy.findings),
                "acknowledged": episode.acknowledged,
            },
        )
        if preview.needs_override:
            _record_overrides(
                episode,
                preview,
                actor=actor,
                second=second_physician,
                reason=override_reason,
                now=now,
                extra={
                    "candidacy": plan.candidacy.overall,
                    "findings": _finding_summary(
                        [
                            *(
                                f
                                for f in plan.candidacy.findings
                                if f.severity in ("block", "unknown")
                            ),
                            *preview.second_signature_findings,
                        ]
                    ),
                },
            )
        course_from = None
        if antiplatelet_from_today and preview.course_start_past is not None:
            course_from = timezone.localdate()
            audit.record(
                "antiplatelet_start_today",
                actor=actor,
                obj=episode,
                patient=patient,
                old={"first_day": plan.antiplatelet.first_day},
                new={"first_day": course_from},
                reason="planned first day already past (B-AP-1)",
            )
        _sync_orders(episode, plan, data, actor=actor, now=now, course_from=course_from)
        reminders.episode_reminders_sync(episode, actor=actor)
    return episode


def episode_update(
    *,
    episode,
    actor,
    data,
    reason,
    override_reason="",
    acknowledged=False,
    second_physician=None,
    second_password="",
):
    """Change the inputs of a planned episode (e.g. move the start, the certificate arrived).

    The plan is rebuilt; generated orders whose content changes are edited (their
    signatures are voided), new ones are drafted, ones no longer in the plan cancelled,
    and the reminders move.
    """
    _require(actor, "infusion.change_episode")
    _require_ward(actor, episode.patient)
    reason = _required_text(reason, field="reason", message=_("Give a reason for the change."))
    data = _clean_data(data)
    override_reason = (override_reason or "").strip()
    preview = episode_preview(patient=episode.patient, data=data, consent=consent_of(episode))
    _gate(
        preview,
        override_reason=override_reason,
        acknowledged=acknowledged,
        actor=actor,
        patient=episode.patient,
        second_physician=second_physician,
        second_password=second_password,
    )
    plan = preview.plan
    now = _now()
    _check_lengths(reason=reason, override_reason=override_reason)
    with transaction.atomic():
        episode = _lock_episode(episode)
        if episode.status != EpisodeStatus.PLANNED:
            raise ActionRefused(
                _("Only a planned episode can be changed; this one is %(status)s.")
                % {"status": episode.get_status_display().lower()},
                code="episode_closed",
            )
        before = audit.snapshot(episode, EPISODE_AUDIT_FIELDS)
        old_input = episode.plan_input
        episode.plan_input = preview.document
        episode.override_reason = override_reason if preview.needs_override else ""
        episode.acknowledged = _finding_summary(preview.to_acknowledge)
        episode.product_lot = (data.get("product_lot") or "").strip()
        episode.updated_at = now
        _apply_plan(episode, plan)
        episode.save()
        old, new = audit.diff(before, audit.snapshot(episode, EPISODE_AUDIT_FIELDS))
        in_old, in_new = audit.diff(_flatten(old_input), _flatten(preview.document))
        audit.record(
            "episode_update",
            actor=actor,
            obj=episode,
            patient=episode.patient,
            old={**old, "input": in_old},
            new={**new, "input": in_new},
            reason=reason,
        )
        if preview.needs_override:
            _record_overrides(
                episode,
                preview,
                actor=actor,
                second=second_physician,
                reason=override_reason,
                now=now,
                extra={"candidacy": plan.candidacy.overall},
            )
        _sync_orders(episode, plan, data, actor=actor, now=now, reason=reason)
        reminders.episode_reminders_sync(episode, actor=actor, reason=reason)
    return episode


def _flatten(doc, prefix=""):
    out = {}
    for key, value in (doc or {}).items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            out.update(_flatten(value, path))
        else:
            out[path] = value
    return out


def _sync_orders(episode, plan, data, *, actor, now, reason="", course_from=None):
    """Make the generated orders match the plan (cyclophosphamide orders are separate).

    ``course_from``: the antiplatelet course starts that day, not on its planned day −1
    (already past when the episode was opened; B-AP-1, C-MAR-1).
    """
    wanted = planned_orders(plan, data)
    if course_from is not None and OrderKind.ANTIPLATELET in wanted:
        wanted[OrderKind.ANTIPLATELET] = {
            **wanted[OrderKind.ANTIPLATELET],
            "first_day": course_from,
        }
    current = {
        o.kind: o
        for o in episode.orders.exclude(kind=OrderKind.CYCLOPHOSPHAMIDE).exclude(
            status__in=(OrderStatus.REJECTED, OrderStatus.CANCELLED)
        )
    }
    for kind, content in wanted.items():
        order = current.get(kind)
        if order is None:
            order = Order(
                episode=episode,
                patient=episode.patient,
                kind=kind,
                created_by=actor,
                created_at=now,
                updated_at=now,
                **content,
            )
            order.save()
            audit.record(
                "order_create",
                actor=actor,
                obj=order,
                patient_id=order.patient_id,
                new=audit.snapshot(order, ORDER_AUDIT_FIELDS),
                reason=reason,
            )
        elif order.status in NOT_GIVEN:
            if not same_content(order, content):
                _edit(order, content, actor=actor, reason=reason or "plan changed", now=now)
    for kind, order in current.items():
        if kind not in wanted and order.status in NOT_GIVEN:
            _close_order(
                order, OrderStatus.CANCELLED, actor=actor, reason="no longer in the plan", now=now
            )


def episode_cancel(*, episode, actor, reason):
    """Cancel a planned episode: its open orders are cancelled and its reminders too."""
    _require(actor, "infusion.change_episode")
    _require_ward(actor, episode.patient)
    reason = _required_text(
        reason, field="reason", message=_("Give a reason for cancelling."), limit=True
    )
    now = _now()
    with transaction.atomic():
        episode = _lock_episode(episode)
        if episode.status != EpisodeStatus.PLANNED:
            raise ActionRefused(
                _("Only a planned episode can be cancelled; this one is %(status)s.")
                % {"status": episode.get_status_display().lower()},
                code="episode_closed",
            )
        for order in episode.orders.filter(status__in=NOT_GIVEN):
            _close_order(order, OrderStatus.CANCELLED, actor=actor, reason=reason, now=now)
        episode.status = EpisodeStatus.CANCELLED
        episode.cancelled_at, episode.cancelled_by, episode.cancel_reason = now, actor, reason
        episode.updated_at = now
        episode.save()
        audit.record(
            "episode_cancel",
            actor=actor,
            obj=episode,
            patient=episode.patient,
            old={"status": EpisodeStatus.PLANNED},
            new={"status": EpisodeStatus.CANCELLED},
            reason=reason,
        )
        reminders.episode_reminders_cancel(episode, actor=actor, reason=reason)
    return episode


FOLLOW_UP_FIELDS = ("response", "response_date", "relapse", "relapse_date")


def episode_follow_up_record(
    *, episode, actor, response, response_date, relapse, relapse_date, reason=""
):
    """A physician documents the response to an infusion and a later relapse (B-REP-1,
    R10 2B); a repeat infusion reads them from the latest infused episode
    (`inputs.prior_infusion`).

    Only for an infused episode. Dates are ward days, not in the future; the response is
    dated on or after the infusion day (the ward day of the recorded end); a relapse needs
    a documented response and a date after it. Changing a value already documented needs
    a reason. Audited with the old and the new values.
    """
    _require(actor, "infusion.change_episode")
    _require_ward(actor, episode.patient)
    reason = (reason or "").strip()
    zone = ward_zone()
    today = timezone.localtime(_now(), zone).date()
    _check_lengths(reason=reason)
    with transaction.atomic():
        episode = _lock_episode(episode)
        if episode.status != EpisodeStatus.INFUSED or episode.ended_at is None:
            raise ActionRefused(
                _(
                    "The response and relapse are documented after the infusion; this episode "
                    "is %(status)s (B-REP-1)."
                )
                % {"status": episode.get_status_display().lower()},
                code="state",
            )
        infusion_day = timezone.localtime(episode.ended_at, zone).date()
        errors = _follow_up_errors(
            response, response_date, relapse, relapse_date, infusion_day=infusion_day, today=today
        )
        if errors:
            raise ActionRefused(
                _("Check the follow-up values (B-REP-1)."), code="follow_up", field_errors=errors
            )
        before = audit.snapshot(episode, FOLLOW_UP_FIELDS)
        new = dict(
            response=response,
            response_date=response_date,
            relapse=relapse,
            relapse_date=relapse_date,
        )
        after = audit.normalise(new)
        if after == before:
            raise ActionRefused(
                _("Nothing changed: these values are already documented."), code="unchanged"
            )
        corrected = [name for name in FOLLOW_UP_FIELDS if before[name] not in (None, after[name])]
        if corrected and not reason:
            raise ActionRefused(
                _("Give a reason for changing what was already documented."),
                code="reason",
                field_errors={"reason": [_("Required.")]},
            )
        for name, value in new.items():
            setattr(episode, name, value)
        episode.updated_at = _now()
        episode.save()
        audit.record(
            "episode_follow_up",
            actor=actor,
            obj=episode,
            patient_id=episode.patient_id,
            old=before,
            new={**after, "infusion_date": infusion_day, "corrected": corrected},
            reason=reason,
        )
    return episode


def _follow_up_errors(response, response_date, relapse, relapse_date, *, infusion_day, today):
    """Field errors of a B-REP-1 follow-up record (name -> messages); {} when it holds."""
    errors = {}

    def add(name, message):
        errors.setdefault(name, []).append(message)

    def not_future(name, day):
        if day is not None and day > today:
            add(
                name,
                _("%(day)s is in the future (today is %(today)s).") % {"day": day, "today": today},
            )

    if response is None:
        add("response", _("Document whether the disease responded to the infusion."))
    if response_date is None:
        add("response_date", _("Give the date the response was assessed."))
    else:
        not_future("response_date", response_date)
        if response_date < infusion_day:
            add(
                "response_date",
                _("The response cannot be dated before the infusion (%(day)s).")
                % {"day": infusion_day},
            )
    if relapse is not None and response is not True:
        add("relapse", _("A relapse is documented after a documented response (B-REP-1)."))
    if relapse is True and relapse_date is None:
        add("relapse_date", _("Give the date of the relapse."))
    if relapse_date is not None:
        if relapse is not True:
            add("relapse_date", _("A relapse date goes with a relapse."))
        not_future("relapse_date", relapse_date)
        if response_date is not None and relapse_date <= response_date:
            add(
                "relapse_date",
                _("The relapse must be dated after the response (%(day)s).")
                % {"day": response_date},
            )
    return errors
