"""Lab units: accepted spellings per analyte and exact Decimal conversions.

Every lab value arrives with its unit. A unit that is unknown, or that does not fit the
analyte (g/L for a platelet count), raises ``UnitError``; input validation turns it into
a field error. Nothing is guessed.

C-UNIT-1: a ULN carries its own unit too (``uln_unit``; without one it is read in the
value's unit, as documents written before it were) and is converted to the value's unit
before the two are compared. A value, or a ULN, outside the physiological range of its
analyte (``PLAUSIBLE_VALUE``, ``PLAUSIBLE_ULN``) is an error naming the likely unit
mix-up ("105 g/dL is not plausible for haemoglobin …; did you mean 105 g/L?"), never a
verdict: ``lab_problems`` lists them for input validation and ``evaluate``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from .i18n import gettext_noop

CREATININE_UMOL_PER_MG_DL = Decimal("88.4")
BILIRUBIN_UMOL_PER_MG_DL = Decimal("17.1")
CELLS_PER_UL_PER_10E9_PER_L = Decimal(1000)
HAEMOGLOBIN_G_PER_L_PER_G_DL = Decimal(10)

# Canonical unit spellings. Output uses these (µ, ⁹) for display.
TEN9_PER_L = "×10⁹/L"
PER_UL = "/µL"
G_PER_L = "g/L"
G_PER_DL = "g/dL"
UMOL_PER_L = "µmol/L"
MG_PER_DL = "mg/dL"
U_PER_L = "U/L"
SECONDS = "s"
RATIO = "ratio"

# analyte -> canonical unit -> factor that converts a value in that unit to the
# analyte's first (reference) unit.
ANALYTE_UNITS: dict[str, dict[str, Decimal]] = {
    "anc": {TEN9_PER_L: Decimal(1), PER_UL: 1 / CELLS_PER_UL_PER_10E9_PER_L},
    "platelets": {TEN9_PER_L: Decimal(1), PER_UL: 1 / CELLS_PER_UL_PER_10E9_PER_L},
    "haemoglobin": {G_PER_L: Decimal(1), G_PER_DL: HAEMOGLOBIN_G_PER_L_PER_G_DL},
    "inr": {RATIO: Decimal(1)},
    "aptt": {SECONDS: Decimal(1)},
    "ast": {U_PER_L: Decimal(1)},
    "alt": {U_PER_L: Decimal(1)},
    "total_bilirubin": {UMOL_PER_L: Decimal(1), MG_PER_DL: BILIRUBIN_UMOL_PER_MG_DL},
    "creatinine": {UMOL_PER_L: Decimal(1), MG_PER_DL: CREATININE_UMOL_PER_MG_DL},
    "ck": {U_PER_L: Decimal(1)},
    "ldh": {U_PER_L: Decimal(1)},
    "aldolase": {U_PER_L: Decimal(1)},
}

ANALYTE_LABELS = {
    "anc": gettext_noop("ANC"),
    "platelets": gettext_noop("platelets"),
    "haemoglobin": gettext_noop("haemoglobin"),
    "inr": gettext_noop("INR"),
    "aptt": gettext_noop("APTT"),
    "ast": gettext_noop("AST"),
    "alt": gettext_noop("ALT"),
    "total_bilirubin": gettext_noop("total bilirubin"),
    "creatinine": gettext_noop("creatinine"),
    "ck": gettext_noop("CK"),
    "ldh": gettext_noop("LDH"),
    "aldolase": gettext_noop("aldolase"),
}

# Accepted spellings -> canonical unit. Matching ignores spaces; case matters
# (G/L is giga per litre, g/L is grams per litre).
_ALIASES: dict[str, str] = {
    "×10⁹/L": TEN9_PER_L,
    "x10^9/L": TEN9_PER_L,
    "×10^9/L": TEN9_PER_L,
    "10^9/L": TEN9_PER_L,
    "10⁹/L": TEN9_PER_L,
    "10*9/L": TEN9_PER_L,
    "x10*9/L": TEN9_PER_L,
    "10E9/L": TEN9_PER_L,
    "G/L": TEN9_PER_L,
    "/µL": PER_UL,
    "/μL": PER_UL,
    "/uL": PER_UL,
    "cells/µL": PER_UL,
    "cells/μL": PER_UL,
    "cells/uL": PER_UL,
    "g/L": G_PER_L,
    "g/dL": G_PER_DL,
    "µmol/L": UMOL_PER_L,
    "μmol/L": UMOL_PER_L,
    "umol/L": UMOL_PER_L,
    "mg/dL": MG_PER_DL,
    "U/L": U_PER_L,
    "IU/L": U_PER_L,
    "s": SECONDS,
    "sec": SECONDS,
    "seconds": SECONDS,
    "ratio": RATIO,
    "INR": RATIO,
    "1": RATIO,
}


class UnitError(ValueError):
    """A unit that is unknown or does not fit the analyte."""

    def __init__(self, field: str, unit: object, analyte: str, message: str | None = None):
        self.field = field
        self.unit = unit
        self.analyte = analyte
        if message is None:
            expected = ", ".join(ANALYTE_UNITS.get(analyte, {}))
            if canonical_spelling(unit) is None:
                message = f"unknown unit {unit!r} for {analyte} (expected {expected})"
            else:
                message = f"unit {unit!r} does not fit {analyte} (expected {expected})"
        self.message = message
        super().__init__(f"{field}: {message}" if field else message)


def canonical_spelling(unit: object) -> str | None:
    if not isinstance(unit, str):
        return None
    return _ALIASES.get(unit.replace(" ", ""))


def normalise_unit(analyte: str, unit: object, *, field: str = "") -> str:
    """The canonical spelling of ``unit`` for ``analyte``, or UnitError."""
    if analyte not in ANALYTE_UNITS:
        raise UnitError(field, unit, analyte, f"unknown analyte {analyte!r}")
    canonical = canonical_spelling(unit)
    if canonical is None or canonical not in ANALYTE_UNITS[analyte]:
        raise UnitError(field, unit, analyte)
    return canonical


def convert(
    analyte: str, value: Decimal, from_unit: str, to_unit: str, *, field: str = ""
) -> Decimal:
    """Convert ``value`` between two units of the same analyte, exactly."""
    source = normalise_unit(analyte, from_unit, field=field)
    target = normalise_unit(analyte, to_unit, field=field)
    if source == target:
        return value
    factors = ANALYTE_UNITS[analyte]
    return value * factors[source] / factors[target]


def creatinine_umol_per_l_to_mg_per_dl(value: Decimal) -> Decimal:
    return value / CREATININE_UMOL_PER_MG_DL


def creatinine_mg_per_dl_to_umol_per_l(value: Decimal) -> Decimal:
    return value * CREATININE_UMOL_PER_MG_DL


def bilirubin_umol_per_l_to_mg_per_dl(value: Decimal) -> Decimal:
    return value / BILIRUBIN_UMOL_PER_MG_DL


def bilirubin_mg_per_dl_to_umol_per_l(value: Decimal) -> Decimal:
    return value * BILIRUBIN_UMOL_PER_MG_DL


def haemoglobin_g_per_dl_to_g_per_l(value: Decimal) -> Decimal:
    return value * HAEMOGLOBIN_G_PER_L_PER_G_DL


def haemoglobin_g_per_l_to_g_per_dl(value: Decimal) -> Decimal:
    return value / HAEMOGLOBIN_G_PER_L_PER_G_DL


def cells_10e9_per_l_to_per_ul(value: Decimal) -> Decimal:
    return value * CELLS_PER_UL_PER_10E9_PER_L


def cells_per_ul_to_10e9_per_l(value: Decimal) -> Decimal:
    return value / CELLS_PER_UL_PER_10E9_PER_L


# --- C-UNIT-1: physiological plausibility ------------------------------------------------
# (low, high), inclusive, in the analyte's reference unit (the first of ANALYTE_UNITS).
# Wide enough for every value a living patient can have (agranulocytosis, rhabdomyolysis,
# acute liver failure, dialysis-dependent renal failure), narrow enough that a number
# read in the analyte's other unit (× 10 for haemoglobin, × 17.1 bilirubin, × 88.4
# creatinine, × 1000 cell counts) usually falls outside. docs/notes/screening.md gives the
# rationale of each range.
PLAUSIBLE_VALUE: dict[str, tuple[Decimal, Decimal]] = {
    "anc": (Decimal(0), Decimal(100)),  # ×10⁹/L; 0 is real (agranulocytosis)
    "platelets": (Decimal(1), Decimal(2000)),  # ×10⁹/L
    "haemoglobin": (Decimal(20), Decimal(250)),  # g/L
    "inr": (Decimal("0.5"), Decimal(20)),  # ratio
    "aptt": (Decimal(10), Decimal(300)),  # s
    "ast": (Decimal(1), Decimal(20000)),  # U/L
    "alt": (Decimal(1), Decimal(20000)),  # U/L
    "total_bilirubin": (Decimal(1), Decimal(1000)),  # µmol/L
    "creatinine": (Decimal(10), Decimal(2000)),  # µmol/L
    "ck": (Decimal(1), Decimal(500000)),  # U/L
    "ldh": (Decimal(10), Decimal(50000)),  # U/L
    "aldolase": (Decimal("0.5"), Decimal(1000)),  # U/L
}
# A ULN is the top of a healthy population's range: much narrower than the values.
PLAUSIBLE_ULN: dict[str, tuple[Decimal, Decimal]] = {
    "anc": (Decimal(2), Decimal(20)),  # ×10⁹/L
    "platelets": (Decimal(200), Decimal(1000)),  # ×10⁹/L
    "haemoglobin": (Decimal(100), Decimal(250)),  # g/L
    "inr": (Decimal("0.8"), Decimal(2)),  # ratio
    "aptt": (Decimal(20), Decimal(80)),  # s
    "ast": (Decimal(10), Decimal(200)),  # U/L
    "alt": (Decimal(10), Decimal(200)),  # U/L
    "total_bilirubin": (Decimal(5), Decimal(50)),  # µmol/L
    "creatinine": (Decimal(40), Decimal(200)),  # µmol/L
    "ck": (Decimal(50), Decimal(1000)),  # U/L
    "ldh": (Decimal(100), Decimal(1000)),  # U/L
    "aldolase": (Decimal(1), Decimal(50)),  # U/L
}
assert set(PLAUSIBLE_VALUE) == set(PLAUSIBLE_ULN) == set(ANALYTE_UNITS)

T_IMPLAUSIBLE_VALUE = gettext_noop(
    "{value} {unit} is not plausible for {label} (plausible: {low}–{high} {unit})"
)
T_IMPLAUSIBLE_ULN = gettext_noop(
    "an upper limit of normal of {value} {unit} is not plausible for {label}"
    " (plausible: {low}–{high} {unit})"
)
T_DID_YOU_MEAN = gettext_noop("{problem}; did you mean {value} {unit}? (C-UNIT-1)")
T_CHECK_UNIT = gettext_noop("{problem}: check the value and its unit (C-UNIT-1)")
T_ULN_UNIT_UNRECONCILABLE = gettext_noop(
    "{problem}, so the ULN cannot be compared with the value in {unit} (C-UNIT-1)"
)


def reference_unit(analyte: str) -> str:
    return next(iter(ANALYTE_UNITS[analyte]))


def _shown(value: Decimal) -> str:
    """A limit converted to another unit, for a message (2 decimals at most)."""
    try:
        value = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    except InvalidOperation:
        pass
    return format(value.normalize(), "f")


def plausible(analyte: str, value: Decimal, unit: str, *, uln: bool = False) -> bool:
    """Whether ``value`` in ``unit`` (a canonical spelling that fits the analyte) lies in
    the analyte's physiological range (``uln``: the range of an upper limit of normal)."""
    low, high = (PLAUSIBLE_ULN if uln else PLAUSIBLE_VALUE)[analyte]
    canonical = value * ANALYTE_UNITS[analyte][unit]
    return low <= canonical <= high


def plausible_range(analyte: str, unit: str, *, uln: bool = False) -> tuple[str, str]:
    """The plausible range in ``unit``, as text for a message ("0.11", "22.62")."""
    low, high = (PLAUSIBLE_ULN if uln else PLAUSIBLE_VALUE)[analyte]
    factor = ANALYTE_UNITS[analyte][unit]
    return _shown(low / factor), _shown(high / factor)


def likely_unit(analyte: str, value: Decimal, unit: str, *, uln: bool = False) -> str | None:
    """Another unit of the analyte in which ``value`` would be plausible, or None."""
    for other in ANALYTE_UNITS[analyte]:
        if other != unit and plausible(analyte, value, other, uln=uln):
            return other
    return None


def implausibility(analyte: str, value: Decimal, unit: str, *, uln: bool = False) -> str | None:
    """None when plausible; else the English message, naming the unit the number would be
    plausible in ("did you mean 105 g/L?") when the analyte has one (C-UNIT-1)."""
    if plausible(analyte, value, unit, uln=uln):
        return None
    low, high = plausible_range(analyte, unit, uln=uln)
    problem = (T_IMPLAUSIBLE_ULN if uln else T_IMPLAUSIBLE_VALUE).format(
        value=format(value, "f"),
        unit=unit,
        label=ANALYTE_LABELS[analyte],
        low=low,
        high=high,
    )
    other = likely_unit(analyte, value, unit, uln=uln)
    if other is not None:
        return T_DID_YOU_MEAN.format(problem=problem, value=format(value, "f"), unit=other)
    return T_CHECK_UNIT.format(problem=problem)


def lab_problems(
    analyte: str,
    value: Decimal,
    unit: str,
    uln: Decimal | None = None,
    uln_unit: object = None,
) -> list[tuple[str, str]]:
    """C-UNIT-1: (sub-field, message) for each part of a lab entry that is an error.

    ``unit`` is the value's unit; ``uln_unit`` the ULN's as given (None: the value's).
    A ULN whose unit does not fit the analyte cannot be reconciled with the value; a
    value or ULN outside its physiological range is implausible. Sub-fields are "unit",
    "value", "uln" and "uln_unit".
    """
    problems: list[tuple[str, str]] = []
    try:
        unit = normalise_unit(analyte, unit)
    except UnitError as exc:
        return [("unit", exc.message)]
    message = implausibility(analyte, value, unit)
    if message:
        problems.append(("value", message))
    if uln is None:
        return problems
    uln_canonical = unit
    if uln_unit is not None:
        try:
            uln_canonical = normalise_unit(analyte, uln_unit)
        except UnitError as exc:
            problems.append(
                ("uln_unit", T_ULN_UNIT_UNRECONCILABLE.format(problem=exc.message, unit=unit))
            )
            return problems
    message = implausibility(analyte, uln, uln_canonical, uln=True)
    if message:
        problems.append(("uln", message))
    return problems
