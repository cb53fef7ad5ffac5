"""A-SSC-1..4 (diffuse cutaneous systemic sclerosis)."""

from __future__ import annotations

from decimal import Decimal
from functools import partial

from ..calculators import relative_change
from ..dates import Period
from ..drugs import GLUCOCORTICOIDS
from ..facts import Dated
from ..i18n import gettext_noop
from ._checks import (
    GE,
    MET,
    NOT_MET,
    Check,
    Ctx,
    all_of,
    answer,
    any_of,
    check,
    decided,
    first_met,
    fmt_exact,
    fmt_rounded,
    in_range,
    missing,
    msg,
    shown_op,
    unknown,
    without_repeats,
)
from ._treatment import best_run, class_runs, course_check, drug_runs, history_or_missing

T_RESPONSE = gettext_noop("response to conventional treatment: {answer_label}")
T_ILD_NEW = gettext_noop(
    "ILD diagnosed on {diagnosed_on}, within {count} {period_unit_label} before screening"
)
T_ILD_OLD = gettext_noop(
    "ILD diagnosed on {diagnosed_on}, more than {count} {period_unit_label} before screening"
)
T_NO_ILD = gettext_noop("no interstitial lung disease")
T_INCREASE = gettext_noop(
    "{label} {old} on {old_date} → {new} on {new_date}: increase {change}% {op} {threshold}%"
    " (baseline: the earliest value within {count} {period_unit_label})"
)
T_DECLINE = gettext_noop(
    "{label} {old} on {old_date} → {new} on {new_date}: decline {change}% {op} {threshold}%"
    " (baseline: the earliest value within {count} {period_unit_label})"
)
T_NO_BASELINE_PART = gettext_noop(
    "{label}: no earlier value within {count} {period_unit_label} before {new_date}"
)
R_NO_BASELINE = gettext_noop(
    "missing: no earlier value within {count} {period_unit_label} before {new_date}"
)
T_IS_COURSE = gettext_noop(
    "{label} ({drug_label}) {start} to {end}: {op} {count} {period_unit_label}"
)

LABEL_EULAR_ACR_2013 = gettext_noop("2013 EULAR/ACR SSc classification criteria met")
LABEL_LEROY = gettext_noop("diffuse cutaneous subset (LeRoy 1988)")
LABEL_ILD = gettext_noop("interstitial lung disease")
LABEL_FVC = gettext_noop("FVC % predicted")
LABEL_DLCO = gettext_noop("DLCO % predicted")
LABEL_MRSS = gettext_noop("mRSS")
LABEL_ILD_DIAGNOSED_ON = gettext_noop("ILD diagnosis date")
LABEL_RESPONSE = gettext_noop("response to conventional treatment")
LABEL_GLUCOCORTICOIDS = gettext_noop("glucocorticoids")
LABEL_CYCLOPHOSPHAMIDE = gettext_noop("cyclophosphamide")
LABEL_IMMUNOSUPPRESSANT = gettext_noop("immunosuppressant")
RESPONSE_LABELS = {
    "ineffective": gettext_noop("ineffective"),
    "relapsed_after_remission": gettext_noop("relapsed after remission"),
    "sustained_remission": gettext_noop("sustained remission"),
}

_HUNDRED = Decimal(100)


def a_ssc_1(ctx: Ctx) -> Check:
    dcssc = ctx.facts.dcssc
    return all_of(
        answer(
            LABEL_EULAR_ACR_2013,
            dcssc.eular_acr_2013_met,
            "dcssc.eular_acr_2013_met",
            "eular_acr_2013_met",
        ),
        answer(
            LABEL_LEROY,
            dcssc.leroy_diffuse_cutaneous,
            "dcssc.leroy_diffuse_cutaneous",
            "leroy_diffuse_cutaneous",
        ),
    )


def _ild_present(ctx: Ctx) -> bool | None:
    dcssc = ctx.facts.dcssc
    diagnosed = dcssc.ild_diagnosed_on
    if diagnosed is not None and diagnosed <= ctx.screening_date and dcssc.ild_present is None:
        return True
    return dcssc.ild_present


def _ild(ctx: Ctx) -> Check:
    return answer(LABEL_ILD, _ild_present(ctx), "dcssc.ild_present", "ild_present")


def _screening_percent(ctx: Ctx, series, field_path: str, label: str, low, high, key: str) -> Check:
    latest, problem = ctx.latest_in_window(series, field_path, label)
    if problem:
        return problem
    assert latest is not None
    return in_range(label, latest.value, low, high, key=key, unit="%", observed_on=[latest.date])


def a_ssc_2(ctx: Ctx) -> Check:
    dcssc, t = ctx.facts.dcssc, ctx.t
    return all_of(
        _ild(ctx),
        any_of(
            _screening_percent(
                ctx,
                dcssc.fvc_percent_predicted,
                "dcssc.fvc_percent_predicted",
                LABEL_FVC,
                t.fvc_min_percent,
                t.fvc_max_percent,
                "fvc_percent_predicted",
            ),
            _screening_percent(
                ctx,
                dcssc.dlco_percent_predicted,
                "dcssc.dlco_percent_predicted",
                LABEL_DLCO,
                t.dlco_min_percent,
                t.dlco_max_percent,
                "dlco_percent_predicted",
            ),
        ),
    )


def a_ssc_3(ctx: Ctx) -> Check:
    response = ctx.facts.dcssc.response_to_conventional_treatment
    if response is None:
        return missing(LABEL_RESPONSE, "dcssc.response_to_conventional_treatment")
    stated = msg(T_RESPONSE, answer_label=RESPONSE_LABELS[response])
    values = {"response_to_conventional_treatment": response}
    if response == "sustained_remission":
        return check(NOT_MET, stated, values)
    # Ineffective, or relapsed after remission: either way the ≥ 6-month conventional
    # course is required. Digest, A-SSC-3: "the source defines 'conventional treatment'
    # for both branches, so the ≥ 6-month conventional course is required for a relapse
    # after remission too".
    return all_of(check(MET, stated, values), _conventional_treatment(ctx))


def _conventional_treatment(ctx: Ctx) -> Check:
    history, problem = history_or_missing(ctx)
    if problem:
        return problem
    assert history is not None
    period, until = ctx.w.ssc_conventional_treatment, ctx.screening_date
    # Each component for ≥ 6 months, not necessarily at the same time: cyclophosphamide
    # induction is usually followed by another immunosuppressant.
    gc = course_check(
        LABEL_GLUCOCORTICOIDS,
        class_runs(ctx, GLUCOCORTICOIDS),
        period,
        until,
        "glucocorticoid_course",
    )
    cyc = course_check(
        LABEL_CYCLOPHOSPHAMIDE,
        class_runs(ctx, frozenset({"cyclophosphamide"})),
        period,
        until,
        "cyclophosphamide_course",
    )
    return all_of(gc, cyc, _any_drug_course(ctx, ctx.protocol.ssc_immunosuppressants, period))


def _any_drug_course(ctx: Ctx, drugs: frozenset[str], period) -> Check:
    """At least one drug of ``drugs`` given continuously for ``period``."""
    until = ctx.screening_date
    best = None
    for candidate in drug_runs(ctx).values():
        if candidate.drug not in drugs:
            continue
        run, ok = best_run(candidate.runs, period)
        if run is None:
            continue
        if (
            best is None
            or ok > best[2]
            or (ok == best[2] and run[1] - run[0] > best[1][1] - best[1][0])
        ):
            best = (candidate, run, ok)
    if best is None:
        return course_check(LABEL_IMMUNOSUPPRESSANT, [], period, until, "immunosuppressant_course")
    candidate, run, ok = best
    drug = candidate.drug
    return decided(
        ok,
        msg(
            T_IS_COURSE,
            label=LABEL_IMMUNOSUPPRESSANT,
            drug_label=candidate.label,
            start=run[0],
            end=run[1],
            op=shown_op(GE, ok),
            count=period.count,
            period_unit_label=period.unit_label,
        ),
        {"immunosuppressant_course": {"drug": drug, "start": run[0], "end": run[1]}},
    )


def a_ssc_4(ctx: Ctx) -> Check:
    t = ctx.t
    dcssc = ctx.facts.dcssc

    def skin() -> Check:
        mrss = _change(ctx, dcssc.mrss, "dcssc.mrss", LABEL_MRSS, "mrss")
        return _compare_change(mrss, t.mrss_increase_min, increase=True)

    def lung_function() -> Check:
        fvc = _change(
            ctx, dcssc.fvc_percent_predicted, "dcssc.fvc_percent_predicted", LABEL_FVC, "fvc"
        )
        dlco = _change(
            ctx, dcssc.dlco_percent_predicted, "dcssc.dlco_percent_predicted", LABEL_DLCO, "dlco"
        )
        # A missing FVC series is the same Check in both FVC comparisons: report it once.
        return without_repeats(
            all_of(
                _ild(ctx),
                first_met(
                    lambda: _compare_change(fvc, t.fvc_decline_min, increase=False),
                    lambda: all_of(
                        _compare_change(fvc, t.fvc_decline_with_dlco_min, increase=False),
                        _compare_change(dlco, t.dlco_decline_min, increase=False),
                    ),
                ),
            )
        )

    return without_repeats(first_met(skin, partial(_new_ild, ctx), lung_function))


def _new_ild(ctx: Ctx) -> Check:
    diagnosed = ctx.facts.dcssc.ild_diagnosed_on
    period = ctx.w.ssc_activity
    if diagnosed is None and _ild_present(ctx) is False:
        return check(NOT_MET, msg(T_NO_ILD), {"ild_present": False})
    problem = ctx.history_unusable(diagnosed, "dcssc.ild_diagnosed_on", LABEL_ILD_DIAGNOSED_ON)
    if problem:
        return problem
    assert diagnosed is not None
    ok = diagnosed >= period.before(ctx.screening_date)
    return decided(
        ok,
        msg(
            T_ILD_NEW if ok else T_ILD_OLD,
            diagnosed_on=diagnosed,
            count=period.count,
            period_unit_label=period.unit_label,
        ),
        {"ild_diagnosed_on": diagnosed},
    )


class _Change:
    """The screening value of a series and its baseline: the earliest earlier value
    within the activity window."""

    __slots__ = ("problem", "label", "key", "new", "baseline", "period")

    def __init__(
        self,
        problem: Check | None,
        label: str,
        key: str,
        new: Dated | None = None,
        baseline: Dated | None = None,
        period: Period | None = None,
    ):
        self.problem = problem
        self.label = label
        self.key = key
        self.new = new
        self.baseline = baseline
        self.period = period


def _change(ctx: Ctx, series, field_path: str, label: str, key: str) -> _Change:
    new, problem = ctx.latest_in_window(series, field_path, label)
    if problem:
        return _Change(problem, label, key)
    assert new is not None
    period = ctx.w.ssc_activity
    start = period.before(ctx.screening_date)
    baselines = [item for item in series if start <= item.date < new.date]
    if not baselines:
        params = {
            "count": period.count,
            "period_unit_label": period.unit_label,
            "new_date": new.date.isoformat(),
        }
        return _Change(
            unknown(
                msg(T_NO_BASELINE_PART, label=label, **params),
                field_path,
                msg(R_NO_BASELINE, **params),
            ),
            label,
            key,
        )
    # The earliest value in the window, not the most favourable one: comparing with
    # the lowest mRSS (or highest FVC/DLCO) would read measurement noise as progression.
    baseline = min(baselines, key=lambda item: item.date)
    return _Change(None, label, key, new, baseline, period)


def _compare_change(change: _Change, threshold: Decimal, *, increase: bool) -> Check:
    """Relative change from the baseline (see relative_change and _change)."""
    if change.problem is not None:
        return change.problem
    new, old, period = change.new, change.baseline, change.period
    assert new is not None and old is not None and period is not None
    if increase:
        if old.value == 0:
            amount = Decimal(1) if new.value > 0 else Decimal(0)  # any rise from 0
        else:
            amount = relative_change(old.value, new.value)
    else:
        amount = -relative_change(old.value, new.value)
    ok = amount >= threshold
    op = shown_op(GE, ok)
    return decided(
        ok,
        msg(
            T_INCREASE if increase else T_DECLINE,
            label=change.label,
            old=old.value,
            old_date=old.date,
            new=new.value,
            new_date=new.date,
            change=fmt_rounded(amount * _HUNDRED, op),
            op=op,
            threshold=fmt_exact(threshold * _HUNDRED),
            count=period.count,
            period_unit_label=period.unit_label,
        ),
        {
            f"{change.key}_from": old.value,
            f"{change.key}_to": new.value,
            f"{change.key}_{'increase' if increase else 'decline'}": amount,
        },
        [old.date, new.date],
    )
