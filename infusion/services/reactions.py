"""Adverse reactions and serious adverse event reports (B-ADM-5, R6 1A; §4.1).

Conventions as in `infusion.services`: keyword-only, one transaction, audited; the SAE
notice is enqueued by task name after commit.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from core import audit

from ..models import AdverseReaction, SeriousAdverseEventReport
from ._common import (
    ActionRefused,
    _check_lengths,
    _check_time,
    _enqueue,
    _lock_episode,
    _not_cancelled,
    _now,
    _require,
    _require_ward,
    _required_text,
)


def adverse_reaction_record(
    *, episode, actor, reaction_type, severity, action, at=None, description=""
):
    """B-ADM-5 (R6, 1A). A severe reaction: the chart prompts to stop and to report it."""
    _require(actor, "infusion.add_adversereaction")
    _require_ward(actor, episode.patient)
    at = at or _now()
    _check_time(at, patient=episode.patient, what=_("The time of the reaction"))
    action = _required_text(
        action, field="action", message=_("Record what was done."), mark_field=True, limit=True
    )
    _check_lengths(description=description)
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
