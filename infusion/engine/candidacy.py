"""Candidacy: is this patient a candidate for allogeneic MSC (B-IND-1..5, B-CI-1..3)?

Overall verdict, first match wins:

1. ``not_recommended`` — any finding says not recommended;
2. ``incomplete`` — a finding needed to rule out "not recommended" is unknown (severity
   ``unknown``): SLE severity, MSC source, pulmonary hypertension, pregnancy, lactation,
   tumour. Missing data is never silently passed;
3. ``allowed_with_notice`` — a finding asks the clinician to read something first
   (child or older adult, concurrent infection, non-preferred source, inactive disease);
4. ``recommended``.

Choices where the source is silent (stated so reviewers can disagree):

- Mild SLE → ``not_recommended`` (B-IND-1): R1 puts the indication "in principle" at
  moderate to severe SLE; mild disease is outside it, and the clinician may override.
- "Children and older adults" (B-IND-5) → age < 18 (child) or ≥ 65 (older adult):
  ``allowed_with_notice``. 18 and 64 are plain adults.
- Severe pulmonary hypertension (B-CI-1) is "> 70 mmHg"; the value used is the
  pulmonary artery systolic pressure (echo estimate), 70 allowed and 71 not. A PH grade
  of "severe" recorded by the clinician is also not recommended even without a PAP.
- Pregnancy/lactation for a male patient with no value recorded → not applicable.
- Allogeneic bone-marrow MSC → allowed (comparable long-term efficacy, §3.3); other
  allogeneic sources (placenta, adipose…) → allowed with notice (no SLE reports, §3.3).
- Infection and other autoimmune disease not recorded → info only: neither can make the
  patient "not recommended".
"""

from dataclasses import dataclass, field
from decimal import Decimal

from .findings import Finding, Serializable, make_finding
from .i18n import gettext_noop

SLE_SEVERITIES = ("mild", "moderate", "severe")
MSC_SOURCES = (
    "allogeneic_umbilical_cord",
    "allogeneic_bone_marrow",
    "allogeneic_other",
    "autologous",
)
PH_GRADES = ("none", "mild", "moderate", "severe")
SEXES = ("female", "male")

PAP_SEVERE_ABOVE_MMHG = 70  # B-CI-1: severe PH is "> 70 mmHg"
CHILD_BELOW_YEARS = 18  # B-IND-5, our reading of "children"
OLDER_ADULT_FROM_YEARS = 65  # B-IND-5, our reading of "older adults"


@dataclass(frozen=True)
class OrganInvolvement(Serializable):
    """True = involved, False = not involved, None = not recorded."""

    renal: bool | None = None
    haematological: bool | None = None
    pulmonary: bool | None = None
    skin: bool | None = None
    cns: bool | None = None
    cardiac: bool | None = None

    def involved(self, *names: str) -> list[str]:
        return [name for name in names if getattr(self, name) is True]


@dataclass(frozen=True)
class CandidacyInput:
    age_years: int | None
    sle_severity: str | None  # "mild" | "moderate" | "severe"
    sle_active: bool | None
    involvement: OrganInvolvement
    msc_source: str | None  # one of MSC_SOURCES
    infection: bool | None = None
    other_autoimmune_disease: bool | None = None
    other_autoimmune_names: tuple[str, ...] = ()
    pap_systolic_mmhg: Decimal | None = None
    pulmonary_hypertension: str | None = None  # one of PH_GRADES
    severe_cardiopulmonary_insufficiency: bool | None = None
    pregnant: bool | None = None
    lactating: bool | None = None
    tumour: bool | None = None
    sex: str | None = None  # "female" | "male"


@dataclass(frozen=True)
class CandidacyResult(Serializable):
    overall: str  # recommended | allowed_with_notice | not_recommended | incomplete
    findings: tuple[Finding, ...]
    unknown_items: tuple[str, ...] = field(default=())  # input fields needed to decide


def _indication(data: CandidacyInput) -> Finding:
    severity = data.sle_severity
    if severity is None:
        return make_finding(
            "B-IND-1",
            "unknown",
            "unknown",
            gettext_noop(
                "SLE severity not recorded: cannot decide the indication (moderate to severe SLE)."
            ),
            missing=("patient.sle.severity",),
        )
    if severity not in SLE_SEVERITIES:
        raise ValueError(f"sle_severity must be one of {SLE_SEVERITIES}, got {severity!r}")
    if severity == "mild":
        return make_finding(
            "B-IND-1",
            "not_recommended",
            "block",
            gettext_noop(
                "SLE severity %(severity)s: the indication is moderate to severe SLE; "
                "MSC not recommended for mild disease."
            ),
            {"severity": severity},
        )
    organs = data.involvement.involved("renal", "haematological", "pulmonary", "skin")
    if data.sle_active is True and organs:
        return make_finding(
            "B-IND-1",
            "recommended",
            "info",
            gettext_noop(
                "SLE severity %(severity)s, active, with %(organs)s involvement: within the "
                "indication, especially suited."
            ),
            {"severity": severity, "organs": ", ".join(organs)},
        )
    if data.sle_active is False:
        return make_finding(
            "B-IND-1",
            "allowed_with_notice",
            "notice",
            gettext_noop(
                "SLE severity %(severity)s, recorded as not active: within the indication, but "
                "the consensus favours active disease."
            ),
            {"severity": severity},
        )
    if data.sle_active is None:
        return make_finding(
            "B-IND-1",
            "recommended",
            "info",
            gettext_noop(
                "SLE severity %(severity)s: within the indication; disease activity not recorded."
            ),
            {"severity": severity},
        )
    return make_finding(
        "B-IND-1",
        "recommended",
        "info",
        gettext_noop("SLE severity %(severity)s, active: within the indication."),
        {"severity": severity},
    )


def _source(data: CandidacyInput) -> Finding:
    source = data.msc_source
    if source is None:
        return make_finding(
            "B-IND-2",
            "unknown",
            "unknown",
            gettext_noop(
                "MSC source not recorded: autologous MSC is not recommended, so it must be known."
            ),
            missing=("product.msc_source",),
        )
    if source not in MSC_SOURCES:
        raise ValueError(f"msc_source must be one of {MSC_SOURCES}, got {source!r}")
    if source == "autologous":
        return make_finding(
            "B-IND-2",
            "not_recommended",
            "block",
            gettext_noop(
                "Autologous MSC: not recommended; use allogeneic MSC from healthy donors."
            ),
        )
    if source == "allogeneic_umbilical_cord":
        return make_finding(
            "B-IND-2",
            "recommended",
            "info",
            gettext_noop(
                "Allogeneic umbilical-cord MSC: the preferred source; no HLA matching needed."
            ),
        )
    if source == "allogeneic_bone_marrow":
        return make_finding(
            "B-IND-2",
            "allowed",
            "info",
            gettext_noop(
                "Allogeneic bone-marrow MSC: acceptable (long-term efficacy comparable); "
                "umbilical cord is preferred; no HLA matching needed."
            ),
        )
    return make_finding(
        "B-IND-2",
        "allowed_with_notice",
        "notice",
        gettext_noop(
            "Allogeneic MSC from another tissue: no clinical reports in SLE; "
            "umbilical-cord MSC is preferred."
        ),
    )


def _infection(data: CandidacyInput) -> Finding:
    if data.infection is True:
        return make_finding(
            "B-IND-3",
            "allowed_with_notice",
            "notice",
            gettext_noop(
                "Concurrent infection: not a contraindication; treat the infection actively "
                "alongside the MSC infusion."
            ),
        )
    if data.infection is False:
        return make_finding(
            "B-IND-3", "allowed", "info", gettext_noop("No concurrent infection recorded.")
        )
    return make_finding(
        "B-IND-3",
        "allowed",
        "info",
        gettext_noop(
            "Infection status not recorded; infection is not a contraindication "
            "(treat it alongside)."
        ),
    )


def _other_autoimmune(data: CandidacyInput) -> Finding:
    if data.other_autoimmune_disease is True:
        names = ", ".join(data.other_autoimmune_names) or "—"
        return make_finding(
            "B-IND-4",
            "allowed",
            "info",
            gettext_noop(
                "Other autoimmune disease (%(names)s): MSC may be used; allogeneic MSC is also "
                "effective in SS, RA and PM/DM."
            ),
            {"names": names},
        )
    if data.other_autoimmune_disease is False:
        return make_finding(
            "B-IND-4", "allowed", "info", gettext_noop("No other autoimmune disease recorded.")
        )
    return make_finding(
        "B-IND-4",
        "allowed",
        "info",
        gettext_noop("Other autoimmune disease not recorded; it would not prevent MSC treatment."),
    )


def _age(data: CandidacyInput) -> Finding:
    age = data.age_years
    if age is None:
        return make_finding(
            "B-IND-5",
            "unknown",
            "warning",
            gettext_noop("Age not known: cannot check for child (< 18) or older adult (≥ 65)."),
            missing=("patient.date_of_birth",),
        )
    if isinstance(age, bool) or not isinstance(age, int) or age < 0:
        raise ValueError(f"age_years must be a non-negative integer, got {age!r}")
    params = {"age": age, "child_below": CHILD_BELOW_YEARS, "older_from": OLDER_ADULT_FROM_YEARS}
    if age < CHILD_BELOW_YEARS:
        return make_finding(
            "B-IND-5",
            "allowed_with_notice",
            "notice",
            gettext_noop(
                "Age %(age)s (< %(child_below)s, child): not a contraindication; assess severity "
                "and cardiopulmonary function and decide together with patient and family."
            ),
            params,
        )
    if age >= OLDER_ADULT_FROM_YEARS:
        return make_finding(
            "B-IND-5",
            "allowed_with_notice",
            "notice",
            gettext_noop(
                "Age %(age)s (≥ %(older_from)s, older adult): not a contraindication; assess "
                "severity and cardiopulmonary function and decide together with patient and family."
            ),
            params,
        )
    return make_finding(
        "B-IND-5",
        "allowed",
        "info",
        gettext_noop("Age %(age)s: adult (%(child_below)s to %(last_adult)s years)."),
        {**params, "last_adult": OLDER_ADULT_FROM_YEARS - 1},
    )


def _pulmonary_hypertension(data: CandidacyInput) -> Finding:
    pap = data.pap_systolic_mmhg
    grade = data.pulmonary_hypertension
    insufficiency = data.severe_cardiopulmonary_insufficiency
    pap_text = f"{pap} mmHg" if pap is not None else "—"
    if grade is not None and grade not in PH_GRADES:
        raise ValueError(f"pulmonary_hypertension must be one of {PH_GRADES}, got {grade!r}")
    if pap is not None and pap > PAP_SEVERE_ABOVE_MMHG:
        return make_finding(
            "B-CI-1",
            "not_recommended",
            "block",
            gettext_noop(
                "Pulmonary artery systolic pressure %(pap)s mmHg > %(limit)s mmHg (severe pulmonary "
                "hypertension): MSC not recommended."
            ),
            {"pap": pap, "limit": PAP_SEVERE_ABOVE_MMHG},
        )
    if grade == "severe":
        return make_finding(
            "B-CI-1",
            "not_recommended",
            "block",
            gettext_noop(
                "Severe pulmonary hypertension recorded (PAP %(pap)s): MSC not recommended."
            ),
            {"pap": pap_text},
        )
    if grade in ("mild", "moderate"):
        if insufficiency is True:
            return make_finding(
                "B-CI-1",
                "not_recommended",
                "block",
                gettext_noop(
                    "Pulmonary hypertension grade %(grade)s (PAP %(pap)s) with severe "
                    "cardiopulmonary insufficiency: MSC not recommended."
                ),
                {"grade": grade, "pap": pap_text},
            )
        if insufficiency is None:
            return make_finding(
                "B-CI-1",
                "unknown",
                "unknown",
                gettext_noop(
                    "Pulmonary hypertension grade %(grade)s (PAP %(pap)s): record whether there is "
                    "severe cardiopulmonary insufficiency (then not recommended)."
                ),
                {"grade": grade, "pap": pap_text},
                missing=("patient.severe_cardiopulmonary_insufficiency",),
            )
        return make_finding(
            "B-CI-1",
            "allowed",
            "notice",
            gettext_noop(
                "Pulmonary hypertension grade %(grade)s (PAP %(pap)s) without severe "
                "cardiopulmonary insufficiency: not a contraindication."
            ),
            {"grade": grade, "pap": pap_text},
        )
    if grade == "none":
        return make_finding(
            "B-CI-1",
            "allowed",
            "info",
            gettext_noop("No pulmonary hypertension (PAP %(pap)s)."),
            {"pap": pap_text},
        )
    # Grade not recorded.
    if pap is None:
        return make_finding(
            "B-CI-1",
            "unknown",
            "unknown",
            gettext_noop(
                "Pulmonary hypertension status and pulmonary artery systolic pressure not "
                "recorded: cannot rule out severe pulmonary hypertension (> 70 mmHg)."
            ),
            missing=("patient.pulmonary_hypertension", "patient.pap_systolic_mmhg"),
        )
    if insufficiency is False:
        return make_finding(
            "B-CI-1",
            "allowed",
            "info",
            gettext_noop(
                "PAP %(pap)s mmHg ≤ %(limit)s mmHg and no severe cardiopulmonary insufficiency: "
                "not a contraindication."
            ),
            {"pap": pap, "limit": PAP_SEVERE_ABOVE_MMHG},
        )
    return make_finding(
        "B-CI-1",
        "unknown",
        "unknown",
        gettext_noop(
            "PAP %(pap)s mmHg ≤ %(limit)s mmHg, but the pulmonary hypertension grade and "
            "cardiopulmonary function are not recorded: mild–moderate PH with severe "
            "cardiopulmonary insufficiency cannot be ruled out."
        ),
        {"pap": pap, "limit": PAP_SEVERE_ABOVE_MMHG},
        missing=("patient.pulmonary_hypertension", "patient.severe_cardiopulmonary_insufficiency"),
    )


def _pregnancy_lactation(data: CandidacyInput) -> list[Finding]:
    if data.pregnant is True:
        pregnancy = make_finding(
            "B-CI-2",
            "not_recommended",
            "block",
            gettext_noop("Pregnant: MSC not recommended (no clinical data in pregnancy)."),
        )
    elif data.pregnant is False:
        pregnancy = make_finding("B-CI-2", "allowed", "info", gettext_noop("Not pregnant."))
    elif data.sex == "male":
        pregnancy = make_finding(
            "B-CI-2",
            "not_applicable",
            "info",
            gettext_noop("Male patient: pregnancy not applicable."),
        )
    else:
        pregnancy = make_finding(
            "B-CI-2",
            "unknown",
            "unknown",
            gettext_noop("Pregnancy status not recorded: MSC is not recommended in pregnancy."),
            missing=("patient.pregnant",),
        )
    if data.lactating is True:
        lactation = make_finding(
            "B-CI-2",
            "not_recommended",
            "block",
            gettext_noop("Lactating: MSC not recommended (no clinical data in lactation)."),
        )
    elif data.lactating is False:
        lactation = make_finding("B-CI-2", "allowed", "info", gettext_noop("Not lactating."))
    elif data.sex == "male":
        lactation = make_finding(
            "B-CI-2",
            "not_applicable",
            "info",
            gettext_noop("Male patient: lactation not applicable."),
        )
    else:
        lactation = make_finding(
            "B-CI-2",
            "unknown",
            "unknown",
            gettext_noop("Lactation status not recorded: MSC is not recommended during lactation."),
            missing=("patient.lactating",),
        )
    return [pregnancy, lactation]


def _tumour(data: CandidacyInput) -> Finding:
    if data.tumour is True:
        return make_finding(
            "B-CI-3",
            "not_recommended",
            "block",
            gettext_noop(
                "Tumour present: MSC not recommended (may promote tumour angiogenesis and metastasis)."
            ),
        )
    if data.tumour is False:
        return make_finding("B-CI-3", "allowed", "info", gettext_noop("No tumour recorded."))
    return make_finding(
        "B-CI-3",
        "unknown",
        "unknown",
        gettext_noop(
            "Tumour status not recorded: MSC is not recommended in patients with tumours."
        ),
        missing=("patient.tumour",),
    )


def assess_candidacy(data: CandidacyInput) -> CandidacyResult:
    findings = [
        _indication(data),
        _source(data),
        _infection(data),
        _other_autoimmune(data),
        _age(data),
        _pulmonary_hypertension(data),
        *_pregnancy_lactation(data),
        _tumour(data),
    ]
    unknown_items = tuple(m for f in findings if f.status == "unknown" for m in f.missing)
    if any(f.status == "not_recommended" for f in findings):
        overall = "not_recommended"
    elif any(f.severity == "unknown" for f in findings):
        overall = "incomplete"
    elif any(f.status == "allowed_with_notice" for f in findings):
        overall = "allowed_with_notice"
    else:
        overall = "recommended"
    return CandidacyResult(overall=overall, findings=tuple(findings), unknown_items=unknown_items)
