"""Signed records stored once as archival PDFs, PDF/A-3b, with the signed document
embedded (issue 17): the eligibility checklist (``screening.records``) and the MSC order
sheet (``infusion.records``).

- The signed document is JSON: the content the signatures cover, and who signed, when, in
  which role, with which software. It is canonical (sorted keys, no spaces, UTF-8), so its
  SHA-256 can be recomputed by anyone who extracts it. It is embedded in the PDF as
  ``signed-record.json`` (a PDF/A-3 associated file, relationship Source), and its
  SHA-256 is printed on the page.
- A page is rendered once. The PDF, its SHA-256 and the SHA-256 of the page's HTML are
  stored (``core.SignedRecord``; the database refuses UPDATE and DELETE on it). A download
  of the same page (same record, language and HTML) serves the stored bytes and renders
  nothing. A page that changes after the signature (an amendment supersedes the
  checklist, a later signature or a cancellation changes the order sheet) is stored as a
  new row beside the earlier ones, which stay.
- Written when the record is signed: a Celery task after the signature's commit renders
  every language. A download that finds nothing stored yet (the task has not run, the
  broker was down) renders and stores it then.
- Each stored PDF is audited (``signed_record_store``: the record, language, both hashes,
  and the software version that rendered it).
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from . import audit
from .models import Role, SignedRecord
from .pdf import archival_pdf
from .version import app_version

FILENAME = "signed-record.json"
VARIANT = "PDF/A-3b"


def canonical_json(value):
    """The bytes a signed document is stored, embedded and hashed as."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def sha256(data):
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class SignedDocument:
    """A record's signed document: ``content`` is JSON-ready; ``signed_at`` the latest
    signature (the embedded file's date)."""

    kind: str
    object_id: int
    patient_id: int
    content: dict
    signed_at: datetime

    @property
    def json_bytes(self):
        return canonical_json(self.content)

    @property
    def sha256(self):
        return sha256(self.json_bytes)


def role_label(role, *, investigator=False):
    """The signer's role as printed ("Physician (investigator)"); "not recorded" for a
    signature from before roles were kept with it."""
    if not role or role not in Role.values:
        return _("not recorded")
    label = str(Role(role).label)
    return f"{label} ({_('investigator')})" if investigator else label


def store(document, *, template, build_context, language, actor=None, description=""):
    """The stored PDF/A-3b of ``document``'s page in ``language``, rendered now only if
    this exact page was never stored. ``build_context()`` is called in ``language`` and
    gives the template's context; ``archive`` (the document's hash and file name) is
    added to it for the page to print."""
    with translation.override(language):
        context = {
            **build_context(),
            "archive": {"sha256": document.sha256, "filename": FILENAME, "variant": VARIANT},
        }
        html = render_to_string(template, context)
    html_sha256 = sha256(html.encode("utf-8"))
    key = {
        "kind": document.kind,
        "object_id": document.object_id,
        "language": language,
        "html_sha256": html_sha256,
    }
    found = SignedRecord.objects.filter(**key).first()
    if found is not None:
        return found
    pdf = archival_pdf(
        html, attachments=[(FILENAME, document.json_bytes, description, document.signed_at)]
    )
    record = SignedRecord(
        **key,
        patient_id=document.patient_id,
        signed_json=document.json_bytes.decode("utf-8"),
        signed_sha256=document.sha256,
        pdf=pdf,
        pdf_sha256=sha256(pdf),
        software_version=app_version(),
        created_at=timezone.now(),
    )
    try:
        with transaction.atomic():
            record.save(force_insert=True)
            audit.record(
                "signed_record_store",
                actor=actor,
                obj=record,
                patient_id=document.patient_id,
                new={
                    "kind": document.kind,
                    "object_id": document.object_id,
                    "language": language,
                    "signed_sha256": record.signed_sha256,
                    "pdf_sha256": record.pdf_sha256,
                    "software_version": record.software_version,
                },
            )
    except IntegrityError:  # stored by another process meanwhile: theirs is the one
        return SignedRecord.objects.get(**key)
    return record


def response(record, filename):
    """The stored PDF as a download; its SHA-256 as the ETag."""
    body = bytes(record.pdf)
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["ETag"] = f'"{record.pdf_sha256}"'
    return response
