"""System administration: users, wards and reference ranges (the Django admin's writes).

One keyword-only function per action; each checks who may do it, writes and records the
audit event with the reason given, in one transaction. The rules are pure functions
(``user_edit_refusal``, ``approval_refusal``…) so the admin forms show the same message
the service would raise.

Reference ranges decide screening verdicts (a lab value against its ULN), so a change is
only *proposed* here (a ``ReferenceRangeChange``, pending): ``ReferenceRange`` holds the
approved ranges only, which is all screening reads, and a change takes effect when another
system administrator approves it. Proposal, approval and rejection are audited.

Who administers whom: a system administrator manages the ward staff and auditors. Creating
or changing a system administrator, and any superuser, is the superuser's (the server
operator's, ``manage.py createsuperuser``): otherwise one person could make a second
administrator account and approve their own reference-range change with it.
"""

from decimal import Decimal

from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import audit, text
from .models import ReferenceRange, ReferenceRangeChange, Role, User, Ward

REFERENCE_RANGE_FIELDS = ("lab", "analyte", "sex", "unit", "lower", "upper")
USER_FIELDS = (
    "username",
    "first_name",
    "last_name",
    "email",
    "ward",
    "is_investigator",
    "is_active",
    "language",
    "is_staff",
)
WARD_FIELDS = ("code", "name", "physician_on_duty")
WARD_ROLES = (Role.PHYSICIAN, Role.NURSE, Role.PHARMACIST)
# Roles that use the Django admin (is_staff): the auditor reads there, the sysadmin writes.
STAFF_ROLES = (Role.AUDITOR, Role.SYSADMIN)


class AdminRefused(Exception):
    """The administrative action is not allowed; ``message`` says why (translated)."""

    def __init__(self, message, *, code=""):
        super().__init__(message)
        self.message = message
        self.code = code


def _reason(reason):
    reason = (reason or "").strip()
    if not reason:
        raise AdminRefused(_("Give a reason; it is kept in the audit trail."), code="reason")
    if text.too_long(reason, text.REASON_MAX_LENGTH):
        raise AdminRefused(
            _("The reason is longer than %(max)s characters.") % {"max": text.REASON_MAX_LENGTH},
            code="reason",
        )
    return reason


# --- Rules (pure) -----------------------------------------------------------------------


def assignable_roles(actor):
    """The roles ``actor`` may give in the admin: a superuser any, a sysadmin all but
    sysadmin."""
    roles = [Role.PHYSICIAN, Role.NURSE, Role.PHARMACIST, Role.AUDITOR]
    if actor.is_superuser:
        roles.append(Role.SYSADMIN)
    return roles


def user_edit_refusal(actor, target, *, role=None):
    """Why ``actor`` may not create or change ``target`` (with ``role``), or None."""
    if actor.is_superuser:
        return None
    if target.pk is not None and target.pk == actor.pk:
        return _(
            "You cannot change your own account here; another administrator does. Change your "
            "password from the Password link."
        )
    if target.is_superuser or (target.pk is not None and target.role == Role.SYSADMIN):
        return _("Only a superuser manages system administrators and superusers.")
    if role is not None and role not in assignable_roles(actor):
        return _("Only a superuser gives the system administrator role.")
    return None


def user_role_problem(role, ward_id, is_investigator):
    """A role that does not fit the ward and investigator flag, said for the form, or None."""
    if role in WARD_ROLES and ward_id is None:
        return _("A physician, nurse or pharmacist belongs to a ward: choose one.")
    if role in STAFF_ROLES and ward_id is not None:
        return _("Auditors and system administrators belong to no ward: leave the ward empty.")
    if is_investigator and role != Role.PHYSICIAN:
        return _("Only a physician can be a trial investigator.")
    return None


def approval_refusal(actor, change):
    """Why ``actor`` may not approve or reject ``change``, or None."""
    if change.status != ReferenceRangeChange.Status.PENDING:
        return _("This change was already decided.")
    if not actor.has_perm("core.approve_referencerangechange"):
        return _("Only a system administrator approves reference-range changes.")
    if change.proposed_by_id == actor.pk:
        return _(
            "You proposed this change: another system administrator must approve or reject it."
        )
    return None


# --- Users ------------------------------------------------------------------------------


def _user_values(user, role):
    values = audit.snapshot(user, USER_FIELDS)
    values["role"] = role or ""
    return values


def _set_role(user, role):
    user.groups.remove(*user.groups.filter(name__in=Role.values))
    if role:
        user.groups.add(Group.objects.get(name=role))


def _check_user(actor, user, role):
    refusal = user_edit_refusal(actor, user, role=role) or user_role_problem(
        role, user.ward_id, user.is_investigator
    )
    if refusal:
        raise AdminRefused(refusal, code="refused")


def user_create(*, actor, user, role, password, reason):
    """A new account with its role (a group) and first password, audited with the reason.
    The password itself is never audited."""
    reason = _reason(reason)
    _check_user(actor, user, role)
    user.is_staff = role in STAFF_ROLES
    with transaction.atomic():
        user.set_password(password)
        user.save()
        _set_role(user, role)
        audit.record(
            "user_create", actor=actor, obj=user, new=_user_values(user, role), reason=reason
        )
    return user


def user_update(*, actor, user, role, reason):
    """Change an account (name, ward, role, active…): the values before and after, audited."""
    reason = _reason(reason)
    with transaction.atomic():
        stored = User.objects.select_for_update().get(pk=user.pk)
        refusal = user_edit_refusal(actor, stored)  # who it was
        if refusal:
            raise AdminRefused(refusal, code="refused")
        _check_user(actor, user, role)  # who it becomes
        user.is_staff = role in STAFF_ROLES
        old, new = audit.diff(_user_values(stored, stored.role), _user_values(user, role))
        if not new:
            return user
        user.save()
        if "role" in new:
            _set_role(user, role)
        audit.record("user_update", actor=actor, obj=user, old=old, new=new, reason=reason)
    return user


def user_set_password(*, actor, user, password, reason):
    """A password set by an administrator (a forgotten one): audited, the password not."""
    reason = _reason(reason)
    refusal = user_edit_refusal(actor, user)
    if refusal:
        raise AdminRefused(refusal, code="refused")
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        audit.record("user_password_set", actor=actor, obj=user, reason=reason)
    return user


# --- Wards ------------------------------------------------------------------------------


def ward_save(*, actor, ward, reason):
    """Create or change a ward (code, name, physician on duty), audited with the reason."""
    reason = _reason(reason)
    with transaction.atomic():
        if ward.pk is None:
            ward.save()
            audit.record(
                "ward_create",
                actor=actor,
                obj=ward,
                new=audit.snapshot(ward, WARD_FIELDS),
                reason=reason,
            )
            return ward
        stored = Ward.objects.select_for_update().get(pk=ward.pk)
        old, new = audit.diff(
            audit.snapshot(stored, WARD_FIELDS), audit.snapshot(ward, WARD_FIELDS)
        )
        if not new:
            return ward
        ward.save()
        audit.record("ward_update", actor=actor, obj=ward, old=old, new=new, reason=reason)
    return ward


# --- Reference ranges -------------------------------------------------------------------


def reference_range_values(rr):
    """The range's fields as audited; limits as the database stores them (4 decimal
    places), so "84" and "84.0000" are the same value and the audit shows what screening
    reads back."""
    values = audit.snapshot(rr, REFERENCE_RANGE_FIELDS)
    for name in ("lower", "upper"):
        value = getattr(rr, name)
        if value not in (None, ""):
            places = ReferenceRange._meta.get_field(name).decimal_places
            values[name] = str(Decimal(str(value)).quantize(Decimal(1).scaleb(-places)))
    return values


def _pending_for(lab, analyte, sex):
    return ReferenceRangeChange.objects.filter(
        lab=lab, analyte=analyte, sex=sex, status=ReferenceRangeChange.Status.PENDING
    ).first()


def pending_refusal(lab, analyte, sex):
    """A proposal already waiting for the same range, said for the form, or None."""
    if _pending_for(lab, analyte, sex) is not None:
        return _(
            "A change to this reference range is already waiting for approval: it must be "
            "approved or rejected first."
        )
    return None


def reference_range_propose(*, actor, reference_range, reason, delete=False):
    """Propose a new range (``reference_range`` unsaved), new values for a stored one
    (``reference_range`` holding them, unsaved), or its removal (``delete``).

    Nothing screening reads changes: the proposal waits for a second administrator
    (``reference_range_change_approve``). Returns the pending ``ReferenceRangeChange``,
    or None when the values proposed are the ones in effect."""
    reason = _reason(reason)
    Action = ReferenceRangeChange.Action
    if delete:
        action, perm = Action.DELETE, "core.delete_referencerange"
    elif reference_range.pk is not None:
        action, perm = Action.UPDATE, "core.change_referencerange"
    else:
        action, perm = Action.CREATE, "core.add_referencerange"
    if not actor.has_perm(perm):
        raise AdminRefused(
            _("Only a system administrator changes reference ranges."), code="permission"
        )
    with transaction.atomic():
        stored = before = None
        if action != Action.CREATE:
            stored = ReferenceRange.objects.select_for_update().get(pk=reference_range.pk)
            before = reference_range_values(stored)
        proposed = before if action == Action.DELETE else reference_range_values(reference_range)
        if action == Action.UPDATE and not audit.diff(before, proposed)[1]:
            return None
        keys = {(proposed["lab"], proposed["analyte"], proposed["sex"])}
        if before is not None:
            keys.add((before["lab"], before["analyte"], before["sex"]))
        for key in sorted(keys):
            refusal = pending_refusal(*key)
            if refusal:
                raise AdminRefused(refusal, code="pending")
        if action != Action.DELETE and (
            ReferenceRange.objects.filter(
                lab=proposed["lab"], analyte=proposed["analyte"], sex=proposed["sex"]
            )
            .exclude(pk=reference_range.pk)
            .exists()
        ):
            raise AdminRefused(
                _(
                    "A reference range for this laboratory, analyte and sex exists: propose a "
                    "change to that one."
                ),
                code="exists",
            )
        source = stored if action == Action.DELETE else reference_range
        change = ReferenceRangeChange(
            action=action,
            reference_range=stored,
            before=before,
            reason=reason,
            proposed_by=actor,
            proposed_at=timezone.now(),
            **{name: getattr(source, name) for name in REFERENCE_RANGE_FIELDS},
        )
        try:
            with transaction.atomic():
                change.save()
        except IntegrityError:  # another proposal for the same range, just now
            raise AdminRefused(
                _(
                    "A change to this reference range is already waiting for approval: it must "
                    "be approved or rejected first."
                ),
                code="pending",
            )
        if action == Action.UPDATE:
            old, new = audit.diff(before, proposed)
        elif action == Action.CREATE:
            old, new = None, proposed
        else:
            old, new = before, {}
        audit.record(
            "reference_range_propose",
            actor=actor,
            obj=change,
            old=old,
            new={"action": action, "reference_range": reference_range.pk, **new},
            reason=reason,
        )
    return change


def reference_range_change_approve(*, actor, change, comment=""):
    """A second system administrator approves: the change takes effect (the range is
    created, changed or removed, audited as such with the proposal's reason)."""
    comment = (comment or "").strip()
    with transaction.atomic():
        change = ReferenceRangeChange.objects.select_for_update().get(pk=change.pk)
        refusal = approval_refusal(actor, change)
        if refusal:
            raise AdminRefused(refusal, code="refused")
        stored = None
        if change.action != ReferenceRangeChange.Action.CREATE:
            stored = (
                ReferenceRange.objects.select_for_update()
                .filter(pk=change.reference_range_id)
                .first()
            )
            if stored is None or reference_range_values(stored) != change.before:
                raise AdminRefused(
                    _(
                        "The reference range changed after this change was proposed; reject it "
                        "and propose the change again."
                    ),
                    code="stale",
                )
        now = timezone.now()
        applied = {"proposed_by": change.proposed_by.get_username(), "change": change.pk}
        try:
            with transaction.atomic():
                if change.action == ReferenceRangeChange.Action.DELETE:
                    old = reference_range_values(stored)
                    object_id = stored.pk
                    stored.delete()
                    change.reference_range = None  # the range is gone; before names it
                    audit.record(
                        "delete",
                        actor=actor,
                        object_type=ReferenceRange._meta.label,
                        object_id=object_id,
                        old=old,
                        new=applied,
                        reason=change.reason,
                    )
                else:
                    target = stored or ReferenceRange()
                    before = reference_range_values(target) if stored else None
                    for name in REFERENCE_RANGE_FIELDS:
                        setattr(target, name, getattr(change, name))
                    target.save()
                    after = reference_range_values(target)
                    old, new = audit.diff(before, after) if before else (None, after)
                    audit.record(
                        "update" if stored else "create",
                        actor=actor,
                        obj=target,
                        old=old,
                        new={**new, **applied},
                        reason=change.reason,
                    )
                    change.reference_range = target
        except IntegrityError:  # a range with the same lab, analyte and sex exists now
            raise AdminRefused(
                _(
                    "A reference range for this laboratory, analyte and sex exists now; reject "
                    "this change and propose a change to that range instead."
                ),
                code="exists",
            )
        change.status = ReferenceRangeChange.Status.APPROVED
        change.decided_by = actor
        change.decided_at = now
        change.decision_comment = comment
        change.save()
        audit.record(
            "reference_range_approve",
            actor=actor,
            obj=change,
            old={"status": ReferenceRangeChange.Status.PENDING},
            new={
                "status": ReferenceRangeChange.Status.APPROVED,
                "reference_range": change.reference_range_id,
                "proposed_by": change.proposed_by.get_username(),
            },
            reason=comment,
        )
    return change


def reference_range_change_reject(*, actor, change, comment):
    """A second system administrator rejects the change (with a reason): nothing changes."""
    comment = _reason(comment)
    with transaction.atomic():
        change = ReferenceRangeChange.objects.select_for_update().get(pk=change.pk)
        refusal = approval_refusal(actor, change)
        if refusal:
            raise AdminRefused(refusal, code="refused")
        change.status = ReferenceRangeChange.Status.REJECTED
        change.decided_by = actor
        change.decided_at = timezone.now()
        change.decision_comment = comment
        change.save()
        audit.record(
            "reference_range_reject",
            actor=actor,
            obj=change,
            old={"status": ReferenceRangeChange.Status.PENDING},
            new={
                "status": ReferenceRangeChange.Status.REJECTED,
                "proposed_by": change.proposed_by.get_username(),
            },
            reason=comment,
        )
    return change
