"""Typed patient facts: the engine's input, built from a validated facts document.

Every field is optional (None = unknown) except the screening date and the indication.
The classes are plain slotted dataclasses (not frozen, which costs 5× to construct);
treat them as read-only.
Each observation keeps the date it was made; the rules decide whether it is recent
enough. ``field`` paths ("labs.inr", "dcssc.mrss") point back into the document so a
missing or stale item can be shown next to the input it came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Generic, TypeVar

from .bvas import bvas_item_is_major
from .calculators import (
    BvasCounts,
    BvasItem,
    EssdaiScore,
    SledaiScore,
    bvas_counts,
    essdai,
    haq_di,
    mmt8_total,
    sledai_2k,
)
from .units import normalise_unit

T = TypeVar("T")

INDICATIONS = ("SLE", "dcSSc", "AAV", "IIM", "SS")


@dataclass(slots=True)
class Dated(Generic[T]):
    value: T
    date: date


@dataclass(slots=True)
class LabValue:
    value: Decimal
    unit: str  # canonical spelling (units.py)
    date: date
    uln: Decimal | None = None  # in uln_unit
    lab: str | None = None
    # C-UNIT-1: the ULN's own unit (canonical spelling); None: the value's unit (documents
    # written before ULNs carried a unit). Ctx.lab_uln converts it to the value's unit.
    uln_unit: str | None = None


@dataclass(slots=True)
class Patient:
    date_of_birth: date | None = None
    sex: str | None = None  # "female" | "male"
    weight_kg: Dated[Decimal] | None = None


@dataclass(slots=True)
class PregnancyTest:
    result: str  # "negative" | "positive"
    date: date
    kind: str | None = None  # "urine" | "blood"


@dataclass(slots=True)
class Consent:
    signed: bool
    date: date | None = None


@dataclass(slots=True)
class General:
    expected_survival_months: Decimal | None = None
    survival_gt_6_months: bool | None = None
    has_reproductive_partner: bool | None = None
    contraception_agreed: bool | None = None
    no_gamete_donation_agreed: bool | None = None
    childbearing_potential: bool | None = None
    sterilised: bool | None = None
    menopausal_months: Decimal | None = None
    pregnancy_test: PregnancyTest | None = None
    consent_signed: Consent | None = None


@dataclass(slots=True)
class OrganFunction:
    nyha_class: Dated[int] | None = None
    lvef_percent: Dated[Decimal] | None = None
    pericardial_effusion: Dated[bool] | None = None
    ecg_significant_abnormality: Dated[bool] | None = None
    spo2_room_air_percent: Dated[Decimal] | None = None
    pleural_effusion_significant: Dated[bool] | None = None


@dataclass(slots=True)
class Dose:
    value: Decimal
    unit: str  # drugs.DOSE_UNITS


@dataclass(slots=True)
class TreatmentEpisode:
    """One drug at one stable dose from ``start`` to ``end`` (None: ongoing)."""

    drug: str
    start: date
    end: date | None = None
    dose: Dose | None = None
    name: str | None = None
    index: int = 0  # position in treatment_history, for field paths


@dataclass(slots=True)
class Refractory:
    intolerant_or_inadequate_response: bool | None = None
    effective_doses: bool | None = None


@dataclass(slots=True)
class SleFacts:
    eular_acr_2019_met: bool | None = None
    ana_titre: Dated[int] | None = None  # denominator of 1:n; 0 = negative
    anti_dsdna: Dated[str] | None = None  # "positive" | "negative"
    anti_sm: Dated[str] | None = None
    sledai_2k: Dated[SledaiScore] | None = None
    active_since: date | None = None


@dataclass(slots=True)
class DcsscFacts:
    eular_acr_2013_met: bool | None = None
    leroy_diffuse_cutaneous: bool | None = None
    ild_present: bool | None = None
    ild_diagnosed_on: date | None = None
    fvc_percent_predicted: tuple[Dated[Decimal], ...] | None = None
    dlco_percent_predicted: tuple[Dated[Decimal], ...] | None = None
    mrss: tuple[Dated[Decimal], ...] | None = None
    response_to_conventional_treatment: str | None = None


@dataclass(slots=True)
class GlucocorticoidDose:
    drug: str
    dose: Dose


@dataclass(slots=True)
class AavResponse:
    achieved: bool
    date: date | None = None
    bvas: int | None = None
    glucocorticoid: GlucocorticoidDose | None = None


@dataclass(slots=True)
class BvasAssessment:
    date: date
    items: tuple[BvasItem, ...]
    counts: BvasCounts


@dataclass(slots=True)
class AavFacts:
    chcc_2012_diagnosis: str | None = None
    anca_pr3: Dated[str] | None = None
    anca_mpo: Dated[str] | None = None
    bvas_assessments: tuple[BvasAssessment, ...] | None = None  # in date order
    response: AavResponse | None = None


@dataclass(slots=True)
class IimFacts:
    classification_probability_percent: Decimal | None = None
    subtype: str | None = None
    mmt8: Dated[int] | None = None
    patient_global_vas: Dated[Decimal] | None = None
    physician_global_vas: Dated[Decimal] | None = None
    extramuscular_vas: Dated[Decimal] | None = None
    haq_di: Dated[Decimal] | None = None


@dataclass(slots=True)
class SsFacts:
    acr_eular_2016_met: bool | None = None
    anti_ro_ssa: Dated[str] | None = None
    stimulated_whole_saliva_ml_per_min: Dated[Decimal] | None = None
    unstimulated_whole_saliva_ml_per_min: Dated[Decimal] | None = None
    essdai: Dated[EssdaiScore] | None = None


@dataclass(slots=True)
class Facts:
    screening_date: date
    indication: str  # one of INDICATIONS
    patient: Patient = field(default_factory=Patient)
    general: General = field(default_factory=General)
    labs: Mapping[str, LabValue] = field(default_factory=dict)
    organ_function: OrganFunction = field(default_factory=OrganFunction)
    treatment_history: tuple[TreatmentEpisode, ...] | None = None
    refractory: Refractory = field(default_factory=Refractory)
    sle: SleFacts = field(default_factory=SleFacts)
    dcssc: DcsscFacts = field(default_factory=DcsscFacts)
    aav: AavFacts = field(default_factory=AavFacts)
    iim: IimFacts = field(default_factory=IimFacts)
    ss: SsFacts = field(default_factory=SsFacts)


# --- Building from a validated document ------------------------------------------------
# These helpers trust the types the JSON Schema and validate_facts have checked.


def to_decimal(number: Any) -> Decimal:
    """JSON numbers become exact decimals through their shortest text form (1.8, not
    1.8000000000000000444…)."""
    if type(number) is int:
        return Decimal(number)
    return Decimal(str(number))


def _obj(doc: Mapping, key: str) -> Mapping:
    value = doc.get(key)
    return value if isinstance(value, Mapping) else {}


# Dates have been validated (strict YYYY-MM-DD, real, in range) before building.
_iso = date.fromisoformat


def _date(value: Any) -> date | None:
    return _iso(value) if value is not None else None


def _dated_decimal(obj: Any) -> Dated[Decimal] | None:
    if not obj:
        return None
    return Dated(to_decimal(obj["value"]), _iso(obj["date"]))


def _dated(obj: Any, key: str = "value") -> Dated | None:
    if not obj:
        return None
    return Dated(as_int(obj[key]), _iso(obj["date"]))


def _series(items: Any) -> tuple[Dated[Decimal], ...] | None:
    if items is None:
        return None
    series = [Dated(to_decimal(i["value"]), _iso(i["date"])) for i in items]
    return tuple(sorted(series, key=lambda d: d.date))


def _dose(obj: Any) -> Dose | None:
    if not obj:
        return None
    return Dose(to_decimal(obj["value"]), obj["unit"])


def _lab(analyte: str, obj: Any) -> LabValue | None:
    if not obj:
        return None
    uln = obj.get("uln")
    uln_unit = obj.get("uln_unit")
    return LabValue(
        value=to_decimal(obj["value"]),
        unit=normalise_unit(analyte, obj["unit"], field=f"labs.{analyte}.unit"),
        date=_iso(obj["date"]),
        uln=to_decimal(uln) if uln is not None else None,
        lab=obj.get("lab"),
        uln_unit=(
            normalise_unit(analyte, uln_unit, field=f"labs.{analyte}.uln_unit")
            if uln is not None and uln_unit is not None
            else None
        ),
    )


def _ana(obj: Any) -> Dated[int] | None:
    if not obj:
        return None
    titre = obj["titre"]
    denominator = 0 if titre == "negative" else int(titre.split(":", 1)[1])
    return Dated(denominator, _iso(obj["date"]))


def as_int(value: Any) -> Any:
    """JSON Schema's "integer" admits 3.0; the calculators want a Python int."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def mmt8_from_document(obj: Mapping) -> int | None:
    scores = obj.get("scores")
    if scores is not None:
        return mmt8_total(
            {
                group: (
                    {side: as_int(grade) for side, grade in value.items()}
                    if isinstance(value, Mapping)
                    else as_int(value)
                )
                for group, value in scores.items()
            }
        )
    return as_int(obj.get("total"))


def haq_di_from_document(obj: Mapping) -> Decimal | None:
    categories = obj.get("categories")
    if categories is not None:
        return haq_di(
            {category: as_int(score) for category, score in categories.items()},
            obj.get("aids_or_help") or (),
        )
    value = obj.get("value")
    return to_decimal(value) if value is not None else None


def essdai_from_document(obj: Mapping) -> EssdaiScore:
    return essdai({domain: as_int(level) for domain, level in obj["domains"].items()})


def build_facts(doc: Mapping) -> Facts:
    """Facts from a document that ``validate_facts`` accepted (no checks repeated)."""
    patient = _obj(doc, "patient")
    general = _obj(doc, "general")
    labs = _obj(doc, "labs")
    organ = _obj(doc, "organ_function")
    refractory = _obj(doc, "refractory")

    pregnancy = general.get("pregnancy_test")
    consent = general.get("consent_signed")
    survival = general.get("expected_survival_months")
    menopausal = general.get("menopausal_months")
    history = doc.get("treatment_history")

    return Facts(
        screening_date=_iso(doc["screening_date"]),
        indication=doc["indication"],
        patient=Patient(
            date_of_birth=_date(patient.get("date_of_birth")),
            sex=patient.get("sex"),
            weight_kg=_dated_decimal(patient.get("weight_kg")),
        ),
        general=General(
            expected_survival_months=to_decimal(survival) if survival is not None else None,
            survival_gt_6_months=general.get("survival_gt_6_months"),
            has_reproductive_partner=general.get("has_reproductive_partner"),
            contraception_agreed=general.get("contraception_agreed"),
            no_gamete_donation_agreed=general.get("no_gamete_donation_agreed"),
            childbearing_potential=general.get("childbearing_potential"),
            sterilised=general.get("sterilised"),
            menopausal_months=to_decimal(menopausal) if menopausal is not None else None,
            pregnancy_test=(
                PregnancyTest(
                    result=pregnancy["result"],
                    date=_iso(pregnancy["date"]),
                    kind=pregnancy.get("kind"),
                )
                if pregnancy
                else None
            ),
            consent_signed=(
                Consent(signed=consent["value"], date=_date(consent.get("date")))
                if consent
                else None
            ),
        ),
        labs={
            analyte: lab for analyte, obj in labs.items() if (lab := _lab(analyte, obj)) is not None
        },
        organ_function=OrganFunction(
            nyha_class=_dated(organ.get("nyha_class")),
            lvef_percent=_dated_decimal(organ.get("lvef_percent")),
            pericardial_effusion=_dated(organ.get("pericardial_effusion")),
            ecg_significant_abnormality=_dated(organ.get("ecg_significant_abnormality")),
            spo2_room_air_percent=_dated_decimal(organ.get("spo2_room_air_percent")),
            pleural_effusion_significant=_dated(organ.get("pleural_effusion_significant")),
        ),
        treatment_history=(
            tuple(
                TreatmentEpisode(
                    drug=episode["drug"],
                    start=_iso(episode["start"]),
                    end=_date(episode.get("end")),
                    dose=_dose(episode.get("dose")),
                    name=episode.get("name"),
                    index=index,
                )
                for index, episode in enumerate(history)
            )
            if history is not None
            else None
        ),
        refractory=Refractory(
            intolerant_or_inadequate_response=refractory.get("intolerant_or_inadequate_response"),
            effective_doses=refractory.get("effective_doses"),
        ),
        sle=_sle(_obj(doc, "sle")),
        dcssc=_dcssc(_obj(doc, "dcssc")),
        aav=_aav(_obj(doc, "aav")),
        iim=_iim(_obj(doc, "iim")),
        ss=_ss(_obj(doc, "ss")),
    )


def _sle(block: Mapping) -> SleFacts:
    sledai = block.get("sledai_2k")
    return SleFacts(
        eular_acr_2019_met=block.get("eular_acr_2019_met"),
        ana_titre=_ana(block.get("ana")),
        anti_dsdna=_dated(block.get("anti_dsdna"), "result"),
        anti_sm=_dated(block.get("anti_sm"), "result"),
        sledai_2k=(
            Dated(sledai_2k(sledai["descriptors"]), _iso(sledai["date"])) if sledai else None
        ),
        active_since=_date(block.get("active_since")),
    )


def _dcssc(block: Mapping) -> DcsscFacts:
    return DcsscFacts(
        eular_acr_2013_met=block.get("eular_acr_2013_met"),
        leroy_diffuse_cutaneous=block.get("leroy_diffuse_cutaneous"),
        ild_present=block.get("ild_present"),
        ild_diagnosed_on=_date(block.get("ild_diagnosed_on")),
        fvc_percent_predicted=_series(block.get("fvc_percent_predicted")),
        dlco_percent_predicted=_series(block.get("dlco_percent_predicted")),
        mrss=_series(block.get("mrss")),
        response_to_conventional_treatment=block.get("response_to_conventional_treatment"),
    )


def _aav(block: Mapping) -> AavFacts:
    anca = _obj(block, "anca")
    assessments = block.get("bvas_assessments")
    response = block.get("response")
    parsed_assessments = None
    if assessments is not None:
        parsed = []
        for assessment in assessments:
            # Major status is fixed by the instrument where it can be (A-AAV-2, A-AAV-4).
            items = tuple(
                BvasItem(i["item"], bvas_item_is_major(i["item"], i["major"]), i["new"])
                for i in assessment["items"]
            )
            parsed.append(BvasAssessment(_iso(assessment["date"]), items, bvas_counts(items)))
        parsed_assessments = tuple(sorted(parsed, key=lambda a: a.date))
    parsed_response = None
    if response:
        glucocorticoid = response.get("glucocorticoid")
        dose = _dose(glucocorticoid.get("dose")) if glucocorticoid else None
        parsed_response = AavResponse(
            achieved=response["achieved"],
            date=_date(response.get("date")),
            bvas=as_int(response.get("bvas")),
            glucocorticoid=GlucocorticoidDose(glucocorticoid["drug"], dose) if dose else None,
        )
    return AavFacts(
        chcc_2012_diagnosis=block.get("chcc_2012_diagnosis"),
        anca_pr3=_dated(anca.get("pr3"), "result"),
        anca_mpo=_dated(anca.get("mpo"), "result"),
        bvas_assessments=parsed_assessments,
        response=parsed_response,
    )


def _iim(block: Mapping) -> IimFacts:
    probability = block.get("classification_probability_percent")
    mmt8 = block.get("mmt8")
    haq = block.get("haq_di")
    mmt8_value = mmt8_from_document(mmt8) if mmt8 else None
    haq_value = haq_di_from_document(haq) if haq else None
    return IimFacts(
        classification_probability_percent=(
            to_decimal(probability) if probability is not None else None
        ),
        subtype=block.get("subtype"),
        mmt8=Dated(mmt8_value, _iso(mmt8["date"])) if mmt8_value is not None else None,
        patient_global_vas=_dated_decimal(block.get("patient_global_vas")),
        physician_global_vas=_dated_decimal(block.get("physician_global_vas")),
        extramuscular_vas=_dated_decimal(block.get("extramuscular_vas")),
        haq_di=Dated(haq_value, _iso(haq["date"])) if haq_value is not None else None,
    )


def _ss(block: Mapping) -> SsFacts:
    score = block.get("essdai")
    return SsFacts(
        acr_eular_2016_met=block.get("acr_eular_2016_met"),
        anti_ro_ssa=_dated(block.get("anti_ro_ssa"), "result"),
        stimulated_whole_saliva_ml_per_min=_dated_decimal(
            block.get("stimulated_whole_saliva_ml_per_min")
        ),
        unstimulated_whole_saliva_ml_per_min=_dated_decimal(
            block.get("unstimulated_whole_saliva_ml_per_min")
        ),
        essdai=(Dated(essdai_from_document(score), _iso(score["date"])) if score else None),
    )
