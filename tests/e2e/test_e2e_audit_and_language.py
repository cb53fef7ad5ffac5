import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in
from tests.factories import add_lab, add_weight, make_patient

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


def test_chinese_stays_on_across_screening_infusion_and_the_audit_trail(
    page, nurse, physician, auditor, ward_a
):
    from infusion import services as infusion_services
    from infusion.demo import episode_data
    from screening import services as screening_services

    patient = make_patient(ward_a, name="Wang Fang")
    now = timezone.now()
    add_weight(patient, nurse, "60", when=now - timedelta(days=2))
    add_lab(patient, nurse, "platelets", 180, "10^9/L", when=now - timedelta(days=1))
    screening = screening_services.screening_start(actor=nurse, patient=patient, indication="SLE")
    start = now + timedelta(days=1)
    episode = infusion_services.episode_open(
        patient=patient,
        actor=physician,
        data=episode_data(start, preparation_time=start - timedelta(hours=2)),
        acknowledged=True,
    )

    sign_in(page, "nurse")
    page.select_option("#lang-select", "zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    pages = [
        ("/patients/", "h1", "患者"),
        ("/patients/", "#patient-table thead", "住院号"),
        ("/screening/", "h1", "筛选登记"),
        ("/screening/", "main", "适应证"),
        (f"/screening/{screening.pk}/", "h1", "临床试验筛选"),
        ("/infusion/", "main", "计划开始时间"),
        (f"/infusion/episodes/{episode.pk}/chart/", "h1", "床旁护理记录"),
        (f"/infusion/episodes/{episode.pk}/chart/", "main", "生命体征"),
        (f"/infusion/episodes/{episode.pk}/chart/", "main", "给药记录单"),
    ]
    for path, where, label in pages:
        page.goto(page.base + path)
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
        expect(page.locator(where).first).to_contain_text(label)
    # Issue 16: every page above ran under the enforced Content-Security-Policy (the
    # listener is registered by the page fixture before the page's scripts): none fired.
    assert page.csp_violations == []

    # The choice is remembered by the browser: the auditor who signs in next reads Chinese.
    page.click("form[action='/logout/'] button")
    sign_in(page, "auditor")
    page.click("nav >> text=审计追踪")
    expect(page.locator("h1")).to_have_text("审计追踪")
    expect(page.locator("#audit-table thead")).to_contain_text("操作人")
    expect(page.locator("#audit-table thead")).to_contain_text("原值")
    expect(page.locator("#audit-table thead")).to_contain_text("原因")
