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
- "Children and older adults" (B-IND-5) → age < 18 (child) or ≥ the ward's
  ``older_adult_from_years`` (default 60, the usual Chinese definition of 老年人):
  ``allowed_with_notice``. 18 and 59 are plain adults.
- Severe pulmonary hypertension (B-CI-1) is "> 70 mmHg"; the value used is the
  pulmonary artery systolic pressure (echo estimate), 70 allowed and 71 not. A PASP
  above the ward's upper limit of normal (``pasp_normal_max_mmhg``, default 35) and ≤ 70
  is mild–moderate PH on the source's scale: with severe cardiopulmonary insufficiency it
  is not recommended, no separate grade needed. A recorded grade that disagrees with the
  PASP is a data conflict (not recommended if either reading says so, else unknown). A
  grade of "severe" without a PASP is also not recommended.
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
from .protocol_settings import DEFAULT_SETTINGS, ProtocolSettings

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


@dataclass(frozen=True)
class OrganInvolvement(Serializable):
    """True = involved, False = not involved, None = not recorded."""

    renal: bool | None = None
    haematological: bool | None = None
    pulmonary: bool | None = None
    skin: bool | None = None
    cns: bool | None = None
    cardiac: bool | None = None
    hepatic: bool | None = None  # B-FU-2 (§4.2): hepatic involvement has its own follow-up

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


def _age(data: CandidacyInput, settings: ProtocolSettings = DEFAULT_SETTINGS) -> Finding:
    age = data.age_years
    older_from = settings.older_adult_from_years
    if age is None:
        return make_finding(
            "B-IND-5",
            "unknown",
            "warning",
            gettext_noop(
                "Age not known: cannot check for child (< %(child_below)s) or older adult "
                "(≥ %(older_from)s)."
            ),
            {"child_below": CHILD_BELOW_YEARS, "older_from": older_from},
            missing=("patient.date_of_birth",),
        )
    if isinstance(age, bool) or not isinstance(age, int) or age < 0:
        raise ValueError(f"age_years must be a non-negative integer, got {age!r}")
    params = {"age": age, "child_below": CHILD_BELOW_YEARS, "older_from": older_from}
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
    if age >= older_from:
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
        {**params, "last_adult": older_from - 1},
    )


def pasp_category(pap: Decimal | None, normal_max: Decimal) -> str | None:
    """B-CI-1 on the source's own scale: "severe" above 70 mmHg; "mild_moderate" above the
    ward's upper limit of normal and ≤ 70 mmHg; "normal" otherwise; None when not recorded."""
    if pap is None:
        return None
    if pap > PAP_SEVERE_ABOVE_MMHG:
        return "severe"
    if pap > normal_max:
        return "mild_moderate"
    return "normal"


_GRADE_CATEGORY = {
    "none": "normal",
    "mild": "mild_moderate",
    "moderate": "mild_moderate",
    "severe": "severe",
}
_VERDICT_RANK = {"allowed": 0, "unknown": 1, "not_recommended": 2}


def _ph_verdict(category: str, insufficiency: bool | None) -> str:
    """What B-CI-1 says for one reading (PASP or grade) of the pulmonary pressure."""
    if category == "severe":
        return "not_recommended"
    if category == "mild_moderate":
        if insufficiency is True:
            return "not_recommended"
        return "unknown" if insufficiency is None else "allowed"
    return "allowed"


def _pulmonary_hypertension(
    data: CandidacyInput, settings: ProtocolSettings = DEFAULT_SETTINGS
) -> Finding:
    """B-CI-1, reading the PASP and the recorded grade on the same scale (issue 19).

    The PASP alone decides when no grade is recorded; the grade alone when no PASP is. When
    both are recorded and disagree (e.g. grade "none" with PASP 40 mmHg) it is a data
    conflict: "not recommended" if either reading says so, otherwise unknown until the
    record is corrected. A grade never hides what the PASP says.
    """
    pap = data.pap_systolic_mmhg
    grade = data.pulmonary_hypertension
    insufficiency = data.severe_cardiopulmonary_insufficiency
    if grade is not None and grade not in PH_GRADES:
        raise ValueError(f"pulmonary_hypertension must be one of {PH_GRADES}, got {grade!r}")
    normal_max = settings.pasp_normal_max_mmhg
    by_pap = pasp_category(pap, normal_max)
    by_grade = _GRADE_CATEGORY.get(grade) if grade is not None else None
    params = {
        "pap": pap if pap is not None else "—",
        "grade": grade or "—",
        "limit": PAP_SEVERE_ABOVE_MMHG,
        "normal": normal_max,
        "insufficiency": insufficiency,
    }
    if by_pap is None and by_grade is None:
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
    if by_pap is not None and by_grade is not None and by_pap != by_grade:
        verdict = max(
            _ph_verdict(by_pap, insufficiency),
            _ph_verdict(by_grade, insufficiency),
            "unknown",
            key=_VERDICT_RANK.__getitem__,
        )
        if verdict == "not_recommended":
            return make_finding(
                "B-CI-1",
                "not_recommended",
                "block",
                gettext_noop(
                    "Data conflict: pulmonary hypertension grade %(grade)s but PASP %(pap)s mmHg "
                    "(normal ≤ %(normal)s, severe > %(limit)s mmHg); severe cardiopulmonary "
                    "insufficiency: %(insufficiency)s. On the more severe reading MSC is not "
                    "recommended; correct the record."
                ),
                params,
            )
        return make_finding(
            "B-CI-1",
            "unknown",
            "unknown",
            gettext_noop(
                "Data conflict: pulmonary hypertension grade %(grade)s but PASP %(pap)s mmHg "
                "(normal ≤ %(normal)s, severe > %(limit)s mmHg): correct the grade or the PASP "
                "before deciding."
            ),
            params,
            missing=("patient.pulmonary_hypertension", "patient.pap_systolic_mmhg"),
        )
    category = by_pap or by_grade
    verdict = _ph_verdict(category, insufficiency)
    if category == "severe":
        template = (
            gettext_noop(
                "Pulmonary artery systolic pressure %(pap)s mmHg > %(limit)s mmHg (severe "
                "pulmonary hypertension): MSC not recommended."
            )
            if by_pap
            else gettext_noop(
                "Severe pulmonary hypertension recorded (PAP %(pap)s): MSC not recommended."
            )
        )
        return make_finding("B-CI-1", "not_recommended", "block", template, params)
    if category == "mild_moderate":
        if verdict == "not_recommended":
            return make_finding(
                "B-CI-1",
                "not_recommended",
                "block",
                gettext_noop(
                    "Mild–moderate pulmonary hypertension (grade %(grade)s, PASP %(pap)s mmHg; "
                    "normal ≤ %(normal)s, severe > %(limit)s mmHg) with severe cardiopulmonary "
                    "insufficiency: MSC not recommended."
                ),
                params,
            )
        if verdict == "unknown":
            return make_finding(
                "B-CI-1",
                "unknown",
                "unknown",
                gettext_noop(
                    "Mild–moderate pulmonary hypertension (grade %(grade)s, PASP %(pap)s mmHg): "
                    "record whether there is severe cardiopulmonary insufficiency (then not "
                    "recommended)."
                ),
                params,
                missing=("patient.severe_cardiopulmonary_insufficiency",),
            )
        return make_finding(
            "B-CI-1",
            "allowed",
            "notice",
            gettext_noop(
                "Mild–moderate pulmonary hypertension (grade %(grade)s, PASP %(pap)s mmHg) "
                "without severe cardiopulmonary insufficiency: not a contraindication."
            ),
            params,
        )
    if insufficiency is True:
        return make_finding(
            "B-CI-1",
            "allowed",
            "notice",
            gettext_noop(
                "No pulmonary hypertension (grade %(grade)s, PASP %(pap)s mmHg); severe "
                "cardiopulmonary insufficiency is recorded: not a B-CI-1 contraindication, "
                "weigh it clinically."
            ),
            params,
        )
    return make_finding(
        "B-CI-1",
        "allowed",
        "info",
        gettext_noop("No pulmonary hypertension (grade %(grade)s, PASP %(pap)s mmHg)."),
        params,
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


def assess_candidacy(
    data: CandidacyInput, settings: ProtocolSettings = DEFAULT_SETTINGS
) -> CandidacyResult:
    findings = [
        _indication(data),
        _source(data),
        _infection(data),
        _other_autoimmune(data),
        _age(data, settings),
        _pulmonary_hypertension(data, settings),
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
