import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in
from tests.factories import make_patient

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_filters_the_audit_trail_and_sees_the_chain_verified(page, auditor, nurse, ward_a):
    from core import services

    patient = services.patient_create(
        actor=nurse,
        data={
            "hospital_number": "E2E0001",
            "name": "Browser Patient",
            "sex": "F",
            "date_of_birth": "1990-01-01",
            "ward": ward_a,
        },
    )
    services.patient_update(
        actor=nurse, patient=patient, data={"name": "Browser Patient II"}, reason="typo"
    )
    sign_in(page, "auditor")
    page.click("nav >> text=Audit trail")
    expect(page.locator("#chain-status")).to_contain_text(
        re.compile(r"Hash chain verified: \d+ events")
    )
    page.fill("#id_patient", "E2E0001")
    page.fill("#id_action", "update")
    page.click("form.filters button[type=submit]")
    table = page.locator("#audit-table")
    expect(table).to_contain_text("Browser Patient II")
    expect(table).to_contain_text("typo")
    expect(table.locator("tbody tr")).to_have_count(1)


def test_the_whole_ui_switches_to_chinese(page, nurse, ward_a):
    make_patient(ward_a, name="Zhang Mei")
    sign_in(page, "nurse")
    page.select_option("#lang-select", "zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("nav")).to_contain_text("患者")
    page.click("nav >> text=患者")
    expect(page.locator("h1")).to_have_text("患者")
    expect(page.locator("#patient-table thead")).to_contain_text("住院号")
    expect(page.locator("footer")).to_contain_text("时间按 Asia/Shanghai 显示")
