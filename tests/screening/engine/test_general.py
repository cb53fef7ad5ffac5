"""A-GEN-1..5: age, survival, contraception, pregnancy test, consent."""

import pytest

from screening.engine import validate_facts

from . import make_case as case

# --- A-GEN-1: age 18–65 inclusive on the screening date -------------------------------


@pytest.mark.parametrize(
    ("date_of_birth", "status"),
    [
        ("2008-03-02", "met"),  # 18th birthday on the screening date 2026-03-02
        ("2008-03-03", "not_met"),  # the day before the 18th birthday: 17
        ("1960-03-03", "met"),  # 65, the day before the 66th birthday
        ("1960-03-02", "not_met"),  # 66th birthday
    ],
)
def test_it_uses_completed_years_on_the_screening_date(date_of_birth, status):
    result = case("SLE").set("patient.date_of_birth", date_of_birth).result("A-GEN-1")
    assert result.status.value == status
    assert "18–65 years" in result.reason


def test_it_names_the_age_and_the_range():
    result = case("SLE").set("patient.date_of_birth", "2008-03-03").result("A-GEN-1")
    assert result.reason == "age 17 years on 2026-03-02 outside 18–65 years"
    assert result.values["age_years"] == 17


@pytest.mark.parametrize(
    ("screening_date", "status"),
    [("2026-02-28", "not_met"), ("2026-03-01", "met")],
)
def test_it_counts_a_29_february_birthday_on_1_march_in_common_years(screening_date, status):
    c = case("SLE").set("patient.date_of_birth", "2008-02-29")
    c.set("screening_date", screening_date)
    assert c.status("A-GEN-1") == status


def test_it_is_unknown_without_a_date_of_birth():
    c = case("SLE").delete("patient.date_of_birth")
    assert c.status("A-GEN-1") == "unknown"
    assert c.missing_fields("A-GEN-1") == ["patient.date_of_birth"]


def test_it_rejects_a_date_of_birth_after_the_screening_date():
    c = case("SLE").set("patient.date_of_birth", "2026-03-03")
    assert [e.path for e in validate_facts(c.doc)] == ["patient.date_of_birth"]


# --- A-GEN-2: expected survival > 6 months -------------------------------------------


@pytest.mark.parametrize(("months", "status"), [(6, "not_met"), (6.1, "met"), (7, "met")])
def test_it_needs_more_than_six_months_of_expected_survival(months, status):
    c = case("SLE").delete("general.survival_gt_6_months")
    c.set("general.expected_survival_months", months)
    assert c.status("A-GEN-2") == status


@pytest.mark.parametrize(("answer", "status"), [(True, "met"), (False, "not_met")])
def test_it_accepts_the_yes_no_form(answer, status):
    assert case("SLE").set("general.survival_gt_6_months", answer).status("A-GEN-2") == status


def test_it_is_unknown_without_survival():
    c = case("SLE").delete("general.survival_gt_6_months")
    assert c.status("A-GEN-2") == "unknown"
    assert c.missing_fields("A-GEN-2") == ["general.expected_survival_months"]


def test_it_rejects_contradicting_survival_facts():
    c = case("SLE").set("general.expected_survival_months", 3)
    assert [e.path for e in validate_facts(c.doc)] == ["general.survival_gt_6_months"]


# --- A-GEN-3: contraception and no egg/sperm donation ----------------------------------


def test_it_needs_no_agreement_without_a_reproductive_partner():
    c = case("SLE").set("general.has_reproductive_partner", False)
    c.delete("general.contraception_agreed")
    assert c.status("A-GEN-3") == "met"


@pytest.mark.parametrize("field", ["contraception_agreed", "no_gamete_donation_agreed"])
def test_it_fails_when_a_subject_with_a_partner_does_not_agree(field):
    c = case("SLE").set(f"general.{field}", False)
    assert c.status("A-GEN-3") == "not_met"


@pytest.mark.parametrize("field", ["contraception_agreed", "no_gamete_donation_agreed"])
def test_it_is_unknown_when_an_agreement_is_not_recorded(field):
    c = case("SLE").delete(f"general.{field}")
    assert c.status("A-GEN-3") == "unknown"
    assert c.missing_fields("A-GEN-3") == [f"general.{field}"]


def test_it_is_met_by_the_agreements_when_the_partner_is_not_recorded():
    c = case("SLE").delete("general.has_reproductive_partner")
    assert c.status("A-GEN-3") == "met"
    c.delete("general.contraception_agreed")
    assert c.status("A-GEN-3") == "unknown"
    assert set(c.missing_fields("A-GEN-3")) == {
        "general.has_reproductive_partner",
        "general.contraception_agreed",
    }


# --- A-GEN-4: pregnancy test for a woman of childbearing potential ---------------------


def test_it_needs_no_pregnancy_test_for_a_man():
    c = case("SLE").set("patient.sex", "male").delete("general.pregnancy_test")
    assert c.status("A-GEN-4") == "met"


def test_it_is_unknown_without_the_sex():
    c = case("SLE").delete("patient.sex")
    assert c.status("A-GEN-4") == "unknown"
    assert "patient.sex" in c.missing_fields("A-GEN-4")


def test_it_needs_no_test_after_sterilisation():
    c = case("SLE").set("general.sterilised", True).delete("general.pregnancy_test")
    assert c.status("A-GEN-4") == "met"


@pytest.mark.parametrize(("months", "status"), [(12, "met"), (11, "unknown")])
def test_it_needs_no_test_after_twelve_months_of_menopause(months, status):
    c = case("SLE").set("general.childbearing_potential", False)
    c.set("general.menopausal_months", months).delete("general.pregnancy_test")
    result = c.result("A-GEN-4")
    assert result.status.value == status
    if status == "unknown":
        assert "general.pregnancy_test" in [m.field for m in result.missing]
        assert "menopausal for 11 months < 12 months" in result.reason


@pytest.mark.parametrize(("result", "status"), [("negative", "met"), ("positive", "not_met")])
def test_it_reads_the_pregnancy_test(result, status):
    c = case("SLE").set("general.pregnancy_test.result", result)
    assert c.status("A-GEN-4") == status


@pytest.mark.parametrize(
    ("recorded", "value"),
    [("general.menopausal_months", 24), ("general.sterilised", True)],
)
def test_a_gen_4_positive_test_fails_whatever_else_is_recorded(recorded, value):
    # Issue 18: a positive pregnancy test during screening must fail A-GEN-4 even when
    # the patient is recorded as sterilised or menopausal for ≥ 12 months.
    c = case("SLE").set("general.childbearing_potential", False).set(recorded, value)
    assert c.status("A-GEN-4") == "met"  # negative test: met either way
    c.set("general.pregnancy_test.result", "positive")
    result = c.result("A-GEN-4")
    assert result.status.value == "not_met"
    assert result.reason.startswith("urine pregnancy test positive on 2026-02-24")
    assert "fails A-GEN-4 whatever sterilisation or menopause is recorded" in result.reason


def test_a_gen_4_stale_positive_test_does_not_outweigh_menopause():
    # A test from before the screening window is not "during screening" (see
    # docs/notes/screening.md): 24 months of menopause decides.
    c = case("SLE").set("general.childbearing_potential", False)
    c.set("general.menopausal_months", 24).set("general.pregnancy_test.result", "positive")
    c.set("general.pregnancy_test.date", c.days_before(29))
    assert c.status("A-GEN-4") == "met"


@pytest.mark.parametrize(("days_before", "status"), [(28, "met"), (29, "unknown")])
def test_it_takes_a_pregnancy_test_from_the_28_day_screening_window(days_before, status):
    c = case("SLE")
    c.set("general.pregnancy_test.date", c.days_before(days_before))
    assert c.status("A-GEN-4") == status


@pytest.mark.parametrize(("days", "accepted"), [(28, True), (29, False), (0, False)])
def test_a_protocol_screening_window_is_1_to_28_days(days, accepted):
    # Issue 18: at 365 days a year-old pregnancy test counted as "during screening".
    import dataclasses

    from screening.engine import PROTOCOLS

    def derive():
        return dataclasses.replace(
            PROTOCOLS["1.0"], version=f"1.0-w{days}", screening_window_days=days
        )

    if accepted:
        assert derive().screening_window_days == days
    else:
        with pytest.raises(ValueError, match="screening_window_days"):
            derive()


def test_it_says_why_a_stale_pregnancy_test_is_unknown():
    c = case("SLE")
    c.set("general.pregnancy_test.date", c.days_before(29))
    result = c.result("A-GEN-4")
    assert result.reason == (
        "pregnancy test stale: observed 2026-02-01, older than 28-day screening window"
    )
    [item] = result.missing
    assert (item.field, item.rule_id) == ("general.pregnancy_test", "A-GEN-4")
    assert item.reason.render() == (
        "stale: observed 2026-02-01, older than 28-day screening window"
    )


def test_it_cannot_use_a_test_dated_after_the_screening_date():
    c = case("SLE")
    c.set("general.pregnancy_test.date", c.days_before(-1))
    result = c.result("A-GEN-4")
    assert result.status.value == "unknown"
    assert result.missing[0].reason.render() == (
        "unusable: observed 2026-03-03, after the screening date 2026-03-02"
    )


def test_it_notes_an_unsupported_no_childbearing_potential():
    c = case("SLE").set("general.childbearing_potential", False)
    c.delete("general.pregnancy_test")
    result = c.result("A-GEN-4")
    assert result.status.value == "unknown"
    assert "childbearing potential recorded as no" in result.reason
    assert set(m.field for m in result.missing) == {
        "general.sterilised",
        "general.menopausal_months",
        "general.pregnancy_test",
    }


# --- A-GEN-5: informed consent ---------------------------------------------------------


def test_it_is_met_by_signed_consent_with_its_date():
    result = case("SLE").result("A-GEN-5")
    assert result.status.value == "met"
    assert result.reason == "informed consent signed on 2026-02-20"


def test_it_fails_without_consent():
    assert case("SLE").set("general.consent_signed.value", False).status("A-GEN-5") == "not_met"


def test_it_is_unknown_without_consent_facts():
    c = case("SLE").delete("general.consent_signed")
    assert c.status("A-GEN-5") == "unknown"
    assert c.missing_fields("A-GEN-5") == ["general.consent_signed"]


def test_it_needs_the_consent_date():
    c = case("SLE").delete("general.consent_signed.date")
    assert c.status("A-GEN-5") == "unknown"
    assert c.missing_fields("A-GEN-5") == ["general.consent_signed.date"]


def test_it_cannot_use_consent_dated_after_screening():
    c = case("SLE")
    c.set("general.consent_signed.date", c.days_before(-1))
    assert c.status("A-GEN-5") == "unknown"
