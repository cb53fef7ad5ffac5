"""A-ORG-1..6: organ function (all indications)."""

from __future__ import annotations

from decimal import Decimal
from functools import partial

from ..calculators import age_on, cockcroft_gault
from ..facts import Dated
from ..i18n import gettext_noop
from ..units import G_PER_L, MG_PER_DL, TEN9_PER_L, convert
from ._checks import (
    GE,
    LE,
    NO,
    R_MISSING,
    T_ANSWER,
    UNKNOWN,
    YES,
    Check,
    Ctx,
    all_of,
    compare,
    decided,
    first_met,
    fmt,
    fmt_display,
    fmt_rounded,
    missing,
    msg,
    shown_op,
)

T_CRCL = gettext_noop(
    "Cockcroft–Gault CrCl {crcl} mL/min {op} {threshold} mL/min (age {age}, weight {weight} kg, creatinine {creatinine} mg/dL)"
)
T_CRCL_FEMALE = gettext_noop(
    "Cockcroft–Gault CrCl {crcl} mL/min {op} {threshold} mL/min (age {age}, weight {weight} kg, creatinine {creatinine} mg/dL, × 0.85 for a woman)"
)
T_CRCL_EITHER_SEX = gettext_noop(
    "Cockcroft–Gault CrCl {female} (woman) to {male} (man) mL/min {op} {threshold} mL/min for either sex (age {age}, weight {weight} kg, creatinine {creatinine} mg/dL)"
)
T_CRCL_SEX_UNKNOWN = gettext_noop(
    "Cockcroft–Gault CrCl {female} (woman) to {male} (man) mL/min, threshold {threshold} mL/min: sex needed"
)
LABEL_WEIGHT = gettext_noop("weight")
LABEL_DOB = gettext_noop("date of birth")
LABEL_SEX = gettext_noop("sex")
LABEL_NYHA = gettext_noop("NYHA class")
LABEL_LVEF = gettext_noop("LVEF")
LABEL_PERICARDIAL = gettext_noop("pericardial effusion")
LABEL_ECG = gettext_noop("clinically significant ECG abnormality")
LABEL_SPO2 = gettext_noop("SpO₂ on room air")
LABEL_PLEURAL = gettext_noop("clinically significant pleural effusion")

_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


def a_org_1(ctx: Ctx) -> Check:
    t = ctx.t
    return all_of(
        ctx.lab_minimum("anc", t.anc_min_10e9_per_l, TEN9_PER_L, "anc_10e9_per_l"),
        ctx.lab_minimum(
            "platelets", t.platelets_min_10e9_per_l, TEN9_PER_L, "platelets_10e9_per_l"
        ),
        ctx.lab_minimum("haemoglobin", t.haemoglobin_min_g_per_l, G_PER_L, "haemoglobin_g_per_l"),
    )


def a_org_2(ctx: Ctx) -> Check:
    t = ctx.t
    return all_of(
        ctx.lab_uln("inr", t.inr_uln_factor, LE), ctx.lab_uln("aptt", t.aptt_uln_factor, LE)
    )


def a_org_3(ctx: Ctx) -> Check:
    t = ctx.t
    return all_of(
        ctx.lab_uln("ast", t.ast_uln_factor, LE),
        ctx.lab_uln("alt", t.alt_uln_factor, LE),
        ctx.lab_uln("total_bilirubin", t.bilirubin_uln_factor, LE),
    )


def a_org_4(ctx: Ctx) -> Check:
    """Creatinine ≤ 1.5 × ULN, or Cockcroft–Gault clearance ≥ 30 mL/min: either suffices."""
    return first_met(
        partial(ctx.lab_uln, "creatinine", ctx.t.creatinine_uln_factor, LE),
        partial(_clearance, ctx),
    )


def _clearance(ctx: Ctx) -> Check:
    patient = ctx.facts.patient
    creatinine, creatinine_problem = ctx.lab("creatinine")
    problems = [p for p in (creatinine_problem,) if p]
    if patient.date_of_birth is None:
        problems.append(missing(LABEL_DOB, "patient.date_of_birth"))
    weight_problem = ctx.observation(patient.weight_kg, "patient.weight_kg", LABEL_WEIGHT)
    if weight_problem:
        problems.append(weight_problem)
    if problems:
        return all_of(*problems)
    assert creatinine is not None and patient.date_of_birth is not None
    weight: Dated[Decimal] = patient.weight_kg  # type: ignore[assignment]
    age = age_on(patient.date_of_birth, ctx.screening_date)
    scr_mg_per_dl = convert("creatinine", creatinine.value, creatinine.unit, MG_PER_DL)
    threshold = ctx.t.creatinine_clearance_min_ml_per_min
    values = {
        "age_years": age,
        "weight_kg": weight.value,
        "creatinine_mg_per_dl": scr_mg_per_dl,
    }
    observed = [creatinine.date, weight.date]
    if scr_mg_per_dl <= 0:
        return missing(gettext_noop("creatinine"), "labs.creatinine")

    def clearance(female: bool) -> Decimal:
        return cockcroft_gault(
            age_years=age, weight_kg=weight.value, creatinine_mg_per_dl=scr_mg_per_dl, female=female
        )

    common = {
        "threshold": threshold,
        "age": age,
        "weight": weight.value,
        "creatinine": fmt_display(scr_mg_per_dl)
        if creatinine.unit != MG_PER_DL
        else fmt(creatinine.value),
    }
    if patient.sex is None:
        female, male = clearance(True), clearance(False)
        # Decided without the sex when both formulas agree.
        if female >= threshold or male < threshold:
            ok = female >= threshold
            op = shown_op(GE, ok)
            return decided(
                ok,
                msg(
                    T_CRCL_EITHER_SEX,
                    female=fmt_rounded(female, op),
                    male=fmt_rounded(male, op),
                    op=op,
                    **common,
                ),
                {**values, "creatinine_clearance_ml_per_min": female if ok else male},
                observed,
            )
        return Check(
            UNKNOWN,
            [
                msg(
                    T_CRCL_SEX_UNKNOWN,
                    female=fmt_rounded(female, GE),
                    male=fmt_rounded(male, GE),
                    threshold=threshold,
                )
            ],
            values,
            list(observed),
            [("patient.sex", msg(R_MISSING))],
        )
    female = patient.sex == "female"
    crcl = clearance(female)
    ok = crcl >= threshold
    op = shown_op(GE, ok)
    return decided(
        ok,
        msg(T_CRCL_FEMALE if female else T_CRCL, crcl=fmt_rounded(crcl, op), op=op, **common),
        {**values, "sex": patient.sex, "creatinine_clearance_ml_per_min": crcl},
        observed,
    )


def _observed_number(
    ctx: Ctx,
    obs,
    field_path: str,
    label: str,
    op: str,
    threshold,
    key: str,
    unit: str = "",
    roman: bool = False,
) -> Check:
    problem = ctx.observation(obs, field_path, label)
    if problem:
        return problem
    return compare(
        label,
        obs.value,
        op,
        threshold,
        key=key,
        unit=unit,
        value_text=_ROMAN[obs.value] if roman else None,
        threshold_text=_ROMAN[threshold] if roman else None,
        observed_on=[obs.date],
    )


def _observed_absent(ctx: Ctx, obs, field_path: str, label: str, key: str) -> Check:
    """A finding that must be absent (value false)."""
    problem = ctx.observation(obs, field_path, label)
    if problem:
        return problem
    return decided(
        obs.value is False,
        msg(T_ANSWER, label=label, answer_label=YES if obs.value else NO),
        {key: obs.value},
        [obs.date],
    )


def a_org_5(ctx: Ctx) -> Check:
    organ, t = ctx.facts.organ_function, ctx.t
    return all_of(
        _observed_number(
            ctx,
            organ.nyha_class,
            "organ_function.nyha_class",
            LABEL_NYHA,
            LE,
            t.nyha_max_class,
            "nyha_class",
            roman=True,
        ),
        _observed_number(
            ctx,
            organ.lvef_percent,
            "organ_function.lvef_percent",
            LABEL_LVEF,
            GE,
            t.lvef_min_percent,
            "lvef_percent",
            unit="%",
        ),
        _observed_absent(
            ctx,
            organ.pericardial_effusion,
            "organ_function.pericardial_effusion",
            LABEL_PERICARDIAL,
            "pericardial_effusion",
        ),
        _observed_absent(
            ctx,
            organ.ecg_significant_abnormality,
            "organ_function.ecg_significant_abnormality",
            LABEL_ECG,
            "ecg_significant_abnormality",
        ),
    )


def a_org_6(ctx: Ctx) -> Check:
    organ, t = ctx.facts.organ_function, ctx.t
    return all_of(
        _observed_number(
            ctx,
            organ.spo2_room_air_percent,
            "organ_function.spo2_room_air_percent",
            LABEL_SPO2,
            GE,
            t.spo2_min_percent,
            "spo2_room_air_percent",
            unit="%",
        ),
        _observed_absent(
            ctx,
            organ.pleural_effusion_significant,
            "organ_function.pleural_effusion_significant",
            LABEL_PLEURAL,
            "pleural_effusion_significant",
        ),
    )
