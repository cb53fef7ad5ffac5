"""Versioned criteria sets. An amendment is a new Protocol entry, never an edit.

Thresholds and windows live here as data; the rules read them from the protocol they
are evaluated under, and every Evaluation records the protocol version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import MappingProxyType

from .calculators import DoseCeiling
from .dates import Period
from .drugs import BIOLOGICS, IMMUNOSUPPRESSANTS


@dataclass(frozen=True)
class Thresholds:
    """Numeric limits. Inclusive unless the name says otherwise (…_exclusive)."""

    # A-GEN
    age_min_years: int = 18
    age_max_years: int = 65
    survival_months_exclusive_min: Decimal = Decimal(6)
    menopause_min_months: Decimal = Decimal(12)
    # A-SLE
    ana_min_titre: int = 80  # 1:80
    sledai_min: int = 8
    sledai_clinical_min: int = 6
    # A-SSC
    fvc_min_percent: Decimal = Decimal(45)
    fvc_max_percent: Decimal = Decimal(70)
    dlco_min_percent: Decimal = Decimal(40)
    dlco_max_percent: Decimal = Decimal(70)
    mrss_increase_min: Decimal = Decimal("0.10")  # relative change
    fvc_decline_min: Decimal = Decimal("0.10")
    fvc_decline_with_dlco_min: Decimal = Decimal("0.05")
    dlco_decline_min: Decimal = Decimal("0.15")
    # A-AAV
    bvas_major_min: int = 1
    bvas_other_min: int = 3
    relapse_new_items_min: int = 1
    relapse_new_items_max: int = 2
    response_bvas_max: int = 0
    response_glucocorticoid_max_mg_per_day: Decimal = Decimal("7.5")
    # A-IIM
    iim_probability_min_percent: Decimal = Decimal(55)
    mmt8_max: int = 141
    vas_min: Decimal = Decimal(2)
    haq_di_min: Decimal = Decimal("0.25")
    muscle_enzyme_uln_factor_exclusive: Decimal = Decimal("1.5")
    core_set_min_abnormal: int = 2
    # A-SS
    stimulated_saliva_min_ml_per_min: Decimal = Decimal("0.05")
    unstimulated_saliva_min_ml_per_min: Decimal = Decimal("0.01")
    essdai_min: int = 5
    # A-REF
    refractory_min_immunosuppressants: int = 2
    # A-ORG
    anc_min_10e9_per_l: Decimal = Decimal("0.5")
    platelets_min_10e9_per_l: Decimal = Decimal(20)
    haemoglobin_min_g_per_l: Decimal = Decimal(60)
    inr_uln_factor: Decimal = Decimal("1.5")
    aptt_uln_factor: Decimal = Decimal("1.5")
    ast_uln_factor: Decimal = Decimal(3)
    alt_uln_factor: Decimal = Decimal(3)
    bilirubin_uln_factor: Decimal = Decimal("1.5")
    creatinine_uln_factor: Decimal = Decimal("1.5")
    creatinine_clearance_min_ml_per_min: Decimal = Decimal(30)
    nyha_max_class: int = 2
    lvef_min_percent: Decimal = Decimal(50)
    spo2_min_percent: Decimal = Decimal(92)


@dataclass(frozen=True)
class Windows:
    """History windows from the source, relative to the screening date."""

    sle_stable_treatment: Period = Period(6, "months")  # A-SLE-4: ≥ 6 months stable
    sle_active: Period = Period(2, "months")  # A-SLE-4: active ≥ 2 months
    ssc_conventional_treatment: Period = Period(6, "months")  # A-SSC-3
    ssc_activity: Period = Period(6, "months")  # A-SSC-4: within the past 6 months
    aav_treatment: Period = Period(3, "months")  # A-AAV-4: ≥ 3 months GC + IS
    aav_relapse: Period = Period(12, "weeks")  # A-AAV-4: relapse within 12 weeks
    # A-REF-1: the combination given together for ≥ 3 calendar months: a shared course
    # from S to E (both days given) counts when S + 3 months ≤ E (Period.spans), e.g.
    # 2025-03-01 to 2025-06-01; the day of month is clamped (2024-11-30 + 3 = 2025-02-28).
    refractory_treatment: Period = Period(3, "months")


def _frozen(mapping: Mapping) -> Mapping:
    return MappingProxyType(dict(mapping))


SLE_DOSE_CEILINGS_1_0 = _frozen(
    {
        "glucocorticoid": DoseCeiling(Decimal(20), "mg/day"),  # prednisone-equivalent
        "hydroxychloroquine": DoseCeiling(Decimal(400), "mg/day"),
        "chloroquine": DoseCeiling(Decimal(500), "mg/day"),
        "mycophenolate_mofetil": DoseCeiling(Decimal(2000), "mg/day"),
        "azathioprine": DoseCeiling(Decimal(2), "mg/kg/day"),
        "methotrexate": DoseCeiling(Decimal(20), "mg/week"),
    }
)


# "During screening" (A-GEN-4, A-SLE-2/3, A-AAV-3, A-SS-2/3, labs): the protocol's window
# is the most a ward may use; a ward may shorten it (SCREENING_WINDOW_DAYS), never
# lengthen it: at 365 days a year-old pregnancy test would count as "during screening".
MAX_SCREENING_WINDOW_DAYS = 28

# A-REF-1 biologics setting (see Protocol.refractory_biologics).
BIOLOGICS_PER_INDICATION = "per_indication"
BIOLOGICS_ALL = "all"
BIOLOGICS_NONE = "none"
REFRACTORY_BIOLOGICS_CHOICES = (BIOLOGICS_PER_INDICATION, BIOLOGICS_ALL, BIOLOGICS_NONE)

# The biologics each indication's block of the source names. SLE (A-SLE-4): "biologics
# (rituximab, belimumab, tacept)" among the standard treatment, beside "other
# immunosuppressants or immunomodulators"; dcSSc (A-SSC-3): "rituximab, belimumab,
# tacrolizumab" among the immunosuppressive/regulatory drugs; AAV (A-AAV-4):
# "cyclophosphamide, rituximab, …". IIM and SS name no drug list of their own, so the
# A-REF-1 sentence's list (no biologic) applies to them.
INDICATION_BIOLOGICS_1_0 = _frozen(
    {
        "SLE": frozenset({"rituximab", "belimumab", "telitacicept"}),
        "dcSSc": frozenset({"rituximab", "belimumab", "tocilizumab"}),
        "AAV": frozenset({"rituximab"}),
        "IIM": frozenset(),
        "SS": frozenset(),
    }
)


@dataclass(frozen=True)
class Protocol:
    version: str
    effective_from: date
    title: str
    screening_window_days: int = 28
    thresholds: Thresholds = field(default_factory=Thresholds)
    windows: Windows = field(default_factory=Windows)
    # A-SLE-4 standard-treatment ceilings; drugs not listed have none.
    sle_dose_ceilings: Mapping[str, DoseCeiling] = field(
        default_factory=lambda: SLE_DOSE_CEILINGS_1_0
    )
    # "Immunosuppressant/immunomodulator" for A-SSC-3 (besides cyclophosphamide) and
    # A-AAV-4.
    ssc_immunosuppressants: frozenset[str] = (IMMUNOSUPPRESSANTS | BIOLOGICS) - {"cyclophosphamide"}
    aav_immunosuppressants: frozenset[str] = IMMUNOSUPPRESSANTS | BIOLOGICS
    # A-REF-1: the conventional immunosuppressants always count. Whether a biologic
    # counts is unsettled in the source (its A-REF-1 sentence names azathioprine,
    # methotrexate, MMF "etc."), so it is this setting, named in every A-REF-1 reason:
    # BIOLOGICS_PER_INDICATION (the biologics the indication's own block names, from
    # ``indication_biologics``), BIOLOGICS_ALL or BIOLOGICS_NONE.
    refractory_immunosuppressants: frozenset[str] = IMMUNOSUPPRESSANTS
    refractory_biologics: str = BIOLOGICS_PER_INDICATION
    indication_biologics: Mapping[str, frozenset[str]] = field(
        default_factory=lambda: INDICATION_BIOLOGICS_1_0
    )

    def __post_init__(self) -> None:
        if self.refractory_biologics not in REFRACTORY_BIOLOGICS_CHOICES:
            raise ValueError(f"refractory_biologics={self.refractory_biologics!r}")
        if not 1 <= self.screening_window_days <= MAX_SCREENING_WINDOW_DAYS:
            raise ValueError(
                f"screening_window_days={self.screening_window_days} is outside"
                f" 1..{MAX_SCREENING_WINDOW_DAYS}"
            )

    def refractory_biologics_for(self, indication: str) -> frozenset[str]:
        """The biologics that count towards A-REF-1 for ``indication``."""
        if self.refractory_biologics == BIOLOGICS_ALL:
            return BIOLOGICS
        if self.refractory_biologics == BIOLOGICS_NONE:
            return frozenset()
        return self.indication_biologics.get(indication, frozenset())


PROTOCOL_1_0 = Protocol(
    version="1.0",
    # The source gives no effective date: 1.0 applies to every screening until an
    # amendment is added with a later effective date.
    effective_from=date(2000, 1, 1),
    title="Allogeneic MSC for relapsed/refractory autoimmune disease: inclusion criteria",
)

PROTOCOLS: Mapping[str, Protocol] = _frozen({p.version: p for p in (PROTOCOL_1_0,)})


class NoProtocolError(LookupError):
    pass


def protocol_for(screening_date: date, registry: Mapping[str, Protocol] = PROTOCOLS) -> Protocol:
    """The protocol with the latest effective date on or before ``screening_date``."""
    in_effect = [p for p in registry.values() if p.effective_from <= screening_date]
    if not in_effect:
        raise NoProtocolError(f"no protocol in effect on {screening_date.isoformat()}")
    return max(in_effect, key=lambda p: p.effective_from)


def get_protocol(version: str, registry: Mapping[str, Protocol] = PROTOCOLS) -> Protocol:
    try:
        return registry[version]
    except KeyError:
        raise NoProtocolError(f"unknown protocol version {version!r}") from None
