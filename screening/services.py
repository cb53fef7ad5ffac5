"""Clinical writes of the screening app: one function per action.

Each validates (role, ward, state), writes and records the audit event in one
transaction. A signed version is never written again except to mark it superseded by
an amendment; the signature covers its facts, evaluation and protocol version
(``Screening.content_hash``), which do not change.
"""

import logging
from datetime import date

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit, reauth, text
from core.models import Role
from core.version import app_version

from .evaluation import evaluate_document, window_days
from .models import SIGNATURE_MEANING, Outcome, Screening, Status
from .prefill import apply_prefill, copy_from_previous, is_outdated

logger = logging.getLogger(__name__)

INDICATIONS = ("SLE", "dcSSc", "AAV", "IIM", "SS")
AUDITED_FIELDS = (
    "patient",
    "series",
    "version",
    "indication",
    "screening_date",
    "status",
    "protocol_version",
    "outcome",
    "failing_rules",
)


class ActionRefused(Exception):
    """The action is not allowed now; ``message`` says why (translated), for the user."""

    def __init__(self, message, *, code=""):
        super().__init__(message)
        self.message = message
        self.code = code


# --- Helpers ---------------------------------------------------------------------------------


def _require(actor, perm):
    if not actor.has_perm(perm):
        raise PermissionDenied(perm)


def _require_ward(actor, patient):
    # Views already answer 404 for another ward; the services refuse it too.
    if actor.role == Role.AUDITOR or actor.ward_id is None or actor.ward_id != patient.ward_id:
        raise PermissionDenied("other ward")


def _lock(screening):
    return Screening.objects.select_for_update().select_related("patient").get(pk=screening.pk)


def _lock_if_unchanged(screening):
    """Lock the row; True when it is still the version ``screening`` was read as.

    Only the row version is read back (PostgreSQL's ``xmin``: every write of the row,
    by any transaction, gives it a new one), not the large JSON columns. A screening read
    without its version (``selectors.with_row_version``) is never taken as unchanged."""
    read = getattr(screening, "row_version", None)
    if read is None:
        return False
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_VERSION, [screening.pk])
        locked = cursor.fetchone()
    return locked == (read,)


# Written once as SQL: the ORM spent longer building this one-column lock than
# PostgreSQL running it (the same column as ``selectors.with_row_version`` reads).
_LOCK_VERSION = "SELECT xmin::text FROM screening_screening WHERE id = %s FOR UPDATE"


def _require_draft(screening):
    if screening.status != Status.DRAFT:
        raise ActionRefused(
            _("This screening is signed and read-only. Amend it to change it."), code="read_only"
        )


def flatten(value, prefix=""):
    """Leaf values of a facts document by path ("labs.inr.value"); meta left out."""
    out = {}
    if isinstance(value, dict):
        for key, item in value.items():
            if not prefix and key == "meta":
                continue
            out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(value, list) and value and not all(isinstance(v, str) for v in value):
        for index, item in enumerate(value):
            out.update(flatten(item, f"{prefix}.{index}"))
    else:
        out[prefix] = value
    return out


def changed_paths(old, new):
    before, after = flatten(old or {}), flatten(new or {})
    keys = sorted(set(before) | set(after))
    changed = [k for k in keys if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in changed}, {k: after.get(k) for k in changed}


# What _evaluate and a draft save change on the instance.
_EVALUATION_FIELDS = (
    "facts",
    "evaluated_at",
    "evaluation",
    "outcome",
    "failing_rules",
    "form_errors",
    "invalid_inputs",
    "protocol_version",
    "screening_date",
)


def _evaluate(screening, facts):
    """Evaluate ``facts`` into the screening (not saved): ULNs filled, outcome columns set."""
    facts = dict(facts)
    meta = dict(facts.get("meta") or {})
    # ULNs filled last time are filled again (the lab, unit or ranges may have changed).
    labs = facts.get("labs")
    for path, used in (meta.get("uln_sources") or {}).items():
        key = path.split(".", 1)[1]
        if isinstance(labs, dict) and isinstance(labs.get(key), dict):
            if labs[key].get("uln") == used.get("uln"):
                labs = dict(labs)
                # (with its unit, C-UNIT-1: a refilled ULN is in the value's unit)
                labs[key] = {k: v for k, v in labs[key].items() if k not in ("uln", "uln_unit")}
    if labs is not None:
        facts["labs"] = labs
    errors, evaluation, filled = evaluate_document({k: v for k, v in facts.items() if k != "meta"})
    if evaluation is not None:
        for path, used in filled.items():
            key = path.split(".", 1)[1]
            facts["labs"] = dict(facts["labs"])
            facts["labs"][key] = {**facts["labs"][key], "uln": used["uln"]}
    meta["uln_sources"] = filled
    facts["meta"] = meta
    screening.facts = facts
    screening.evaluated_at = timezone.now()
    if evaluation is None:
        screening.evaluation = None
        screening.outcome = Outcome.INCOMPLETE
        screening.failing_rules = []
        screening.form_errors = {
            **screening.form_errors,
            **{e.path or "screening_date": [e.message] for e in errors},
        }
        return errors
    payload = evaluation.to_dict()
    screening.evaluation = payload
    screening.protocol_version = payload["protocol_version"]
    screening.outcome = payload["overall"]
    screening.failing_rules = list(payload["failing"])
    screening.screening_date = date.fromisoformat(payload["screening_date"])
    return []


def _draft_state(screening):
    """What a draft save reads from the row: its status and what ``_evaluate`` sets."""
    return {name: getattr(screening, name) for name in ("status", *_EVALUATION_FIELDS)}


def _evaluated(screening, facts, invalid_inputs, form_errors):
    """The fields a draft save of these inputs writes; the screening is left as it was.

    They depend on the row only through the fields of ``_draft_state`` (the protocol
    version and screening date are kept when the facts cannot be evaluated), so they
    hold for any row with the same state."""
    kept = {name: getattr(screening, name) for name in _EVALUATION_FIELDS}
    screening.invalid_inputs = invalid_inputs or {}
    screening.form_errors = form_errors or {}
    _evaluate(screening, facts)
    after = {name: getattr(screening, name) for name in _EVALUATION_FIELDS}
    for name, value in kept.items():
        setattr(screening, name, value)
    return after


def _changes(before, after):
    """(old, new, unchanged): the changed facts paths with their old and new values, and
    whether there is nothing to write (the same facts, meta too, and the same inputs not
    accepted)."""
    old, new = changed_paths(before["facts"], after["facts"])
    unchanged = (
        not old
        and (before["facts"].get("meta") or {}) == (after["facts"].get("meta") or {})
        and before["invalid_inputs"] == after["invalid_inputs"]
    )
    return old, new, unchanged


# --- Actions ---------------------------------------------------------------------------------


def screening_start(*, actor, patient, indication, screening_date=None):
    """A new draft for one indication, prefilled from the patient's record and evaluated."""
    _require(actor, "screening.add_screening")
    _require_ward(actor, patient)
    if indication not in INDICATIONS:
        raise ActionRefused(_("Choose an indication."), code="indication")
    screening_date = screening_date or timezone.localdate()
    with transaction.atomic():
        facts, _changed = apply_prefill(
            {"screening_date": screening_date.isoformat(), "indication": indication},
            patient,
            screening_date,
        )
        # Issue 18: what is still valid from the last signed screening, with its source.
        facts, copied, left_out = copy_from_previous(
            facts, patient, indication, screening_date, window_days(screening_date)
        )
        screening = Screening(
            patient=patient,
            indication=indication,
            screening_date=screening_date,
            created_by=actor,
            updated_by=actor,
        )
        _evaluate(screening, facts)
        screening.save()
        audit.record(
            "create",
            actor=actor,
            obj=screening,
            patient=patient,
            new={
                **audit.snapshot(screening, AUDITED_FIELDS),
                "prefilled": sorted((facts.get("meta") or {}).get("sources") or {}),
                **(
                    {
                        "copied_from": facts["meta"]["copy"]["screening"],
                        "copied": copied,
                        "not_copied": left_out,
                    }
                    if "copy" in facts["meta"]
                    else {}
                ),
            },
        )
    return screening


def screening_save_draft(
    *, actor, screening, facts, invalid_inputs=None, form_errors=None, reason=""
):
    """Save a draft's facts (and what did not validate), re-evaluated. Audits the
    changed facts paths with their old and new values; nothing changed, nothing written."""
    _require(actor, "screening.change_screening")
    _require_ward(actor, screening.patient)
    # Evaluated first on the row as read. Most autosaves change nothing (the form posts
    # every field on each change, a value is typed back): those are answered from that
    # row, without the row lock and its transaction.
    read = _draft_state(screening)
    evaluated = changes = None
    if screening.status == Status.DRAFT and facts.get("indication") == screening.indication:
        evaluated = _evaluated(screening, facts, invalid_inputs, form_errors)
        changes = _changes(read, evaluated)
        if changes[2]:
            return screening, False
    with transaction.atomic():
        if evaluated is not None and _lock_if_unchanged(screening):
            # Locked, and nobody wrote the row since it was read: the row as read is the
            # row as locked, and it was evaluated against already.
            state = read
        else:
            screening = _lock(screening)
            _require_draft(screening)
            if facts.get("indication") != screening.indication:
                raise ActionRefused(
                    _("The indication of a screening cannot change."), code="indication"
                )
            state = _draft_state(screening)
            if evaluated is None or state != read:
                # Saved by someone else since it was read: evaluate against the row as it is.
                evaluated = _evaluated(screening, facts, invalid_inputs, form_errors)
                changes = _changes(state, evaluated)
            if changes[2]:
                return screening, False  # the row as it was locked (without reading it again)
        old, new, _unchanged = changes
        before = audit.snapshot(screening, AUDITED_FIELDS)
        for name, value in evaluated.items():
            setattr(screening, name, value)
        screening.updated_by = actor
        # The row is locked as it was read: only the columns a draft save sets are written.
        screening.save(update_fields=[*evaluated, "updated_by", "updated_at"])
        screening.row_version = None  # written: its version is no longer known
        after = audit.snapshot(screening, AUDITED_FIELDS)
        old_fields, new_fields = audit.diff(before, after)
        audit.record(
            "update",
            actor=actor,
            obj=screening,
            patient=screening.patient,
            old={"facts": old, **old_fields},
            new={
                "facts": new,
                **new_fields,
                **(
                    {"not_accepted": sorted(screening.invalid_inputs)}
                    if screening.invalid_inputs
                    else {}
                ),
            },
            reason=reason or "draft save",
        )
    return screening, True


def screening_refresh(*, actor, screening):
    """Re-prefill and re-evaluate a draft whose patient data changed after its evaluation."""
    facts, changed = apply_prefill(screening.facts, screening.patient, screening.screening_date)
    reason = "patient data recorded after the last evaluation: re-evaluated"
    screening, saved = screening_save_draft(
        actor=actor,
        screening=screening,
        facts=facts,
        invalid_inputs=screening.invalid_inputs,
        form_errors=screening.form_errors,
        reason=reason,
    )
    if not saved:
        # The new data changed nothing in the facts; the evaluation is current again.
        with transaction.atomic():
            screening = _lock(screening)
            _require_draft(screening)
            _evaluate(screening, screening.facts)
            screening.save()
            audit.record(
                "re_evaluate",
                actor=actor,
                obj=screening,
                patient=screening.patient,
                new={"evaluated_at": screening.evaluated_at, "outcome": screening.outcome},
                reason=reason,
            )
    return screening, changed


def _check_password(actor, password, screening):
    """Re-authentication for the signature (core.reauth: audited, counted towards the
    lockout, username too on the first signature of a session)."""
    try:
        reauth.verify_password(actor, password, obj=screening, action="screening_sign")
    except reauth.Refused as refused:
        raise ActionRefused(refused.message, code=refused.code) from None


def can_sign(user):
    return bool(user.is_investigator and user.has_perm("screening.sign_screening"))


def screening_sign(*, actor, screening, password, expected_hash=None):
    """The investigator's signature on a draft's eligibility assessment."""
    if not can_sign(actor):
        raise PermissionDenied("only investigators sign eligibility assessments")
    _require_ward(actor, screening.patient)
    _check_password(actor, password, screening)
    with transaction.atomic():
        screening = _lock(screening)
        _require_draft(screening)
        if expected_hash and expected_hash != screening.content_hash():
            raise ActionRefused(
                _("The screening changed after you opened this page. Review it and sign again."),
                code="changed",
            )
        if screening.invalid_inputs:
            raise ActionRefused(
                _("Some values were not accepted. Correct them before signing."), code="invalid"
            )
        if is_outdated(screening):
            raise ActionRefused(
                _(
                    "Patient data changed after the last evaluation. Open the screening to re-evaluate it, then sign."
                ),
                code="outdated",
            )
        if screening.evaluation is None or screening.outcome == Outcome.INCOMPLETE:
            raise ActionRefused(
                _("The assessment is incomplete: decide every criterion before signing."),
                code="incomplete",
            )
        # The evaluation must still be what the engine says today (same protocol).
        stored = screening.evaluation
        _evaluate(screening, screening.facts)
        if screening.evaluation != stored:
            screening.save()
            raise ActionRefused(
                _("The evaluation changed when it was run again. Review it and sign again."),
                code="changed",
            )
        screening.status = Status.SIGNED
        screening.signed_by = actor
        screening.signer_name = actor.get_full_name() or actor.get_username()
        screening.signer_role = actor.role or ""
        screening.signed_software_version = app_version()
        screening.signed_at = timezone.now()
        screening.signature_meaning = SIGNATURE_MEANING
        screening.updated_by = actor
        screening.save()
        # The hash is taken over the content as stored, so it can be recomputed later.
        screening.refresh_from_db()
        screening.signature_hash = screening.content_hash()
        screening.save(update_fields=["signature_hash"])
        audit.record(
            "sign",
            actor=actor,
            obj=screening,
            patient=screening.patient,
            old={"status": Status.DRAFT},
            new={
                "status": Status.SIGNED,
                "signer": screening.signer_name,
                "signed_at": screening.signed_at,
                "meaning": SIGNATURE_MEANING,
                "signature_hash": screening.signature_hash,
                "outcome": screening.outcome,
                "protocol_version": screening.protocol_version,
            },
            reason=SIGNATURE_MEANING,
        )
        # The signed checklist, stored once as PDF/A-3b (core.signed_records).
        _enqueue_archive(screening.pk)
    return screening


def _enqueue_archive(screening_id):
    def send():
        from . import tasks

        try:
            tasks.archive_signed_checklist.delay(screening_id)
        except Exception:  # broker down: the first download stores it instead
            logger.warning("could not enqueue the checklist archive of %s", screening_id)

    transaction.on_commit(send)


def screening_amend(*, actor, screening, reason):
    """A new draft version of a signed screening; the signed one stays, superseded."""
    _require(actor, "screening.amend_screening")
    _require_ward(actor, screening.patient)
    reason = (reason or "").strip()
    if not reason:
        raise ActionRefused(_("Give the reason for the amendment."), code="reason")
    if len(reason) > text.REASON_MAX_LENGTH:  # issue 16 (the form says so first)
        raise ActionRefused(
            _("At most %(max)s characters (%(length)s given).")
            % {"max": text.REASON_MAX_LENGTH, "length": len(reason)},
            code="reason",
        )
    with transaction.atomic():
        old = _lock(screening)
        if old.status != Status.SIGNED:
            raise ActionRefused(_("Only a signed screening can be amended."), code="not_signed")
        new = Screening(
            patient=old.patient,
            series=old.series,
            version=old.version + 1,
            previous=old,
            indication=old.indication,
            screening_date=old.screening_date,
            created_by=actor,
            updated_by=actor,
            amendment_reason=reason,
        )
        facts, _changed = apply_prefill(old.facts, old.patient, old.screening_date)
        _evaluate(new, facts)
        new.save()
        old.status = Status.SUPERSEDED
        old.updated_by = actor
        old.save(update_fields=["status", "updated_by", "updated_at"])
        audit.record(
            "update",
            actor=actor,
            obj=old,
            patient=old.patient,
            old={"status": Status.SIGNED},
            new={"status": Status.SUPERSEDED, "superseded_by_version": new.version},
            reason=reason,
        )
        audit.record(
            "amend",
            actor=actor,
            obj=new,
            patient=new.patient,
            old={
                "version": old.version,
                "status": Status.SIGNED,
                "signature_hash": old.signature_hash,
            },
            new=audit.snapshot(new, AUDITED_FIELDS),
            reason=reason,
        )
    return new


def current_draft(patient, indication):
    return (
        Screening.objects.filter(patient=patient, indication=indication, status=Status.DRAFT)
        .order_by("-pk")
        .first()
    )


def needs_refresh(screening, user):
    return (
        screening.is_draft
        and user.has_perm("screening.change_screening")
        and is_outdated(screening)
    )
