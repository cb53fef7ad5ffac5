"""Drug vocabulary for treatment histories, and accepted dose units per drug."""

from __future__ import annotations

from decimal import Decimal

from .i18n import gettext_noop

GLUCOCORTICOIDS = frozenset(
    {
        "prednisone",
        "prednisolone",
        "methylprednisolone",
        "hydrocortisone",
        "dexamethasone",
        "betamethasone",
        "deflazacort",
    }
)
ANTIMALARIALS = frozenset({"hydroxychloroquine", "chloroquine"})
NSAIDS = frozenset({"nsaid"})
BIOLOGICS = frozenset({"rituximab", "belimumab", "telitacicept", "tocilizumab"})
IMMUNOSUPPRESSANTS = frozenset(
    {
        "mycophenolate_mofetil",
        "azathioprine",
        "methotrexate",
        "cyclophosphamide",
        "leflunomide",
        "tacrolimus",
        "ciclosporin",
        # Any other immunosuppressant or immunomodulator; give its name in "name".
        "other_immunosuppressant",
    }
)
ALL_DRUGS = GLUCOCORTICOIDS | ANTIMALARIALS | NSAIDS | BIOLOGICS | IMMUNOSUPPRESSANTS

DRUG_LABELS = {
    "prednisone": gettext_noop("prednisone"),
    "prednisolone": gettext_noop("prednisolone"),
    "methylprednisolone": gettext_noop("methylprednisolone"),
    "hydrocortisone": gettext_noop("hydrocortisone"),
    "dexamethasone": gettext_noop("dexamethasone"),
    "betamethasone": gettext_noop("betamethasone"),
    "deflazacort": gettext_noop("deflazacort"),
    "hydroxychloroquine": gettext_noop("hydroxychloroquine"),
    "chloroquine": gettext_noop("chloroquine"),
    "nsaid": gettext_noop("NSAID"),
    "rituximab": gettext_noop("rituximab"),
    "belimumab": gettext_noop("belimumab"),
    "telitacicept": gettext_noop("telitacicept"),
    "tocilizumab": gettext_noop("tocilizumab"),
    "mycophenolate_mofetil": gettext_noop("mycophenolate mofetil"),
    "azathioprine": gettext_noop("azathioprine"),
    "methotrexate": gettext_noop("methotrexate"),
    "cyclophosphamide": gettext_noop("cyclophosphamide"),
    "leflunomide": gettext_noop("leflunomide"),
    "tacrolimus": gettext_noop("tacrolimus"),
    "ciclosporin": gettext_noop("ciclosporin"),
    "other_immunosuppressant": gettext_noop("other immunosuppressant"),
}

# Prednisone-equivalent doses: (mg of the drug, equivalent mg of prednisone). Kept as
# the pair from the usual equivalence table so the arithmetic stays exact:
# pred-eq = dose × pred_mg / drug_mg.
PREDNISONE_EQUIVALENTS: dict[str, tuple[Decimal, Decimal]] = {
    "prednisone": (Decimal(5), Decimal(5)),
    "prednisolone": (Decimal(5), Decimal(5)),
    "methylprednisolone": (Decimal(4), Decimal(5)),
    "hydrocortisone": (Decimal(20), Decimal(5)),
    "dexamethasone": (Decimal("0.75"), Decimal(5)),
    "betamethasone": (Decimal("0.6"), Decimal(5)),
    "deflazacort": (Decimal(6), Decimal(5)),
}

DOSE_UNITS = frozenset({"mg/day", "g/day", "mg/week", "mg/kg/day", "mg/kg", "mg/m2", "mg", "g"})

# Drugs whose doses the rules compare with a ceiling accept only units that convert to
# the ceiling's unit; everything else accepts any unit in DOSE_UNITS.
DRUG_DOSE_UNITS: dict[str, frozenset[str]] = {
    **{drug: frozenset({"mg/day"}) for drug in GLUCOCORTICOIDS},
    "hydroxychloroquine": frozenset({"mg/day", "g/day"}),
    "chloroquine": frozenset({"mg/day", "g/day"}),
    "mycophenolate_mofetil": frozenset({"mg/day", "g/day"}),
    "azathioprine": frozenset({"mg/day", "mg/kg/day"}),
    "methotrexate": frozenset({"mg/week"}),
}


def allowed_dose_units(drug: str) -> frozenset[str]:
    return DRUG_DOSE_UNITS.get(drug, DOSE_UNITS)


def drug_label(drug: str) -> str:
    return DRUG_LABELS.get(drug, drug)
