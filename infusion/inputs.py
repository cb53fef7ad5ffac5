"""From the patient record and the episode form to the engine's input document.

Values that the patient record holds come from it (latest dated weight, latest platelet
count, date of birth, sex, and for a repeat infusion the latest earlier infusion with its
documented response and relapse, B-REP-1); everything else comes from the episode form
as a flat dict (`EPISODE_FIELDS`). The result is a plan-input document
(`infusion/schema/plan-input.schema.json`) with decimals as strings, so the engine sees
exactly what was entered.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from core.models import LabResult, Measurement, MeasurementKind, Sex
from infusion.engine.follow_up import PriorInfusion
from infusion.engine.release import MICROBIOLOGY, NEGATIVE_MARKERS, POSITIVE_MARKERS
from screening.engine.units import TEN9_PER_L, UnitError, convert

from .models import Episode, EpisodeStatus
from .protocol import ward_zone, ward_zone_name

INVOLVEMENT = ("renal", "haematological", "pulmonary", "skin", "cns", "cardiac", "hepatic")
DIFFERENTIATION = ("adipogenic", "osteogenic", "chondrogenic")
MARKERS = (*POSITIVE_MARKERS, *NEGATIVE_MARKERS)


def marker_field(marker: str) -> str:
    return "coa_" + marker.lower().replace("-", "_")


# Form/data key -> path in the plan-input document.
FIELD_PATHS = {
    "sle_severity": "patient.sle.severity",
    "sle_active": "patient.sle.active",
    **{f"involvement_{o}": f"patient.involvement.{o}" for o in INVOLVEMENT},
    "consciousness": "patient.consciousness",
    "pregnant": "patient.pregnant",
    "lactating": "patient.lactating",
    "tumour": "patient.tumour",
    "infection": "patient.infection",
    "other_autoimmune_disease": "patient.other_autoimmune_disease",
    "other_autoimmune_names": "patient.other_autoimmune_names",
    "pap_systolic_mmhg": "patient.pap_systolic_mmhg",
    "pulmonary_hypertension": "patient.pulmonary_hypertension",
    "severe_cardiopulmonary_insufficiency": "patient.severe_cardiopulmonary_insufficiency",
    "long_term_antiplatelet": "patient.long_term_antiplatelet",
    "bleeding_history": "patient.bleeding_history",
    "msc_source": "product.msc_source",
    "preparation_time": "product.preparation_time",
    "suspension_volume_ml": "product.suspension_volume_ml",
    "coa_adherent_growth": "product.certificate.adherent_growth",
    **{f"coa_{d}": f"product.certificate.differentiation.{d}" for d in DIFFERENTIATION},
    **{marker_field(m): f"product.certificate.markers_pct.{m}" for m in MARKERS},
    "coa_purity_pct": "product.certificate.purity_pct",
    "coa_endotoxin_eu_per_ml": "product.certificate.endotoxin_eu_per_ml",
    "coa_cell_count_measured": "product.certificate.cell_count_measured",
    "coa_cell_count_labelled": "product.certificate.cell_count_labelled",
    **{f"coa_{o}": f"product.certificate.microbiology.{o}" for o in MICROBIOLOGY},
    # B-SITE-1: who issued the certificate, and whether it is a third-party re-test.
    "coa_issuer": "product.certificate.issuer",
    "coa_third_party_retest": "product.certificate.third_party_retest",
    "planned_start": "order.planned_start",
    "dose_cells": "order.dose_cells",
    "drop_factor_gtt_per_ml": "order.drop_factor_gtt_per_ml",
    "antiplatelet_drug": "order.antiplatelet.drug",
    "antiplatelet_dose_mg": "order.antiplatelet.dose_mg",
    # B-AP-1 / C-OVR-1: a course below the ward's platelet floor (needs a second physician).
    "antiplatelet_below_floor_override": "order.antiplatelet.below_floor_override",
    "cyclophosphamide_preconditioning": "order.cyclophosphamide_preconditioning",
}
EPISODE_FIELDS = (*FIELD_PATHS, "product_lot")
PATH_FIELDS = {path: name for name, path in FIELD_PATHS.items()}
# Document paths filled from the patient record, not the form.
RECORD_PATHS = {
    "patient.date_of_birth": "date_of_birth",
    "patient.sex": "sex",
    "patient.weight": "weight",
    "patient.weight.kg": "weight",
    "patient.weight.date": "weight",
    "patient.platelets": "platelets",
    "patient.platelets.value_10e9_per_l": "platelets",
    "patient.platelets.date": "platelets",
    # B-CONSENT-1: from the episode's consent record (infusion.services.consent_record).
    "consent": "consent",
    "patient.prior_infusion": "prior_infusion",
}


@dataclass(frozen=True)
class RecordValues:
    """What the patient record says, with the dates that make it current or stale."""

    date_of_birth: date
    sex: str | None  # "female" | "male"
    weight_kg: Decimal | None
    weight_measured_at: datetime | None
    platelets_10e9_per_l: Decimal | None
    platelets_observed_at: datetime | None
    # B-REP-1: the latest earlier infused episode (None = this is a first infusion).
    prior_infusion: PriorInfusion | None = None


def prior_infusion(patient) -> PriorInfusion | None:
    """B-REP-1 input: the patient's latest infused MSC episode, its infusion day (the ward
    day of the recorded end) and the response and relapse documented at follow-up."""
    latest = (
        Episode.objects.filter(
            patient=patient, status=EpisodeStatus.INFUSED, ended_at__isnull=False
        )
        .order_by("-ended_at", "-pk")
        .only("ended_at", "response", "response_date", "relapse", "relapse_date")
        .first()
    )
    if latest is None:
        return None
    return PriorInfusion(
        infusion_date=latest.ended_at.astimezone(ward_zone()).date(),
        response=latest.response,
        response_date=latest.response_date,
        relapse=latest.relapse,
        relapse_date=latest.relapse_date,
    )


def record_values(patient) -> RecordValues:
    weight = (
        Measurement.objects.filter(patient=patient, kind=MeasurementKind.WEIGHT_KG)
        .order_by("-measured_at", "-pk")
        .first()
    )
    platelets = (
        LabResult.objects.filter(patient=patient, analyte="platelets")
        .order_by("-observed_at", "-pk")
        .first()
    )
    platelet_value = None
    if platelets is not None:
        # C-UNIT-1: converted by its own unit (150000 /µL = 150 × 10⁹/L); a unit that is
        # no platelet unit gives no count (the plan then asks for one), never a guess.
        try:
            platelet_value = convert("platelets", platelets.value, platelets.unit, TEN9_PER_L)
        except UnitError:
            platelet_value = None
    return RecordValues(
        date_of_birth=patient.date_of_birth,
        sex={Sex.FEMALE: "female", Sex.MALE: "male"}.get(patient.sex),
        weight_kg=weight.value if weight else None,
        weight_measured_at=weight.measured_at if weight else None,
        platelets_10e9_per_l=platelet_value,
        platelets_observed_at=platelets.observed_at if platelet_value is not None else None,
        prior_infusion=prior_infusion(patient),
    )


def _dec(value):
    if value is None:
        return None
    return format(Decimal(value).normalize(), "f")


def _dt(value):
    return value.isoformat() if value is not None else None


def _set(doc: dict, path: str, value) -> None:
    *parents, leaf = path.split(".")
    node = doc
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value


def consent_document(consent) -> dict | None:
    """B-CONSENT-1: the plan input's ``consent`` block from a `Consent` record (or None)."""
    if consent is None:
        return None
    return {
        "consenter": consent.consenter,
        "consented_on": consent.consented_on.isoformat(),
        "form_version": consent.form_version,
    }


def build_document(record: RecordValues, data: dict, consent=None) -> dict:
    """The plan-input document for `data` (keys of `EPISODE_FIELDS`) and the record, with
    the episode's consent record (`Consent`, B-CONSENT-1) when it has one."""
    zone = ward_zone()
    doc: dict = {"schema_version": "1", "ward_time_zone": ward_zone_name()}
    doc["patient"] = {"date_of_birth": record.date_of_birth.isoformat(), "sex": record.sex}
    if record.weight_kg is not None:
        doc["patient"]["weight"] = {
            "kg": _dec(record.weight_kg),
            "date": record.weight_measured_at.astimezone(zone).date().isoformat(),
        }
    doc["patient"]["platelets"] = (
        {
            "value_10e9_per_l": _dec(record.platelets_10e9_per_l.quantize(Decimal("0.01"))),
            "date": record.platelets_observed_at.astimezone(zone).date().isoformat(),
        }
        if record.platelets_10e9_per_l is not None
        else None
    )
    prior = record.prior_infusion
    if prior is not None:  # B-REP-1: a repeat infusion; absent for a first one
        doc["patient"]["prior_infusion"] = {
            name: value.isoformat() if isinstance(value, date) else value
            for name, value in (
                ("infusion_date", prior.infusion_date),
                ("response", prior.response),
                ("response_date", prior.response_date),
                ("relapse", prior.relapse),
                ("relapse_date", prior.relapse_date),
            )
        }
    doc.setdefault("product", {})["certificate"] = {}
    doc.setdefault("order", {})
    for name, path in FIELD_PATHS.items():
        value = data.get(name)
        if isinstance(value, Decimal):
            value = _dec(value)
        elif isinstance(value, datetime):
            value = _dt(value)
        elif name == "other_autoimmune_names":
            value = [n.strip() for n in (value or "").split(",") if n.strip()]
        elif name == "coa_issuer":
            value = (value or "").strip() or None
        _set(doc, path, value)
    doc["consent"] = consent_document(consent)
    return doc


def field_for_path(path: str) -> str | None:
    """The form field (or record item) an engine field error belongs to."""
    while path:
        if path in PATH_FIELDS:
            return PATH_FIELDS[path]
        if path in RECORD_PATHS:
            return None
        path = path.rsplit(".", 1)[0] if "." in path else ""
    return None


def record_item_for_path(path: str) -> str | None:
    for prefix, item in RECORD_PATHS.items():
        if path == prefix or path.startswith(prefix + "."):
            return item
    return None
