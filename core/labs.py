"""The laboratory analytes the ward records, with the units each may be reported in, and
the physiological plausibility of a value or ULN (C-UNIT-1)."""

from decimal import Decimal

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

ANALYTES = {
    "anc": (_("Absolute neutrophil count"), ("10^9/L", "/uL")),
    "platelets": (_("Platelets"), ("10^9/L", "/uL")),
    "haemoglobin": (_("Haemoglobin"), ("g/L", "g/dL")),
    "inr": (_("INR"), ("ratio",)),
    "aptt": (_("APTT"), ("s",)),
    "ast": (_("AST"), ("U/L",)),
    "alt": (_("ALT"), ("U/L",)),
    "bilirubin": (_("Total bilirubin"), ("umol/L", "mg/dL")),
    "creatinine": (_("Serum creatinine"), ("umol/L", "mg/dL")),
    "ck": (_("Creatine kinase"), ("U/L",)),
    "aldolase": (_("Aldolase"), ("U/L",)),
    "ldh": (_("LDH"), ("U/L",)),
}

ANALYTE_CHOICES = [(code, label) for code, (label, _units) in ANALYTES.items()]
UNIT_CHOICES = sorted({u for _label, units in ANALYTES.values() for u in units})

# Core analyte code -> the screening engine's key (the engine's units module holds the
# conversions and the physiological ranges, C-UNIT-1).
ENGINE_KEYS = {code: code for code in ANALYTES} | {"bilirubin": "total_bilirubin"}


def implausible_message(analyte, value, unit, *, uln=False):
    """C-UNIT-1: None when ``value`` in ``unit`` is plausible for the analyte (``uln``: as
    its upper limit of normal); else a translated message naming the likely unit mix-up
    ("105 g/dL is not plausible for haemoglobin …; did you mean 105 g/L?"). A unit that
    does not fit the analyte is left to the unit check."""
    from screening.engine import units

    key = ENGINE_KEYS.get(analyte)
    canonical = units.canonical_spelling(unit)
    if key is None or canonical not in units.ANALYTE_UNITS.get(key, {}):
        return None
    value = value if isinstance(value, Decimal) else Decimal(str(value))
    if units.plausible(key, value, canonical, uln=uln):
        return None
    low, high = units.plausible_range(key, canonical, uln=uln)
    params = {
        "value": format(value.normalize(), "f"),
        "unit": unit,
        "analyte": ANALYTES[analyte][0],
        "low": low,
        "high": high,
    }
    if uln:
        message = gettext(
            "An upper limit of normal of %(value)s %(unit)s is not plausible for %(analyte)s "
            "(plausible: %(low)s–%(high)s %(unit)s)."
        )
    else:
        message = gettext(
            "%(value)s %(unit)s is not plausible for %(analyte)s "
            "(plausible: %(low)s–%(high)s %(unit)s)."
        )
    message = message % params
    other = units.likely_unit(key, value, canonical, uln=uln)
    if other is not None:
        # Named in the spelling the ward's forms offer ("umol/L"), when they offer it.
        spelled = next(
            (u for u in ANALYTES[analyte][1] if units.canonical_spelling(u) == other), other
        )
        message += " " + gettext("Did you mean %(value)s %(unit)s?") % {
            "value": params["value"],
            "unit": spelled,
        }
    return message
