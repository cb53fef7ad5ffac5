"""A-REF-1: refractory to glucocorticoids plus immunosuppressants (all indications)."""

from __future__ import annotations

from ..drugs import GLUCOCORTICOIDS, drug_label
from ..i18n import Message, gettext_noop
from ..protocols import BIOLOGICS_ALL, BIOLOGICS_NONE
from ._checks import GE, NOT_MET, Check, Ctx, all_of, answer, check, decided, msg, shown_op
from ._treatment import (
    best_run,
    class_runs,
    drug_runs,
    history_or_missing,
    intersect,
    overlaps,
    together,
)

T_COMBINATION = gettext_noop(
    "glucocorticoid + ≥ {minimum} immunosuppressants together {start} to {end}:"
    " {op} {count} {period_unit_label} ({drugs})"
)
T_NO_COMBINATION = gettext_noop(
    "glucocorticoid + ≥ {minimum} immunosuppressants together: never before {until}"
    " (immunosuppressants given: {drugs})"
)
# The biologics setting (Protocol.refractory_biologics), named in every A-REF-1 reason.
T_BIOLOGICS_PER_INDICATION = gettext_noop(
    "biologics counted per the {indication} list ({drugs}) (protocol {version})"
)
T_BIOLOGICS_NO_LIST = gettext_noop(
    "biologics not counted: the {indication} block names no drug list, so the A-REF-1"
    " list (azathioprine, methotrexate, mycophenolate mofetil…) applies (protocol {version})"
)
T_BIOLOGICS_ALL = gettext_noop("biologics counted ({drugs}) (protocol {version})")
T_BIOLOGICS_NONE = gettext_noop(
    "biologics not counted: the A-REF-1 list (azathioprine, methotrexate, mycophenolate"
    " mofetil…) only (protocol {version})"
)

LABEL_FAILURE = gettext_noop(
    "intolerant of, or inadequate response to, glucocorticoids plus another immunosuppressant"
)
LABEL_EFFECTIVE_DOSES = gettext_noop("treated at known effective doses")
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
    """Glucocorticoid and ≥ 2 different immunosuppressants given together ≥ 3 months.

    Digest, A-REF-1: "read as a combination: the courses overlap for ≥ 3 months, not
    three separate courses at any time in the history". "3 months" is calendar months
    (Windows.refractory_treatment).
    """
    history, problem = history_or_missing(ctx)
    if problem:
        return problem
    assert history is not None
    period, until = ctx.w.refractory_treatment, ctx.screening_date
    counted = ctx.protocol.refractory_immunosuppressants | _biologics(ctx)
    given = [d for d in drug_runs(ctx).values() if d.drug in counted]
    minimum = ctx.t.refractory_min_immunosuppressants
    combined = intersect(
        class_runs(ctx, GLUCOCORTICOIDS), together((d.runs for d in given), minimum)
    )
    run, ok = best_run(combined, period)
    values: dict = {"refractory_biologics": ctx.protocol.refractory_biologics}
    if run is None:
        result = check(
            NOT_MET,
            msg(
                T_NO_COMBINATION,
                minimum=minimum,
                until=until,
                drugs=", ".join(d.label for d in given) if given else NONE_LABEL,
            ),
            values,
        )
    else:
        drugs = [d.label for d in given if overlaps(d.runs, run)]
        values["combined_treatment"] = {"start": run[0], "end": run[1], "drugs": drugs}
        result = decided(
            ok,
            msg(
                T_COMBINATION,
                minimum=minimum,
                start=run[0],
                end=run[1],
                op=shown_op(GE, ok),
                count=period.count,
                period_unit_label=period.unit_label,
                drugs=", ".join(drugs),
            ),
            values,
        )
    result.messages.append(_biologics_choice(ctx))
    return result


def _biologics(ctx: Ctx) -> frozenset[str]:
    return ctx.protocol.refractory_biologics_for(ctx.facts.indication)


def _biologics_choice(ctx: Ctx) -> Message:
    protocol = ctx.protocol
    setting, version = protocol.refractory_biologics, protocol.version
    drugs = ", ".join(sorted(drug_label(d) for d in _biologics(ctx)))
    if setting == BIOLOGICS_ALL:
        return msg(T_BIOLOGICS_ALL, drugs=drugs, version=version)
    if setting == BIOLOGICS_NONE:
        return msg(T_BIOLOGICS_NONE, version=version)
    if not drugs:
        return msg(T_BIOLOGICS_NO_LIST, indication=ctx.facts.indication, version=version)
    return msg(
        T_BIOLOGICS_PER_INDICATION, indication=ctx.facts.indication, drugs=drugs, version=version
    )
