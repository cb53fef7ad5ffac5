"""The PDF checklist: every criterion with verdict and rule ID, the protocol version, the
signature block or the UNSIGNED DRAFT watermark, Chinese, and escaped user text."""

import io

import pytest
from pypdf import PdfReader

from tests.factories import PASSWORD, make_patient
from tests.screening.conftest import complete, start

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


def pdf_text(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    return "\n".join(page.extract_text() for page in reader.pages)


def flat(text):
    return " ".join(text.split())


def test_a_signed_checklist_has_every_rule_verdict_and_the_signature(login, physician, labs):
    screening = complete(start(physician, labs), physician)
    client = login(physician)
    client.post(f"/screening/{screening.pk}/sign/", {"password": PASSWORD, "username": "doc"})
    screening.refresh_from_db()
    text = flat(pdf_text(client.get(f"/screening/{screening.pk}/checklist.pdf")))
    for criterion in screening.evaluation["criteria"]:
        assert criterion["rule_id"] in text
    assert "met" in text and "Eligible" in text
    assert "Protocol version" in text and screening.protocol_version in text
    assert physician.get_full_name() in text
    assert "I confirm this eligibility assessment" in text
    assert screening.signature_hash in text.replace(" ", "")
    assert "UNSIGNED DRAFT" not in text
    assert "2026-02-26" in text  # an observation date (the labs, three days before)


def test_a_draft_checklist_is_watermarked_unsigned(login, nurse, labs):
    screening = start(nurse, labs)
    text = flat(pdf_text(login(nurse).get(f"/screening/{screening.pk}/checklist.pdf")))
    assert "UNSIGNED DRAFT" in text
    assert "unknown" in text and "A-GEN-5" in text


def test_the_checklist_is_in_the_users_language_with_cjk_fonts(login, nurse, labs):
    nurse.language = "zh-hans"
    nurse.save()
    screening = start(nurse, labs)
    text = flat(pdf_text(login(nurse).get(f"/screening/{screening.pk}/checklist.pdf")))
    assert "纳入标准" in text  # "inclusion criteria"
    assert "未签名草稿" in text  # UNSIGNED DRAFT
    assert "系统性红斑狼疮" in text
    assert "符合" in text and "A-ORG-1" in text


def test_a_patient_name_with_markup_is_escaped_in_pages_and_literal_in_the_pdf(login, nurse, labs):
    evil = make_patient(labs.ward, name="<script>alert(1)</script>")
    screening = start(nurse, evil)
    client = login(nurse)
    for url in (f"/screening/{screening.pk}/", "/screening/", f"/patients/{evil.pk}/"):
        html = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in html, url
    assert (
        "&lt;script&gt;alert(1)&lt;/script&gt;"
        in client.get(f"/screening/{screening.pk}/").content.decode()
    )
    text = pdf_text(client.get(f"/screening/{screening.pk}/checklist.pdf"))
    assert "<script>alert(1)</script>" in text
