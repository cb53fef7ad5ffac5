"""C-MAR-1: the medication administration record, one row per due dose (`DoseDue`).

A due dose becomes, exactly once:

- **given** — `dose_record_given` (through `order_administer`, which creates the
  `Administration` and marks the row; the dose actually given may differ from the dose
  ordered);
- **held** — `dose_hold` (not given on purpose, e.g. bleeding, the physician's
  instruction), with the reason;
- **refused** — `dose_refuse` (the patient declined), with the reason;
- **missed** — `doses_sweep_missed`, the Celery beat sweeper, when nobody recorded
  anything by the window's end; the ward's physicians get a reminder.

A dose is never shown as given unless someone recorded it. Each transition is audited
in its transaction. A missed dose may still be recorded as given (late) when it was in
fact given in its window; a held or refused dose is final.

The sweeper claims each row with a conditional ``UPDATE … WHERE state = 'due'`` and acts
only when exactly one row changed, so two workers (or a worker and a nurse recording the
dose at that moment) never both decide its outcome.
"""

import logging

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit

from . import reminders, services
from .models import DoseDue, DoseState, Episode, OrderKind
from .protocol import ward_zone
from .services import ActionRefused

logger = logging.getLogger(__name__)

SWEEP_BATCH = 200
REASON_MAX = 2000


def _require(actor, dose):
    if not actor.has_perm("infusion.administer_order"):
        raise PermissionDenied("infusion.administer_order")
    if actor.ward_id is None or actor.ward_id != dose.episode.patient.ward_id:
        raise PermissionDenied("other ward")


def _lock(dose):
    return (
        DoseDue.objects.select_for_update(of=("self",))
        .select_related("episode__patient", "order")
        .get(pk=dose.pk)
    )


def _refuse_recorded(dose):
    if dose.state == DoseState.DUE:
        return
    if dose.state == DoseState.CANCELLED:
        raise ActionRefused(_("This dose is no longer due."), code="dose_state")
    if dose.state == DoseState.MISSED:
        raise ActionRefused(
            _("This dose was marked missed; only a dose given in its window can be recorded."),
            code="dose_state",
        )
    who = dose.recorded_by.get_full_name() or dose.recorded_by.get_username()
    raise ActionRefused(
        _("This dose was already recorded as %(state)s by %(who)s.")
        % {"state": dose.get_state_display().lower(), "who": who},
        code="dose_state",
    )


def dose_record_given(*, dose, actor, given_at=None, dose_given=None, note=""):
    """A nurse records a due (or missed, given late) dose as given (C-MAR-1)."""
    _require(actor, dose)
    if dose.order.kind == OrderKind.MSC_IV:
        raise ActionRefused(
            _("Record the MSC infusion on the bedside chart (start and end)."), code="chart"
        )
    if dose.state not in (DoseState.DUE, DoseState.MISSED):
        _refuse_recorded(dose)
    given_at = given_at or timezone.now()
    if dose.day is not None and timezone.localtime(given_at, ward_zone()).date() != dose.day:
        raise ActionRefused(
            _("This is the dose of %(day)s; record each day's dose on its own row (B-AP-1).")
            % {"day": dose.day},
            code="course",
        )
    if dose_given is not None and dose_given <= 0:
        raise ActionRefused(_("The dose given must be more than 0."), code="dose")
    services.order_administer(
        order=dose.order, actor=actor, given_at=given_at, dose=dose_given, note=note
    )
    dose.refresh_from_db()
    return dose


def _not_given(dose, actor, *, state, reason, at, action):
    _require(actor, dose)
    reason = (reason or "").strip()
    if not reason:
        raise ActionRefused(_("Give the reason."), code="reason")
    if len(reason) > REASON_MAX:
        raise ActionRefused(_("The reason is too long."), code="reason")
    now = timezone.now()
    at = at or now
    # C-TIME-1: the one check of a recorded clinical time (not after now, not before birth).
    services._check_time(at, patient=dose.episode.patient, what=_("The time"))
    with transaction.atomic():
        dose = _lock(dose)
        if dose.order.kind == OrderKind.MSC_IV:
            raise ActionRefused(
                _("Record the MSC infusion on the bedside chart (start and end)."), code="chart"
            )
        _refuse_recorded(dose)
        dose.state, dose.at, dose.reason = state, at, reason
        dose.recorded_by, dose.recorded_at = actor, now
        dose.save()
        audit.record(
            action,
            actor=actor,
            obj=dose,
            patient_id=dose.episode.patient_id,
            old={"state": DoseState.DUE},
            new={"state": state, "at": at, "order": dose.order_id, "seq": dose.seq},
            reason=reason,
        )
        reminders.episode_reminders_sync(dose.episode, actor=actor, reason=action)
    return dose


def dose_hold(*, dose, actor, reason, at=None):
    """The dose is not given on purpose (held), with the reason (C-MAR-1)."""
    return _not_given(dose, actor, state=DoseState.HELD, reason=reason, at=at, action="dose_hold")


def dose_refuse(*, dose, actor, reason, at=None):
    """The patient refused the dose, with what they said (C-MAR-1)."""
    return _not_given(
        dose, actor, state=DoseState.REFUSED, reason=reason, at=at, action="dose_refuse"
    )


def doses_sweep_missed(now=None, *, limit=SWEEP_BATCH):
    """Mark every due dose whose window has closed as missed (never given), audit each,
    and remind the ward's physicians. Safe to run in several processes at once: each row
    is claimed by a conditional UPDATE and handled only by the worker that changed it.
    Returns the ids it marked."""
    now = now or timezone.now()
    candidates = list(
        DoseDue.objects.filter(state=DoseState.DUE, due_until__lte=now)
        # An MSC infusion that has started is on the chart, not missed.
        .exclude(order__kind=OrderKind.MSC_IV, episode__started_at__isnull=False)
        .order_by("due_until")
        .values_list("pk", "episode_id")[:limit]
    )
    by_episode = {}
    for pk, episode_id in candidates:
        by_episode.setdefault(episode_id, []).append(pk)
    marked = []
    # One transaction per episode: its doses claimed and audited, and the physicians'
    # reminders scheduled, together (a crash leaves the doses due for the next sweep).
    for episode_id, pks in by_episode.items():
        with transaction.atomic():
            episode = Episode.objects.select_related("patient").get(pk=episode_id)
            claimed_here = []
            for pk in pks:
                claimed = DoseDue.claims.filter(pk=pk, state=DoseState.DUE).update(
                    state=DoseState.MISSED, missed_at=now, recorded_at=now
                )
                if claimed != 1:
                    continue  # another worker, or a nurse recording it, got there first
                dose = DoseDue.objects.get(pk=pk)
                audit.record(
                    "dose_missed",
                    obj=dose,
                    patient_id=episode.patient_id,
                    old={"state": DoseState.DUE},
                    new={"state": DoseState.MISSED, "due_until": dose.due_until, "missed_at": now},
                    reason="not recorded as given, held or refused by the end of its window",
                )
                claimed_here.append(pk)
            if claimed_here:
                reminders.episode_reminders_sync(episode, reason="dose missed")
                marked.extend(claimed_here)
    if marked:
        logger.info("marked %d dose(s) missed", len(marked))
    return marked


def dose_record_outcome(*, dose, actor, outcome, at=None, dose_given=None, note=""):
    """The MAR form's one entry point: record `outcome` for `dose`; returns the message."""
    if outcome == "held":
        dose_hold(dose=dose, actor=actor, reason=note, at=at)
        return _("Dose recorded as held.")
    if outcome == "refused":
        dose_refuse(dose=dose, actor=actor, reason=note, at=at)
        return _("Dose recorded as refused by the patient.")
    dose_record_given(dose=dose, actor=actor, given_at=at, dose_given=dose_given, note=note)
    return _("Dose recorded as given.")
