"""Order sheet and infusion record PDFs; user text escaped in pages and PDFs."""

import hashlib
import io
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from pypdf import PdfReader

from infusion import services
from infusion.models import OrderKind
from tests.factories import add_lab, add_weight, make_patient
from tests.infusion.conftest import open_episode, order_of, run_infusion, sign_all

pytestmark = pytest.mark.django_db
XSS = "<script>alert(1)</script>"


@pytest.fixture(autouse=True)
def _own_pdf_cache(settings, tmp_path):
    settings.VAR_DIR = tmp_path


def pdf_text(response):
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_order_sheet_has_the_signatures_verified_by_and_rule_ids(
    verified_episode, physician, pharmacist, login
):
    text = pdf_text(
        login(physician).get(f"/infusion/episodes/{verified_episode.pk}/order-sheet.pdf")
    )
    assert "MSC infusion order sheet" in text
    assert f"Prescribed by: {physician.get_full_name()}" in text
    assert f"Verified by (pharmacist): {pharmacist.get_full_name()}" in text
    signed = timezone.localtime(
        order_of(verified_episode, OrderKind.MSC_IV).signatures.first().signed_at
    )
    assert signed.strftime("%Y-%m-%d %H:%M") in text
    for rule in (
        "B-DOSE-1 (R3, 1B)",
        "B-PREMED-1 (R7, 2C)",
        "B-AP-1 (R7, 2C)",
        "B-ADM-3",
        "B-IND-1 (R1, 1B)",
    ):
        assert rule in text, rule
    assert "WITHOUT a filter membrane" in text


def test_the_infusion_record_has_the_chart_vitals_reactions_and_mar(
    verified_episode, nurse, physician, login
):
    services.order_administer(
        order=order_of(verified_episode, OrderKind.DEXAMETHASONE), actor=nurse
    )
    end = run_infusion(verified_episode, nurse)
    with time_machine.travel(end + timedelta(minutes=2), tick=False):
        services.vitals_record(
            episode=verified_episode,
            actor=nurse,
            at=end,
            values={"pulse_per_min": 130, "spo2_pct": 97},
        )
        services.adverse_reaction_record(
            episode=verified_episode,
            actor=nurse,
            at=end,
            reaction_type="fever",
            severity="mild",
            action="Observed",
        )
        response = login(physician).get(
            f"/infusion/episodes/{verified_episode.pk}/infusion-record.pdf"
        )
    text = pdf_text(response)
    assert "Medication administration record" in text
    assert "Dexamethasone" in text and nurse.get_full_name() in text
    assert "130 !" in text  # out of range marked
    assert "Fever" in text and "Observed" in text
    assert timezone.localtime(end).strftime("%Y-%m-%d %H:%M") in text
    assert "B-CYC-1" in text


def test_a_chinese_user_gets_a_chinese_order_sheet(verified_episode, physician, login):
    physician.language = "zh-hans"
    physician.save()
    text = pdf_text(
        login(physician).get(f"/infusion/episodes/{verified_episode.pk}/order-sheet.pdf")
    )
    assert "间充质干细胞" in text  # MSC
    assert "地塞米松" in text  # dexamethasone
    assert "B-PREMED-1 (R7, 2C)" in text


def test_user_text_is_escaped_in_pages_and_pdfs(ward_a, physician, nurse, pharmacist, login):
    patient = make_patient(ward_a, name=XSS)
    add_weight(patient, nurse, "60", when=timezone.now() - timedelta(days=1))
    add_lab(patient, nurse, "platelets", 200, "10^9/L", when=timezone.now() - timedelta(days=1))
    episode = open_episode(patient, physician)
    services.order_edit(
        order=order_of(episode, OrderKind.DEXAMETHASONE),
        actor=physician,
        changes={"note": XSS},
        reason=XSS,
    )
    sign_all(episode, physician)
    client = login(physician)
    for url in (
        f"/infusion/episodes/{episode.pk}/",
        f"/infusion/episodes/{episode.pk}/chart/",
        "/infusion/",
        f"/patients/{patient.pk}/",
    ):
        body = client.get(url).content.decode()
        assert XSS not in body, url
        assert "&lt;script&gt;" in body, url
    assert (
        "<script"
        not in client.get(f"/infusion/episodes/{episode.pk}/timeline.svg").content.decode()
    )
    body = login(pharmacist).get("/infusion/queue/").content.decode()
    assert XSS not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    text = pdf_text(client.get(f"/infusion/episodes/{episode.pk}/order-sheet.pdf"))
    assert XSS in text  # shown as text, never run: WeasyPrint runs no script


def test_pdfs_of_another_ward_are_404(verified_episode, physician_b, login):
    client = login(physician_b)
    assert (
        client.get(f"/infusion/episodes/{verified_episode.pk}/order-sheet.pdf").status_code == 404
    )
    assert (
        client.get(f"/infusion/episodes/{verified_episode.pk}/infusion-record.pdf").status_code
        == 404
    )


def test_the_order_sheet_of_a_cancelled_episode_is_marked(episode, physician, login):
    services.episode_cancel(episode=episode, actor=physician, reason="declined")
    assert "CANCELLED" in pdf_text(
        login(physician).get(f"/infusion/episodes/{episode.pk}/order-sheet.pdf")
    )


def test_an_unchanged_record_is_served_from_the_cache(episode, physician, login, tmp_path):
    client = login(physician)
    first = client.get(f"/infusion/episodes/{episode.pk}/order-sheet.pdf").content
    assert len(list((tmp_path / "pdf-cache").glob("*.pdf"))) == 1
    assert client.get(f"/infusion/episodes/{episode.pk}/order-sheet.pdf").content == first


def test_a_signed_order_sheet_is_stored_once_not_cached(
    verified_episode, physician, login, tmp_path
):
    # Signed: the archival copy (core.SignedRecord, tests/infusion/test_signed_order_sheet.py).
    from core.models import SignedRecord

    client = login(physician)
    first = client.get(f"/infusion/episodes/{verified_episode.pk}/order-sheet.pdf").content
    assert client.get(f"/infusion/episodes/{verified_episode.pk}/order-sheet.pdf").content == first
    assert not list((tmp_path / "pdf-cache").glob("*.pdf"))
    assert SignedRecord.objects.get().pdf_sha256 == hashlib.sha256(first).hexdigest()


def _given_record_text(episode, nurse, viewer, login):
    services.order_administer(order=order_of(episode, OrderKind.DEXAMETHASONE), actor=nurse)
    end = run_infusion(episode, nurse)
    with time_machine.travel(end + timedelta(minutes=2), tick=False):
        return pdf_text(login(viewer).get(f"/infusion/episodes/{episode.pk}/infusion-record.pdf"))


def test_the_mar_shows_who_prescribed_and_who_verified_each_order_with_its_rules(
    verified_episode, nurse, physician, pharmacist, login
):
    text = _given_record_text(verified_episode, nurse, physician, login)
    mar = text[text.index("Medication administration record", text.index("Adverse reactions")) :]
    for kind in (OrderKind.MSC_IV, OrderKind.DEXAMETHASONE, OrderKind.ANTIPLATELET):
        order = order_of(verified_episode, kind)
        prescribed = order.signatures.get(meaning="prescribed")
        verified = order.signatures.get(meaning="verified")
        for signature in (prescribed, verified):
            when = timezone.localtime(signature.signed_at).strftime("%Y-%m-%d %H:%M")
            line = f"{signature.get_meaning_display()}: {signature.signer_name}, {when}"
            assert line in mar, line
    assert f"Prescribed by: {physician.get_full_name()}" in mar
    assert f"Verified by (pharmacist): {pharmacist.get_full_name()}" in mar
    assert mar.count("Prescribed by:") == 3 and mar.count("Verified by (pharmacist):") == 3
    for rule in ("B-PREMED-1 (R7, 2C)", "B-AP-1 (R7, 2C)", "B-DOSE-1 (R3, 1B)"):
        assert rule in mar, rule


def test_the_chinese_mar_shows_the_signatures_with_chinese_labels(
    verified_episode, nurse, physician, pharmacist, login
):
    physician.language = "zh-hans"
    physician.save()
    text = _given_record_text(verified_episode, nurse, physician, login)
    assert "开具医师" in text and "审核药师" in text  # prescribed by / verified by (pharmacist)
    assert "签名" in text and "规则" in text  # signatures / rules
    assert physician.get_full_name() in text and pharmacist.get_full_name() in text
    assert "B-PREMED-1 (R7, 2C)" in text


def test_order_instructions_cite_the_recommendation_and_grade(episode, physician, login):
    client = login(physician)
    body = client.get(f"/infusion/episodes/{episode.pk}/").content.decode()
    assert '<span class="rule-id">B-PREMED-1 (R7, 2C)</span> Before the MSC infusion' in body
    assert '<span class="rule-id">B-DOSE-1 (R3, 1B)</span>' in body
    text = pdf_text(client.get(f"/infusion/episodes/{episode.pk}/order-sheet.pdf"))
    assert "[B-PREMED-1 (R7, 2C)] Before the MSC infusion" in text
    assert "[B-DOSE-1 (R3, 1B)]" in text
    assert "[B-AP-1 (R7, 2C)] Once daily from" in text
