"""Medication around the infusion: premedication (B-PREMED-1), antiplatelet course
(B-AP-1), cyclophosphamide hold (B-CYC-1, B-PRE-1), continuing medication (B-CONT-1)
and monitoring during the infusion (B-ADM-5).

Antiplatelet course: aspirin or clopidogrel 75–100 mg once daily from the calendar day
before the infusion day (ward time zone) for ``antiplatelet_course_days`` (14) days:
``last_day = first_day + 13``. Patients on long-term antiplatelet prophylaxis get no new
course. Below the ward's hard floor (default 20 × 10⁹/L) no course is planned unless a
second physician co-signs (C-OVR-1). A bleeding tendency (history, or platelets below the
ward's threshold, default 50) gives a caution that must be acknowledged; so does an unknown or stale platelet count and an
unrecorded bleeding history (choice: the consensus says "caution", we refuse to pass
silently).

Cyclophosphamide: not within ``cyclophosphamide_hold_hours`` (48 h) after the end of the
infusion — refused for ``end ≤ at < end + 48 h`` and during the infusion, allowed from
exactly ``end + 48 h`` (elapsed time, so right across DST changes). Before the infusion
start it is allowed, but pre-conditioning is not recommended (B-PRE-1, R5 2C).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from .dose import preconditioning_check
from .findings import Finding, Serializable, make_finding
from .i18n import gettext_noop
from .protocol_settings import DEFAULT_SETTINGS, ProtocolSettings
from .timeutil import aware_utc, local_date, require_aware

ANTIPLATELET_DRUGS = ("aspirin", "clopidogrel")
ANTIPLATELET_DOSE_MIN_MG = Decimal(75)
ANTIPLATELET_DOSE_MAX_MG = Decimal(100)
DEXAMETHASONE_DOSE_MG = Decimal(5)


# --- Premedication ---------------------------------------------------------------------


@dataclass(frozen=True)
class Premedication(Serializable):
    drug: str
    dose_mg: Decimal
    route: str
    due_at: datetime  # UTC
    finding: Finding


def premedication(
    planned_start: datetime,
    settings: ProtocolSettings = DEFAULT_SETTINGS,
    *,
    display_zone: ZoneInfo | None = None,
) -> Premedication:
    planned_start = aware_utc(planned_start, "planned_start")
    due = planned_start - timedelta(minutes=settings.premedication_lead_minutes)
    shown = due.astimezone(display_zone) if display_zone else due
    return Premedication(
        drug="dexamethasone",
        dose_mg=DEXAMETHASONE_DOSE_MG,
        route="intravenous push",
        due_at=due,
        finding=make_finding(
            "B-PREMED-1",
            "planned",
            "info",
            gettext_noop(
                "Dexamethasone %(dose)s mg IV push at %(due)s, %(lead)s min before the planned start."
            ),
            {
                "dose": DEXAMETHASONE_DOSE_MG,
                "due": shown,
                "lead": settings.premedication_lead_minutes,
            },
        ),
    )


# --- Antiplatelet course ---------------------------------------------------------------


@dataclass(frozen=True)
class PlateletCount(Serializable):
    value_10e9_per_l: Decimal
    measured_on: date


@dataclass(frozen=True)
class AntiplateletPlan(Serializable):
    status: str  # course | not_needed | withheld | error | incomplete
    drug: str | None
    dose_mg: Decimal | None
    first_day: date | None
    last_day: date | None
    days: int
    findings: tuple[Finding, ...]
    # B-AP-1 ward hard floor (issue 19): the latest platelet count is below it.
    below_floor: bool = False

    @property
    def requires_acknowledgement(self) -> bool:
        return any(f.requires_acknowledgement for f in self.findings)

    def _extra_dict(self) -> dict[str, Any]:
        return {"requires_acknowledgement": self.requires_acknowledgement}


def antiplatelet_course(
    infusion_start: datetime,
    ward_zone: ZoneInfo,
    *,
    drug: str | None,
    dose_mg: Decimal | int | None,
    long_term_antiplatelet: bool | None,
    bleeding_history: bool | None,
    platelets: PlateletCount | None,
    settings: ProtocolSettings = DEFAULT_SETTINGS,
    below_floor_override: bool = False,
) -> AntiplateletPlan:
    """B-AP-1. Below the ward's hard floor (``antiplatelet_platelet_floor_10e9_per_l``,
    default 20 × 10⁹/L) the course is not planned ("withheld"), whatever the count's age,
    unless ``below_floor_override``: the physician asks for it with a reason and a second
    physician's signature (C-OVR-1, enforced by the service). From the floor up to the
    bleeding threshold (50) the course is planned with a caution to acknowledge."""
    require_aware(infusion_start, "infusion_start")
    infusion_day = local_date(infusion_start, ward_zone)
    first_day = infusion_day - timedelta(days=1)
    last_day = first_day + timedelta(days=settings.antiplatelet_course_days - 1)
    days = settings.antiplatelet_course_days

    if long_term_antiplatelet is True:
        return AntiplateletPlan(
            status="not_needed",
            drug=None,
            dose_mg=None,
            first_day=None,
            last_day=None,
            days=0,
            findings=(
                make_finding(
                    "B-AP-1",
                    "not_needed",
                    "info",
                    gettext_noop(
                        "Already on long-term antiplatelet prophylaxis: no additional course; "
                        "continue the current prophylaxis."
                    ),
                ),
            ),
        )

    floor = settings.antiplatelet_platelet_floor_10e9_per_l
    below_floor = platelets is not None and platelets.value_10e9_per_l < floor
    floor_params = (
        {"value": platelets.value_10e9_per_l, "date": platelets.measured_on, "floor": floor}
        if below_floor
        else {}
    )
    if below_floor and not below_floor_override:
        return AntiplateletPlan(
            status="withheld",
            drug=None,
            dose_mg=None,
            first_day=None,
            last_day=None,
            days=0,
            findings=(
                make_finding(
                    "B-AP-1",
                    "withheld",
                    "warning",
                    gettext_noop(
                        "Platelets %(value)s × 10⁹/L on %(date)s < %(floor)s × 10⁹/L (ward floor): "
                        "no antiplatelet course is planned; it may be given only with a reason "
                        "and a second physician's signature (C-OVR-1)."
                    ),
                    floor_params,
                    requires_acknowledgement=True,
                ),
            ),
            below_floor=True,
        )

    if isinstance(dose_mg, int) and not isinstance(dose_mg, bool):
        dose_mg = Decimal(dose_mg)
    findings: list[Finding] = []
    if below_floor:
        findings.append(
            make_finding(
                "B-AP-1",
                "below_floor_override",
                "warning",
                gettext_noop(
                    "Platelets %(value)s × 10⁹/L on %(date)s < %(floor)s × 10⁹/L (ward floor): "
                    "the course is planned only with a reason and a second physician's "
                    "signature (C-OVR-1)."
                ),
                floor_params,
                requires_acknowledgement=True,
            )
        )
    status = "course"
    if drug is None:
        status = "incomplete"
        findings.append(
            make_finding(
                "B-AP-1",
                "unknown",
                "unknown",
                gettext_noop("Antiplatelet drug not chosen: aspirin or clopidogrel."),
                missing=("order.antiplatelet.drug",),
            )
        )
    elif drug not in ANTIPLATELET_DRUGS:
        status = "error"
        findings.append(
            make_finding(
                "B-AP-1",
                "error",
                "block",
                gettext_noop("Antiplatelet drug %(drug)s: use aspirin or clopidogrel."),
                {"drug": drug},
            )
        )
    if dose_mg is None:
        status = "error" if status == "error" else "incomplete"
        findings.append(
            make_finding(
                "B-AP-1",
                "unknown",
                "unknown",
                gettext_noop("Antiplatelet dose not given: 75–100 mg once daily."),
                missing=("order.antiplatelet.dose_mg",),
            )
        )
    elif not (
        isinstance(dose_mg, Decimal)
        and dose_mg.is_finite()
        and ANTIPLATELET_DOSE_MIN_MG <= dose_mg <= ANTIPLATELET_DOSE_MAX_MG
    ):
        status = "error"
        findings.append(
            make_finding(
                "B-AP-1",
                "error",
                "block",
                gettext_noop("Antiplatelet dose %(dose)s mg/day is outside 75–100 mg/day."),
                {"dose": dose_mg},
            )
        )
    if status == "course":
        findings.append(
            make_finding(
                "B-AP-1",
                "course",
                "info",
                gettext_noop(
                    "%(drug)s %(dose)s mg once daily from %(first)s (the day before the infusion) "
                    "to %(last)s inclusive (%(days)s days)."
                ),
                {"drug": drug, "dose": dose_mg, "first": first_day, "last": last_day, "days": days},
            )
        )
    if long_term_antiplatelet is None:
        findings.append(
            make_finding(
                "B-AP-1",
                "unknown",
                "warning",
                gettext_noop(
                    "Long-term antiplatelet use not recorded: confirm before starting a course "
                    "(no additional course for long-term users)."
                ),
                requires_acknowledgement=True,
                missing=("patient.long_term_antiplatelet",),
            )
        )
    findings += _bleeding_cautions(infusion_day, bleeding_history, platelets, settings)
    return AntiplateletPlan(
        status=status,
        drug=drug if status != "error" else None,
        dose_mg=dose_mg if status != "error" else None,
        first_day=first_day,
        last_day=last_day,
        days=days,
        findings=tuple(findings),
        below_floor=below_floor,
    )


def _bleeding_cautions(
    infusion_day: date,
    bleeding_history: bool | None,
    platelets: PlateletCount | None,
    settings: ProtocolSettings,
) -> list[Finding]:
    out = []
    threshold = settings.bleeding_platelet_threshold_10e9_per_l
    if bleeding_history is True:
        out.append(
            make_finding(
                "B-AP-1",
                "caution",
                "warning",
                gettext_noop(
                    "Bleeding tendency (history): use antiplatelet prophylaxis with caution."
                ),
                requires_acknowledgement=True,
            )
        )
    elif bleeding_history is None:
        out.append(
            make_finding(
                "B-AP-1",
                "caution",
                "warning",
                gettext_noop("Bleeding history not recorded: check for a bleeding tendency first."),
                requires_acknowledgement=True,
                missing=("patient.bleeding_history",),
            )
        )
    if platelets is None:
        out.append(
            make_finding(
                "B-AP-1",
                "caution",
                "warning",
                gettext_noop(
                    "Platelet count unknown: bleeding tendency (platelets < %(threshold)s × 10⁹/L) "
                    "cannot be ruled out."
                ),
                {"threshold": threshold},
                requires_acknowledgement=True,
                missing=("patient.platelets",),
            )
        )
        return out
    age_days = (infusion_day - platelets.measured_on).days
    params = {
        "value": platelets.value_10e9_per_l,
        "date": platelets.measured_on,
        "threshold": threshold,
        "days": age_days,
        "max_days": settings.platelet_max_age_days,
    }
    if platelets.value_10e9_per_l < threshold:
        out.append(
            make_finding(
                "B-AP-1",
                "caution",
                "warning",
                gettext_noop(
                    "Platelets %(value)s × 10⁹/L on %(date)s < %(threshold)s × 10⁹/L (ward threshold): "
                    "bleeding tendency, use antiplatelet prophylaxis with caution."
                ),
                params,
                requires_acknowledgement=True,
            )
        )
    elif age_days > settings.platelet_max_age_days:
        out.append(
            make_finding(
                "B-AP-1",
                "caution",
                "warning",
                gettext_noop(
                    "Platelet count %(value)s × 10⁹/L is from %(date)s, %(days)s days before the "
                    "infusion (more than %(max_days)s): platelet count unknown, repeat it."
                ),
                params,
                requires_acknowledgement=True,
            )
        )
    else:
        out.append(
            make_finding(
                "B-AP-1",
                "ok",
                "info",
                gettext_noop("Platelets %(value)s × 10⁹/L on %(date)s ≥ %(threshold)s × 10⁹/L."),
                params,
            )
        )
    return out


# --- Cyclophosphamide ------------------------------------------------------------------


@dataclass(frozen=True)
class CycDecision(Serializable):
    """Unpacks as ``allowed, hold_until, reason = cyc_allowed_at(...)``."""

    allowed: bool
    hold_until: datetime | None  # UTC
    reason: str
    findings: tuple[Finding, ...]
    end_is_planned: bool

    def __iter__(self):
        return iter((self.allowed, self.hold_until, self.reason))


def cyc_allowed_at(
    infusion_end: datetime | None,
    at: datetime,
    *,
    planned_end: datetime | None = None,
    infusion_start: datetime | None = None,
    preconditioning: bool = False,
    settings: ProtocolSettings = DEFAULT_SETTINGS,
    display_zone: ZoneInfo | None = None,
) -> CycDecision:
    """May cyclophosphamide be given at *at*?

    ``infusion_end`` is the actual end; when it is None (not yet infused) the
    ``planned_end`` is used and the reason says so. A time before ``infusion_start`` is
    allowed (without ``infusion_start`` every time before the end is refused, which is
    the safe side); ``preconditioning`` marks such a dose as pre-conditioning (B-PRE-1
    warning). Returns a ``CycDecision`` that unpacks as ``(allowed, hold_until, reason)``.
    """
    at = aware_utc(at, "at")
    infusion_end = aware_utc(infusion_end, "infusion_end") if infusion_end else None
    planned_end = aware_utc(planned_end, "planned_end") if planned_end else None
    infusion_start = aware_utc(infusion_start, "infusion_start") if infusion_start else None

    def show(value: datetime) -> datetime:
        return value.astimezone(display_zone) if display_zone else value

    end_is_planned = infusion_end is None
    end = infusion_end if infusion_end is not None else planned_end
    hours = settings.cyclophosphamide_hold_hours
    if infusion_start is not None and at < infusion_start:
        findings = [
            make_finding(
                "B-CYC-1",
                "allowed",
                "info",
                gettext_noop("Cyclophosphamide at %(at)s is before the infusion start %(start)s."),
                {"at": show(at), "start": show(infusion_start)},
            )
        ]
        if preconditioning:
            findings.append(
                make_finding(
                    "B-PRE-1",
                    "warning",
                    "warning",
                    gettext_noop(
                        "Cyclophosphamide at %(at)s as pre-conditioning before MSC: not recommended."
                    ),
                    {"at": show(at)},
                )
            )
        hold_until = end + timedelta(hours=hours) if end is not None else None
        return _decision(True, hold_until, findings, end_is_planned)
    if end is None:
        finding = make_finding(
            "B-CYC-1",
            "unknown",
            "unknown",
            gettext_noop(
                "Infusion end unknown (neither actual nor planned): cyclophosphamide only %(hours)s h "
                "or more after the MSC infusion ends."
            ),
            {"hours": hours},
            missing=("order.actual_infusion_end",),
        )
        return _decision(False, None, [finding], end_is_planned)
    hold_until = end + timedelta(hours=hours)
    params = {
        "at": show(at),
        "end": show(end),
        "until": show(hold_until),
        "hours": hours,
    }
    if at < end:
        template = gettext_noop(
            "No cyclophosphamide at %(at)s: the MSC infusion has not ended (end %(end)s); "
            "allowed from %(until)s, %(hours)s h after the end."
        )
        return _decision(
            False,
            hold_until,
            [make_finding("B-CYC-1", "refused", "block", template, params)],
            end_is_planned,
        )
    if at >= hold_until:
        template = (
            gettext_noop(
                "Cyclophosphamide at %(at)s is at least %(hours)s h after the planned infusion end "
                "%(end)s (not yet infused): allowed from %(until)s."
            )
            if end_is_planned
            else gettext_noop(
                "Cyclophosphamide at %(at)s is at least %(hours)s h after the infusion ended "
                "%(end)s: allowed from %(until)s."
            )
        )
        return _decision(
            True,
            hold_until,
            [make_finding("B-CYC-1", "allowed", "info", template, params)],
            end_is_planned,
        )
    template = (
        gettext_noop(
            "No cyclophosphamide at %(at)s: within %(hours)s h of the planned infusion end %(end)s "
            "(not yet infused); allowed from %(until)s."
        )
        if end_is_planned
        else gettext_noop(
            "No cyclophosphamide at %(at)s: within %(hours)s h of the infusion end %(end)s; "
            "allowed from %(until)s."
        )
    )
    return _decision(
        False,
        hold_until,
        [make_finding("B-CYC-1", "refused", "block", template, params)],
        end_is_planned,
    )


def _decision(
    allowed: bool, hold_until: datetime | None, findings: list[Finding], end_is_planned: bool
) -> CycDecision:
    return CycDecision(
        allowed=allowed,
        hold_until=hold_until,
        reason=" ".join(f.reason for f in findings),
        findings=tuple(findings),
        end_is_planned=end_is_planned,
    )


@dataclass(frozen=True)
class CyclophosphamideHold(Serializable):
    hold_until: datetime | None  # UTC; cyclophosphamide allowed from this instant
    end_is_planned: bool
    findings: tuple[Finding, ...]


def cyclophosphamide_hold(
    infusion_end: datetime | None,
    *,
    planned_end: datetime | None,
    preconditioning_planned: bool | None,
    settings: ProtocolSettings = DEFAULT_SETTINGS,
    display_zone: ZoneInfo | None = None,
) -> CyclophosphamideHold:
    """The plan's cyclophosphamide advice: the hold, and the pre-conditioning warning."""
    end_is_planned = infusion_end is None
    end = infusion_end if infusion_end is not None else planned_end
    hours = settings.cyclophosphamide_hold_hours
    findings = []
    if end is None:
        hold_until = None
        findings.append(
            make_finding(
                "B-CYC-1",
                "unknown",
                "unknown",
                gettext_noop(
                    "Infusion end unknown: no cyclophosphamide until %(hours)s h after the MSC "
                    "infusion ends."
                ),
                {"hours": hours},
                missing=("product.suspension_volume_ml",),
            )
        )
    else:
        end = aware_utc(end, "infusion end")
        hold_until = end + timedelta(hours=hours)
        shown_end = end.astimezone(display_zone) if display_zone else end
        shown_until = hold_until.astimezone(display_zone) if display_zone else hold_until
        template = (
            gettext_noop(
                "No cyclophosphamide within %(hours)s h after the planned infusion end %(end)s "
                "(not yet infused): if needed, give it from %(until)s."
            )
            if end_is_planned
            else gettext_noop(
                "No cyclophosphamide within %(hours)s h after the infusion end %(end)s: if needed, "
                "give it from %(until)s."
            )
        )
        findings.append(
            make_finding(
                "B-CYC-1",
                "hold",
                "info",
                template,
                {"hours": hours, "end": shown_end, "until": shown_until},
            )
        )
    findings.append(preconditioning_check(preconditioning_planned))
    return CyclophosphamideHold(
        hold_until=hold_until, end_is_planned=end_is_planned, findings=tuple(findings)
    )


# --- Continuing medication and monitoring ----------------------------------------------


def continuing_medication() -> Finding:
    return make_finding(
        "B-CONT-1",
        "advice",
        "info",
        gettext_noop(
            "Continue glucocorticoids and immunosuppressants (hydroxychloroquine, ciclosporin A, "
            "mycophenolate mofetil, tacrolimus…) after the infusion; adjust doses to the disease."
        ),
    )


def monitoring_instructions() -> tuple[Finding, ...]:
    return (
        make_finding(
            "B-ADM-5",
            "instruction",
            "info",
            gettext_noop(
                "Monitor respiration, pulse, blood pressure and SpO₂ throughout the infusion; "
                "have emergency measures ready."
            ),
        ),
        make_finding(
            "B-ADM-5",
            "instruction",
            "info",
            gettext_noop(
                "Transient dizziness, chest tightness, palpitations or fever may occur; if severe, "
                "stop the infusion, investigate and treat; report serious adverse events to the "
                "hospital."
            ),
        ),
    )
