"""The whole episode: ``build_plan(inputs) -> InfusionPlan``.

A pure function of its inputs and settings (no clock, no database): when the planned
start moves, call it again. Every dated event carries ``day_offset``, the difference in
calendar days from the planned start's day, both taken in the ward time zone, and aware
UTC datetimes (``at`` for timed events, ``day_start`` = the instant the local day
begins).

Plan status: ``blocked`` if any finding has severity ``block``; else ``incomplete`` if any
is ``unknown``; else ``ready_with_warnings`` if any is ``warning``; else ``ready``.
Findings with ``requires_acknowledgement`` are listed separately for the UI.

The planned end is the start plus the rate plan's total duration rounded UP to a whole
second (conservative for the cold-chain limit).
"""

import math
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from .candidacy import (
    CandidacyInput,
    CandidacyResult,
    OrganInvolvement,
    assess_candidacy,
    pasp_category,
)
from .cold_chain import ColdChainCheck, check_infusion_window, check_out_of_fridge
from .dose import BodyWeight, DoseResult, RouteResult, dose_check, route_plan
from .findings import SEVERITY_RANK, Finding, Serializable, format_datetime, format_param
from .follow_up import (
    FollowUpItem,
    PriorInfusion,
    RepeatEligibility,
    follow_up_plan,
    repeat_infusion_eligibility,
)
from .i18n import gettext_noop
from .medication import (
    AntiplateletPlan,
    CyclophosphamideHold,
    PlateletCount,
    Premedication,
    antiplatelet_course,
    continuing_medication,
    cyclophosphamide_hold,
    monitoring_instructions,
    premedication,
)
from .prerequisites import ConsentInput, consent_check, site_check
from .protocol_settings import DEFAULT_SETTINGS, ProtocolSettings
from .rate_plan import RatePlan, rate_plan
from .release import CertificateOfAnalysis, ReleaseResult, release_check
from .rules import RULES
from .timeutil import age_in_years, aware_utc, load_zone, start_of_local_day, to_utc

PLAN_SCHEMA_VERSION = "1"


# --- Inputs ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PatientInput:
    date_of_birth: date | None
    weight: BodyWeight
    sex: str | None = None
    sle_severity: str | None = None
    sle_active: bool | None = None
    involvement: OrganInvolvement = field(default_factory=OrganInvolvement)
    consciousness: str | None = None
    pregnant: bool | None = None
    lactating: bool | None = None
    tumour: bool | None = None
    infection: bool | None = None
    other_autoimmune_disease: bool | None = None
    other_autoimmune_names: tuple[str, ...] = ()
    pap_systolic_mmhg: Decimal | None = None
    pulmonary_hypertension: str | None = None
    severe_cardiopulmonary_insufficiency: bool | None = None
    long_term_antiplatelet: bool | None = None
    bleeding_history: bool | None = None
    platelets: PlateletCount | None = None
    prior_infusion: PriorInfusion | None = None


@dataclass(frozen=True)
class ProductInput:
    preparation_time: datetime
    suspension_volume_ml: Decimal
    msc_source: str | None = None
    certificate: CertificateOfAnalysis = field(default_factory=CertificateOfAnalysis)


@dataclass(frozen=True)
class OrderInput:
    planned_start: datetime
    dose_cells: int | None = None
    drop_factor_gtt_per_ml: int | None = None
    antiplatelet_drug: str | None = None
    antiplatelet_dose_mg: Decimal | None = None
    # B-AP-1 / C-OVR-1: give the course although the platelets are below the ward floor.
    antiplatelet_below_floor_override: bool = False
    cyclophosphamide_preconditioning: bool | None = None
    out_of_fridge_at: datetime | None = None
    actual_infusion_end: datetime | None = None


@dataclass(frozen=True)
class PlanInput:
    ward_time_zone: str
    patient: PatientInput
    product: ProductInput
    order: OrderInput
    consent: ConsentInput | None = None  # B-CONSENT-1; None = not recorded (yet)


# --- Output ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEvent(Serializable):
    kind: str
    rule_id: str | None
    title: str
    title_template: str
    title_params: dict[str, str]
    day_offset: int
    local_date: date
    at: datetime | None  # UTC; None for whole-day events
    day_start: datetime  # UTC instant at which local_date begins in the ward zone
    window_start_date: date | None = None
    window_end_date: date | None = None
    at_local: str | None = None  # ISO 8601 in the ward zone, for display

    def _extra_dict(self) -> dict[str, Any]:
        rule = RULES[self.rule_id] if self.rule_id else None
        return {
            "recommendation": rule.recommendation if rule else None,
            "grade": rule.grade if rule else None,
        }


@dataclass(frozen=True)
class InfusionPlan(Serializable):
    schema_version: str
    status: str  # ready | ready_with_warnings | incomplete | blocked
    ward_time_zone: str
    infusion_date: date  # local date of the planned start
    planned_start: datetime  # UTC
    planned_end: datetime | None  # UTC
    age_years: int | None
    candidacy: CandidacyResult
    dose: DoseResult
    route: RouteResult
    product_release: ReleaseResult
    cold_chain: ColdChainCheck
    out_of_fridge: Finding | None
    rate_plan: RatePlan
    premedication: Premedication
    monitoring: tuple[Finding, ...]
    antiplatelet: AntiplateletPlan
    cyclophosphamide: CyclophosphamideHold
    continuing_medication: Finding
    follow_up: tuple[FollowUpItem, ...]
    repeat_infusion: RepeatEligibility | None
    consent: Finding  # B-CONSENT-1
    site: Finding  # B-SITE-1: the certificate's issuer, third-party re-test
    timeline: tuple[TimelineEvent, ...]
    settings: ProtocolSettings

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Every finding of the plan, section by section."""
        out: list[Finding] = [
            *self.candidacy.findings,
            self.consent,
            self.site,
            *self.dose.findings,
            *self.route.findings,
            *self.product_release.findings,
            *self.cold_chain.findings,
            *self.cold_chain.handling,
            *([self.out_of_fridge] if self.out_of_fridge else []),
            *self.rate_plan.findings,
            self.premedication.finding,
            *self.monitoring,
            *self.antiplatelet.findings,
            *self.cyclophosphamide.findings,
            self.continuing_medication,
        ]
        if self.repeat_infusion is not None:
            out.append(self.repeat_infusion.finding)
        return tuple(out)

    @property
    def attention(self) -> tuple[Finding, ...]:
        """Findings to show first (notice and above), most serious first."""
        ranked = [f for f in self.findings if SEVERITY_RANK[f.severity] >= SEVERITY_RANK["notice"]]
        return tuple(sorted(ranked, key=lambda f: -SEVERITY_RANK[f.severity]))

    @property
    def requires_acknowledgement(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.requires_acknowledgement)

    def _extra_dict(self) -> dict[str, Any]:
        return {
            "attention": self.attention,
            "requires_acknowledgement": self.requires_acknowledgement,
        }


# --- Building --------------------------------------------------------------------------


def _minutes_to_timedelta_ceil(minutes: Fraction) -> timedelta:
    return timedelta(seconds=math.ceil(minutes * 60))


def _status(findings: tuple[Finding, ...]) -> str:
    severities = {f.severity for f in findings}
    if "block" in severities:
        return "blocked"
    if "unknown" in severities:
        return "incomplete"
    if "warning" in severities:
        return "ready_with_warnings"
    return "ready"


class _Timeline:
    def __init__(self, zone: ZoneInfo, start_day: date):
        self.zone = zone
        self.start_day = start_day
        self.events: list[tuple[datetime, int, TimelineEvent]] = []

    def add(
        self,
        kind: str,
        rule_id: str | None,
        template: str,
        params: dict[str, Any] | None = None,
        *,
        at: datetime | None = None,
        day: date | None = None,
        window_start: date | None = None,
        window_end: date | None = None,
    ) -> None:
        str_params = {k: format_param(v) for k, v in (params or {}).items()}
        if at is not None:
            local = at.astimezone(self.zone)
            day = local.date()
            at_local = format_datetime(local)
        else:
            assert day is not None
            at_local = None
        day_start = start_of_local_day(day, self.zone)
        event = TimelineEvent(
            kind=kind,
            rule_id=rule_id,
            title=template % str_params,
            title_template=template,
            title_params=str_params,
            day_offset=(day - self.start_day).days,
            local_date=day,
            at=to_utc(at) if at is not None else None,
            day_start=day_start,
            window_start_date=window_start,
            window_end_date=window_end,
            at_local=at_local,
        )
        self.events.append((to_utc(at) if at is not None else day_start, len(self.events), event))

    def sorted(self) -> tuple[TimelineEvent, ...]:
        return tuple(e for _, _, e in sorted(self.events, key=lambda t: (t[0], t[1])))


def build_plan(inputs: PlanInput, settings: ProtocolSettings = DEFAULT_SETTINGS) -> InfusionPlan:
    """Combine every rule into one plan. Raises only on programming errors (naive
    datetimes, wrong types, an unknown zone); documents go through
    ``contract.plan_from_document`` which validates first and never raises."""
    zone = load_zone(inputs.ward_time_zone)
    patient, product, order = inputs.patient, inputs.product, inputs.order
    # Everything in UTC from here: elapsed-time arithmetic must not be wall-clock.
    start = aware_utc(order.planned_start, "order.planned_start")
    preparation_time = aware_utc(product.preparation_time, "product.preparation_time")
    out_of_fridge_at = (
        aware_utc(order.out_of_fridge_at, "order.out_of_fridge_at")
        if order.out_of_fridge_at is not None
        else None
    )
    actual_end = (
        aware_utc(order.actual_infusion_end, "order.actual_infusion_end")
        if order.actual_infusion_end is not None
        else None
    )

    start_local = start.astimezone(zone)
    infusion_date = start_local.date()
    age = age_in_years(patient.date_of_birth, infusion_date) if patient.date_of_birth else None
    if age is not None and age < 0:
        raise ValueError("date_of_birth is after the infusion day")

    candidacy = assess_candidacy(
        CandidacyInput(
            age_years=age,
            sle_severity=patient.sle_severity,
            sle_active=patient.sle_active,
            involvement=patient.involvement,
            msc_source=product.msc_source,
            infection=patient.infection,
            other_autoimmune_disease=patient.other_autoimmune_disease,
            other_autoimmune_names=patient.other_autoimmune_names,
            pap_systolic_mmhg=patient.pap_systolic_mmhg,
            pulmonary_hypertension=patient.pulmonary_hypertension,
            severe_cardiopulmonary_insufficiency=patient.severe_cardiopulmonary_insufficiency,
            pregnant=patient.pregnant,
            lactating=patient.lactating,
            tumour=patient.tumour,
            sex=patient.sex,
        ),
        settings,
    )
    dose = dose_check(
        patient.weight,
        infusion_date,
        order.dose_cells,
        settings,
        certified_cells=product.certificate.cell_count_measured,
        age_years=age,
    )
    route = route_plan(patient.involvement.cns, patient.consciousness, patient.sle_severity)
    release = release_check(product.certificate)
    rates = rate_plan(product.suspension_volume_ml, order.drop_factor_gtt_per_ml, settings)
    planned_end = (
        start + _minutes_to_timedelta_ceil(rates.total_duration_min_exact)
        if rates.total_duration_min_exact is not None
        else None
    )
    cold = check_infusion_window(preparation_time, start, planned_end, settings, display_zone=zone)
    out_of_fridge = (
        check_out_of_fridge(
            out_of_fridge_at, start, settings, display_zone=zone, start_is_planned=True
        )
        if out_of_fridge_at is not None
        else None
    )
    premed = premedication(start, settings, display_zone=zone)
    antiplatelet = antiplatelet_course(
        start,
        zone,
        drug=order.antiplatelet_drug,
        dose_mg=order.antiplatelet_dose_mg,
        long_term_antiplatelet=patient.long_term_antiplatelet,
        bleeding_history=patient.bleeding_history,
        platelets=patient.platelets,
        settings=settings,
        below_floor_override=order.antiplatelet_below_floor_override,
    )
    cyc = cyclophosphamide_hold(
        actual_end,
        planned_end=planned_end,
        preconditioning_planned=order.cyclophosphamide_preconditioning,
        settings=settings,
        display_zone=zone,
    )
    follow_up = follow_up_plan(
        infusion_date,
        patient.involvement,
        pulmonary_hypertension=patient.pulmonary_hypertension,
        pasp_elevated=pasp_category(patient.pap_systolic_mmhg, settings.pasp_normal_max_mmhg)
        in ("mild_moderate", "severe"),
        settings=settings,
    )
    repeat = (
        repeat_infusion_eligibility(patient.prior_infusion)
        if patient.prior_infusion is not None
        else None
    )

    timeline = _Timeline(zone, infusion_date)
    if antiplatelet.status in ("course", "incomplete"):
        drug = antiplatelet.drug or "—"
        dose_mg = antiplatelet.dose_mg if antiplatelet.dose_mg is not None else "—"
        timeline.add(
            "antiplatelet_first_dose",
            "B-AP-1",
            gettext_noop("%(drug)s %(dose)s mg: first daily dose (the day before the infusion)"),
            {"drug": drug, "dose": dose_mg},
            day=antiplatelet.first_day,
        )
        timeline.add(
            "antiplatelet_last_dose",
            "B-AP-1",
            gettext_noop("%(drug)s %(dose)s mg: last daily dose (day %(days)s of the course)"),
            {"drug": drug, "dose": dose_mg, "days": antiplatelet.days},
            day=antiplatelet.last_day,
        )
    timeline.add(
        "product_prepared",
        "B-ADM-1",
        gettext_noop("Suspension prepared: store at 2–8 °C, protected from light"),
        at=preparation_time,
    )
    timeline.add(
        "premedication",
        "B-PREMED-1",
        gettext_noop("Dexamethasone %(dose)s mg IV push"),
        {"dose": premed.dose_mg},
        at=premed.due_at,
    )
    timeline.add(
        "out_of_fridge",
        "B-ADM-2",
        gettext_noop(
            "Take the suspension out of the refrigerator (between %(earliest)s and %(latest)s); "
            "do not shake or warm it"
        ),
        {
            "earliest": cold.out_of_fridge_earliest.astimezone(zone),
            "latest": cold.out_of_fridge_latest.astimezone(zone),
        },
        at=cold.out_of_fridge_earliest,
    )
    timeline.add(
        "infusion_start",
        "B-ROUTE-1",
        gettext_noop(
            "Start the MSC infusion: single peripheral IV, set without filter membrane; monitor "
            "respiration, pulse, blood pressure and SpO₂ throughout"
        ),
        at=start,
    )
    if route.intrathecal == "indicated":
        timeline.add(
            "intrathecal",
            "B-ROUTE-2",
            gettext_noop("Intrathecal injection of 1 × 10⁶ MSC with the intravenous infusion"),
            at=start,
        )
    for phase in rates.phases:
        extra = phase.to_dict()
        timeline.add(
            "rate_phase",
            "B-ADM-4",
            gettext_noop(
                "Phase %(number)s: %(rate)s mL/min (%(rate_h)s mL/h, %(drops)s drops/min) for "
                "%(minutes)s min, %(volume)s mL"
            ),
            {
                "number": phase.number,
                "rate": extra["rate_ml_per_min"],
                "rate_h": extra["rate_ml_per_h"],
                "drops": phase.drops_per_min,
                "minutes": extra["duration_min"],
                "volume": extra["volume_ml"],
            },
            at=start + _minutes_to_timedelta_ceil(phase.start_offset_min_exact),
        )
    if planned_end is not None:
        timeline.add(
            "infusion_end",
            "B-ADM-4",
            gettext_noop("Planned end of the infusion (%(minutes)s min)"),
            {"minutes": rates.to_dict()["total_duration_min"]},
            at=planned_end,
        )
    timeline.add(
        "cold_chain_late_from",
        "B-ADM-1",
        gettext_noop("Suspension %(hours)s h old: infusion should have ended"),
        {"hours": _hours_text(settings.late_warning_minutes)},
        at=cold.late_from,
    )
    timeline.add(
        "cold_chain_must_complete_by",
        "B-ADM-1",
        gettext_noop("Suspension %(hours)s h old: hard limit, infusion must be complete"),
        {"hours": _hours_text(settings.hard_limit_minutes)},
        at=cold.must_complete_by,
    )
    if cyc.hold_until is not None:
        timeline.add(
            "cyclophosphamide_allowed_from",
            "B-CYC-1",
            gettext_noop(
                "Cyclophosphamide allowed again if needed (%(hours)s h after the infusion)"
            ),
            {"hours": settings.cyclophosphamide_hold_hours},
            at=cyc.hold_until,
        )
    for item in follow_up:
        timeline.add(
            item.kind,
            item.rule_id,
            item.title_template,
            item.title_params,
            day=item.due_date,
            window_start=item.window_start,
            window_end=item.window_end,
        )

    plan = InfusionPlan(
        schema_version=PLAN_SCHEMA_VERSION,
        status="ready",
        ward_time_zone=inputs.ward_time_zone,
        infusion_date=infusion_date,
        planned_start=start,
        planned_end=planned_end,
        age_years=age,
        candidacy=candidacy,
        dose=dose,
        route=route,
        product_release=release,
        cold_chain=cold,
        out_of_fridge=out_of_fridge,
        rate_plan=rates,
        premedication=premed,
        monitoring=monitoring_instructions(),
        antiplatelet=antiplatelet,
        cyclophosphamide=cyc,
        continuing_medication=continuing_medication(),
        follow_up=follow_up,
        repeat_infusion=repeat,
        consent=consent_check(inputs.consent),
        site=site_check(product.certificate),
        timeline=timeline.sorted(),
        settings=settings,
    )
    return replace(plan, status=_status(plan.findings))


def _hours_text(minutes: int) -> str:
    return str(minutes // 60) if minutes % 60 == 0 else f"{minutes // 60}:{minutes % 60:02d}"
