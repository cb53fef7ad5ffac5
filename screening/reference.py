"""The Django side of lab values: core analytes ↔ engine keys, and ULNs from ReferenceRange.

The engine compares a lab value with the reporting lab's ULN. ULNs are data
(``core.ReferenceRange``: per lab, analyte and sex; approved ranges only: a system
administrator's change takes effect when a second one approves it, core.administration),
never constants: a lab entry without a ``uln`` gets the matching range's upper limit, for the
patient's sex first and then the range for any sex (""), converted to the value's unit.
Without a matching range the ULN stays missing and the engine says so (UNKNOWN). A
matching range in a unit that cannot be converted to the value's unit is not silence
either: ``fill_ulns`` reports it and ``screening.evaluation`` names it in the
criterion's reason and missing list. So is a range whose upper limit is not plausible as
a ULN for its analyte (C-UNIT-1: 1.2 "µmol/L" for creatinine is a mg/dL number): it is
not used, and the reason says why.
"""

from decimal import Decimal, InvalidOperation

from core.models import ReferenceRange
from screening.engine.units import UnitError, convert, normalise_unit, plausible

# core.labs analyte code -> engine facts key (labs.<key>)
CORE_TO_ENGINE = {
    "anc": "anc",
    "platelets": "platelets",
    "haemoglobin": "haemoglobin",
    "inr": "inr",
    "aptt": "aptt",
    "ast": "ast",
    "alt": "alt",
    "bilirubin": "total_bilirubin",
    "creatinine": "creatinine",
    "ck": "ck",
    "aldolase": "aldolase",
    "ldh": "ldh",
}
ENGINE_TO_CORE = {engine: core for core, engine in CORE_TO_ENGINE.items()}

SEX_TO_CORE = {"female": "F", "male": "M"}


def engine_unit(analyte_key, unit):
    """The engine's canonical spelling of a core unit ("umol/L" -> "µmol/L"), or None."""
    try:
        return normalise_unit(analyte_key, unit)
    except UnitError:
        return None


def number(value):
    """A Decimal as the JSON number the facts document stores (int when integral)."""
    value = Decimal(value)
    if value == value.to_integral_value():
        return int(value)
    return float(value.normalize())


class ReferenceRanges:
    """Reference ranges looked up once per document (one query), then from memory."""

    def __init__(self, labs=None):
        qs = ReferenceRange.objects.all()
        if labs is not None:
            qs = qs.filter(lab__in=list(labs))
        self._by_key = {(r.lab, r.analyte, r.sex): r for r in qs}

    def find(self, lab, analyte_key, sex):
        """The range for this lab and engine analyte: patient's sex first, then any sex."""
        core = ENGINE_TO_CORE.get(analyte_key)
        if core is None or not lab:
            return None
        core_sex = SEX_TO_CORE.get(sex or "", "")
        if core_sex:
            found = self._by_key.get((lab, core, core_sex))
            if found is not None:
                return found
        return self._by_key.get((lab, core, ""))

    def uln(self, lab, analyte_key, sex, unit):
        """(ULN in ``unit``, the range used); (None, range) when the range's unit cannot
        be converted to ``unit``; (None, None) without a usable range."""
        found = self.find(lab, analyte_key, sex)
        if found is None or found.upper is None or found.upper <= 0:
            return None, None
        try:
            value = convert(analyte_key, Decimal(found.upper), found.unit, unit)
        except (UnitError, InvalidOperation):
            return None, found  # a range exists, in a unit that cannot be converted
        return value, found


def fill_ulns(doc, ranges=None):
    """A copy of a facts document with every lab's missing ``uln`` filled from the ranges.

    Returns (document, filled, unconvertible): ``filled`` maps "labs.<key>" to a
    description of the reference range used; ``unconvertible`` maps "labs.<key>" to the
    range that matched but is in a unit the value's unit cannot be converted from (no
    ULN, said aloud by the caller). The input is not modified; anything malformed is
    left as it is for validation to report.
    """
    if not isinstance(doc, dict) or not isinstance(doc.get("labs"), dict):
        return doc, {}, {}
    labs = doc["labs"]
    patient = doc.get("patient") if isinstance(doc.get("patient"), dict) else {}
    sex = patient.get("sex") if isinstance(patient.get("sex"), str) else None
    wanted = {
        entry.get("lab")
        for entry in labs.values()
        if isinstance(entry, dict) and isinstance(entry.get("lab"), str)
    }
    if not wanted:
        return doc, {}, {}
    if ranges is None:
        ranges = ReferenceRanges(labs=wanted)
    new_labs = dict(labs)
    filled = {}
    unconvertible = {}
    for key, entry in labs.items():
        if not isinstance(entry, dict) or entry.get("uln") is not None:
            continue
        lab, unit = entry.get("lab"), entry.get("unit")
        if not isinstance(lab, str) or not isinstance(unit, str) or key not in ENGINE_TO_CORE:
            continue
        if engine_unit(key, unit) is None:
            continue
        uln, used = ranges.uln(lab, key, sex, unit)
        # C-UNIT-1: a range upper limit that is no plausible ULN is not used either.
        implausible = uln is not None and not plausible(key, uln, engine_unit(key, unit), uln=True)
        if uln is None or implausible:
            if used is not None:
                unconvertible[f"labs.{key}"] = {
                    "reference_range": used.pk,
                    "lab": used.lab,
                    "range_unit": used.unit,
                    "unit": unit,
                    **({"implausible": format(used.upper.normalize(), "f")} if implausible else {}),
                }
            continue
        # In the value's unit: a ``uln_unit`` left from a ULN no longer there goes.
        new_labs[key] = {
            **{k: v for k, v in entry.items() if k != "uln_unit"},
            "uln": number(uln),
        }
        filled[f"labs.{key}"] = {
            "reference_range": used.pk,
            "lab": used.lab,
            "sex": used.sex,
            "upper": format(used.upper.normalize(), "f"),
            "unit": used.unit,
            "uln": number(uln),
        }
    if not filled:
        return doc, {}, unconvertible
    return {**doc, "labs": new_labs}, filled, unconvertible
