"""The informed consent to an MSC episode (B-CONSENT-1).

Who consented (the patient or a relative), the day, the ethics-approved form's version,
the physician who took it and, optionally, the signed form's scan (PDF, JPEG or PNG, told
by its bytes; stored under a random name with its SHA-256). No order of the MSC therapy is
signed before it (`orders._sign_one`). Conventions as in `infusion.services`: keyword-only,
one transaction, audited (a correction with its reason), the order sheet re-rendered after
commit.
"""

import hashlib
import secrets
from decimal import Decimal

from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit
from core.models import Role
from infusion.engine import plan_from_document

from ..inputs import consent_document
from ..models import Consent, Consenter, EpisodeStatus
from ..protocol import protocol_settings, ward_zone
from ._common import (
    ActionRefused,
    InvalidPlanInput,
    _apply_plan,
    _check_lengths,
    _enqueue,
    _lock_episode,
    _now,
    _require,
    _require_ward,
)

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
