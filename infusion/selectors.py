"""Reads for the infusion pages: access-scoped lookups, the pharmacist queue, the bedside
chart's deadlines and prompts, and the medication administration record."""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from functools import cache

from django.db import connection
from django.db.models import Exists, IntegerField, OuterRef, Prefetch, Q
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.utils import timezone

from core.access import get_for_user, scoped_for_user
from core.models import Patient, Role
from infusion.engine import end_status

from . import verification
from .models import (
    CONTENT_FIELDS,
    AdverseReaction,
    CheckOverride,
    DoseDue,
    DoseState,
    Episode,
    EpisodeStatus,
    Order,
    OrderKind,
    OrderStatus,
    Signature,
    SignatureMeaning,
)
from .protocol import (
    protocol_settings,
    vital_ranges,
    vitals_interval_minutes,
)

# The most urgent first. Each card carries its checks and a verify and a reject form per
# order; five fill a tablet screen several times over, and keep the page light to draw.
QUEUE_PAGE_SIZE = 5


# --- Access ----------------------------------------------------------------------------


def episodes_for_user(user):
    qs = Episode.objects.select_related("patient", "patient__ward", "opened_by")
    return scoped_for_user(user, qs, ward_path="patient__ward")


def get_episode_for_user(user, pk):
    qs = Episode.objects.select_related("patient", "patient__ward", "opened_by")
    return get_for_user(user, qs, pk, ward_path="patient__ward", patient_path="patient_id")


def active_episode(patient):
    """The patient's planned or running MSC episode, if any (one at a time: services
    refuse a second one, `episode_open`)."""
    return (
        Episode.objects.filter(
            patient=patient, status__in=(EpisodeStatus.PLANNED, EpisodeStatus.IN_PROGRESS)
        )
        .defer("plan", "plan_input")
        .order_by("planned_start", "pk")
        .first()
    )


def get_order_for_user(user, pk):
    qs = Order.objects.select_related("episode", "patient", "episode__patient")
    return get_for_user(user, qs, pk, ward_path="patient__ward", patient_path="patient_id")


def get_dose_of_order(order, dose_pk):
    """A due dose of an order the caller already reached through its access helper."""
    dose = (
        DoseDue.objects.select_related("episode__patient", "order", "recorded_by")
        .filter(pk=dose_pk, order=order)
        .first()
    )
    if dose is None:
        raise Http404("no such dose")
    return dose


def get_reaction_for_user(user, pk):
    qs = AdverseReaction.objects.select_related("episode", "episode__patient")
    return get_for_user(
        user, qs, pk, ward_path="episode__patient__ward", patient_path="episode__patient_id"
    )


# --- Orders with their signatures ------------------------------------------------------


def _signatures_prefetch():
    return Prefetch(
        "signatures",
        queryset=Signature.objects.order_by("signed_at", "pk"),  # signer_name is kept
    )


def episode_orders(episode):
    return list(
        episode.orders.select_related("created_by")
        .prefetch_related(_signatures_prefetch(), "administrations__given_by")
        .order_by("pk")
    )


@dataclass
class OrderRow:
    order: Order
    prescribed: Signature | None
    verified: Signature | None
    override: Signature | None
    voided: list = field(default_factory=list)


def order_rows(orders, signatures=None):
    """An ``OrderRow`` per order: its first live signature of each meaning and the voided
    ones. ``signatures`` ({order pk: [Signature] in signing order}) when the orders come
    without their prefetched ``signatures``."""
    rows = []
    for order in orders:
        row = OrderRow(order=order, prescribed=None, verified=None, override=None)
        signed = order.signatures.all() if signatures is None else signatures.get(order.pk, ())
        for s in signed:
            if s.voided_at is not None:
                row.voided.append(s)
            elif s.meaning == SignatureMeaning.PRESCRIBED and row.prescribed is None:
                row.prescribed = s
            elif s.meaning == SignatureMeaning.VERIFIED and row.verified is None:
                row.verified = s
            elif s.meaning == SignatureMeaning.HOLD_OVERRIDE and row.override is None:
                row.override = s
        rows.append(row)
    return rows


# --- The pharmacist queue --------------------------------------------------------------


@dataclass
class QueueItem:
    episode: Episode
    orders: list  # OrderRow of the orders waiting for verification
    checks: list  # infusion.verification.CheckView, in reading order (C-VERIFY-1)
    cyc_orders: list  # (order, in_hold) of the patient's cyclophosphamide near the infusion
    overrides: list = field(default_factory=list)  # live CheckOverride of the episode

    @property
    def blocking(self):
        """The checks that stop verification now (C-VERIFY-1)."""
        return [c for c in self.checks if c.blocks]


# How many pages past the one shown the queue is counted: "Page 1 of 20" and "63
# episodes waiting" are exact up to there; beyond, the page says "more than" (counting a
# queue of thousands, episode by episode and ward by ward, would cost more than the page).
QUEUE_PAGES_COUNTED = 20


def pharmacy_queue(user, page=1):
    """Episodes with orders waiting for verification, most urgent (earliest start) first:
    ``(items, total, page)``, the page clamped to the pages there are. ``total`` is exact
    up to ``QUEUE_PAGES_COUNTED`` pages past this one, one more when there are more
    (``queue_count_shown``).

    Two or three queries whatever the number of rows: the page of episodes (only the
    columns a card shows, read in the order of the planned-start index) carries the total
    (a count PostgreSQL runs once beside it, of no more rows than it needs) and whether
    each has a live check override; one query reads the orders, the patients'
    cyclophosphamide orders and their signatures (`_with_orders`); one the live
    overrides, only when a card on the page has one. The checks read only the plan values the episode keeps as
    columns.
    """
    page = max(page, 1)
    rows = _with_orders(_queue_page(user, page))
    if not rows and page > 1:  # past the last page (the queue got shorter): the last one
        page = queue_pages(_queue_members(user).count())
        rows = _with_orders(_queue_page(user, page))
    total = rows[0].queue_total if rows else 0
    overrides = _live_overrides(rows)
    return [_queue_item(ep, overrides.get(ep.pk, [])) for ep in rows], total, page


def _live_overrides(episodes):
    """The live check overrides of those episodes that have one (the page query says
    which: ``has_live_override``); no query when none has."""
    with_override = [ep.pk for ep in episodes if ep.has_live_override]
    return verification.live_overrides(with_override) if with_override else {}


def queue_count_shown(total, page=1):
    """``(n, more)`` for the page header and the pager: the count, or with ``more`` the
    number the queue is known to exceed."""
    counted = _counted(page)
    return (counted, True) if total > counted else (total, False)


def _counted(page):
    return (page + QUEUE_PAGES_COUNTED) * QUEUE_PAGE_SIZE


def _queue_page(user, page):
    """A page of the queue's episodes, each with ``queue_total``: a count of its own
    beside the page (a window over the rows would read the whole queue to give five)."""
    start = (page - 1) * QUEUE_PAGE_SIZE
    counted = _queue_count(user, _counted(page) + 1)
    episodes = _queue_episodes(user).annotate(queue_total=counted)
    return list(episodes[start : start + QUEUE_PAGE_SIZE])


def _queue_count(user, limit):
    """How many episodes wait, counting no more than ``limit``: SQL written once (the ORM
    spent longer building this subquery than PostgreSQL spends running it), the same
    episodes as ``_queue_membership_shape`` (tests compare them); the page answers for
    anyone ``scoped_for_user`` gives no episodes, without a query."""
    ward = user.ward_id if user.role != Role.AUDITOR else None
    sql = _queue_count_sql(by_ward=ward is not None)
    params = [EpisodeStatus.CANCELLED, OrderStatus.SIGNED, limit]
    params = [ward, *params] if ward is not None else params
    return RawSQL(sql, params, output_field=IntegerField())  # noqa: S611 (values as params)


@cache
def _queue_count_sql(*, by_ward):
    qn = connection.ops.quote_name
    episode, order, patient = Episode._meta, Order._meta, Patient._meta
    e_id, e_patient = qn(episode.pk.column), qn(episode.get_field("patient").column)
    on_ward = (
        f" JOIN {qn(patient.db_table)} p ON p.{qn(patient.pk.column)} = e.{e_patient}"
        f" AND p.{qn(patient.get_field('ward').column)} = %s"
        if by_ward
        else ""
    )
    return (
        f"SELECT COUNT(*) FROM (SELECT e.{e_id} FROM {qn(episode.db_table)} e{on_ward}"  # noqa: S608
        f" WHERE e.{qn(episode.get_field('status').column)} <> %s"
        f" AND EXISTS (SELECT 1 FROM {qn(order.db_table)} o"
        f" WHERE o.{qn(order.get_field('episode').column)} = e.{e_id}"
        f" AND o.{qn(order.get_field('status').column)} = %s) LIMIT %s) queue"
    )


def _queue_members(user):
    return scoped_for_user(user, _queue_membership_shape().all(), ward_path="patient__ward")


def queue_total(user):
    """How many episodes wait for verification (the header an htmx answer swaps in), as
    the first page counts them (``queue_count_shown``)."""
    return _queue_members(user).order_by().values("pk")[: _counted(1) + 1].count()


def queue_pages(total):
    return max(1, -(-total // QUEUE_PAGE_SIZE))


def pharmacy_queue_item(user, episode_id):
    """One episode's queue card (after a verify or reject on it), or None when none of
    its orders waits any more. Whatever page the episode is on."""
    episodes = _with_orders(_queue_episodes(user).filter(pk=episode_id))
    if not episodes:
        return None
    return _queue_item(episodes[0], _live_overrides(episodes).get(episode_id, []))


# What a queue card reads of an episode: the header and the checks' plan values.
QUEUE_EPISODE_FIELDS = (
    "patient__name",
    "patient__hospital_number",
    "override_reason",
    *verification.CHECK_EPISODE_FIELDS,
)


def _queue_episodes(user):
    return scoped_for_user(user, _queue_episodes_shape().all(), ward_path="patient__ward")


# The queue's two querysets are shaped once per process (joins, columns, order: most of
# what building one costs) and filtered per request; never evaluated themselves, so they
# hold no rows.
@cache
def _queue_membership_shape():
    """The episodes in the queue: not cancelled, with an order signed and not verified."""
    pending = Order.objects.filter(episode=OuterRef("pk"), status=OrderStatus.SIGNED)
    return Episode.objects.filter(Exists(pending)).exclude(status=EpisodeStatus.CANCELLED)


@cache
def _queue_episodes_shape():
    overridden = CheckOverride.objects.filter(episode=OuterRef("pk"), voided_at__isnull=True)
    return (
        verification.with_check_values(
            _queue_membership_shape().select_related("patient").only(*QUEUE_EPISODE_FIELDS)
        )
        .annotate(has_live_override=Exists(overridden))
        .order_by("planned_start", "pk")
    )


# What a queue card reads of an order: what was prescribed (the signed content) but the
# rate plan, instructions and note (JSON and text it never shows), with the order's ids,
# status and hold override; not the audit columns. In the model's column order (``from_db``).
QUEUE_ORDER_FIELDS = tuple(
    f.attname
    for f in Order._meta.concrete_fields
    if f.attname in {"id", "episode_id", "patient_id", "status", "version", "hold_override_reason"}
    or (f.name in CONTENT_FIELDS and f.name not in {"rate_plan", "instructions", "note"})
)
# What an order row shows of a signature, read with its order (a LEFT JOIN).
QUEUE_SIGNATURE_FIELDS = tuple(
    f.attname
    for f in Signature._meta.concrete_fields
    if f.attname
    in {
        "id",
        "order_id",
        "signer_id",
        "signer_name",
        "meaning",
        "signed_at",
        "voided_at",
        "void_reason",
    }
)


def _with_orders(episodes):
    """The episodes, each with ``live_orders`` (neither cancelled nor rejected, by pk),
    ``cyc_orders`` (its patient's live cyclophosphamide orders with a time, whatever the
    episode, by time) and ``signatures`` (of the orders waiting for verification).

    One query whatever the number of episodes: the episodes' orders and their patients'
    cyclophosphamide orders, each with its signatures joined (a row per signature, in
    signing order), read as values and made into instances here.
    """
    episodes = list(episodes)
    if not episodes:
        return episodes
    by_pk = {ep.pk: ep for ep in episodes}
    patient_ids = {ep.patient_id for ep in episodes}
    n_order = len(QUEUE_ORDER_FIELDS)
    values = _queue_orders_shape().filter(
        Q(episode_id__in=list(by_pk))
        | Q(patient_id__in=sorted(patient_ids), kind=OrderKind.CYCLOPHOSPHAMIDE)
    )
    db = Order.objects.db
    orders = []
    signatures = {}
    order = None
    for row in values:
        if order is None or order.pk != row[0]:
            order = Order.from_db(db, QUEUE_ORDER_FIELDS, row[:n_order])
            orders.append(order)
        if row[n_order] is not None and order.episode_id in by_pk:
            signature = Signature.from_db(db, QUEUE_SIGNATURE_FIELDS, row[n_order:])
            signatures.setdefault(order.pk, []).append(signature)
    cyc_by_patient = {pk: [] for pk in patient_ids}
    for ep in episodes:
        ep.live_orders = []
    for order in orders:
        if order.episode_id in by_pk:
            by_pk[order.episode_id].live_orders.append(order)
        if order.kind == OrderKind.CYCLOPHOSPHAMIDE and order.scheduled_at is not None:
            cyc_by_patient[order.patient_id].append(order)
    for ep in episodes:
        ep.cyc_orders = sorted(cyc_by_patient[ep.patient_id], key=lambda o: o.scheduled_at)
        ep.signatures = signatures
    return episodes


@cache
def _queue_orders_shape():
    return (
        Order.objects.exclude(status__in=(OrderStatus.CANCELLED, OrderStatus.REJECTED))
        .values_list(
            *QUEUE_ORDER_FIELDS, *(f"signatures__{name}" for name in QUEUE_SIGNATURE_FIELDS)
        )
        .order_by("pk", "signatures__signed_at", "signatures__pk")
    )


def _queue_item(ep, overrides=()):
    """A queue card: the episode's C-VERIFY-1 checks (what ``order_verify`` enforces, with
    the overrides that cover them), its orders waiting for verification, and the
    patient's cyclophosphamide near the infusion."""
    prescribers = {
        s.signer_id
        for signatures in ep.signatures.values()
        for s in signatures
        if s.meaning == SignatureMeaning.PRESCRIBED and s.voided_at is None
    }
    counted = [o for o in overrides if o.second_signer_id not in prescribers]
    checks = verification.check_views(verification.checks_for(ep), counted)
    pending = [o for o in ep.live_orders if o.status == OrderStatus.SIGNED]
    return QueueItem(
        ep,
        order_rows(pending, ep.signatures),
        checks,
        verification.cyc_near(ep),
        list(overrides),
    )


# --- Bedside chart ---------------------------------------------------------------------


@dataclass
class ChartState:
    now: object
    episode: Episode
    msc: Order | None
    room_temp_ready_at: object = None  # out of fridge + 10 min
    room_temp_latest: object = None  # out of fridge + 20 min
    cold_chain_warn_at: object = None
    cold_chain_limit: object = None
    current_rate: Decimal | None = None
    next_step: dict | None = None  # {"rate", "due_at", "due": bool}
    next_vitals_at: object = None
    vitals_due: bool = False
    projected_end: object = None  # started_at + the planned duration
    end_if_started_now: object = None  # before the start: now + the planned duration
    end_flag: str = ""  # "late" (past "late from") or "over_limit" (past the hard limit)
    late_hours: str = ""  # the "late from" time, in hours after preparation
    can_start: bool = False


def chart_state(episode, msc, *, now=None):
    now = now or timezone.now()
    settings = protocol_settings()
    state = ChartState(now=now, episode=episode, msc=msc)
    state.cold_chain_warn_at = episode.cold_chain_late_from
    state.cold_chain_limit = episode.cold_chain_must_complete_by
    if episode.out_of_fridge_at:
        state.room_temp_ready_at = episode.out_of_fridge_at + timedelta(
            minutes=settings.room_temperature_min_minutes
        )
        state.room_temp_latest = episode.out_of_fridge_at + timedelta(
            minutes=settings.room_temperature_max_minutes
        )
    phases = msc.rate_plan if msc else []
    steps = list(episode.rate_steps.all())
    if steps:
        state.current_rate = steps[-1].rate_ml_per_min
    duration = (episode.planned_end - episode.planned_start) if episode.planned_end else None
    if episode.status == EpisodeStatus.IN_PROGRESS and episode.started_at:
        if duration is not None:
            state.projected_end = episode.started_at + duration
        # The next phase whose rate is above the current one: the chart prompts it when due.
        for phase in phases:
            rate = Decimal(phase["rate_ml_per_min"])
            if state.current_rate is not None and rate > state.current_rate:
                due_at = episode.started_at + timedelta(minutes=float(phase["start_offset_min"]))
                state.next_step = {"rate": rate, "due_at": due_at, "due": now >= due_at}
                break
        interval = timedelta(minutes=vitals_interval_minutes())
        last = max((v.at for v in episode.vitals.all()), default=episode.started_at)
        state.next_vitals_at = max(last, episode.started_at) + interval
        state.vitals_due = now >= state.next_vitals_at
    if episode.status == EpisodeStatus.PLANNED and duration is not None:
        state.end_if_started_now = now + duration
    # B-ADM-1 on the status panel before it matters: the projected end against the
    # "late from" time and the hard limit (the start itself warns and refuses the same way).
    end = state.projected_end or state.end_if_started_now
    if end is not None and state.cold_chain_warn_at and state.cold_chain_limit:
        status = end_status(end, state.cold_chain_warn_at, state.cold_chain_limit)
        state.end_flag = {"ok": "", "late": "late", "refused": "over_limit"}[status]
    state.late_hours = f"{settings.late_warning_minutes / 60:g}"
    state.can_start = (
        episode.status == EpisodeStatus.PLANNED
        and msc is not None
        and msc.status == OrderStatus.VERIFIED
        and episode.out_of_fridge_at is not None
    )
    return state


def vitals_rows(episode):
    ranges = vital_ranges()
    rows = []
    for v in episode.vitals.select_related("recorded_by"):
        cells = []
        for name, r in ranges.items():
            value = getattr(v, name)
            cells.append(
                {"value": value, "out": name in v.out_of_range, "label": r.label, "unit": r.unit}
            )
        rows.append({"record": v, "cells": cells})
    return rows


# --- Medication administration record --------------------------------------------------


@dataclass
class MarLine:
    """C-MAR-1: one due dose on the record, with what was recorded for it."""

    dose: DoseDue
    order: Order
    planned_phases: list = field(default_factory=list)  # MSC: the rate plan
    rate_steps: list = field(default_factory=list)  # MSC: the rates recorded
    action: bool = False  # the nurse may record it now (given / held / refused)
    awaiting_verification: bool = False  # due, but the order is not verified yet

    @property
    def planned_day(self):
        return self.dose.day

    @property
    def planned_at(self):
        return None if self.dose.day else self.dose.due_from

    @property
    def course_day(self):
        """B-AP-1: the course's day relative to the infusion ("−1" the day before, "0" the
        infusion day), as the protocol counts it."""
        if self.dose.day is None:
            return ""
        return str(self.dose.seq - 1).replace("-", "−")


def mar_lines(orders, today=None):
    """One line per due dose (C-MAR-1): each antiplatelet day from day −1 (B-AP-1), the
    dexamethasone (B-PREMED-1), the MSC infusion with its rate steps; never the order's
    status: a dose reads "given" only when someone recorded it."""
    today = today or timezone.localdate()
    orders = {o.pk: o for o in orders}
    if not orders:
        return []
    rows = list(
        DoseDue.objects.filter(order_id__in=list(orders))
        .exclude(state=DoseState.CANCELLED)
        .select_related("recorded_by", "administration__given_by")
        .order_by("order_id", "seq")  # grouped by order, each course in day order
    )
    lines = []
    for dose in rows:
        order = orders[dose.order_id]
        line = MarLine(dose, order)
        if order.kind == OrderKind.MSC_IV:
            line.planned_phases = order.rate_plan or []
            line.rate_steps = list(order.episode.rate_steps.all())
        elif dose.state == DoseState.DUE and timezone.localdate(dose.due_from) <= today:
            line.action = order.status in (OrderStatus.VERIFIED, OrderStatus.ADMINISTERED)
            line.awaiting_verification = not line.action
        lines.append(line)
    return lines
