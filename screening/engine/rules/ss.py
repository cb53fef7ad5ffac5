"""A-SS-1..4 (Sjögren's syndrome)."""

from __future__ import annotations

from ..i18n import gettext_noop
from ._checks import (
    GE,
    UNKNOWN,
    Check,
    Ctx,
    answer,
    any_of,
    compare,
    decided,
    msg,
    shown_op,
)
from .sle import serology

T_ESSDAI = gettext_noop("ESSDAI {total} {op} {threshold} on {observed_on}")
T_ESSDAI_PARTIAL = gettext_noop(
    "ESSDAI at least {total} on {observed_on} with {count} domain(s) not scored ({domains}); {threshold} needed"
)
R_DOMAINS_MISSING = gettext_noop("missing: {count} ESSDAI domain(s) not scored ({domains})")

LABEL_ACR_EULAR_2016 = gettext_noop("2016 ACR/EULAR SS classification criteria met")
LABEL_ANTI_RO = gettext_noop("anti-Ro/SSA")
LABEL_STIMULATED = gettext_noop("stimulated whole saliva flow")
LABEL_UNSTIMULATED = gettext_noop("unstimulated whole saliva flow")
LABEL_ESSDAI = gettext_noop("ESSDAI")


def a_ss_1(ctx: Ctx) -> Check:
    return answer(
        LABEL_ACR_EULAR_2016,
        ctx.facts.ss.acr_eular_2016_met,
        "ss.acr_eular_2016_met",
        "acr_eular_2016_met",
    )


def a_ss_2(ctx: Ctx) -> Check:
    return serology(ctx, ctx.facts.ss.anti_ro_ssa, "ss.anti_ro_ssa", LABEL_ANTI_RO, "anti_ro_ssa")


def _flow(ctx: Ctx, obs, field_path: str, label: str, threshold, key: str) -> Check:
    problem = ctx.observation(obs, field_path, label)
    if problem:
        return problem
    return compare(label, obs.value, GE, threshold, key=key, unit="mL/min", observed_on=[obs.date])


def a_ss_3(ctx: Ctx) -> Check:
    ss, t = ctx.facts.ss, ctx.t
    return any_of(
        _flow(
            ctx,
            ss.stimulated_whole_saliva_ml_per_min,
            "ss.stimulated_whole_saliva_ml_per_min",
            LABEL_STIMULATED,
            t.stimulated_saliva_min_ml_per_min,
            "stimulated_whole_saliva_ml_per_min",
        ),
        _flow(
            ctx,
            ss.unstimulated_whole_saliva_ml_per_min,
            "ss.unstimulated_whole_saliva_ml_per_min",
            LABEL_UNSTIMULATED,
            t.unstimulated_saliva_min_ml_per_min,
            "unstimulated_whole_saliva_ml_per_min",
        ),
    )


def a_ss_4(ctx: Ctx) -> Check:
    scored = ctx.facts.ss.essdai
    problem = ctx.observation(scored, "ss.essdai", LABEL_ESSDAI)
    if problem:
        return problem
    assert scored is not None
    score, threshold = scored.value, ctx.t.essdai_min
    values = {
        "essdai": score.total,
        "essdai_domain_scores": dict(score.domain_scores),
        "essdai_domains_not_scored": list(score.missing_domains),
    }
    ok = score.total >= threshold
    # Unscored domains can only add points: a partial total that already reaches the
    # threshold is enough, one that does not leaves the criterion open.
    if ok or not score.missing_domains:
        return decided(
            ok,
            msg(
                T_ESSDAI,
                total=score.total,
                op=shown_op(GE, ok),
                threshold=threshold,
                observed_on=scored.date,
            ),
            values,
            [scored.date],
        )
    domains = ", ".join(score.missing_domains)
    count = len(score.missing_domains)
    return Check(
        UNKNOWN,
        [
            msg(
                T_ESSDAI_PARTIAL,
                total=score.total,
                observed_on=scored.date,
                count=count,
                domains=domains,
                threshold=threshold,
            )
        ],
        values,
        [scored.date],
        [("ss.essdai.domains", msg(R_DOMAINS_MISSING, count=count, domains=domains))],
    )
