"""Every clinical action on an MSC episode: one function each, keyword-only.

Each function checks who may do it and whether the episode/order is in a state that
allows it, writes, records the audit event(s) with old and new values and the reason,
re-syncs the episode's reminders and enqueues background work after commit — all in one
transaction. Refusals raise `ActionRefused` (a message for the user) or
`PermissionDenied` (a role or ward that may not act at all). Views only translate HTTP to
these calls.

Order life cycle (enforced here, whatever the UI shows)::

    draft ──sign──▶ signed ──verify──▶ verified ──administer──▶ administered ──complete──▶ completed
      │               │  └──reject──▶ rejected
      └──cancel───────┴──────────────┴──cancel──▶ cancelled
    edit (draft/signed/verified) voids every signature and returns the order to draft.

Signing and verifying need the signer's password again; the prescriber cannot verify
their own order. Two pharmacists verifying the same order at once: the order row is
locked (`SELECT … FOR UPDATE`) and its status re-read under the lock, so exactly one
succeeds and the other is told who verified it.
"""

import hashlib
import logging
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from functools import wraps

from django.conf import settings as django_settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit, text
from core.clinical_time import check_clinical_time, check_scheduled_time
from core.models import Patient, Role
from core.version import app_version
from infusion.engine import Finding, cyc_allowed_at, end_status, plan_from_document
from infusion.engine.verification import antiplatelet_check, candidacy_check

from . import doses, reminders, selectors, verification
from .inputs import EPISODE_FIELDS, build_document, consent_document, record_values
from .models import (
    Administration,
    AdverseReaction,
    CheckOverride,
    ColdChainDeviation,
    Consent,
    Consenter,
    DoseState,
    Episode,
    EpisodeStatus,
    Order,
    OrderKind,
    OrderStatus,
    RateStep,
    SeriousAdverseEventReport,
    Signature,
    SignatureMeaning,
    VitalSigns,
)
from .planning import ORDER_RULES, episode_columns, planned_orders, same_content
from .protocol import (
    CLOCK_TOLERANCE_MINUTES,
    PRECONDITIONING_WINDOW_DAYS,
    VITAL_FIELDS,
    protocol_settings,
    vital_ranges,
    ward_zone,
)

logger = logging.getLogger(__name__)

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
RATE_MAX_ML_PER_MIN = Decimal(4)  # B-ADM-4: never above 4 mL/min
INITIAL_RATE_MAX_ML_PER_MIN = Decimal(2)  # B-ADM-4: ≤ 2 mL/min for the first 5 min at least
INITIAL_PHASE_MIN = timedelta(minutes=5)


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


class InvalidPlanInput(ActionRefused):
    """The engine refused the input document: field errors (engine paths → messages)."""

    def __init__(self, errors):
        super().__init__(_("Some values are missing or not valid."), code="invalid")
        self.errors = errors


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


# --- Helpers ---------------------------------------------------------------------------


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
        from . import tasks

        try:
            getattr(tasks, task_name).delay(*args)
        except Exception:  # broker down: the write stands; the task is an optimisation/notice
            logger.warning("could not enqueue %s%r", task_name, args, exc_info=True)

    transaction.on_commit(send)


def _lock_episode(episode):
    return Episode.objects.select_for_update().select_related("patient").get(pk=episode.pk)


def _lock_order(order):
    return (
        Order.objects.select_for_update(of=("self",))
        .select_related("episode", "patient")
        .get(pk=order.pk)
    )


def _not_cancelled(episode):
    if episode.status == EpisodeStatus.CANCELLED:
        raise ActionRefused(_("This episode is cancelled."), code="episode_closed")


def _refuse_duplicate(patient):
    """One active episode per patient: a second planned one would double the MSC and the
    antiplatelet course, and its B-REP-1 check would not see the first (not yet infused)."""
    existing = selectors.active_episode(patient)
    if existing is not None:
        raise DuplicateEpisode(existing)


def _prescriber_signature(order):
    return (
        order.signatures.filter(meaning=SignatureMeaning.PRESCRIBED, voided_at__isnull=True)
        .select_related("signer")
        .first()
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


# --- Plans -----------------------------------------------------------------------------


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


def _finding_summary(findings):
    return [
        {"rule_id": f.rule_id, "citation": f.citation, "status": f.status, "reason": f.reason}
        for f in findings
    ]


def _apply_plan(episode, plan):
    for name, value in episode_columns(plan).items():
        setattr(episode, name, value)
    episode.plan = plan.to_dict()


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
    reason = (reason or "").strip()
    if not reason:
        raise ActionRefused(_("Give a reason for the change."), code="reason")
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
        elif order.status in (OrderStatus.DRAFT, OrderStatus.SIGNED, OrderStatus.VERIFIED):
            if not same_content(order, content):
                _edit(order, content, actor=actor, reason=reason or "plan changed", now=now)
    for kind, order in current.items():
        if kind not in wanted and order.status in (
            OrderStatus.DRAFT,
            OrderStatus.SIGNED,
            OrderStatus.VERIFIED,
        ):
            order.cancelled_by, order.cancelled_at = actor, now
            order.cancel_reason = "no longer in the plan"
            _transition(
                order,
                actor=actor,
                action="order_cancel",
                new_status=OrderStatus.CANCELLED,
                now=now,
                reason=order.cancel_reason,
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


def episode_cancel(*, episode, actor, reason):
    """Cancel a planned episode: its open orders are cancelled and its reminders too."""
    _require(actor, "infusion.change_episode")
    _require_ward(actor, episode.patient)
    reason = (reason or "").strip()
    if not reason:
        raise ActionRefused(_("Give a reason for cancelling."), code="reason")
    now = _now()
    _check_lengths(reason=reason)
    with transaction.atomic():
        episode = _lock_episode(episode)
        if episode.status != EpisodeStatus.PLANNED:
            raise ActionRefused(
                _("Only a planned episode can be cancelled; this one is %(status)s.")
                % {"status": episode.get_status_display().lower()},
                code="episode_closed",
            )
        for order in episode.orders.filter(
            status__in=(OrderStatus.DRAFT, OrderStatus.SIGNED, OrderStatus.VERIFIED)
        ):
            order.cancelled_by, order.cancelled_at, order.cancel_reason = actor, now, reason
            _transition(
                order,
                actor=actor,
                action="order_cancel",
                new_status=OrderStatus.CANCELLED,
                now=now,
                reason=reason,
            )
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


# --- Informed consent (B-CONSENT-1) ----------------------------------------------------

CONSENT_AUDIT_FIELDS = (
    "consenter",
    "consenter_name",
    "relationship",
    "consented_on",
    "form_version",
    "taken_by",
    "scan",
    "scan_sha256",
)
# What a scanned consent form may be, told by its first bytes (never by its name).
SCAN_TYPES = (
    (b"%PDF-", "pdf"),
    (b"\xff\xd8\xff", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
)


def consent_of(episode):
    """The episode's consent record (B-CONSENT-1), or None. Read afresh: the reverse
    accessor would keep a "none" it saw before the consent was recorded."""
    return Consent.objects.filter(episode_id=episode.pk).select_related("taken_by").first()


def _scan_type(scan):
    """The scan's kind ("pdf", "jpg", "png") from its magic bytes, or None."""
    scan.seek(0)
    head = scan.read(16)
    scan.seek(0)
    return next((ext for magic, ext in SCAN_TYPES if head.startswith(magic)), None)


def _scan_sha256(scan):
    digest = hashlib.sha256()
    for chunk in scan.chunks():  # from the start of the file
        digest.update(chunk)
    scan.seek(0)
    return digest.hexdigest()


def _consent_snapshot(consent):
    """The audited values of a consent record (the scan by its stored name)."""
    data = audit.snapshot(consent, [f for f in CONSENT_AUDIT_FIELDS if f != "scan"])
    data["scan"] = consent.scan.name or ""
    return data


def _consent_errors(
    *,
    patient,
    consenter,
    consenter_name,
    relationship,
    consented_on,
    form_version,
    taken_by,
    scan,
    today,
):
    """Field errors of a consent record (name -> messages); {} when it holds."""
    errors = {}

    def add(name, message):
        errors.setdefault(name, []).append(message)

    if consenter not in Consenter.values:
        add("consenter", _("Choose who consented: the patient or a relative."))
    if consenter == Consenter.RELATIVE:
        if not consenter_name:
            add("consenter_name", _("Give the name of the relative who consented."))
        if not relationship:
            add("relationship", _("Give the relative's relationship to the patient."))
    if len(consenter_name) > 150:
        add("consenter_name", _("At most 150 characters."))
    if len(relationship) > 60:
        add("relationship", _("At most 60 characters."))
    if not form_version:
        add("form_version", _("Give the version of the ethics-approved consent form."))
    elif len(form_version) > 60:
        add("form_version", _("At most 60 characters."))
    if consented_on is None:
        add("consented_on", _("Give the date of the consent."))
    elif consented_on > today:
        add(
            "consented_on",
            _("%(day)s is in the future (today is %(today)s).")
            % {"day": consented_on, "today": today},
        )
    elif consented_on < patient.date_of_birth:
        add(
            "consented_on",
            _("The consent cannot be dated before the patient's birth (%(day)s).")
            % {"day": patient.date_of_birth},
        )
    if taken_by is None:
        add("taken_by", _("Choose the physician who took the consent."))
    elif not (
        taken_by.is_active
        and taken_by.ward_id is not None
        and taken_by.ward_id == patient.ward_id
        and taken_by.groups.filter(name=Role.PHYSICIAN).exists()
    ):
        add("taken_by", _("The consent is taken by an active physician of the patient's ward."))
    if scan is not None:
        limit = django_settings.CONSENT_SCAN_MAX_BYTES
        if scan.size > limit:
            add(
                "scan",
                _("The file is larger than %(mb)s MB.")
                % {"mb": format(Decimal(limit) / 1024 / 1024, ".1f")},
            )
        elif _scan_type(scan) is None:
            add("scan", _("The scan must be a PDF, JPEG or PNG file."))
    return errors


def consent_record(
    *,
    episode,
    actor,
    consenter,
    consenter_name,
    relationship,
    consented_on,
    form_version,
    taken_by,
    scan=None,
    reason="",
):
    """Record the patient's informed consent to this MSC episode (B-CONSENT-1), or correct
    the record (with a reason): who consented, their name and relationship, the day, the
    ethics-approved form's version, the physician who took it and, optionally, the signed
    form's scan (PDF, JPEG or PNG, told by its bytes; stored under a random name with its
    SHA-256).

    No order of the MSC therapy can be signed before it (`_sign_one`). The plan is re-run
    with the consent so its B-CONSENT-1 finding is current; the orders it generates do not
    change, so no signature is voided.
    """
    _require(actor, "infusion.add_consent")
    _require_ward(actor, episode.patient)
    existing = consent_of(episode)
    if existing is not None:
        _require(actor, "infusion.change_consent")
    reason = (reason or "").strip()
    _check_lengths(reason=reason)
    consenter_name = (consenter_name or "").strip()
    relationship = (relationship or "").strip()
    form_version = (form_version or "").strip()
    patient = episode.patient
    if consenter == Consenter.PATIENT and not consenter_name:
        consenter_name = patient.name
    today = timezone.localtime(_now(), ward_zone()).date()
    errors = _consent_errors(
        patient=patient,
        consenter=consenter,
        consenter_name=consenter_name,
        relationship=relationship,
        consented_on=consented_on,
        form_version=form_version,
        taken_by=taken_by,
        scan=scan,
        today=today,
    )
    if existing is not None and not reason:
        errors.setdefault("reason", []).append(_("Give a reason for correcting the consent."))
    if errors:
        raise ActionRefused(
            _("Check the consent record (B-CONSENT-1)."), code="consent", field_errors=errors
        )
    stored = None
    try:
        with transaction.atomic():
            episode = _lock_episode(episode)
            if episode.status in (EpisodeStatus.CANCELLED, EpisodeStatus.INFUSED):
                raise ActionRefused(
                    _("The consent is recorded before the infusion; this episode is %(status)s.")
                    % {"status": episode.get_status_display().lower()},
                    code="episode_closed",
                )
            consent = consent_of(episode)  # again, under the episode's lock
            if (consent is None) != (existing is None):
                raise ActionRefused(
                    _("Someone else recorded the consent meanwhile; read it and try again."),
                    code="conflict",
                )
            before = _consent_snapshot(consent) if consent else None
            now = _now()
            if consent is None:
                consent = Consent(episode=episode, patient=patient)
            consent.consenter = consenter
            consent.consenter_name = consenter_name
            consent.relationship = relationship
            consent.consented_on = consented_on
            consent.form_version = form_version
            consent.taken_by = taken_by
            consent.recorded_by, consent.recorded_at = actor, now
            if scan is not None:
                name = f"{secrets.token_hex(16)}.{_scan_type(scan)}"
                consent.scan_sha256 = _scan_sha256(scan)
                consent.scan.save(name, scan, save=False)
                stored = consent.scan.name
            after = _consent_snapshot(consent)
            if before is not None and before == after:
                raise ActionRefused(
                    _("Nothing changed: these values are already recorded."), code="unchanged"
                )
            consent.save()
            plan_before = episode.plan_status
            _replan_with_consent(episode, consent, now)
            old, new = audit.diff(before, after) if before else (None, after)
            audit.record(
                "consent_correct" if before else "consent_record",
                actor=actor,
                obj=consent,
                patient_id=patient.pk,
                old={**old, "plan_status": plan_before} if old is not None else None,
                new={**new, "episode": episode.pk, "plan_status": episode.plan_status},
                reason=reason,
            )
            _enqueue("prerender_order_sheet", episode.pk)
    except BaseException:
        if stored:  # the write rolled back: keep no file that no record points to
            consent.scan.storage.delete(stored)
        raise
    return consent


def _replan_with_consent(episode, consent, now):
    """The plan re-run with the consent in its input (B-CONSENT-1 now "met"); the episode's
    plan columns follow, as `episode_update` keeps them. Orders are not touched."""
    document = {**episode.plan_input, "consent": consent_document(consent)}
    plan, errors = plan_from_document(document, protocol_settings())
    if errors:  # pragma: no cover - the stored input was valid; the consent block is checked
        raise InvalidPlanInput(errors)
    episode.plan_input = document
    _apply_plan(episode, plan)
    episode.updated_at = now
    episode.save()


# --- Follow-up (B-REP-1) ---------------------------------------------------------------

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


# --- Orders ----------------------------------------------------------------------------


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
        from .verification import check_views

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
    reason = (reason or "").strip()
    if not reason:
        raise ActionRefused(
            _("Give the reason for the override."),
            code="reason",
            field_errors={"reason": [_("Required.")]},
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
    note = (note or "").strip()
    if not note:
        raise ActionRefused(
            _("Say how the product's viability was confirmed."),
            code="note",
            field_errors={"note": [_("Required.")]},
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
        episode = _lock_episode(episode)
        if episode.status != EpisodeStatus.PLANNED:
            raise ActionRefused(_("The infusion has already started."), code="state")
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
    reason = (reason or "").strip()
    if not reason:
        raise ActionRefused(
            _("Give the reason for the deviation."),
            code="reason",
            field_errors={"reason": [_("Required.")]},
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
    reason = (reason or "").strip()
    if not reason:
        raise ActionRefused(_("Give a reason for rejecting the order."), code="reason")
    now = _now()
    _check_lengths(reason=reason)
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
    reason = (reason or "").strip()
    if not reason:
        raise ActionRefused(_("Give a reason for cancelling the order."), code="reason")
    now = _now()
    _check_lengths(reason=reason)
    with transaction.atomic():
        order = _lock_order(order)
        if order.status not in (OrderStatus.DRAFT, OrderStatus.SIGNED, OrderStatus.VERIFIED):
            raise ActionRefused(
                _("This order is %(status)s and can no longer be cancelled.")
                % {"status": order.get_status_display().lower()},
                code="state",
            )
        order.cancelled_by, order.cancelled_at, order.cancel_reason = actor, now, reason
        _transition(
            order,
            actor=actor,
            action="order_cancel",
            new_status=OrderStatus.CANCELLED,
            now=now,
            reason=reason,
        )
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
    reason = (reason or "").strip()
    if not reason:
        raise ActionRefused(_("Give a reason for the change."), code="reason")
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
        if order.status not in (OrderStatus.DRAFT, OrderStatus.SIGNED, OrderStatus.VERIFIED):
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
        order.completed_by, order.completed_at = actor, now
        _transition(
            order,
            actor=actor,
            action="order_complete",
            new_status=OrderStatus.COMPLETED,
            now=now,
            reason=(note or "").strip(),
        )
        reminders.episode_reminders_sync(order.episode, actor=actor)
    return order


# --- Cyclophosphamide (B-CYC-1, B-PRE-1) -----------------------------------------------


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


# --- Bedside chart (nurse) -------------------------------------------------------------


def _chart_write(episode, actor, at, what):
    _require(actor, "infusion.chart_infusion")
    _require_ward(actor, episode.patient)
    _check_time(at, patient=episode.patient, what=what)


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
        episode = _lock_episode(episode)
        if episode.status != EpisodeStatus.PLANNED:
            raise ActionRefused(_("The infusion has already started."), code="state")
        _check_time(
            at,
            patient=episode.patient,
            what=_("The time received"),
            prepared_at=episode.preparation_time,
        )
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
        episode = _lock_episode(episode)
        if episode.status != EpisodeStatus.PLANNED:
            raise ActionRefused(_("The infusion has already started."), code="state")
        if episode.received_at is None:
            raise ActionRefused(_("Record that the product was received first."), code="order")
        _check_time(
            at,
            patient=episode.patient,
            what=_("The time out of the refrigerator"),
            prepared_at=episode.preparation_time,
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
        episode = _lock_episode(episode)
        if episode.status != EpisodeStatus.PLANNED:
            raise ActionRefused(_("The infusion has already started."), code="state")
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
        _check_time(
            at,
            patient=episode.patient,
            what=_("The start time"),
            prepared_at=episode.preparation_time,
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
        episode = _lock_episode(episode)
        if episode.status != EpisodeStatus.IN_PROGRESS:
            raise ActionRefused(_("The infusion is not running."), code="state")
        _check_time(
            at,
            patient=episode.patient,
            what=_("The time of the rate change"),
            prepared_at=episode.preparation_time,
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
        episode = _lock_episode(episode)
        if episode.status != EpisodeStatus.IN_PROGRESS:
            raise ActionRefused(_("The infusion is not running."), code="state")
        # C-TIME-1: an end strictly after its start (an end at the start instant is
        # refused: nothing was infused), never before the preparation.
        _check_time(
            at,
            patient=episode.patient,
            what=_("The end time"),
            prepared_at=episode.preparation_time,
            after=(episode.started_at, _("the start")),
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
            order.completed_by, order.completed_at = actor, now
            _transition(
                order,
                actor=actor,
                action="order_complete",
                new_status=OrderStatus.COMPLETED,
                now=now,
                reason=reason,
            )
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


def adverse_reaction_record(
    *, episode, actor, reaction_type, severity, action, at=None, description=""
):
    """B-ADM-5 (R6, 1A). A severe reaction: the chart prompts to stop and to report it."""
    _require(actor, "infusion.add_adversereaction")
    _require_ward(actor, episode.patient)
    at = at or _now()
    _check_time(at, patient=episode.patient, what=_("The time of the reaction"))
    action = (action or "").strip()
    if not action:
        raise ActionRefused(
            _("Record what was done."), code="action", field_errors={"action": [_("Required.")]}
        )
    _check_lengths(action=action, description=description)
    with transaction.atomic():
        episode = _lock_episode(episode)
        _not_cancelled(episode)
        reaction = AdverseReaction.objects.create(
            episode=episode,
            at=at,
            reaction_type=reaction_type,
            severity=severity,
            description=(description or "").strip(),
            action=action,
            recorded_by=actor,
            recorded_at=_now(),
        )
        audit.record(
            "adverse_reaction",
            actor=actor,
            obj=reaction,
            patient_id=episode.patient_id,
            new=audit.snapshot(
                reaction, ("at", "reaction_type", "severity", "description", "action")
            ),
        )
    return reaction


def sae_report(*, reaction, actor, informed_whom, informed_at, description):
    """Report a serious adverse event to the hospital (B-ADM-5, §4.1): who, when, what."""
    _require(actor, "infusion.add_seriousadverseeventreport")
    _require_ward(actor, reaction.episode.patient)
    informed_whom = (informed_whom or "").strip()
    description = (description or "").strip()
    errors = {}
    if not informed_whom:
        errors["informed_whom"] = [_("Required.")]
    if not description:
        errors["description"] = [_("Required.")]
    if informed_at is None:
        errors["informed_at"] = [_("Required.")]
    if errors:
        raise ActionRefused(_("Complete the report."), code="sae", field_errors=errors)
    _check_time(
        informed_at,
        patient=reaction.episode.patient,
        what=_("The time informed"),
        field="informed_at",
        # The form gives minutes: "informed" in the reaction's own minute is not before it.
        not_before=(reaction.at.replace(second=0, microsecond=0), _("the reaction")),
    )
    _check_lengths(description=description)
    with transaction.atomic():
        reaction = (
            AdverseReaction.objects.select_for_update()
            .select_related("episode")
            .get(pk=reaction.pk)
        )
        if SeriousAdverseEventReport.objects.filter(reaction=reaction).exists():
            raise ActionRefused(_("This reaction has already been reported."), code="state")
        report = SeriousAdverseEventReport.objects.create(
            reaction=reaction,
            episode=reaction.episode,
            informed_whom=informed_whom,
            informed_at=informed_at,
            description=description,
            reported_by=actor,
            reported_at=_now(),
        )
        audit.record(
            "sae_report",
            actor=actor,
            obj=report,
            patient_id=reaction.episode.patient_id,
            new={
                "reaction": reaction.pk,
                "severity": reaction.severity,
                "informed_whom": informed_whom,
                "informed_at": informed_at,
                "description": description,
            },
        )
        _enqueue("notify_sae_report", report.pk)
    return report
