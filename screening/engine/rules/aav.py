"""A-AAV-1..4 (ANCA-associated vasculitis)."""

from __future__ import annotations

from datetime import date

from ..calculators import bvas_relapse_dates, prednisone_equivalent_mg
from ..drugs import GLUCOCORTICOIDS, drug_label
from ..i18n import gettext_noop
from ._checks import (
    GE,
    LE,
    MET,
    NOT_MET,
    Check,
    Ctx,
    all_of,
    any_of,
    check,
    compare,
    decided,
    fmt,
    fmt_rounded,
    missing,
    msg,
    negate,
    shown_op,
    without_repeats,
)
from ._treatment import T_COURSE, T_NO_COURSE, best_run, history_or_missing, intersect, runs_of
from .sle import serology

T_DIAGNOSIS = gettext_noop("2012 Chapel Hill diagnosis {diagnosis}")
T_BVAS_DATE = gettext_noop("BVAS v3 on {observed_on}")
T_NO_RESPONSE = gettext_noop(
    "response (BVAS 0 with glucocorticoid ≤ {gc_max} mg/day prednisone-equivalent) never achieved"
)
T_RESPONSE_ON = gettext_noop("response recorded on {response_date}")
T_RESPONSE_GC = gettext_noop(
    "glucocorticoid at response {drug_label} {dose} (= {equivalent} mg/day prednisone-equivalent) {op} {threshold} mg/day"
)
T_RELAPSE = gettext_noop(
    "relapse on {relapse_date}, within {count} {period_unit_label} before screening"
)
T_RELAPSE_OLD = gettext_noop(
    "last relapse on {relapse_date}, more than {count} {period_unit_label} before screening"
)
T_NO_RELAPSE = gettext_noop("no relapse in the BVAS assessments after the response")
T_COMBINED_LABEL = gettext_noop("glucocorticoid + immunosuppressant")

LABEL_DIAGNOSIS = gettext_noop("2012 Chapel Hill diagnosis")
LABEL_BVAS = gettext_noop("BVAS v3 assessment")
LABEL_MAJOR = gettext_noop("BVAS major items")
LABEL_OTHER = gettext_noop("BVAS other items")
LABEL_PR3 = gettext_noop("PR3-ANCA")
LABEL_MPO = gettext_noop("MPO-ANCA")
LABEL_RESPONSE = gettext_noop("response to glucocorticoid + immunosuppressant")
LABEL_RESPONSE_DATE = gettext_noop("response date")
LABEL_RESPONSE_BVAS = gettext_noop("BVAS at response")
LABEL_RESPONSE_GC = gettext_noop("glucocorticoid dose at response")
LABEL_BVAS_ASSESSMENTS = gettext_noop("BVAS assessments")


def a_aav_1(ctx: Ctx) -> Check:
    diagnosis = ctx.facts.aav.chcc_2012_diagnosis
    if diagnosis is None:
        return missing(LABEL_DIAGNOSIS, "aav.chcc_2012_diagnosis")
    return decided(
        diagnosis in ("GPA", "MPA"),
        msg(T_DIAGNOSIS, diagnosis=diagnosis),
        {"chcc_2012_diagnosis": diagnosis},
    )


def a_aav_2(ctx: Ctx) -> Check:
    latest, problem = ctx.latest_in_window(
        ctx.facts.aav.bvas_assessments, "aav.bvas_assessments", LABEL_BVAS
    )
    if problem:
        return problem
    assert latest is not None
    counts = latest.counts
    result = any_of(
        compare(LABEL_MAJOR, counts.major, GE, ctx.t.bvas_major_min, key="bvas_major_items"),
        compare(LABEL_OTHER, counts.other, GE, ctx.t.bvas_other_min, key="bvas_other_items"),
    )
    result.messages.insert(0, msg(T_BVAS_DATE, observed_on=latest.date))
    result.values["bvas_items"] = [item.item for item in latest.items]
    result.observed_on.append(latest.date)
    return result


def a_aav_3(ctx: Ctx) -> Check:
    aav = ctx.facts.aav
    return any_of(
        serology(ctx, aav.anca_pr3, "aav.anca.pr3", LABEL_PR3, "pr3_anca"),
        serology(ctx, aav.anca_mpo, "aav.anca.mpo", LABEL_MPO, "mpo_anca"),
    )


def a_aav_4(ctx: Ctx) -> Check:
    """Relapsing (response, then a relapse within 12 weeks) or refractory (no response)."""
    response = _response(ctx)
    response_date = ctx.facts.aav.response.date if ctx.facts.aav.response else None

    def relapsing() -> Check:
        return all_of(
            response,
            _combined_treatment(ctx, until=response_date, key="combined_treatment_before_response"),
            _recent_relapse(ctx, response_date),
        )

    def refractory() -> Check:
        return all_of(
            negate(response),
            _combined_treatment(
                ctx, until=ctx.screening_date, key="combined_treatment_before_screening"
            ),
        )

    # Whether a response was achieved decides which branch can apply.
    if response.status is MET:
        return relapsing()
    if response.status is NOT_MET:
        return refractory()
    return without_repeats(any_of(relapsing(), refractory()))


def _response(ctx: Ctx) -> Check:
    """Met when a response per the source's definition was achieved."""
    response = ctx.facts.aav.response
    t = ctx.t
    if response is None:
        return missing(LABEL_RESPONSE, "aav.response")
    if not response.achieved:
        return check(
            NOT_MET,
            msg(T_NO_RESPONSE, gc_max=t.response_glucocorticoid_max_mg_per_day),
            {"response_achieved": False},
        )
    parts: list[Check] = []
    problem = ctx.history_unusable(response.date, "aav.response.date", LABEL_RESPONSE_DATE)
    if problem:
        parts.append(problem)
    else:
        assert response.date is not None
        parts.append(
            check(
                MET,
                msg(T_RESPONSE_ON, response_date=response.date),
                {"response_date": response.date},
            )
        )
    if response.bvas is None:
        parts.append(missing(LABEL_RESPONSE_BVAS, "aav.response.bvas"))
    else:
        parts.append(
            compare(
                LABEL_RESPONSE_BVAS, response.bvas, LE, t.response_bvas_max, key="response_bvas"
            )
        )
    glucocorticoid = response.glucocorticoid
    if glucocorticoid is None or glucocorticoid.drug not in GLUCOCORTICOIDS:
        parts.append(missing(LABEL_RESPONSE_GC, "aav.response.glucocorticoid"))
    else:
        equivalent = prednisone_equivalent_mg(glucocorticoid.drug, glucocorticoid.dose.value)
        threshold = t.response_glucocorticoid_max_mg_per_day
        ok = equivalent <= threshold
        op = shown_op(LE, ok)
        parts.append(
            decided(
                ok,
                msg(
                    T_RESPONSE_GC,
                    drug_label=drug_label(glucocorticoid.drug),
                    dose=f"{fmt(glucocorticoid.dose.value)} {glucocorticoid.dose.unit}",
                    equivalent=fmt_rounded(equivalent, op),
                    op=op,
                    threshold=threshold,
                ),
                {"response_prednisone_equivalent_mg_per_day": equivalent},
            )
        )
    return all_of(*parts)


def _combined_treatment(ctx: Ctx, *, until: date | None, key: str) -> Check:
    """Glucocorticoid together with an immunosuppressant for ≥ 3 months before ``until``."""
    history, problem = history_or_missing(ctx)
    if problem:
        return problem
    if until is None:
        return missing(LABEL_RESPONSE_DATE, "aav.response.date")
    assert history is not None
    until = min(until, ctx.screening_date)
    period = ctx.w.aav_treatment
    combined = intersect(
        runs_of(history, GLUCOCORTICOIDS, until),
        runs_of(history, ctx.protocol.aav_immunosuppressants, until),
    )
    run, ok = best_run(combined, period)
    if run is None:
        return check(NOT_MET, msg(T_NO_COURSE, label=T_COMBINED_LABEL, until=until))
    return decided(
        ok,
        msg(
            T_COURSE,
            label=T_COMBINED_LABEL,
            start=run[0],
            end=run[1],
            op=shown_op(GE, ok),
            count=period.count,
            period_unit_label=period.unit_label,
        ),
        {key: {"start": run[0], "end": run[1]}},
    )


def _recent_relapse(ctx: Ctx, response_date: date | None) -> Check:
    assessments = ctx.facts.aav.bvas_assessments
    if assessments is None:
        return missing(LABEL_BVAS_ASSESSMENTS, "aav.bvas_assessments")
    if response_date is None:
        return missing(LABEL_RESPONSE_DATE, "aav.response.date")
    t = ctx.t
    after_response = sorted(
        (
            (a.date, a.counts, a.items)
            for a in assessments
            if response_date < a.date <= ctx.screening_date
        ),
        key=lambda pair: pair[0],
    )
    relapses = bvas_relapse_dates(
        after_response,
        major_min=t.bvas_major_min,
        other_min=t.bvas_other_min,
        new_min=t.relapse_new_items_min,
        new_max=t.relapse_new_items_max,
    )
    period = ctx.w.aav_relapse
    used = [on for on, _, _ in after_response]
    if not relapses:
        return check(NOT_MET, msg(T_NO_RELAPSE), {"relapse_dates": []}, used)
    latest = relapses[-1]
    ok = latest >= period.before(ctx.screening_date)
    return decided(
        ok,
        msg(
            T_RELAPSE if ok else T_RELAPSE_OLD,
            relapse_date=latest,
            count=period.count,
            period_unit_label=period.unit_label,
        ),
        {"relapse_dates": relapses},
        used,
    )
