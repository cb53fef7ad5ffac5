"""Dose (B-DOSE-1), route (B-ROUTE-1, B-ROUTE-2) and pre-conditioning (B-PRE-1).

Dose: (1–2) × 10⁶ cells per kg body weight per infusion. The range in whole cells is
``min_cells = ceil(1e6 × kg)`` and ``max_cells = floor(2e6 × kg)``, so any whole number
of cells inside it is inside the per-kg range. An ordered dose is classified exactly
(rational arithmetic, no floats): below if cells < 1e6 × kg, above if cells > 2e6 × kg,
otherwise within — exactly 1.0 and 2.0 × 10⁶/kg are within.

The per-kg value shown (``per_kg_e6``, in 10⁶ cells/kg) is rounded to 2 decimals: half-even
when within the range, and away from the range when outside, so a dose that is above
2.0 never displays as "2.00" (2.001 shows "2.01") and one below 1.0 never as "1.00".
"""

import math
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from fractions import Fraction

from .findings import Finding, Serializable, make_finding
from .i18n import gettext_noop
from .protocol_settings import DEFAULT_SETTINGS, ProtocolSettings

CELLS_PER_KG_MIN = 1_000_000  # B-DOSE-1, R3
CELLS_PER_KG_MAX = 2_000_000
# C-DOSE-1: above this the order is refused outright (no override); between the B-DOSE-1
# maximum and this, a pharmacist verifies only with a two-physician override (C-VERIFY-1).
CELLS_PER_KG_HARD_MAX = 5_000_000
INTRATHECAL_CELLS = 1_000_000  # B-ROUTE-2, §3.5
# B-DOSE-1: a weight outside these is probably a typo (issue 19): a warning, not a refusal.
# Strictly above the high value; strictly below the low value, for adults only.
WEIGHT_PLAUSIBLE_MAX_KG = Decimal(200)
WEIGHT_PLAUSIBLE_ADULT_MIN_KG = Decimal(20)
ADULT_FROM_YEARS = 18
CONSCIOUSNESS_STATES = ("clear", "impaired")


@dataclass(frozen=True)
class BodyWeight(Serializable):
    kg: Decimal
    measured_on: date


@dataclass(frozen=True)
class DoseResult(Serializable):
    weight_kg: Decimal
    weight_measured_on: date
    weight_age_days: int
    weight_stale: bool
    min_cells: int
    max_cells: int
    ordered_cells: int | None
    per_kg_e6: Decimal | None  # display value, 10⁶ cells/kg, 2 decimals
    flag: str | None  # below | within | above | None (no ordered dose)
    findings: tuple[Finding, ...]


def _e6(cells: int | Fraction) -> str:
    """Cells as a multiple of 10⁶ for display (exact when it terminates, else 3 decimals)."""
    value = Fraction(cells) / 1_000_000
    decimal = Decimal(value.numerator) / Decimal(value.denominator)
    if Fraction(decimal) != value:
        decimal = decimal.quantize(Decimal("0.001"), rounding=ROUND_HALF_EVEN)
    return format(decimal.normalize(), "f")


def per_kg_rounded(per_kg: Fraction, flag: str) -> Decimal:
    exact = Decimal(per_kg.numerator) / Decimal(per_kg.denominator)
    if flag == "above":
        rounding = ROUND_CEILING
    elif flag == "below":
        rounding = ROUND_FLOOR
    else:
        rounding = ROUND_HALF_EVEN
    return exact.quantize(Decimal("0.01"), rounding=rounding)


def dose_check(
    weight: BodyWeight,
    infusion_date: date,
    ordered_cells: int | None = None,
    settings: ProtocolSettings = DEFAULT_SETTINGS,
    certified_cells: int | None = None,
    age_years: int | None = None,
) -> DoseResult:
    """B-DOSE-1 range check of ``ordered_cells`` for ``weight`` on ``infusion_date``, and
    the C-DOSE-1 refusals: above 5 × 10⁶/kg, or above the product certificate's measured
    cell count (``certified_cells``, B-QC-4), the dose is refused (a "block" finding)."""
    kg = weight.kg
    if not isinstance(kg, Decimal) or not kg.is_finite() or kg <= 0:
        raise ValueError(f"weight kg must be a positive finite Decimal, got {kg!r}")
    if ordered_cells is not None and (
        isinstance(ordered_cells, bool) or not isinstance(ordered_cells, int) or ordered_cells <= 0
    ):
        raise ValueError(f"ordered_cells must be a positive integer, got {ordered_cells!r}")
    kg_exact = Fraction(kg)
    min_exact = kg_exact * CELLS_PER_KG_MIN
    max_exact = kg_exact * CELLS_PER_KG_MAX
    min_cells = math.ceil(min_exact)
    max_cells = math.floor(max_exact)
    findings: list[Finding] = []

    age_days = (infusion_date - weight.measured_on).days
    stale = age_days > settings.weight_max_age_days
    if stale:
        findings.append(
            make_finding(
                "B-DOSE-1",
                "stale_weight",
                "warning",
                gettext_noop(
                    "Body weight %(kg)s kg is from %(date)s, %(days)s days before the infusion "
                    "(more than %(max_days)s): weigh the patient again."
                ),
                {
                    "kg": kg,
                    "date": weight.measured_on,
                    "days": age_days,
                    "max_days": settings.weight_max_age_days,
                },
            )
        )
    if kg > WEIGHT_PLAUSIBLE_MAX_KG or (
        kg < WEIGHT_PLAUSIBLE_ADULT_MIN_KG and (age_years is None or age_years >= ADULT_FROM_YEARS)
    ):
        findings.append(
            make_finding(
                "B-DOSE-1",
                "implausible_weight",
                "warning",
                gettext_noop(
                    "Body weight %(kg)s kg is implausible (an adult weighs %(low)s–%(high)s kg): "
                    "check the weight before the dose is calculated from it."
                ),
                {"kg": kg, "low": WEIGHT_PLAUSIBLE_ADULT_MIN_KG, "high": WEIGHT_PLAUSIBLE_MAX_KG},
                requires_acknowledgement=True,
            )
        )
    if not stale and age_days < 0:
        findings.append(
            make_finding(
                "B-DOSE-1",
                "weight_after_infusion",
                "warning",
                gettext_noop(
                    "Body weight %(kg)s kg is dated %(date)s, after the infusion day %(infusion_date)s."
                ),
                {"kg": kg, "date": weight.measured_on, "infusion_date": infusion_date},
            )
        )

    range_params = {
        "kg": kg,
        "min_e6": _e6(min_exact),
        "max_e6": _e6(max_exact),
    }
    flag = None
    per_kg_display = None
    if ordered_cells is None:
        findings.append(
            make_finding(
                "B-DOSE-1",
                "range",
                "info",
                gettext_noop(
                    "Dose range for %(kg)s kg: %(min_e6)s–%(max_e6)s × 10⁶ cells (1–2 × 10⁶/kg); "
                    "no dose ordered yet."
                ),
                range_params,
            )
        )
    else:
        per_kg = Fraction(ordered_cells) / kg_exact / 1_000_000
        if ordered_cells < min_exact:
            flag = "below"
        elif ordered_cells > max_exact:
            flag = "above"
        else:
            flag = "within"
        per_kg_display = per_kg_rounded(per_kg, flag)
        params = {**range_params, "cells_e6": _e6(ordered_cells), "per_kg": per_kg_display}
        if flag == "within":
            findings.append(
                make_finding(
                    "B-DOSE-1",
                    "within",
                    "info",
                    gettext_noop(
                        "Ordered %(cells_e6)s × 10⁶ cells = %(per_kg)s × 10⁶/kg for %(kg)s kg: within "
                        "1–2 × 10⁶/kg (%(min_e6)s–%(max_e6)s × 10⁶ cells)."
                    ),
                    params,
                )
            )
        elif flag == "below":
            findings.append(
                make_finding(
                    "B-DOSE-1",
                    "below",
                    "warning",
                    gettext_noop(
                        "Ordered %(cells_e6)s × 10⁶ cells = %(per_kg)s × 10⁶/kg for %(kg)s kg: below "
                        "1 × 10⁶/kg (minimum %(min_e6)s × 10⁶ cells)."
                    ),
                    params,
                )
            )
        else:
            findings.append(
                make_finding(
                    "B-DOSE-1",
                    "above",
                    "warning",
                    gettext_noop(
                        "Ordered %(cells_e6)s × 10⁶ cells = %(per_kg)s × 10⁶/kg for %(kg)s kg: above "
                        "2 × 10⁶/kg (maximum %(max_e6)s × 10⁶ cells)."
                    ),
                    params,
                )
            )
    if ordered_cells is not None:
        findings.extend(_hard_limits(ordered_cells, kg_exact, certified_cells))
    return DoseResult(
        weight_kg=kg,
        weight_measured_on=weight.measured_on,
        weight_age_days=age_days,
        weight_stale=stale,
        min_cells=min_cells,
        max_cells=max_cells,
        ordered_cells=ordered_cells,
        per_kg_e6=per_kg_display,
        flag=flag,
        findings=tuple(findings),
    )


def _hard_limits(
    ordered_cells: int, kg_exact: Fraction, certified_cells: int | None
) -> list[Finding]:
    """C-DOSE-1: the refusals no override can lift."""
    out = []
    hard_max = kg_exact * CELLS_PER_KG_HARD_MAX
    if ordered_cells > hard_max:
        per_kg = Fraction(ordered_cells) / kg_exact / 1_000_000
        out.append(
            make_finding(
                "C-DOSE-1",
                "refused",
                "block",
                gettext_noop(
                    "Refused: %(cells_e6)s × 10⁶ cells is %(per_kg)s × 10⁶/kg, above the "
                    "absolute maximum of 5 × 10⁶/kg (%(hard_max_e6)s × 10⁶ cells for %(kg)s kg). "
                    "Correct the dose."
                ),
                {
                    "cells_e6": _e6(ordered_cells),
                    "per_kg": per_kg_rounded(per_kg, "above"),
                    "hard_max_e6": _e6(hard_max),
                    "kg": Decimal(kg_exact.numerator) / Decimal(kg_exact.denominator),
                },
            )
        )
    if certified_cells is not None and ordered_cells > certified_cells:
        out.append(
            make_finding(
                "C-DOSE-1",
                "above_certificate",
                "block",
                gettext_noop(
                    "Refused: %(cells_e6)s × 10⁶ cells is more than the product holds "
                    "(%(certified_e6)s × 10⁶ cells measured on its certificate, B-QC-4). "
                    "Correct the dose."
                ),
                {"cells_e6": _e6(ordered_cells), "certified_e6": _e6(certified_cells)},
            )
        )
    return out


@dataclass(frozen=True)
class RouteResult(Serializable):
    intravenous: str  # always "single_peripheral_iv"
    intrathecal: str  # indicated | not_indicated | refused | unknown
    intrathecal_cells: int | None
    findings: tuple[Finding, ...]


def route_plan(
    cns_involvement: bool | None,
    consciousness: str | None,
    sle_severity: str | None = None,
) -> RouteResult:
    """B-ROUTE-1 and B-ROUTE-2. Intrathecal MSC is for severe (重症) SLE with CNS
    involvement (§3.5, issue 19): moderate SLE with CNS involvement gets the IV infusion
    only; severity not recorded leaves the intrathecal decision unknown."""
    if consciousness is not None and consciousness not in CONSCIOUSNESS_STATES:
        raise ValueError(
            f"consciousness must be one of {CONSCIOUSNESS_STATES}, got {consciousness!r}"
        )
    findings = [
        make_finding(
            "B-ROUTE-1",
            "planned",
            "info",
            gettext_noop("Route: single peripheral intravenous infusion."),
        )
    ]
    cells = None
    if cns_involvement is True and sle_severity in ("mild", "moderate"):
        status = "not_indicated"
        findings.append(
            make_finding(
                "B-ROUTE-2",
                "not_indicated",
                "info",
                gettext_noop(
                    "CNS involvement in %(severity)s SLE: intrathecal MSC is for severe SLE with "
                    "CNS involvement only; intravenous infusion only."
                ),
                {"severity": sle_severity},
            )
        )
    elif cns_involvement is True and sle_severity != "severe":
        status = "unknown"
        findings.append(
            make_finding(
                "B-ROUTE-2",
                "unknown",
                "unknown",
                gettext_noop(
                    "CNS involvement: record the SLE severity to decide on intrathecal MSC "
                    "(severe SLE only)."
                ),
                missing=("patient.sle.severity",),
            )
        )
    elif cns_involvement is True:
        if consciousness == "clear":
            status, cells = "indicated", INTRATHECAL_CELLS
            findings.append(
                make_finding(
                    "B-ROUTE-2",
                    "indicated",
                    "notice",
                    gettext_noop(
                        "Severe SLE with CNS involvement and clear consciousness: add intrathecal "
                        "injection of "
                        "%(cells_e6)s × 10⁶ MSC with the intravenous infusion."
                    ),
                    {"cells_e6": _e6(INTRATHECAL_CELLS)},
                )
            )
        elif consciousness == "impaired":
            status = "refused"
            findings.append(
                make_finding(
                    "B-ROUTE-2",
                    "refused",
                    "warning",
                    gettext_noop(
                        "CNS involvement but consciousness impaired: intrathecal MSC not advised; "
                        "intravenous infusion only."
                    ),
                )
            )
        else:
            status = "unknown"
            findings.append(
                make_finding(
                    "B-ROUTE-2",
                    "unknown",
                    "unknown",
                    gettext_noop(
                        "CNS involvement: record the level of consciousness to decide on intrathecal "
                        "MSC (not advised if impaired)."
                    ),
                    missing=("patient.consciousness",),
                )
            )
    elif cns_involvement is False:
        status = "not_indicated"
        findings.append(
            make_finding(
                "B-ROUTE-2",
                "not_indicated",
                "info",
                gettext_noop("No CNS involvement: no intrathecal MSC."),
            )
        )
    else:
        status = "unknown"
        findings.append(
            make_finding(
                "B-ROUTE-2",
                "unknown",
                "unknown",
                gettext_noop("CNS involvement not recorded: cannot decide on intrathecal MSC."),
                missing=("patient.involvement.cns",),
            )
        )
    return RouteResult(
        intravenous="single_peripheral_iv",
        intrathecal=status,
        intrathecal_cells=cells,
        findings=tuple(findings),
    )


def preconditioning_check(cyclophosphamide_planned: bool | None) -> Finding:
    if cyclophosphamide_planned is True:
        return make_finding(
            "B-PRE-1",
            "warning",
            "warning",
            gettext_noop(
                "Cyclophosphamide pre-conditioning is planned: not recommended before MSC "
                "(no added benefit, more complications)."
            ),
        )
    if cyclophosphamide_planned is False:
        return make_finding(
            "B-PRE-1",
            "none_planned",
            "info",
            gettext_noop("No cyclophosphamide pre-conditioning planned."),
        )
    return make_finding(
        "B-PRE-1",
        "not_recorded",
        "info",
        gettext_noop("Cyclophosphamide pre-conditioning not recorded; it is not recommended."),
    )
