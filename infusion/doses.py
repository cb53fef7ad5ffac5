"""C-MAR-1: the doses due of an episode's orders, kept in step with the orders.

`planned_doses(episode, order)` is pure: the doses an order makes due, each with its
window. `doses_sync(episode, orders)` makes the `DoseDue` rows match, inside the
transaction of the service that changed the episode or an order (it is called by
`infusion.reminders.episode_reminders_sync`, which every such service calls, so the
dose rows and their reminders move together). Only rows still "due" move or are
cancelled; a dose someone recorded (given, held, refused) or the sweeper marked missed
never changes.

The rows are made when the plan drafts the orders, not when the pharmacist verifies
them: the nurse and the reminders see what will be due from the moment the plan exists
(day −1 of the antiplatelet course is often the day the episode is opened), and a dose of
an order still unverified when its window closes is truthfully missed. Recording a dose
as given still needs a verified order (`order_administer`).

| order | doses | window | rule |
| --- | --- | --- | --- |
| antiplatelet | one per course day, day −1 to day 12 (14 days) | 08:00 → midnight, ward time | B-AP-1 |
| dexamethasone | one | scheduled (start − 30 min) → planned start + 30 min | B-PREMED-1 |
| MSC infusion | one (its rate steps shown on the row) | planned start → cold-chain hard limit | B-ADM-1 |
| cyclophosphamide, intrathecal MSC | one | scheduled → + 2 h | B-CYC-1 |
"""

from dataclasses import dataclass
from datetime import date, time, timedelta

from django.utils import timezone
from django.utils.translation import gettext_noop

from core import audit
from core.reminders.times import local_to_utc

from .models import DoseDue, DoseState, EpisodeStatus, OrderKind, OrderStatus
from .protocol import ward_zone

MORNING = time(8, 0)
# B-PREMED-1: given at the latest 30 min after the planned start.
PREMED_GRACE = timedelta(minutes=30)
SINGLE_DOSE_WINDOW = timedelta(hours=2)
# Orders whose doses are no longer due (their due rows are cancelled).
CLOSED_ORDER_STATUSES = (OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.COMPLETED)


@dataclass(frozen=True)
class PlannedDose:
    seq: int
    day: date | None
    due_from: object
    due_until: object
    planned_dose: object
    dose_unit: str


def planned_doses(episode, order, zone=None):
    """The doses `order` makes due (pure: reads the episode's and the order's fields)."""
    zone = zone or ward_zone()
    if order.kind == OrderKind.ANTIPLATELET:
        if not (order.first_day and order.last_day):
            return []
        out, day, seq = [], order.first_day, 0
        while day <= order.last_day:
            out.append(
                PlannedDose(
                    seq,
                    day,
                    local_to_utc(day, MORNING, zone),
                    local_to_utc(day + timedelta(days=1), time(0, 0), zone),
                    order.dose,
                    order.dose_unit,
                )
            )
            day += timedelta(days=1)
            seq += 1
        return out
    if order.kind == OrderKind.MSC_IV:
        return [
            PlannedDose(
                0,
                None,
                episode.planned_start,
                episode.cold_chain_must_complete_by,
                order.dose,
                order.dose_unit,
            )
        ]
    if order.scheduled_at is None:
        return []
    if order.kind == OrderKind.DEXAMETHASONE:
        until = max(episode.planned_start + PREMED_GRACE, order.scheduled_at + PREMED_GRACE)
    else:
        until = order.scheduled_at + SINGLE_DOSE_WINDOW
    return [PlannedDose(0, None, order.scheduled_at, until, order.dose, order.dose_unit)]


def _moved(row, planned):
    return (
        row.day != planned.day
        or row.due_from != planned.due_from
        or row.due_until != planned.due_until
        or row.planned_dose != planned.planned_dose
        or row.dose_unit != planned.dose_unit
    )


def _msc_outcome(row, episode, now):
    """The MSC dose is recorded on the bedside chart: given when the end is recorded."""
    if episode.ended_at is None or row.state != DoseState.DUE:
        return False
    row.state = DoseState.GIVEN
    row.at = episode.started_at or episode.ended_at
    row.recorded_by_id = episode.ended_by_id
    row.recorded_at = now
    row.dose_given = None if episode.stopped_early else row.planned_dose
    row.reason = episode.stop_reason if episode.stopped_early else ""
    return True


def doses_sync(episode, orders, *, actor=None, reason=""):
    """Make the episode's due-dose rows match its orders; returns every row of the episode.

    One audit event per order whose rows changed (created / moved / cancelled, by number).
    """
    now = timezone.now()
    zone = ward_zone()
    rows = {(r.order_id, r.seq): r for r in DoseDue.objects.filter(episode=episode)}
    for order in orders:
        # The MSC order completes when its end is recorded: that is the dose given.
        closed = episode.status == EpisodeStatus.CANCELLED or (
            order.status in CLOSED_ORDER_STATUSES
            and not (order.kind == OrderKind.MSC_IV and order.status == OrderStatus.COMPLETED)
        )
        wanted = {} if closed else {p.seq: p for p in planned_doses(episode, order, zone)}
        created, moved, cancelled, given = [], [], [], []
        for seq, planned in wanted.items():
            row = rows.get((order.pk, seq))
            if row is None:
                row = DoseDue(
                    episode=episode,
                    order=order,
                    seq=seq,
                    day=planned.day,
                    due_from=planned.due_from,
                    due_until=planned.due_until,
                    planned_dose=planned.planned_dose,
                    dose_unit=planned.dose_unit,
                    created_at=now,
                )
                row.save()
                rows[(order.pk, seq)] = row
                created.append(seq)
            elif row.state == DoseState.DUE and _moved(row, planned):
                row.day, row.due_from, row.due_until = (
                    planned.day,
                    planned.due_from,
                    planned.due_until,
                )
                row.planned_dose, row.dose_unit = planned.planned_dose, planned.dose_unit
                row.save()
                moved.append(seq)
            if order.kind == OrderKind.MSC_IV and _msc_outcome(row, episode, now):
                row.save()
                given.append(seq)
        for (order_id, seq), row in rows.items():
            if order_id == order.pk and seq not in wanted and row.state == DoseState.DUE:
                row.state = DoseState.CANCELLED
                row.recorded_at = now
                row.reason = reason or _closed_reason(episode, order)
                row.save()
                cancelled.append(seq)
        if created or moved or cancelled or given:
            audit.record(
                "doses_sync",
                actor=actor,
                obj=order,
                patient_id=order.patient_id,
                new={"created": created, "moved": moved, "cancelled": cancelled, "given": given},
                reason=reason,
            )
    return sorted(rows.values(), key=lambda r: (r.due_from, r.order_id, r.seq))


def _closed_reason(episode, order):
    if episode.status == EpisodeStatus.CANCELLED:
        return "episode cancelled"
    if order.status == OrderStatus.COMPLETED:
        return "order completed"
    if order.status in (OrderStatus.CANCELLED, OrderStatus.REJECTED):
        return f"order {order.status}"
    return "no longer in the order"


def dose_for_administration(order, given_at):
    """The dose row a recorded administration gives (locked): the course day of
    `given_at` for the antiplatelet order, else the order's single dose; None when the
    order has no such dose. The caller refuses one already recorded (given, held,
    refused); a missed one may still be recorded as given, late."""
    rows = (
        DoseDue.objects.select_for_update().exclude(state=DoseState.CANCELLED).filter(order=order)
    )
    if order.kind == OrderKind.ANTIPLATELET:
        rows = rows.filter(day=timezone.localtime(given_at, ward_zone()).date())
    return rows.order_by("seq").first()


def mark_given(row, administration, *, actor, now):
    """The dose `row` was given (an `Administration` was recorded for it); audited."""
    old = {"state": row.state}
    row.state = DoseState.GIVEN
    row.at = administration.given_at
    row.dose_given = administration.dose
    row.reason = administration.note
    row.recorded_by = actor
    row.recorded_at = now
    row.administration = administration
    row.save()
    audit.record(
        "dose_given",
        actor=actor,
        obj=row,
        patient_id=administration.order.patient_id,
        old=old,
        new={
            "state": row.state,
            "at": row.at,
            "dose_given": row.dose_given,
            "administration": administration.pk,
            "late": old["state"] == DoseState.MISSED,
        },
    )
    return row


def course_start_finding(plan, today):
    """B-AP-1 / C-MAR-1: the antiplatelet course planned from a day already past (pure).

    An episode opened on the infusion day (or later) plans day −1 in the past: the plan
    is shown with this warning and the physician chooses to start the course today
    (`episode_open(antiplatelet_from_today=True)`) or to re-plan the infusion date.
    """
    from infusion.engine.findings import make_finding

    ap = plan.antiplatelet
    if ap.status != "course" or ap.first_day is None or ap.first_day >= today:
        return None
    return make_finding(
        "B-AP-1",
        "course_start_past",
        "warning",
        gettext_noop(
            "The antiplatelet course was planned from %(first)s (the day before the infusion), "
            "which is already past: tick “start the antiplatelet course today” to start it "
            "today (%(today)s), or change the planned infusion date."
        ),
        {"first": ap.first_day, "today": today},
        requires_acknowledgement=True,
    )
