"""Pure clinical calculators. Decimal in, Decimal out; invalid input → CalculatorError."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .drugs import GLUCOCORTICOIDS, PREDNISONE_EQUIVALENTS
from .units import creatinine_umol_per_l_to_mg_per_dl


class CalculatorError(ValueError):
    """Input outside what a calculator accepts (unknown item, level out of range…)."""


# --- Age -----------------------------------------------------------------------------


def age_on(date_of_birth: date, on: date) -> int:
    """Completed years on ``on``.

    Someone born on 29 February has a birthday on 1 March in non-leap years: the year
    is complete only once 28 February has passed (a (month, day) comparison gives this).
    """
    if on < date_of_birth:
        raise CalculatorError("date of birth is after the date")
    before_birthday = (on.month, on.day) < (date_of_birth.month, date_of_birth.day)
    return on.year - date_of_birth.year - before_birthday


# --- SLEDAI-2K -----------------------------------------------------------------------

SLEDAI_2K_WEIGHTS: dict[str, int] = {
    "seizure": 8,
    "psychosis": 8,
    "organic_brain_syndrome": 8,
    "visual_disturbance": 8,
    "cranial_nerve_disorder": 8,
    "lupus_headache": 8,
    "cva": 8,
    "vasculitis": 8,
    "arthritis": 4,
    "myositis": 4,
    "urinary_casts": 4,
    "haematuria": 4,
    "proteinuria": 4,
    "pyuria": 4,
    "rash": 2,
    "alopecia": 2,
    "mucosal_ulcers": 2,
    "pleurisy": 2,
    "pericarditis": 2,
    "low_complement": 2,
    "increased_dna_binding": 2,
    "fever": 1,
    "thrombocytopenia": 1,
    "leukopenia": 1,
}
SLEDAI_2K_SEROLOGY = frozenset({"low_complement", "increased_dna_binding"})


@dataclass(slots=True)
class SledaiScore:
    total: int
    clinical: int  # without low complement and increased DNA binding
    serology_scored: bool  # low complement and/or DNA binding among the descriptors
    descriptors: tuple[str, ...]


def sledai_2k(descriptors: Iterable[str]) -> SledaiScore:
    """SLEDAI-2K from the descriptors present (all others absent)."""
    present = tuple(descriptors)
    unknown = [d for d in present if d not in SLEDAI_2K_WEIGHTS]
    if unknown:
        raise CalculatorError(f"unknown SLEDAI-2K descriptor(s): {', '.join(map(str, unknown))}")
    if len(set(present)) != len(present):
        raise CalculatorError("SLEDAI-2K descriptors must not repeat")
    total = sum(SLEDAI_2K_WEIGHTS[d] for d in present)
    serology = sum(SLEDAI_2K_WEIGHTS[d] for d in present if d in SLEDAI_2K_SEROLOGY)
    return SledaiScore(
        total=total,
        clinical=total - serology,
        serology_scored=serology > 0,
        descriptors=tuple(sorted(present, key=list(SLEDAI_2K_WEIGHTS).index)),
    )


# --- BVAS v3 -------------------------------------------------------------------------


@dataclass(slots=True)
class BvasItem:
    item: str
    major: bool
    new: bool


@dataclass(slots=True)
class BvasCounts:
    major: int
    other: int
    new_major: int
    new_other: int

    @property
    def new(self) -> int:
        return self.new_major + self.new_other


def bvas_counts(items: Iterable[BvasItem]) -> BvasCounts:
    major = other = new_major = new_other = 0
    for item in items:
        if item.major:
            major += 1
            new_major += item.new
        else:
            other += 1
            new_other += item.new
    return BvasCounts(major=major, other=other, new_major=new_major, new_other=new_other)


def bvas_active(counts: BvasCounts, *, major_min: int = 1, other_min: int = 3) -> bool:
    """A-AAV-2: ≥ 1 major or ≥ 3 other items (new/worse or persistent)."""
    return counts.major >= major_min or counts.other >= other_min


def bvas_relapse_dates(
    assessments: Sequence[tuple[date, BvasCounts]]
    | Sequence[tuple[date, BvasCounts, Sequence[BvasItem]]],
    *,
    major_min: int = 1,
    other_min: int = 3,
    new_min: int = 1,
    new_max: int = 2,
) -> list[date]:
    """Dates of relapses by the A-AAV-4 definition, from assessments after the response.

    A relapse is the appearance of ≥ 1 major item or ≥ 3 other items (items flagged new
    or worse at that assessment), or of 1–2 new items at two consecutive assessments.
    In the latter case the items that appeared at the first assessment are still there
    at the second: at the second assessment the items scored new **or persistent**
    count (≥ ``new_min``, no upper limit: more activity cannot undo a relapse), and the
    relapse is dated at the second assessment, when the definition is first fulfilled.
    When the items are given (third element), a persistent item counts at the second
    assessment only if it was new at the first (an item persistent since before is not
    part of this relapse); with counts alone every persistent item counts.

    Persistent items alone do not make a new relapse (nor do items persisting from a
    relapse dated at the previous assessment), so a relapse is dated when it began, not
    at every later assessment while it lasts. ``assessments`` must be in
    date order.
    """
    dates: list[date] = []
    previous_new: set[str] | None = None  # items new at the previous assessment
    previous_has_few_new = previous_relapse = False
    for assessment in assessments:
        on, counts = assessment[0], assessment[1]
        items = assessment[2] if len(assessment) > 2 else None  # type: ignore[misc]
        if items is None:
            continued = counts.major + counts.other
            new_names = None
        else:
            new_names = {i.item for i in items if i.new}
            continued = sum(
                1 for i in items if i.new or (previous_new is not None and i.item in previous_new)
            )
        has_few_new = new_min <= counts.new <= new_max
        # Items persisting from a relapse already dated at the previous assessment are
        # that relapse going on, not a new one: only new items re-date it.
        confirmed = previous_has_few_new and (
            has_few_new or (not previous_relapse and continued >= new_min)
        )
        relapse = counts.new_major >= major_min or counts.new_other >= other_min or confirmed
        if relapse:
            dates.append(on)
        previous_has_few_new, previous_relapse, previous_new = has_few_new, relapse, new_names
    return dates


# --- ESSDAI --------------------------------------------------------------------------

# domain -> (weight, allowed activity levels). Constitutional, glandular and biological
# have no high level; CNS has no low level.
ESSDAI_DOMAINS: dict[str, tuple[int, frozenset[int]]] = {
    "constitutional": (3, frozenset({0, 1, 2})),
    "lymphadenopathy": (4, frozenset({0, 1, 2, 3})),
    "glandular": (2, frozenset({0, 1, 2})),
    "articular": (2, frozenset({0, 1, 2, 3})),
    "cutaneous": (3, frozenset({0, 1, 2, 3})),
    "pulmonary": (5, frozenset({0, 1, 2, 3})),
    "renal": (5, frozenset({0, 1, 2, 3})),
    "muscular": (6, frozenset({0, 1, 2, 3})),
    "peripheral_nervous_system": (5, frozenset({0, 1, 2, 3})),
    "central_nervous_system": (5, frozenset({0, 2, 3})),
    "haematological": (2, frozenset({0, 1, 2, 3})),
    "biological": (1, frozenset({0, 1, 2})),
}


@dataclass(slots=True)
class EssdaiScore:
    total: int  # Σ weight × level over the domains given
    domain_scores: dict[str, int]  # weighted score per domain given
    missing_domains: tuple[str, ...]  # domains not scored: the total is then a minimum


def essdai(levels: Mapping[str, int]) -> EssdaiScore:
    """ESSDAI = Σ weight × activity level. Levels are validated per domain."""
    domain_scores: dict[str, int] = {}
    for domain, level in levels.items():
        if domain not in ESSDAI_DOMAINS:
            raise CalculatorError(f"unknown ESSDAI domain {domain!r}")
        weight, allowed = ESSDAI_DOMAINS[domain]
        if isinstance(level, bool) or not isinstance(level, int) or level not in allowed:
            raise CalculatorError(
                f"ESSDAI {domain} level must be one of {sorted(allowed)}, not {level!r}"
            )
        domain_scores[domain] = weight * level
    missing = tuple(d for d in ESSDAI_DOMAINS if d not in levels)
    return EssdaiScore(
        total=sum(domain_scores.values()), domain_scores=domain_scores, missing_domains=missing
    )


# --- MMT-8 ---------------------------------------------------------------------------

MMT8_AXIAL = ("neck_flexors",)
MMT8_BILATERAL = (
    "deltoid",
    "biceps",
    "wrist_extensors",
    "gluteus_maximus",
    "gluteus_medius",
    "quadriceps",
    "ankle_dorsiflexors",
)
MMT8_MAX = 150


def _mmt_grade(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
        raise CalculatorError(f"MMT-8 {where} must be an integer 0–10, not {value!r}")
    return value


def mmt8_total(scores: Mapping[str, object]) -> int:
    """MMT-8 total (0–150) on the 0–10 Kendall scale.

    Neck flexors are scored once; the seven other groups are scored left and right,
    ``{"left": 0–10, "right": 0–10}``.
    """
    expected = set(MMT8_AXIAL) | set(MMT8_BILATERAL)
    if set(scores) != expected:
        missing = sorted(expected - set(scores))
        extra = sorted(set(scores) - expected)
        raise CalculatorError(f"MMT-8 needs exactly 8 groups (missing {missing}, unknown {extra})")
    total = sum(_mmt_grade(scores[group], group) for group in MMT8_AXIAL)
    for group in MMT8_BILATERAL:
        sides = scores[group]
        if not isinstance(sides, Mapping) or set(sides) != {"left", "right"}:
            raise CalculatorError(f"MMT-8 {group} needs a left and a right score")
        total += _mmt_grade(sides["left"], f"{group} left")
        total += _mmt_grade(sides["right"], f"{group} right")
    return total


# --- HAQ-DI --------------------------------------------------------------------------

HAQ_DI_CATEGORIES = (
    "dressing_grooming",
    "arising",
    "eating",
    "walking",
    "hygiene",
    "reach",
    "grip",
    "activities",
)
HAQ_DI_MIN_CATEGORIES = 6


def haq_di(category_scores: Mapping[str, int], aids_or_help: Iterable[str] = ()) -> Decimal:
    """HAQ-DI (0–3): the mean of the category scores (each the worst item, 0–3).

    Standard rule, applied to the categories listed in ``aids_or_help``: using an aid or
    device, or needing help from another person, raises that category's score to 2 if it
    was lower. Leave the list empty to score without aids. At least 6 of the 8
    categories must be scored.
    """
    unknown = [c for c in category_scores if c not in HAQ_DI_CATEGORIES]
    aided = set(aids_or_help)
    unknown += [c for c in aided if c not in HAQ_DI_CATEGORIES]
    if unknown:
        raise CalculatorError(f"unknown HAQ-DI category(ies): {', '.join(map(str, unknown))}")
    if len(category_scores) < HAQ_DI_MIN_CATEGORIES:
        raise CalculatorError(f"HAQ-DI needs at least {HAQ_DI_MIN_CATEGORIES} categories scored")
    total = 0
    for category, score in category_scores.items():
        if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 3:
            raise CalculatorError(f"HAQ-DI {category} must be an integer 0–3, not {score!r}")
        if category in aided:
            score = max(score, 2)
        total += score
    return Decimal(total) / Decimal(len(category_scores))


# --- VAS, enzymes, changes -----------------------------------------------------------

VAS_MIN = Decimal(0)
VAS_MAX = Decimal(10)


def validate_vas(value: Decimal) -> Decimal:
    """A visual analogue scale score on 0–10."""
    if not isinstance(value, Decimal) or not value.is_finite() or not VAS_MIN <= value <= VAS_MAX:
        raise CalculatorError(f"VAS must be between 0 and 10, not {value!r}")
    return value


def uln_multiple(value: Decimal, uln: Decimal) -> Decimal:
    """Value as a multiple of the ULN (display only; rules compare value with factor × ULN)."""
    if uln <= 0:
        raise CalculatorError("ULN must be positive")
    return value / uln


def exceeds_uln_multiple(value: Decimal, uln: Decimal, factor: Decimal) -> bool:
    """Strictly above factor × ULN (A-IIM-3 muscle enzymes: > 1.5 × ULN)."""
    return value > factor * uln


def within_uln_multiple(value: Decimal, uln: Decimal, factor: Decimal) -> bool:
    """At most factor × ULN (A-ORG-2/3/4: ≤ 1.5 × or ≤ 3 × ULN)."""
    return value <= factor * uln


MUSCLE_ENZYMES = ("ck", "aldolase", "ldh", "ast", "alt")


def relative_change(old: Decimal, new: Decimal) -> Decimal:
    """(new − old) / old: +0.10 is a 10% increase, −0.10 a 10% decrease.

    The source's "10% decrease in FVC" (and mRSS "increase of ≥ 10%", DLCO "15%
    decrease") does not say whether it means a relative change or percentage points of
    the predicted value; we use the RELATIVE change throughout, so a fall in FVC from
    80% to 72% predicted is a 10% decrease.
    """
    if old <= 0:
        raise CalculatorError("relative change needs a positive earlier value")
    return (new - old) / old


# --- Renal ---------------------------------------------------------------------------


def cockcroft_gault(
    *, age_years: int, weight_kg: Decimal, creatinine_mg_per_dl: Decimal, female: bool
) -> Decimal:
    """Creatinine clearance, mL/min: (140 − age) × weight / (72 × Scr), × 0.85 for women."""
    if creatinine_mg_per_dl <= 0:
        raise CalculatorError("creatinine must be positive")
    clearance = (140 - Decimal(age_years)) * weight_kg / (72 * creatinine_mg_per_dl)
    return clearance * Decimal("0.85") if female else clearance


def cockcroft_gault_umol(
    *, age_years: int, weight_kg: Decimal, creatinine_umol_per_l: Decimal, female: bool
) -> Decimal:
    return cockcroft_gault(
        age_years=age_years,
        weight_kg=weight_kg,
        creatinine_mg_per_dl=creatinine_umol_per_l_to_mg_per_dl(creatinine_umol_per_l),
        female=female,
    )


# --- Glucocorticoids and standard-treatment doses ------------------------------------


def prednisone_equivalent_mg(drug: str, dose_mg: Decimal) -> Decimal:
    """Prednisone-equivalent dose: methylprednisolone 4 mg, hydrocortisone 20 mg,
    dexamethasone 0.75 mg, betamethasone 0.6 mg and deflazacort 6 mg ≡ prednisone 5 mg."""
    if drug not in PREDNISONE_EQUIVALENTS:
        raise CalculatorError(f"{drug!r} is not a glucocorticoid with a known equivalence")
    drug_mg, prednisone_mg = PREDNISONE_EQUIVALENTS[drug]
    return dose_mg * prednisone_mg / drug_mg


@dataclass(frozen=True, slots=True)
class DoseCeiling:
    """A maximum dose, inclusive, in ``unit`` (mg/day, mg/week or mg/kg/day)."""

    limit: Decimal
    unit: str


@dataclass(slots=True)
class DoseCheck:
    within: bool | None  # None: cannot tell (weight needed but missing)
    dose: Decimal | None  # in the ceiling's unit (prednisone-equivalent for glucocorticoids)
    ceiling: DoseCeiling | None  # None: no ceiling for this drug


def standard_dose_check(
    drug: str,
    dose_value: Decimal,
    dose_unit: str,
    ceilings: Mapping[str, DoseCeiling],
    *,
    weight_kg: Decimal | None = None,
) -> DoseCheck:
    """Compare a dose with the A-SLE-4 ceiling for its drug.

    Glucocorticoids share the "glucocorticoid" ceiling in prednisone-equivalent mg/day.
    Drugs without a ceiling (NSAIDs, biologics, other immunosuppressants) are within.
    """
    key = "glucocorticoid" if drug in GLUCOCORTICOIDS else drug
    ceiling = ceilings.get(key)
    if ceiling is None:
        return DoseCheck(within=True, dose=None, ceiling=None)
    dose = _dose_in_unit(drug, dose_value, dose_unit, ceiling.unit, weight_kg)
    if dose is None:
        return DoseCheck(within=None, dose=None, ceiling=ceiling)
    return DoseCheck(within=dose <= ceiling.limit, dose=dose, ceiling=ceiling)


def _dose_in_unit(
    drug: str, value: Decimal, unit: str, target: str, weight_kg: Decimal | None
) -> Decimal | None:
    if unit == "g/day":
        value, unit = value * 1000, "mg/day"
    if drug in GLUCOCORTICOIDS and unit == "mg/day":
        value = prednisone_equivalent_mg(drug, value)
    if unit == target:
        return value
    if unit == "mg/day" and target == "mg/kg/day":
        if weight_kg is None or weight_kg <= 0:
            return None
        return value / weight_kg
    raise CalculatorError(f"a {drug} dose in {unit} cannot be compared with a ceiling in {target}")
