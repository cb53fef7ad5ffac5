"""A-REF-1: refractory to glucocorticoids plus immunosuppressants (all indications)."""

from __future__ import annotations

from ..drugs import GLUCOCORTICOIDS
from ..i18n import gettext_noop
from ._checks import GE, Check, Ctx, all_of, answer, decided, msg, shown_op
from ._treatment import best_run, class_runs, course_check, drug_runs, history_or_missing

T_IMMUNOSUPPRESSANTS = gettext_noop(
    "immunosuppressants given ≥ {count} {period_unit_label}: {n} {op} {minimum} ({drugs})"
)

LABEL_FAILURE = gettext_noop(
    "intolerant of, or inadequate response to, glucocorticoids plus another immunosuppressant"
)
LABEL_EFFECTIVE_DOSES = gettext_noop("treated at known effective doses")
LABEL_GLUCOCORTICOIDS = gettext_noop("glucocorticoids")
NONE_LABEL = gettext_noop("none")


def a_ref_1(ctx: Ctx) -> Check:
    refractory = ctx.facts.refractory
    return all_of(
        answer(
            LABEL_FAILURE,
            refractory.intolerant_or_inadequate_response,
            "refractory.intolerant_or_inadequate_response",
            "intolerant_or_inadequate_response",
        ),
        answer(
            LABEL_EFFECTIVE_DOSES,
            refractory.effective_doses,
            "refractory.effective_doses",
            "effective_doses",
        ),
        _treatment(ctx),
    )


def _treatment(ctx: Ctx) -> Check:
    """Glucocorticoids ≥ 3 months and ≥ 2 different immunosuppressants each ≥ 3 months.

    The durations are per drug, not necessarily concurrent: refractoriness is usually
    shown by successive immunosuppressants.
    """
    history, problem = history_or_missing(ctx)
    if problem:
        return problem
    assert history is not None
    period, until = ctx.w.refractory_treatment, ctx.screening_date
    gc = course_check(
        LABEL_GLUCOCORTICOIDS,
        class_runs(ctx, GLUCOCORTICOIDS),
        period,
        until,
        "glucocorticoid_course",
    )
    immunosuppressants = ctx.protocol.refractory_immunosuppressants
    long_enough = [
        d.label
        for d in drug_runs(ctx).values()
        if d.drug in immunosuppressants and best_run(d.runs, period)[1]
    ]
    minimum = ctx.t.refractory_min_immunosuppressants
    ok = len(long_enough) >= minimum
    enough = decided(
        ok,
        msg(
            T_IMMUNOSUPPRESSANTS,
            count=period.count,
            period_unit_label=period.unit_label,
            n=len(long_enough),
            op=shown_op(GE, ok),
            minimum=minimum,
            drugs=", ".join(long_enough) if long_enough else NONE_LABEL,
        ),
        {"immunosuppressants_3_months": long_enough},
    )
    return all_of(gc, enough)
