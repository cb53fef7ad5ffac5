"""A-IIM-1..3 (idiopathic inflammatory myopathy)."""

from __future__ import annotations

from decimal import Decimal
from functools import partial

from ..calculators import MUSCLE_ENZYMES
from ..facts import Dated
from ..i18n import gettext_noop
from ._checks import (
    GE,
    GT,
    LE,
    MET,
    Check,
    Ctx,
    all_of,
    at_least,
    compare,
    decided,
    first_met,
    fmt_rounded,
    missing,
    msg,
)

T_SUBTYPE = gettext_noop("subtype {subtype} (DM, PM or IMNM needed)")
T_CORE_SET = gettext_noop("{abnormal} of 5 other core set measures abnormal ({minimum} needed)")

LABEL_PROBABILITY = gettext_noop("2017 EULAR/ACR IIM probability")
LABEL_SUBTYPE = gettext_noop("IIM subtype")
LABEL_MMT8 = gettext_noop("MMT-8")
LABEL_PATIENT_VAS = gettext_noop("patient global VAS")
LABEL_PHYSICIAN_VAS = gettext_noop("physician global VAS")
LABEL_EXTRAMUSCULAR_VAS = gettext_noop("physician extramuscular VAS")
LABEL_HAQ_DI = gettext_noop("HAQ-DI")

_THOUSANDTH = Decimal("0.001")


def a_iim_1(ctx: Ctx) -> Check:
    iim = ctx.facts.iim
    if iim.classification_probability_percent is None:
        probability = missing(LABEL_PROBABILITY, "iim.classification_probability_percent")
    else:
        probability = compare(
            LABEL_PROBABILITY,
            iim.classification_probability_percent,
            GE,
            ctx.t.iim_probability_min_percent,
            key="classification_probability_percent",
            unit="%",
        )
    if iim.subtype is None:
        subtype = missing(LABEL_SUBTYPE, "iim.subtype")
    else:
        subtype = decided(
            iim.subtype in ("DM", "PM", "IMNM"),
            msg(T_SUBTYPE, subtype=iim.subtype),
            {"subtype": iim.subtype},
        )
    return all_of(probability, subtype)


def a_iim_2(ctx: Ctx) -> Check:
    mmt8 = ctx.facts.iim.mmt8
    problem = ctx.observation(mmt8, "iim.mmt8", LABEL_MMT8)
    if problem:
        return problem
    assert mmt8 is not None
    return compare(
        LABEL_MMT8,
        mmt8.value,
        LE,
        ctx.t.mmt8_max,
        key="mmt8",
        value_text=f"{mmt8.value}/150",
        observed_on=[mmt8.date],
    )


def _scored(
    ctx: Ctx, obs: Dated[Decimal] | None, field_path: str, label: str, threshold: Decimal, key: str
) -> Check:
    problem = ctx.observation(obs, field_path, label)
    if problem:
        return problem
    assert obs is not None
    return compare(
        label,
        obs.value,
        GE,
        threshold,
        key=key,
        value_text=fmt_rounded(obs.value, GE, _THOUSANDTH),
        observed_on=[obs.date],
    )


def a_iim_3(ctx: Ctx) -> Check:
    iim, t = ctx.facts.iim, ctx.t
    measures = [
        _scored(
            ctx,
            iim.patient_global_vas,
            "iim.patient_global_vas",
            LABEL_PATIENT_VAS,
            t.vas_min,
            "patient_global_vas",
        ),
        _scored(
            ctx,
            iim.physician_global_vas,
            "iim.physician_global_vas",
            LABEL_PHYSICIAN_VAS,
            t.vas_min,
            "physician_global_vas",
        ),
        _scored(
            ctx,
            iim.extramuscular_vas,
            "iim.extramuscular_vas",
            LABEL_EXTRAMUSCULAR_VAS,
            t.vas_min,
            "extramuscular_vas",
        ),
        _scored(ctx, iim.haq_di, "iim.haq_di", LABEL_HAQ_DI, t.haq_di_min, "haq_di"),
        # At least one muscle enzyme strictly above 1.5 × its ULN.
        first_met(
            *(
                partial(ctx.lab_uln, enzyme, t.muscle_enzyme_uln_factor_exclusive, GT)
                for enzyme in MUSCLE_ENZYMES
            )
        ),
    ]
    abnormal = sum(m.status is MET for m in measures)
    return at_least(
        t.core_set_min_abnormal,
        measures,
        msg(T_CORE_SET, abnormal=abnormal, minimum=t.core_set_min_abnormal),
    )
