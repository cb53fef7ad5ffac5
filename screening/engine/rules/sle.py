"""A-SLE-1..4."""

from __future__ import annotations

from functools import partial

from ..calculators import CalculatorError, standard_dose_check
from ..drugs import GLUCOCORTICOIDS, drug_label
from ..facts import Dated, TreatmentEpisode
from ..i18n import gettext_noop
from ._checks import (
    GE,
    LE,
    MET,
    NOT_MET,
    R_MISSING,
    Check,
    Ctx,
    Qty,
    all_of,
    answer,
    any_of,
    check,
    decided,
    first_met,
    fmt_rounded,
    missing,
    msg,
    shown_op,
    unknown,
)
from ._treatment import clipped, history_or_missing

T_ANA = gettext_noop("ANA titre {titre} {op} {threshold} on {observed_on}")
T_ANA_NEGATIVE = gettext_noop("ANA negative on {observed_on}")
T_SEROLOGY = gettext_noop("{label} {result_label} on {observed_on}")
T_SLEDAI = gettext_noop("SLEDAI-2K {total} {op} {threshold} on {observed_on}")
T_SLEDAI_CLINICAL = gettext_noop(
    "clinical SLEDAI-2K without low complement and DNA binding {clinical} {op} {threshold}"
)
T_ACTIVE = gettext_noop(
    "disease active since {since}: {op} {count} {period_unit_label} before screening"
)
T_EPISODE = gettext_noop(
    "{drug_label} {dose} from {start} to {end}: {op} {count} {period_unit_label} stable"
)
T_EPISODE_NO_DOSE = gettext_noop(
    "{drug_label} from {start} to {end}: {op} {count} {period_unit_label} stable"
)
T_DOSE = gettext_noop("{drug_label} {dose} {op} {ceiling}")
T_DOSE_CONVERTED = gettext_noop("{drug_label} {dose} (= {converted}) {op} {ceiling}")
T_DOSE_PREDNISONE = gettext_noop(
    "{drug_label} {dose} (= {equivalent} mg/day prednisone-equivalent) {op} {ceiling}"
)
T_DOSE_PER_KG = gettext_noop(
    "{drug_label} {dose} (= {per_kg} mg/kg/day at {weight} kg) {op} {ceiling}"
)
T_DOSE_MISSING = gettext_noop("{drug_label}: dose missing, ceiling {ceiling}")
T_DOSE_NEEDS_WEIGHT = gettext_noop("{drug_label} {dose}: weight needed for the {ceiling} ceiling")
T_NO_STANDARD_TREATMENT = gettext_noop("no standard treatment recorded before screening")

LABEL_EULAR_ACR_2019 = gettext_noop("2019 EULAR/ACR SLE classification criteria met")
LABEL_ANA = gettext_noop("ANA")
LABEL_ANTI_DSDNA = gettext_noop("anti-dsDNA")
LABEL_ANTI_SM = gettext_noop("anti-Sm")
LABEL_SLEDAI = gettext_noop("SLEDAI-2K")
LABEL_ACTIVE_SINCE = gettext_noop("date since which the disease is active")
LABEL_WEIGHT = gettext_noop("weight")
RESULT_LABELS = {"positive": gettext_noop("positive"), "negative": gettext_noop("negative")}


def a_sle_1(ctx: Ctx) -> Check:
    return answer(
        LABEL_EULAR_ACR_2019,
        ctx.facts.sle.eular_acr_2019_met,
        "sle.eular_acr_2019_met",
        "eular_acr_2019_met",
    )


def serology(ctx: Ctx, obs: Dated[str] | None, field_path: str, label: str, key: str) -> Check:
    problem = ctx.observation(obs, field_path, label)
    if problem:
        return problem
    assert obs is not None
    return decided(
        obs.value == "positive",
        msg(
            T_SEROLOGY,
            label=label,
            result_label=RESULT_LABELS[obs.value],
            observed_on=obs.date,
        ),
        {key: obs.value},
        [obs.date],
    )


def a_sle_2(ctx: Ctx) -> Check:
    sle = ctx.facts.sle
    return any_of(
        _ana(ctx),
        serology(ctx, sle.anti_dsdna, "sle.anti_dsdna", LABEL_ANTI_DSDNA, "anti_dsdna"),
        serology(ctx, sle.anti_sm, "sle.anti_sm", LABEL_ANTI_SM, "anti_sm"),
    )


def _ana(ctx: Ctx) -> Check:
    ana = ctx.facts.sle.ana_titre
    problem = ctx.observation(ana, "sle.ana", LABEL_ANA)
    if problem:
        return problem
    assert ana is not None
    observed_on = ana.date.isoformat()
    if ana.value == 0:
        return check(
            NOT_MET,
            msg(T_ANA_NEGATIVE, observed_on=observed_on),
            {"ana_titre": "negative"},
            [ana.date],
        )
    threshold = ctx.t.ana_min_titre
    ok = ana.value >= threshold
    return decided(
        ok,
        msg(
            T_ANA,
            titre=f"1:{ana.value}",
            op=shown_op(GE, ok),
            threshold=f"1:{threshold}",
            observed_on=observed_on,
        ),
        {"ana_titre": f"1:{ana.value}"},
        [ana.date],
    )


def a_sle_3(ctx: Ctx) -> Check:
    sledai = ctx.facts.sle.sledai_2k
    problem = ctx.observation(sledai, "sle.sledai_2k", LABEL_SLEDAI)
    if problem:
        return problem
    assert sledai is not None
    score = sledai.value
    values = {
        "sledai_2k": score.total,
        "sledai_2k_clinical": score.clinical,
        "descriptors": list(score.descriptors),
    }
    total_ok = score.total >= ctx.t.sledai_min
    parts = [
        decided(
            total_ok,
            msg(
                T_SLEDAI,
                total=score.total,
                op=shown_op(GE, total_ok),
                threshold=ctx.t.sledai_min,
                observed_on=sledai.date,
            ),
            values,
            [sledai.date],
        )
    ]
    # Only when low complement and/or DNA binding are scored must the clinical
    # score reach 6 as well.
    if score.serology_scored:
        clinical_ok = score.clinical >= ctx.t.sledai_clinical_min
        parts.append(
            decided(
                clinical_ok,
                msg(
                    T_SLEDAI_CLINICAL,
                    clinical=score.clinical,
                    op=shown_op(GE, clinical_ok),
                    threshold=ctx.t.sledai_clinical_min,
                ),
            )
        )
    return all_of(*parts)


def a_sle_4(ctx: Ctx) -> Check:
    return all_of(_stable_standard_treatment(ctx), _active(ctx))


def _active(ctx: Ctx) -> Check:
    since = ctx.facts.sle.active_since
    problem = ctx.history_unusable(since, "sle.active_since", LABEL_ACTIVE_SINCE)
    if problem:
        return problem
    assert since is not None
    period = ctx.w.sle_active
    ok = period.spans(since, ctx.screening_date)
    return decided(
        ok,
        msg(
            T_ACTIVE,
            since=since,
            op=shown_op(GE, ok),
            count=period.count,
            period_unit_label=period.unit_label,
        ),
        {"active_since": since},
    )


def _stable_standard_treatment(ctx: Ctx) -> Check:
    history, problem = history_or_missing(ctx)
    if problem:
        return problem
    assert history is not None
    # Any one standard drug (alone or combined) stable for 6 months suffices; the reason
    # names the first episode in the history that qualifies.
    alternatives = [
        partial(_episode, ctx, episode)
        for episode in history
        if clipped(episode, ctx.screening_date) is not None
    ]
    if not alternatives:
        return check(NOT_MET, msg(T_NO_STANDARD_TREATMENT))
    return first_met(*alternatives)


def _dose_text(episode: TreatmentEpisode) -> Qty:
    assert episode.dose is not None
    return Qty(episode.dose.value, episode.dose.unit)


def _episode(ctx: Ctx, episode: TreatmentEpisode) -> Check:
    """One stable episode of a standard drug: ≥ 6 months and within its dose ceiling."""
    run = clipped(episode, ctx.screening_date)
    assert run is not None
    period = ctx.w.sle_stable_treatment
    ok = period.spans(*run)
    label = drug_label(episode.drug)
    common = {
        "drug_label": label,
        "start": run[0],
        "end": run[1],
        "op": shown_op(GE, ok),
        "count": period.count,
        "period_unit_label": period.unit_label,
    }
    if episode.dose is not None:
        duration_msg = msg(T_EPISODE, dose=_dose_text(episode), **common)
    else:
        duration_msg = msg(T_EPISODE_NO_DOSE, **common)
    key = f"episode_{episode.index}"
    values = {
        key: {
            "drug": episode.drug,
            "start": run[0],
            "end": run[1],
            "dose": episode.dose.value if episode.dose else None,
            "dose_unit": episode.dose.unit if episode.dose else None,
        }
    }
    duration = decided(ok, duration_msg, values)
    return all_of(duration, _dose_within_ceiling(ctx, episode))


def _dose_within_ceiling(ctx: Ctx, episode: TreatmentEpisode) -> Check:
    ceilings = ctx.protocol.sle_dose_ceilings
    key = "glucocorticoid" if episode.drug in GLUCOCORTICOIDS else episode.drug
    ceiling = ceilings.get(key)
    if ceiling is None:
        return Check(MET, [])
    ceiling_text = Qty(ceiling.limit, ceiling.unit)
    label = drug_label(episode.drug)
    dose_path = f"treatment_history.{episode.index}.dose"
    if episode.dose is None:
        return unknown(
            msg(T_DOSE_MISSING, drug_label=label, ceiling=ceiling_text), dose_path, msg(R_MISSING)
        )
    weight = ctx.facts.patient.weight_kg
    weight_kg = None
    weight_problem = None
    if episode.dose.unit == "mg/day" and ceiling.unit == "mg/kg/day":
        weight_problem = ctx.observation(weight, "patient.weight_kg", LABEL_WEIGHT)
        weight_kg = weight.value if weight is not None and weight_problem is None else None
    try:
        result = standard_dose_check(
            episode.drug, episode.dose.value, episode.dose.unit, ceilings, weight_kg=weight_kg
        )
    except CalculatorError:
        # validate_facts only admits convertible units; a protocol with a ceiling in
        # another unit cannot judge this dose.
        return missing(label, dose_path)
    if result.within is None:
        assert weight_problem is not None
        weight_problem.messages.insert(
            0,
            msg(
                T_DOSE_NEEDS_WEIGHT,
                drug_label=label,
                dose=_dose_text(episode),
                ceiling=ceiling_text,
            ),
        )
        return weight_problem
    assert result.dose is not None
    op = shown_op(LE, result.within)
    dose_text = _dose_text(episode)
    if episode.drug in GLUCOCORTICOIDS:
        message = msg(
            T_DOSE_PREDNISONE,
            drug_label=label,
            dose=dose_text,
            equivalent=fmt_rounded(result.dose, LE),
            op=op,
            ceiling=ceiling_text,
        )
    elif ceiling.unit == "mg/kg/day" and episode.dose.unit == "mg/day":
        assert weight_kg is not None
        message = msg(
            T_DOSE_PER_KG,
            drug_label=label,
            dose=dose_text,
            per_kg=fmt_rounded(result.dose, LE),
            weight=weight_kg,
            op=op,
            ceiling=ceiling_text,
        )
    elif episode.dose.unit != ceiling.unit:
        message = msg(
            T_DOSE_CONVERTED,
            drug_label=label,
            dose=dose_text,
            converted=f"{fmt_rounded(result.dose, LE)} {ceiling.unit}",
            op=op,
            ceiling=ceiling_text,
        )
    else:
        message = msg(T_DOSE, drug_label=label, dose=dose_text, op=op, ceiling=ceiling_text)
    observed = [weight.date] if weight_kg is not None and weight is not None else []
    return decided(result.within, message, {}, observed)
