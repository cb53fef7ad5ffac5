"""A-GEN-1..5: age, survival, contraception, pregnancy, consent."""

from __future__ import annotations

from ..calculators import age_on
from ..i18n import gettext_noop
from ._checks import (
    GE,
    GT,
    MET,
    NO,
    NOT_MET,
    YES,
    Check,
    Ctx,
    all_of,
    answer,
    any_of,
    check,
    decided,
    missing,
    msg,
    shown_op,
)

T_AGE_IN = gettext_noop("age {age} years on {screening_date} within {low}–{high} years")
T_AGE_OUT = gettext_noop("age {age} years on {screening_date} outside {low}–{high} years")
T_SURVIVAL = gettext_noop("expected survival {months} months {op} {threshold} months")
T_SURVIVAL_ANSWER = gettext_noop("expected survival > {threshold} months: {answer_label}")
T_MALE = gettext_noop("male: no pregnancy test needed")
T_MENOPAUSE = gettext_noop("menopausal for {months} months {op} {threshold} months")
T_PREGNANCY = gettext_noop("{kind_label} pregnancy test {result_label} on {observed_on}")
T_CBP_UNSUPPORTED = gettext_noop(
    "childbearing potential recorded as no, but neither sterilisation nor menopause for "
    "≥ {threshold} months is recorded"
)
T_POSITIVE_OVERRIDES = gettext_noop(
    "a positive pregnancy test during screening fails A-GEN-4 whatever sterilisation or"
    " menopause is recorded"
)
T_CONSENT_SIGNED = gettext_noop("informed consent signed on {signed_on}")
T_CONSENT_NOT_SIGNED = gettext_noop("informed consent signed: no")

LABEL_DOB = gettext_noop("date of birth")
LABEL_SEX = gettext_noop("sex")
LABEL_SURVIVAL = gettext_noop("expected survival")
LABEL_PARTNER = gettext_noop("reproductive partner")
LABEL_CONTRACEPTION = gettext_noop(
    "agrees to effective contraception during treatment and for 24 months after"
)
LABEL_NO_DONATION = gettext_noop("agrees not to donate eggs or sperm in that period")
LABEL_STERILISED = gettext_noop("sterilised")
LABEL_MENOPAUSE = gettext_noop("months since menopause")
LABEL_PREGNANCY_TEST = gettext_noop("pregnancy test")
LABEL_CONSENT = gettext_noop("informed consent")
LABEL_CONSENT_DATE = gettext_noop("informed consent date")
KIND_LABELS = {
    "urine": gettext_noop("urine"),
    "blood": gettext_noop("blood"),
    None: gettext_noop("unspecified"),
}
RESULT_LABELS = {"positive": gettext_noop("positive"), "negative": gettext_noop("negative")}


def a_gen_1(ctx: Ctx) -> Check:
    born = ctx.facts.patient.date_of_birth
    if born is None:
        return missing(LABEL_DOB, "patient.date_of_birth")
    age = age_on(born, ctx.screening_date)
    low, high = ctx.t.age_min_years, ctx.t.age_max_years
    ok = low <= age <= high
    return decided(
        ok,
        msg(
            T_AGE_IN if ok else T_AGE_OUT,
            age=age,
            screening_date=ctx.screening_date,
            low=low,
            high=high,
        ),
        {"age_years": age, "date_of_birth": born},
    )


def a_gen_2(ctx: Ctx) -> Check:
    general = ctx.facts.general
    threshold = ctx.t.survival_months_exclusive_min
    if general.expected_survival_months is not None:
        months = general.expected_survival_months
        ok = months > threshold
        return decided(
            ok,
            msg(T_SURVIVAL, months=months, op=shown_op(GT, ok), threshold=threshold),
            {"expected_survival_months": months},
        )
    if general.survival_gt_6_months is not None:
        value = general.survival_gt_6_months
        return decided(
            value,
            msg(
                T_SURVIVAL_ANSWER,
                threshold=threshold,
                answer_label=YES if value else NO,
            ),
            {"survival_gt_6_months": value},
        )
    return missing(LABEL_SURVIVAL, "general.expected_survival_months")


def a_gen_3(ctx: Ctx) -> Check:
    general = ctx.facts.general
    no_partner = answer(
        LABEL_PARTNER,
        general.has_reproductive_partner,
        "general.has_reproductive_partner",
        "has_reproductive_partner",
        expected=False,
    )
    if no_partner.status is MET:
        return no_partner
    agreed = all_of(
        answer(
            LABEL_CONTRACEPTION,
            general.contraception_agreed,
            "general.contraception_agreed",
            "contraception_agreed",
        ),
        answer(
            LABEL_NO_DONATION,
            general.no_gamete_donation_agreed,
            "general.no_gamete_donation_agreed",
            "no_gamete_donation_agreed",
        ),
    )
    return any_of(no_partner, agreed)


def a_gen_4(ctx: Ctx) -> Check:
    facts = ctx.facts
    sex = facts.patient.sex
    if sex is None:
        return missing(LABEL_SEX, "patient.sex")
    if sex == "male":
        return check(MET, msg(T_MALE), {"sex": sex})
    general = facts.general
    test = _pregnancy_test(ctx)
    if test.status is NOT_MET:
        # A positive test during screening fails the criterion whatever else is
        # recorded: sterilisation or menopause cannot outweigh an observed pregnancy.
        test.messages.append(msg(T_POSITIVE_OVERRIDES))
        test.values["sex"] = sex
        return test
    options: list[Check] = []
    # The source defines "not of childbearing potential" as sterilised or menopausal
    # ≥ 12 months; ask for those only when childbearing potential isn't already known.
    if general.sterilised is not None or general.childbearing_potential is not True:
        options.append(
            answer(LABEL_STERILISED, general.sterilised, "general.sterilised", "sterilised")
        )
    if general.menopausal_months is not None:
        months, threshold = general.menopausal_months, ctx.t.menopause_min_months
        ok = months >= threshold
        options.append(
            decided(
                ok,
                msg(T_MENOPAUSE, months=months, op=shown_op(GE, ok), threshold=threshold),
                {"menopausal_months": months},
            )
        )
    elif general.childbearing_potential is not True:
        options.append(missing(LABEL_MENOPAUSE, "general.menopausal_months"))
    options.append(test)
    result = any_of(*options)
    if result.status is not MET and general.childbearing_potential is False:
        result.messages.append(msg(T_CBP_UNSUPPORTED, threshold=ctx.t.menopause_min_months))
    result.values["sex"] = sex
    return result


def _pregnancy_test(ctx: Ctx) -> Check:
    test = ctx.facts.general.pregnancy_test
    problem = ctx.observation(test, "general.pregnancy_test", LABEL_PREGNANCY_TEST)
    if problem:
        return problem
    assert test is not None
    return decided(
        test.result == "negative",
        msg(
            T_PREGNANCY,
            kind_label=KIND_LABELS.get(test.kind, KIND_LABELS[None]),
            result_label=RESULT_LABELS[test.result],
            observed_on=test.date,
        ),
        {"pregnancy_test": test.result, "pregnancy_test_kind": test.kind},
        [test.date],
    )


def a_gen_5(ctx: Ctx) -> Check:
    consent = ctx.facts.general.consent_signed
    if consent is None:
        return missing(LABEL_CONSENT, "general.consent_signed")
    if not consent.signed:
        return check(NOT_MET, msg(T_CONSENT_NOT_SIGNED), {"consent_signed": False})
    problem = ctx.history_unusable(consent.date, "general.consent_signed.date", LABEL_CONSENT_DATE)
    if problem:
        return problem
    assert consent.date is not None
    return check(
        MET,
        msg(T_CONSENT_SIGNED, signed_on=consent.date),
        {"consent_signed": True, "consent_date": consent.date},
    )
