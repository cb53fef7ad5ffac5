"""The laboratory analytes the ward records, with the units each may be reported in."""

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
