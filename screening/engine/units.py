"""Lab units: accepted spellings per analyte and exact Decimal conversions.

Every lab value arrives with its unit. A unit that is unknown, or that does not fit the
analyte (g/L for a platelet count), raises ``UnitError``; input validation turns it into
a field error. Nothing is guessed. ULNs are reported in the same unit as their value.
"""

from __future__ import annotations

from decimal import Decimal

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
