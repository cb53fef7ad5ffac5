"""The reminders of an MSC episode, kept in step with the episode by one function.

`episode_reminders_sync(episode)` is called by every service that changes an episode or
its orders, inside that service's transaction. It computes the reminders the episode
needs now and makes `core.reminders` match: missing ones are scheduled, changed ones move
(planned start moved, actual start or end recorded), ones that no longer apply are
cancelled (the step was done, the order was verified, the episode was cancelled).

| step | due | to | rule |
| --- | --- | --- | --- |
| antiplatelet_start | 08:00 on day −1 | nurse | B-AP-1 |
| antiplatelet_stop | 08:00 the day after the last day (day 14 of the course) | nurse | B-AP-1 |
| dexamethasone | planned start − 30 min | nurse | B-PREMED-1 |
| out_of_fridge | planned start − 20 min | nurse | B-ADM-2 |
| rate_step_up | start + first phase (5–10 min) | nurse | B-ADM-4 |
| vitals-N | every 15 min during the infusion, and at the planned end | nurse | B-ADM-5 |
| cold_chain_warn | preparation + 8 h (COLD_CHAIN_WARN_HOURS) | nurse | B-ADM-1 |
| cold_chain_alarm | hard limit − 30 min | nurse | B-ADM-1 |
| cyc_hold_end | infusion end + 48 h (planned end until the actual end is recorded) | physician | B-CYC-1 |
| follow-up kinds | 08:00 on the due day | physician | B-FU-1..4, B-REP-1 |
| pharmacy_verify-N (per signing) | signed + PHARMACY_VERIFY_REMINDER_MINUTES | pharmacist | — |

Times are computed in the ward's zone (08:00 is local wall time, right across DST).
A reminder whose due time is more than `STALE_AFTER` in the past when first computed is
not created (a moment that has passed, e.g. an episode recorded after the fact); an
existing one is left as it is.
"""

from dataclasses import dataclass
from datetime import date, time, timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_noop

from core.reminders import services as reminder_services
from core.reminders.models import Reminder, ReminderStatus
from core.reminders.times import local_to_utc

from .doses import doses_sync
from .models import DoseState, EpisodeStatus, Order, OrderKind, OrderStatus, SignatureMeaning
from .protocol import vitals_interval_minutes, ward_zone

EPISODE_SUBJECT = "infusion.Episode"
ORDER_SUBJECT = "infusion.Order"
STALE_AFTER = timedelta(hours=12)
# A re-send of a reminder whose moment moved after it went out keeps the step and takes
# occurrence + RESEND_STRIDE (the base occurrences, e.g. one per signing, stay below it).
RESEND_STRIDE = 1000
MORNING = time(8, 0)
COLD_CHAIN_ALARM_BEFORE = timedelta(minutes=30)
OUT_OF_FRIDGE_BEFORE = timedelta(minutes=20)  # B-ADM-2: the earliest of 10–20 min
OPEN_REMINDER_STATUSES = (
    ReminderStatus.SCHEDULED,
    ReminderStatus.SENDING,
    ReminderStatus.SENT,
    ReminderStatus.ESCALATED,
)

FOLLOW_UP_TITLES = {
    "blood_count_week_1": gettext_noop(
        "Follow-up of %(patient)s: blood count one week after the MSC infusion (B-FU-2)"
    ),
    "labs_month": gettext_noop(
        "Follow-up of %(patient)s, month %(months)s: blood count, liver and renal function, "
        "24 h urine protein (B-FU-2)"
    ),
    "assessment_month": gettext_noop(
        "Follow-up of %(patient)s, month %(months)s: SLEDAI, BILAG, physician global "
        "assessment, organ function, autoantibodies, complement, Treg cells (B-FU-1)"
    ),
    "maintenance_review": gettext_noop(
        "Follow-up of %(patient)s: maintenance review, low-dose glucocorticoid and tapering "
        "immunosuppressant (B-FU-4)"
    ),
    "organ_ultrasound_month_6": gettext_noop(
        "Follow-up of %(patient)s: ultrasound of the involved organs (B-FU-2)"
    ),
    "echo_chest_ct_month_6": gettext_noop(
        "Follow-up of %(patient)s: echocardiogram and chest CT (B-FU-3)"
    ),
    "renal_biopsy": gettext_noop(
        "Follow-up of %(patient)s: consider a repeat renal biopsy, 6–12 months after (B-FU-3)"
    ),
    "relapse_watch": gettext_noop(
        "Follow-up of %(patient)s: watch for relapse; a repeat infusion may be considered "
        "after a response (B-REP-1, R10 2B)"
    ),
}

# One text per drug, so the drug's name is translated too: (start, stop).
ANTIPLATELET_TITLES = {
    "aspirin": (
        gettext_noop(
            "Start aspirin %(dose)s mg once daily for %(patient)s today, the day before the MSC "
            "infusion (B-AP-1)"
        ),
        gettext_noop(
            "The aspirin course of %(patient)s ended yesterday (day 14): stop it unless the "
            "physician decides otherwise (B-AP-1)"
        ),
    ),
    "clopidogrel": (
        gettext_noop(
            "Start clopidogrel %(dose)s mg once daily for %(patient)s today, the day before the "
            "MSC infusion (B-AP-1)"
        ),
        gettext_noop(
            "The clopidogrel course of %(patient)s ended yesterday (day 14): stop it unless the "
            "physician decides otherwise (B-AP-1)"
        ),
    ),
}


# C-MAR-1: the reminder of each later day of the course (day −1 has the start text above).
ANTIPLATELET_DOSE_TITLES = {
    "aspirin": gettext_noop(
        "Give aspirin %(dose)s mg to %(patient)s today: dose %(day)s of %(days)s of the "
        "antiplatelet course (B-AP-1)"
    ),
    "clopidogrel": gettext_noop(
        "Give clopidogrel %(dose)s mg to %(patient)s today: dose %(day)s of %(days)s of the "
        "antiplatelet course (B-AP-1)"
    ),
}
DOSE_TITLE = gettext_noop("Give %(drug)s %(dose)s %(unit)s to %(patient)s at %(time)s")
MISSED_TITLE = gettext_noop(
    "Missed dose: %(drug)s %(dose)s %(unit)s for %(patient)s, due %(due)s, was not recorded "
    "as given, held or refused by %(until)s (C-MAR-1)"
)
MISSED_SUFFIX = "/missed"
DOSE_RULES = {
    OrderKind.ANTIPLATELET: "B-AP-1",
    OrderKind.DEXAMETHASONE: "B-PREMED-1",
    OrderKind.MSC_IV: "B-ADM-1",
    OrderKind.MSC_INTRATHECAL: "B-ADM-1",
    OrderKind.CYCLOPHOSPHAMIDE: "B-CYC-1",
}


def dose_step(row, order):
    """The reminder step of a due dose (C-MAR-1); the first antiplatelet dose and the
    dexamethasone keep the steps they always had."""
    if order.kind == OrderKind.ANTIPLATELET:
        return "antiplatelet_start" if row.seq == 0 else f"antiplatelet_dose-{row.seq + 1}"
    if order.kind == OrderKind.DEXAMETHASONE:
        return "dexamethasone"
    if order.kind == OrderKind.MSC_IV:
        return "msc_infusion"
    return f"dose-{order.pk}-{row.seq}"


def _dose_reminders(episode, orders, doses, patient):
    """A reminder for each due single dose without one of its own (cyclophosphamide, an
    intrathecal MSC), and one to the physicians for each missed dose (C-MAR-1). The MSC
    infusion's own reminders are the out-of-fridge, rate and vitals steps."""
    by_pk = {o.pk: o for o in orders}
    out = []
    for row in doses:
        order = by_pk.get(row.order_id)
        if order is None:
            continue
        params = {
            "patient": patient,
            "drug": order.drug,
            "dose": format(row.planned_dose.normalize(), "f"),
            "unit": row.dose_unit,
        }
        rule = DOSE_RULES.get(order.kind, "")
        if row.state == DoseState.MISSED and row.missed_at is not None:
            due, until = _local_day_time(row.due_from), _local_day_time(row.due_until)
            out.append(
                Wanted(
                    dose_step(row, order) + MISSED_SUFFIX,
                    row.missed_at,
                    "physician",
                    MISSED_TITLE,
                    {**params, "due": due, "until": until},
                    rule,
                    False,
                )
            )
        elif (
            row.state == DoseState.DUE
            and order.kind in (OrderKind.CYCLOPHOSPHAMIDE, OrderKind.MSC_INTRATHECAL)
            and episode.status != EpisodeStatus.CANCELLED
        ):
            out.append(
                Wanted(
                    dose_step(row, order),
                    row.due_from,
                    "nurse",
                    DOSE_TITLE,
                    {**params, "time": _local_day_time(row.due_from)},
                    rule,
                )
            )
    return out


def _local_day_time(value):
    return value.astimezone(ward_zone()).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class Wanted:
    step: str
    due_at: object
    role: str
    template: str
    params: dict
    rule_id: str
    escalate: bool = True
    occurrence: int = 0

    @property
    def key(self):
        return (self.step, self.occurrence)


def _local(value):
    return value.astimezone(ward_zone()).strftime("%H:%M")


def _follow_up_title(kind):
    if kind.startswith("labs_month_"):
        return FOLLOW_UP_TITLES["labs_month"], kind.rsplit("_", 1)[1]
    if kind.startswith("assessment_month_"):
        return FOLLOW_UP_TITLES["assessment_month"], kind.rsplit("_", 1)[1]
    return FOLLOW_UP_TITLES.get(kind), None


def episode_wanted(episode, orders, doses=None):
    """The reminders the episode needs now, as `Wanted` items (pure; reads only).

    `doses`: the episode's `DoseDue` rows (C-MAR-1): a reminder per due dose, and one to
    the ward's physicians per dose the sweeper marked missed.
    """
    if episode.status == EpisodeStatus.CANCELLED:
        return []
    zone = ward_zone()
    patient = episode.patient.name
    start = episode.infusion_start
    start_text = _local(start)
    active = {
        o.kind: o
        for o in orders
        if o.kind != OrderKind.CYCLOPHOSPHAMIDE
        and o.status not in (OrderStatus.CANCELLED, OrderStatus.REJECTED)
    }
    wanted = []

    def want(step, due_at, role, template, rule_id, occurrence=0, escalate=True, **params):
        wanted.append(
            Wanted(
                step,
                due_at,
                role,
                template,
                {"patient": patient, **params},
                rule_id,
                escalate,
                occurrence,
            )
        )

    ap = active.get(OrderKind.ANTIPLATELET)
    if ap is not None and ap.status != OrderStatus.COMPLETED:
        start_title, stop_title = ANTIPLATELET_TITLES[ap.drug]
        if doses is not None:
            # C-MAR-1: one reminder per due dose of the course, day −1 included.
            for row in doses:
                if row.order_id != ap.pk or row.state != DoseState.DUE:
                    continue
                want(
                    dose_step(row, ap),
                    row.due_from,
                    "nurse",
                    start_title if row.seq == 0 else ANTIPLATELET_DOSE_TITLES[ap.drug],
                    "B-AP-1",
                    escalate=False,  # the sweeper's "missed" reminder is the escalation
                    dose=format(ap.dose.normalize(), "f"),
                    day=row.seq + 1,
                    days=len([d for d in doses if d.order_id == ap.pk]),
                )
        elif ap.status != OrderStatus.ADMINISTERED:
            want(
                "antiplatelet_start",
                local_to_utc(ap.first_day, MORNING, zone),
                "nurse",
                start_title,
                "B-AP-1",
                escalate=False,  # a day-before task, not an infusion-day step
                dose=format(ap.dose.normalize(), "f"),
            )
        want(
            "antiplatelet_stop",
            local_to_utc(ap.last_day + timedelta(days=1), MORNING, zone),
            "nurse",
            stop_title,
            "B-AP-1",
            escalate=False,
        )

    if episode.status == EpisodeStatus.PLANNED:
        dexa = active.get(OrderKind.DEXAMETHASONE)
        if dexa is not None and (
            dexa.status in (OrderStatus.DRAFT, OrderStatus.SIGNED, OrderStatus.VERIFIED)
            if doses is None
            else any(r.order_id == dexa.pk and r.state == DoseState.DUE for r in doses)
        ):
            want(
                "dexamethasone",
                dexa.scheduled_at,
                "nurse",
                gettext_noop(
                    "Give dexamethasone 5 mg IV push to %(patient)s before the MSC infusion at "
                    "%(start)s (B-PREMED-1)"
                ),
                "B-PREMED-1",
                start=start_text,
            )
        if episode.out_of_fridge_at is None:
            want(
                "out_of_fridge",
                episode.planned_start - OUT_OF_FRIDGE_BEFORE,
                "nurse",
                gettext_noop(
                    "Take the MSC suspension of %(patient)s out of the refrigerator now (10–20 min "
                    "before %(start)s); do not shake or warm it (B-ADM-2)"
                ),
                "B-ADM-2",
                start=start_text,
            )

    msc = active.get(OrderKind.MSC_IV)
    if episode.status in (EpisodeStatus.PLANNED, EpisodeStatus.IN_PROGRESS) and msc is not None:
        phases = msc.rate_plan or []
        stepped_up = episode.status == EpisodeStatus.IN_PROGRESS and (
            len(list(episode.rate_steps.all())) > 1
        )
        if len(phases) > 1 and not stepped_up:
            want(
                "rate_step_up",
                start + timedelta(minutes=float(phases[1]["start_offset_min"])),
                "nurse",
                gettext_noop(
                    "Step up the MSC infusion rate of %(patient)s to %(rate)s mL/min if it is "
                    "tolerated (B-ADM-4)"
                ),
                "B-ADM-4",
                rate=phases[1]["rate_ml_per_min"],
            )
        duration = (
            episode.planned_end - episode.planned_start if episode.planned_end else timedelta()
        )
        interval = timedelta(minutes=vitals_interval_minutes())
        checks = []
        offset = interval
        while offset < duration:
            checks.append(offset)
            offset += interval
        checks.append(duration)
        for n, offset in enumerate(checks, start=1):
            want(
                f"vitals-{n}",
                start + offset,
                "nurse",
                gettext_noop(
                    "Check respiration, pulse, blood pressure and SpO₂ of %(patient)s during the "
                    "MSC infusion (B-ADM-5)"
                ),
                "B-ADM-5",
            )
        want(
            "cold_chain_warn",
            episode.cold_chain_late_from,
            "nurse",
            gettext_noop(
                "The MSC suspension of %(patient)s is %(hours)s h old: the infusion should have "
                "ended; hard limit %(limit)s (B-ADM-1)"
            ),
            "B-ADM-1",
            hours=settings.COLD_CHAIN_WARN_HOURS,
            limit=_local(episode.cold_chain_must_complete_by),
        )
        want(
            "cold_chain_alarm",
            episode.cold_chain_must_complete_by - COLD_CHAIN_ALARM_BEFORE,
            "nurse",
            gettext_noop(
                "30 min to the cold-chain hard limit (%(limit)s) of the MSC suspension of "
                "%(patient)s (B-ADM-1)"
            ),
            "B-ADM-1",
            limit=_local(episode.cold_chain_must_complete_by),
        )

    if episode.cyc_hold_until is not None:
        want(
            "cyc_hold_end",
            episode.cyc_hold_until,
            "physician",
            gettext_noop(
                "48 h after the MSC infusion of %(patient)s: cyclophosphamide may be given again "
                "if needed (B-CYC-1)"
            ),
            "B-CYC-1",
            escalate=False,
        )

    if doses is not None:
        wanted.extend(_dose_reminders(episode, orders, doses, patient))

    for item in (episode.plan or {}).get("follow_up", ()):
        template, months = _follow_up_title(item["kind"])
        if template is None:
            continue
        extra = {"months": months} if months else {}
        want(
            item["kind"],
            local_to_utc(date.fromisoformat(item["due_date"]), MORNING, zone),
            "physician",
            template,
            item["rule_id"],
            escalate=False,  # months ahead: escalation is for infusion-day steps only
            **extra,
        )
    return wanted


PHARMACY_STEP = "pharmacy_verify"


def pharmacy_wanted(episode, orders):
    """One pharmacy reminder per signing that still waits for verification.

    The event is the physician's signing, not the order: "sign all" signs the cells, the
    dexamethasone and the antiplatelet course at one moment, and the pharmacist verifies
    them on one queue card, so that is one reminder (it was one per order, three
    identical reminders). A later signing (an order edited and signed again) is a new
    event with its own reminder. The step is numbered by the signing's place among all
    the episode's prescribing moments (voided signatures stay on record, so the numbers
    never shift): `pharmacy_verify-1`, `-2`, …; with the unique key (subject, step,
    occurrence) the database holds one row per event.
    """
    if episode.status == EpisodeStatus.CANCELLED:
        return []
    moments = sorted(
        {
            s.signed_at
            for o in orders
            for s in o.signatures.all()
            if s.meaning == SignatureMeaning.PRESCRIBED
        }
    )
    waiting = set()
    for order in orders:
        if order.status != OrderStatus.SIGNED:
            continue
        current = [
            s
            for s in order.signatures.all()
            if s.meaning == SignatureMeaning.PRESCRIBED and s.voided_at is None
        ]
        if current:
            waiting.add(current[-1].signed_at)
    minutes = settings.PHARMACY_VERIFY_REMINDER_MINUTES
    start = episode.infusion_start.astimezone(ward_zone()).strftime("%Y-%m-%d %H:%M")
    return [
        Wanted(
            f"{PHARMACY_STEP}-{moments.index(moment) + 1}",
            moment + timedelta(minutes=minutes),
            "pharmacist",
            gettext_noop(
                "An order for %(patient)s has waited %(minutes)s min for pharmacist verification "
                "(MSC infusion %(start)s)"
            ),
            {"patient": episode.patient.name, "minutes": minutes, "start": start},
            "",
            True,
        )
        for moment in sorted(waiting)
    ]


def reminder_path(reminder):
    """The page where a reminder of an episode is acted on (core.reminders.links): the
    pharmacist's on the episode's queue card, the nurse's on the bedside chart, the
    physician's (cyclophosphamide hold, follow-ups) on the episode page."""
    step = reminder.step.removesuffix(reminder_services.ESCALATION_SUFFIX)
    if reminder.subject_type == ORDER_SUBJECT:  # rows from before pharmacy_wanted
        episode_id = (
            Order.objects.filter(pk=reminder.subject_id)
            .values_list("episode_id", flat=True)
            .first()
        )
        if episode_id is None:
            return None
        return reverse("infusion:queue") + f"#queue-item-{episode_id}"
    episode_id = int(reminder.subject_id)
    if step.startswith(PHARMACY_STEP):
        return reverse("infusion:queue") + f"#queue-item-{episode_id}"
    if step == "cyc_hold_end" or reminder.rule_id.startswith(("B-FU", "B-REP")):
        return reverse("infusion:episode_detail", args=[episode_id])
    return reverse("infusion:chart", args=[episode_id])  # the bedside steps and doses


def _latest_rows(existing):
    """The newest row of each (step, occurrence) chain: a reminder sent for a moment that
    later moved is followed by a re-send at occurrence + RESEND_STRIDE (see _apply)."""
    latest = {}
    for r in existing:
        key = (r.step, r.occurrence % RESEND_STRIDE)
        if key not in latest or r.occurrence > latest[key].occurrence:
            latest[key] = r
    return latest


def _apply(subject_type, subject_id, wanted, existing, *, episode, actor, reason):
    now = timezone.now()
    by_key = _latest_rows(existing)
    wanted_steps = {w.step for w in wanted}
    for w in wanted:
        row = by_key.get(w.key)
        occurrence = w.occurrence
        if row is None:
            if w.due_at < now - STALE_AFTER:
                continue
        elif row.status != ReminderStatus.SCHEDULED:
            # Already sent (or acknowledged) for the old time. If the moment moved to a
            # time still ahead, the recipient must be reminded again then: the old one
            # leaves the notification centre and a new occurrence is scheduled.
            if row.status == ReminderStatus.CANCELLED or row.due_at == w.due_at:
                continue
            if w.due_at <= now:
                continue
            reminder_services.reminder_supersede(
                reminder=row, actor=actor, reason=reason or "rescheduled: the moment moved"
            )
            occurrence = row.occurrence + RESEND_STRIDE
        elif (
            row.due_at == w.due_at
            and row.title_template == w.template
            and row.title_params == w.params
            and row.recipient_role == w.role
        ):
            continue
        else:
            occurrence = row.occurrence
        reminder_services.reminder_schedule(
            subject_type=subject_type,
            subject_id=subject_id,
            step=w.step,
            occurrence=occurrence,
            due_at=w.due_at,
            patient=episode.patient,
            ward=episode.patient.ward,
            recipient_role=w.role,
            title_template=w.template,
            title_params=w.params,
            rule_id=w.rule_id,
            escalate=w.escalate,
            actor=actor,
        )
    obsolete = sorted(
        {
            r.step
            for r in existing
            if r.step not in wanted_steps
            and r.status in OPEN_REMINDER_STATUSES
            and not r.step.endswith(reminder_services.ESCALATION_SUFFIX)
        }
    )
    if obsolete:
        reminder_services.reminders_cancel(
            subject_type=subject_type,
            subject_id=subject_id,
            steps=obsolete,
            actor=actor,
            reason=reason or "no longer needed",
        )


def _normalise_params(params):
    # What a JSONField gives back: numbers stay numbers, everything else a string.
    return {k: v if isinstance(v, int | float) else str(v) for k, v in params.items()}


def episode_reminders_sync(episode, *, actor=None, reason=""):
    """Make the episode's reminders (and its orders' pharmacy reminders) match its state."""
    orders = list(episode.orders.prefetch_related("signatures"))
    # C-MAR-1: the due-dose rows follow the orders first; their reminders follow them.
    doses = doses_sync(episode, orders, actor=actor, reason=reason)
    wanted = [
        Wanted(**{**w.__dict__, "params": _normalise_params(w.params)})
        for w in [*episode_wanted(episode, orders, doses), *pharmacy_wanted(episode, orders)]
    ]
    existing = list(
        Reminder.objects.filter(subject_type=EPISODE_SUBJECT, subject_id=str(episode.pk))
    )
    _apply(
        EPISODE_SUBJECT, episode.pk, wanted, existing, episode=episode, actor=actor, reason=reason
    )
    order_rows = {}
    for row in Reminder.objects.filter(
        subject_type=ORDER_SUBJECT, subject_id__in=[str(o.pk) for o in orders]
    ):
        order_rows.setdefault(row.subject_id, []).append(row)
    # Per-order pharmacy reminders of earlier versions: their signing's episode reminder
    # (pharmacy_wanted) replaces them, so the open ones are cancelled.
    for order in orders:
        rows = order_rows.get(str(order.pk), [])
        if rows:
            _apply(ORDER_SUBJECT, order.pk, [], rows, episode=episode, actor=actor, reason=reason)


def episode_reminders_cancel(episode, *, actor, reason):
    """The episode was cancelled: none of its reminders applies any more."""
    doses_sync(episode, list(episode.orders.all()), actor=actor, reason=reason)  # C-MAR-1
    reminder_services.reminders_cancel(
        subject_type=EPISODE_SUBJECT, subject_id=episode.pk, actor=actor, reason=reason
    )
    for order_id in episode.orders.values_list("pk", flat=True):
        reminder_services.reminders_cancel(
            subject_type=ORDER_SUBJECT, subject_id=order_id, actor=actor, reason=reason
        )
