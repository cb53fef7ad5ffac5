"""B-CONSENT-1 (informed consent) and B-SITE-1 (the certificate's issuer, a third-party
re-test) in the engine: the findings, the contract, and what they must not change."""

from dataclasses import replace
from datetime import date

import pytest

from infusion.engine import (
    CertificateOfAnalysis,
    ConsentInput,
    build_plan,
    consent_check,
    parse_plan_input,
    plan_to_text,
    release_check,
    site_check,
    validate_plan_input,
)

from . import example_doc


def errors_at(doc):
    return {e.path: e.message for e in validate_plan_input(doc)}


def plan_of(doc):
    return build_plan(parse_plan_input(doc))


# --- B-CONSENT-1 -----------------------------------------------------------------------


def test_it_finds_b_consent_1_met_when_the_patient_consented():
    finding = consent_check(ConsentInput("patient", date(2024, 6, 5), "v3"))
    assert (finding.rule_id, finding.status, finding.severity) == ("B-CONSENT-1", "met", "info")
    assert finding.reason == (
        "Informed consent recorded: given by the patient on 2024-06-05, form version v3."
    )
    assert finding.source_section == "basic principle ①; §2.1" and finding.citation is None


def test_it_finds_b_consent_1_met_when_a_relative_consented():
    finding = consent_check(ConsentInput("relative", date(2024, 6, 5), "ICF 2.1"))
    assert finding.status == "met"
    assert "given by a relative on 2024-06-05, form version ICF 2.1" in finding.reason


def test_b_consent_1_not_recorded_is_unknown_never_a_block():
    finding = consent_check(None)
    assert (finding.status, finding.severity) == ("missing", "unknown")
    assert finding.missing == ("consent",)
    assert "before the orders are signed" in finding.reason


def test_an_unknown_consenter_is_a_programming_error():
    with pytest.raises(ValueError, match="consenter"):
        consent_check(ConsentInput("neighbour", date(2024, 6, 5), "v3"))


def test_the_plan_without_a_consent_is_incomplete_not_blocked():
    # B-CONSENT-1: consent may be recorded after the episode is opened (before signing).
    doc = example_doc()
    doc["consent"] = None
    plan = plan_of(doc)
    assert plan.consent.status == "missing"
    assert plan.status == "incomplete"
    assert plan.consent in plan.attention
    del doc["consent"]
    assert plan_of(doc).consent.status == "missing"


def test_the_worked_example_has_its_consent_and_is_ready():
    plan = plan_of(example_doc())
    assert plan.consent.status == "met" and plan.site.status == "met"
    assert plan.status == "ready"
    assert {"B-CONSENT-1", "B-SITE-1"} <= {f.rule_id for f in plan.findings}
    text = plan_to_text(plan)
    assert "[INFO] B-CONSENT-1 (basic principle ①; §2.1): Informed consent recorded" in text
    assert "[INFO] B-SITE-1 (§2.1, §2.2): Third-party quality re-test by" in text


@pytest.mark.parametrize(
    ("consent", "path", "message"),
    [
        ({"consented_on": "2024-06-05", "form_version": "v3"}, "consent.consenter", "required"),
        (
            {"consenter": "neighbour", "consented_on": "2024-06-05", "form_version": "v3"},
            "consent.consenter",
            "",
        ),
        ({"consenter": "patient", "form_version": "v3"}, "consent.consented_on", "required"),
        (
            {"consenter": "patient", "consented_on": "2024-02-30", "form_version": "v3"},
            "consent.consented_on",
            "not a real calendar date",
        ),
        (
            {"consenter": "patient", "consented_on": "5 June", "form_version": "v3"},
            "consent.consented_on",
            "YYYY-MM-DD",
        ),
        ({"consenter": "patient", "consented_on": "2024-06-05"}, "consent.form_version", ""),
        (
            {"consenter": "patient", "consented_on": "2024-06-05", "form_version": ""},
            "consent.form_version",
            "",
        ),
        (
            {"consenter": "patient", "consented_on": "2024-06-05", "form_version": "   "},
            "consent.form_version",
            "required",
        ),
        (
            {"consenter": "patient", "consented_on": "2024-06-05", "form_version": "v" * 61},
            "consent.form_version",
            "",
        ),
        (
            {"consenter": "patient", "consented_on": "2024-06-05", "form_version": "v3", "x": 1},
            "consent.x",
            "unknown field",
        ),
        ("yes", "consent", ""),
    ],
)
def test_a_bad_consent_block_is_a_field_error(consent, path, message):
    doc = example_doc()
    doc["consent"] = consent
    errors = errors_at(doc)
    assert path in errors, errors
    assert message in errors[path]


def test_a_consent_of_exactly_the_birth_day_is_accepted_one_day_before_is_not():
    doc = example_doc()  # born 1992-03-14
    doc["consent"]["consented_on"] = "1992-03-14"
    assert errors_at(doc) == {}
    doc["consent"]["consented_on"] = "1992-03-13"
    assert errors_at(doc) == {"consent.consented_on": "is before the patient's date of birth"}


def test_a_60_character_form_version_is_accepted():
    doc = example_doc()
    doc["consent"]["form_version"] = "v" * 60
    assert plan_of(doc).consent.reason_params["version"] == "v" * 60


# --- B-SITE-1 --------------------------------------------------------------------------


def test_it_finds_b_site_1_met_for_a_named_third_party_re_test():
    finding = site_check(CertificateOfAnalysis(issuer=" Lab X ", third_party_retest=True))
    assert (finding.rule_id, finding.status, finding.severity) == ("B-SITE-1", "met", "info")
    assert finding.reason == "Third-party quality re-test by Lab X."


def test_b_site_1_warns_when_the_certificate_is_not_a_third_party_re_test():
    finding = site_check(CertificateOfAnalysis(issuer="Maker Ltd", third_party_retest=False))
    assert (finding.status, finding.severity) == ("not_third_party", "warning")
    assert "Maker Ltd is not a third-party quality re-test" in finding.reason


@pytest.mark.parametrize(
    ("issuer", "retest", "missing"),
    [
        (None, True, ("product.certificate.issuer",)),
        ("   ", True, ("product.certificate.issuer",)),
        ("Lab X", None, ("product.certificate.third_party_retest",)),
        (None, None, ("product.certificate.issuer", "product.certificate.third_party_retest")),
        # No issuer is "unknown" even when the certificate is the maker's own.
        (None, False, ("product.certificate.issuer",)),
    ],
)
def test_b_site_1_is_unknown_while_the_issuer_or_the_re_test_flag_is_missing(
    issuer, retest, missing
):
    finding = site_check(CertificateOfAnalysis(issuer=issuer, third_party_retest=retest))
    assert (finding.status, finding.severity) == ("missing", "unknown")
    assert finding.missing == missing


@pytest.mark.parametrize(
    ("issuer", "retest", "site_status"),
    [
        ("Lab X", True, "met"),
        ("Maker Ltd", False, "not_third_party"),
        (None, None, "missing"),
    ],
)
def test_b_site_1_never_changes_the_product_release(issuer, retest, site_status):
    # The pharmacist's gate reads the release (B-QC-1…5) and B-SITE-1 as separate checks.
    doc = example_doc()
    doc["product"]["certificate"]["issuer"] = issuer
    doc["product"]["certificate"]["third_party_retest"] = retest
    plan = plan_of(doc)
    assert plan.site.status == site_status
    assert plan.product_release.status == "released"
    certificate = parse_plan_input(doc).product.certificate
    bare = replace(certificate, issuer=None, third_party_retest=None)
    assert release_check(certificate) == release_check(bare)


def test_a_pending_release_stays_pending_with_a_third_party_re_test():
    doc = example_doc()
    doc["product"]["certificate"]["microbiology"]["virus"] = None
    plan = plan_of(doc)
    assert plan.site.status == "met" and plan.product_release.status == "pending"


def test_the_plan_status_follows_b_site_1():
    doc = example_doc()
    doc["product"]["certificate"]["third_party_retest"] = False
    assert plan_of(doc).status == "ready_with_warnings"
    doc["product"]["certificate"]["issuer"] = None
    assert plan_of(doc).status == "incomplete"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("issuer", 5, ""),
        ("issuer", "x" * 201, ""),
        ("third_party_retest", "yes", ""),
    ],
)
def test_bad_site_fields_are_field_errors(field, value, message):
    doc = example_doc()
    doc["product"]["certificate"][field] = value
    assert f"product.certificate.{field}" in errors_at(doc)


def test_a_200_character_issuer_and_an_empty_one_are_accepted():
    doc = example_doc()
    doc["product"]["certificate"]["issuer"] = "x" * 200
    assert plan_of(doc).site.status == "met"
    doc["product"]["certificate"]["issuer"] = ""
    assert plan_of(doc).site.status == "missing"
