"""The signed MSC order sheet as PDF/A-3b, stored once (issue 17, items 5 and 6)."""

import hashlib
import json

import pytest

from core.models import AuditEvent, SignedRecord
from core.version import app_version
from infusion import notifications, services
from infusion.models import OrderKind, Signature
from tests import pdfa
from tests.infusion.conftest import order_of, verify_all

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_pdf_cache(settings, tmp_path):
    settings.VAR_DIR = tmp_path


def _download(client, episode):
    response = client.get(f"/infusion/episodes/{episode.pk}/order-sheet.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    return response


def test_the_signed_order_sheet_is_pdfa_3b_with_the_signed_orders_embedded(
    login, physician, pharmacist, verified_episode
):
    body = _download(login(physician), verified_episode).content

    assert pdfa.pdfa_identification(body) == ("3", "B")
    embedded = json.loads(pdfa.embedded_files(body)["signed-record.json"])
    assert embedded["episode"] == verified_episode.pk
    orders = {o.pk: o for o in verified_episode.orders.all()}
    assert {item["order"] for item in embedded["orders"]} == set(orders)
    for item in embedded["orders"]:
        order = orders[item["order"]]
        # The content as signed: each signature's hash is the SHA-256 of this content.
        assert item["content"] == order.content()
        assert {s["content_sha256"] for s in item["signatures"]} == {order.content_hash()}
        assert {(s["meaning"], s["signer_role"]) for s in item["signatures"]} == {
            ("prescribed", "physician"),
            ("verified", "pharmacist"),
        }
        assert {s["software_version"] for s in item["signatures"]} == {app_version()}


def test_the_hash_on_the_page_is_the_embedded_files(login, physician, verified_episode):
    body = _download(login(physician), verified_episode).content
    embedded = pdfa.embedded_files(body)["signed-record.json"]
    digest = hashlib.sha256(embedded).hexdigest()
    assert digest in pdfa.text(body).replace(" ", "")
    assert SignedRecord.objects.get(kind="infusion.order_sheet").signed_sha256 == digest


def test_each_signature_shows_the_signers_role_and_software_version(
    login, physician, pharmacist, verified_episode
):
    text = pdfa.text(_download(login(physician), verified_episode).content)
    assert f"Prescribed by: {physician.get_full_name()} (Physician)" in text
    assert f"Verified by (pharmacist): {pharmacist.get_full_name()} (Pharmacist)" in text
    assert f"software {app_version()}" in text


def test_a_second_download_serves_the_same_bytes_and_renders_nothing(
    login, physician, nurse, verified_episode, settings
):
    first = _download(login(physician), verified_episode).content
    settings.PDF_MAX_HTML_BYTES = 1  # any render now would be refused
    again = _download(login(nurse), verified_episode).content
    assert again == first
    stored = SignedRecord.objects.get()
    assert bytes(stored.pdf) == first
    assert stored.pdf_sha256 == hashlib.sha256(first).hexdigest()
    assert AuditEvent.objects.filter(action="signed_record_store").count() == 1


def test_the_signature_task_stores_it_and_a_verification_adds_a_copy(
    physician, pharmacist, signed_episode, login, settings
):
    notifications.prerender_order_sheet(signed_episode.pk)  # what the task after signing runs
    signed = SignedRecord.objects.filter(object_id=signed_episode.pk)
    assert sorted(signed.values_list("language", flat=True)) == ["en", "zh-hans"]
    prescribed_only = json.loads(signed.get(language="en").signed_json)

    verify_all(signed_episode, pharmacist)
    notifications.prerender_order_sheet(signed_episode.pk)

    assert signed.count() == 4  # the first copies stay beside the verified ones
    settings.PDF_MAX_HTML_BYTES = 1
    body = _download(login(physician), signed_episode).content
    latest = json.loads(pdfa.embedded_files(body)["signed-record.json"])
    assert latest != prescribed_only
    assert all(len(item["signatures"]) == 2 for item in latest["orders"])


def test_an_unsigned_order_sheet_is_not_stored(login, physician, episode):
    body = _download(login(physician), episode).content
    assert pdfa.embedded_files(body) == {}
    assert not SignedRecord.objects.exists()


def test_a_cancelled_signed_episode_gets_a_copy_marked_cancelled(login, physician, signed_episode):
    client = login(physician)
    before = _download(client, signed_episode).content
    services.episode_cancel(episode=signed_episode, actor=physician, reason="declined")
    after = pdfa.text(_download(client, signed_episode).content)
    assert "CANCELLED" in after
    assert "CANCELLED" not in pdfa.text(before)
    assert SignedRecord.objects.count() == 2


def test_a_voided_signature_is_not_in_the_embedded_record(login, physician, signed_episode):
    dexa = order_of(signed_episode, OrderKind.DEXAMETHASONE)
    services.order_edit(order=dexa, actor=physician, changes={"note": "with food"}, reason="x")
    assert Signature.objects.filter(order=dexa, voided_at__isnull=False).exists()
    body = _download(login(physician), signed_episode).content
    embedded = json.loads(pdfa.embedded_files(body)["signed-record.json"])
    assert dexa.pk not in {item["order"] for item in embedded["orders"]}
