"""The signed eligibility checklist as PDF/A-3b, stored once (issue 17, items 5 and 6)."""

import hashlib
import json

import pytest

from core.models import AuditEvent, SignedRecord
from core.signed_records import canonical_json
from core.version import app_version
from screening import services, tasks
from tests import pdfa
from tests.factories import PASSWORD
from tests.screening.conftest import complete, start

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


@pytest.fixture
def signed(physician, labs):
    screening = complete(start(physician, labs), physician)
    return services.screening_sign(actor=physician, screening=screening, password=PASSWORD)


def _download(client, screening):
    response = client.get(f"/screening/{screening.pk}/checklist.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    return response


def test_the_signed_checklist_is_pdfa_3b_with_the_signed_content_embedded(login, physician, signed):
    body = _download(login(physician), signed).content

    assert pdfa.pdfa_identification(body) == ("3", "B")
    files = pdfa.embedded_files(body)
    assert list(files) == ["signed-record.json"]
    embedded = json.loads(files["signed-record.json"])
    assert embedded["signed_content"] == signed.signed_content()
    # The embedded content is exactly what the signature covers.
    assert hashlib.sha256(canonical_json(embedded["signed_content"])).hexdigest() == (
        signed.signature_hash
    )
    assert embedded["signature"]["signer"] == physician.get_full_name()
    assert embedded["signature"]["signer_role"] == "physician"
    assert embedded["signature"]["software_version"] == app_version()
    assert pdfa.associated_file_relationships(body) == {"signed-record.json": "/Source"}


def test_the_hash_on_the_page_is_the_embedded_files(login, physician, signed):
    body = _download(login(physician), signed).content
    embedded = pdfa.embedded_files(body)["signed-record.json"]
    page = pdfa.text(body).replace(" ", "")
    assert hashlib.sha256(embedded).hexdigest() in page
    stored = SignedRecord.objects.get(language="en")
    assert stored.signed_sha256 == hashlib.sha256(embedded).hexdigest()
    assert stored.signed_json.encode("utf-8") == embedded


def test_the_signer_role_and_software_version_are_printed(login, physician, signed):
    text = pdfa.text(_download(login(physician), signed).content)
    assert "Role: Physician (investigator)" in text
    assert f"Software version: {app_version()}" in text


def test_a_second_download_serves_the_stored_bytes_and_renders_nothing(
    login, physician, nurse, signed, settings
):
    first = _download(login(physician), signed)
    stored = SignedRecord.objects.get()
    assert bytes(stored.pdf) == first.content
    assert stored.pdf_sha256 == hashlib.sha256(first.content).hexdigest()
    assert first["ETag"] == f'"{stored.pdf_sha256}"'

    # Any render now would be refused: what is served is the stored file.
    settings.PDF_MAX_HTML_BYTES = 1
    again = _download(login(nurse), signed)

    assert again.content == first.content
    assert SignedRecord.objects.count() == 1
    assert AuditEvent.objects.filter(action="signed_record_store").count() == 1
    exports = AuditEvent.objects.filter(action="export", object_id=str(signed.pk))
    assert [e.new_values["pdf_sha256"] for e in exports] == [stored.pdf_sha256] * 2


def test_the_signature_stores_it_in_every_language_after_commit(
    physician, labs, login, settings, django_capture_on_commit_callbacks
):
    screening = complete(start(physician, labs), physician)
    with django_capture_on_commit_callbacks() as callbacks:
        services.screening_sign(actor=physician, screening=screening, password=PASSWORD)
    assert any("_enqueue_archive" in cb.__qualname__ for cb in callbacks)

    tasks.archive_signed_checklist.apply(args=[screening.pk])  # what the worker runs

    stored = SignedRecord.objects.filter(kind="screening.checklist", object_id=screening.pk)
    assert sorted(stored.values_list("language", flat=True)) == ["en", "zh-hans"]
    event = AuditEvent.objects.get(action="signed_record_store", new_values__language="en")
    assert event.actor is None
    assert event.new_values["pdf_sha256"] == stored.get(language="en").pdf_sha256
    settings.PDF_MAX_HTML_BYTES = 1  # nothing is rendered on download
    body = _download(login(physician), screening).content
    assert body == bytes(stored.get(language="en").pdf)


def test_a_chinese_reader_gets_the_chinese_copy_with_the_same_embedded_record(
    login, physician, nurse, signed
):
    nurse.language = "zh-hans"
    nurse.save()
    chinese = _download(login(nurse), signed).content
    english = _download(login(physician), signed).content
    assert "未签名草稿" not in pdfa.text(chinese)
    assert pdfa.pdfa_identification(chinese) == ("3", "B")
    assert pdfa.embedded_files(chinese) == pdfa.embedded_files(english)
    assert SignedRecord.objects.count() == 2


def test_a_superseded_version_keeps_its_copy_and_gets_one_saying_superseded(
    login, physician, signed
):
    client = login(physician)
    first = _download(client, signed).content
    services.screening_amend(actor=physician, screening=signed, reason="ANC repeated")
    signed.refresh_from_db()

    later = _download(client, signed).content

    assert later != first
    assert "Superseded" in pdfa.text(later)
    assert pdfa.embedded_files(later) == pdfa.embedded_files(first)
    assert SignedRecord.objects.filter(object_id=signed.pk).count() == 2  # the first stays


def test_a_draft_is_not_stored(login, nurse, labs):
    screening = start(nurse, labs)
    body = _download(login(nurse), screening).content
    assert "UNSIGNED DRAFT" in pdfa.text(body)
    assert pdfa.embedded_files(body) == {}
    assert not SignedRecord.objects.exists()


def test_the_database_refuses_to_change_or_delete_a_stored_copy(login, physician, signed):
    from django.db import DatabaseError, transaction

    _download(login(physician), signed)
    stored = SignedRecord.objects.get()
    with pytest.raises(DatabaseError, match="stored once"), transaction.atomic():
        SignedRecord.objects.filter(pk=stored.pk).update(pdf=b"%PDF-forged")
    with pytest.raises(DatabaseError, match="stored once"), transaction.atomic():
        SignedRecord.objects.filter(pk=stored.pk).delete()
    assert bytes(SignedRecord.objects.get().pdf) == bytes(stored.pdf)


def test_the_auditor_lists_the_stored_copies_and_the_sysadmin_cannot(
    login, physician, auditor, sysadmin, signed
):
    _download(login(physician), signed)
    stored = SignedRecord.objects.get()
    page = login(auditor).get("/django-admin/core/signedrecord/")
    assert page.status_code == 200
    assert stored.pdf_sha256 in page.content.decode()
    assert login(sysadmin).get("/django-admin/core/signedrecord/").status_code == 403
