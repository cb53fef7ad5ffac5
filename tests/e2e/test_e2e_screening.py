"""In the browser: an investigator screens an SLE patient to eligible and signs; a nurse
enters data but has no sign button, and a forged sign POST is refused."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core.models import ReferenceRange
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD, add_lab, add_weight, make_patient

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAB = "Hospital central lab"


def _patient_with_labs(ward, nurse):
    from screening.demo import NORMAL_LABS

    patient = make_patient(ward, name="Screen Browser")
    for analyte, sex, unit, upper in (
        ("inr", "", "ratio", "1.2"),
        ("aptt", "", "s", "35"),
        ("ast", "", "U/L", "35"),
        ("alt", "", "U/L", "40"),
        ("bilirubin", "", "umol/L", "20.5"),
        ("creatinine", "F", "umol/L", "84"),
    ):
        ReferenceRange.objects.create(
            lab=LAB, analyte=analyte, sex=sex, unit=unit, upper=Decimal(upper)
        )
    when = timezone.now() - timedelta(days=2)
    for analyte, value, unit in NORMAL_LABS:
        add_lab(patient, nurse, analyte, value, unit, when=when, lab=LAB)
    add_weight(patient, nurse, "58.5", when=when)
    return patient


def _fill_all_but_consent_and_sledai(screening, user):
    """Everything of an eligible SLE screening except consent and the SLEDAI-2K checklist,
    entered through the service (the browser enters the rest)."""
    from screening import services
    from screening.demo import sle_facts

    facts = sle_facts(screening.facts, timezone.localdate(), "F")
    del facts["general"]["consent_signed"]
    del facts["sle"]["sledai_2k"]
    screening, _saved = services.screening_save_draft(actor=user, screening=screening, facts=facts)
    return screening


def chip(page, rule_id):
    return page.locator(f"#crit-{rule_id} .chip")


def test_an_investigator_screens_an_sle_patient_to_eligible_and_signs(
    page, physician, nurse, ward_a
):
    patient = _patient_with_labs(ward_a, nurse)
    sign_in(page, "doc")
    page.goto(f"{page.base}/patients/{patient.pk}/")
    page.select_option("#screening-panel select[name=indication]", "SLE")
    page.click("#screening-panel button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Systemic lupus erythematosus")
    expect(chip(page, "A-ORG-1")).to_have_text("met")  # prefilled from the record
    expect(page.locator("#banner")).to_contain_text("Incomplete")

    from screening.models import Screening

    screening = _fill_all_but_consent_and_sledai(Screening.objects.get(patient=patient), physician)
    page.reload()
    expect(chip(page, "A-GEN-5")).to_have_text("unknown")
    expect(chip(page, "A-SLE-3")).to_have_text("unknown")

    today = timezone.localdate().isoformat()
    page.select_option("#in-general-consent_signed-value", "yes")
    page.fill("#in-general-consent_signed-date", today)
    page.locator("#in-general-consent_signed-date").dispatch_event("change")
    expect(chip(page, "A-GEN-5")).to_have_text("met")

    page.click("a[href='#fld-sle-sledai_2k']")  # the missing panel jumps to the checklist
    page.fill("#in-sle-sledai_2k-date", today)
    for descriptor in ("arthritis", "proteinuria", "rash", "low_complement"):
        page.check(f"#in-sle-sledai_2k-descriptors-{descriptor}")
    expect(page.locator("#st-fld-sle-sledai_2k")).to_contain_text(
        "SLEDAI-2K total 12 · clinical score 10"
    )
    expect(chip(page, "A-SLE-3")).to_have_text("met")
    expect(page.locator("#banner")).to_contain_text("Eligible")

    page.click("text=Sign eligibility assessment…")
    expect(page.locator(".meaning")).to_contain_text("I confirm this eligibility assessment")
    # The first signature of the session: username and password (§11.200).
    page.fill("#id_username", physician.username)
    page.fill("#id_password", "not-my-password")
    page.click("button:text-is('Sign')")
    expect(page.locator(".errors")).to_contain_text("The password is not correct")
    page.fill("#id_username", physician.username)
    page.fill("#id_password", PASSWORD)
    page.click("button:text-is('Sign')")
    expect(page.locator(".messages")).to_contain_text("The eligibility assessment is signed.")
    expect(page.locator(".sigbox")).to_contain_text(physician.get_full_name())
    expect(page.locator("#in-labs-anc-value")).to_be_disabled()
    screening.refresh_from_db()
    assert screening.status == "signed" and screening.signature_valid()


def test_a_nurse_enters_data_but_cannot_sign(page, nurse, physician, ward_a):
    from screening import services

    patient = _patient_with_labs(ward_a, nurse)
    screening = services.screening_start(actor=nurse, patient=patient, indication="SLE")
    screening = _fill_all_but_consent_and_sledai(screening, nurse)
    sign_in(page, "nurse")
    page.goto(f"{page.base}/screening/{screening.pk}/")
    expect(chip(page, "A-GEN-5")).to_have_text("unknown")
    page.select_option("#in-general-consent_signed-value", "yes")
    page.fill("#in-general-consent_signed-date", timezone.localdate().isoformat())
    page.locator("#in-general-consent_signed-date").dispatch_event("change")
    expect(chip(page, "A-GEN-5")).to_have_text("met")
    expect(page.locator(".sign")).to_have_count(0)
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        f"{page.base}/screening/{screening.pk}/sign/",
        form={"csrfmiddlewaretoken": token, "password": PASSWORD},
    )
    assert response.status == 403
    screening.refresh_from_db()
    assert (
        screening.status == "draft"
        and screening.facts["general"]["consent_signed"]["value"] is True
    )
