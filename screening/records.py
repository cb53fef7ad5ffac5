"""The signed eligibility checklist, stored once as PDF/A-3b (``core.signed_records``).

A screening that carries a signature (signed, or later superseded by an amendment) is
printed from here: its signed document is what the investigator's signature covers
(``Screening.signed_content()``: the facts, the evaluation, the protocol version) with the
signature itself (signer, role, time, meaning, hash, software version). A draft is printed
as before, watermarked UNSIGNED DRAFT, and stored nowhere.
"""

from django.conf import settings
from django.utils.translation import gettext as _

from core import signed_records

from . import selectors
from .evaluation import window_of
from .models import INDICATION_NAMES, SIGNATURE_MEANING, Screening

KIND = "screening.checklist"
TEMPLATE = "screening/pdf/checklist.html"


def is_signed(screening):
    return bool(screening.signature_hash and screening.signed_at)


def document(screening):
    """The checklist's signed document (``core.signed_records.SignedDocument``)."""
    return signed_records.SignedDocument(
        kind=KIND,
        object_id=screening.pk,
        patient_id=screening.patient_id,
        content={
            "record": KIND,
            "screening": {
                "id": screening.pk,
                "series": str(screening.series),
                "version": screening.version,
                "indication": screening.indication,
            },
            "patient": {
                "id": screening.patient_id,
                "hospital_number": screening.patient.hospital_number,
            },
            # Exactly what the signature covers: SHA-256 of its canonical JSON is the
            # signature's hash (Screening.content_hash).
            "signed_content": screening.signed_content(),
            "signature": {
                "signer": screening.signer_name,
                "signer_id": screening.signed_by_id,
                "signer_role": screening.signer_role,
                "investigator": True,  # only investigators sign (screening.services.can_sign)
                "signed_at": screening.signed_at.isoformat(),
                "meaning": screening.signature_meaning,
                "signature_sha256": screening.signature_hash,
                "software_version": screening.signed_software_version,
            },
        },
        signed_at=screening.signed_at,
    )


def pdf_rows(criteria):
    rows = []
    for c in criteria:
        values = [
            (key, ", ".join(map(str, v)) if isinstance(v, list) else _value_text(v))
            for key, v in c["values"].items()
        ]
        rows.append({**c, "value_list": values})
    return rows


def _value_text(value):
    if isinstance(value, dict):
        return "; ".join(f"{k} {_value_text(v)}" for k, v in value.items())
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    return "" if value is None else str(value)


def pdf_context(screening):
    """What the checklist prints, in the active language; the same for every reader."""
    evaluation = screening.evaluation or {}
    return {
        "screening": screening,
        "patient": screening.patient,
        "indication_name": INDICATION_NAMES[screening.indication],
        "criteria_rows": pdf_rows(selectors.criteria(screening)),
        "missing": selectors.missing_items(screening),
        "failing": evaluation.get("failing", []),
        "signature_meaning": _(SIGNATURE_MEANING),
        "signer_role": signed_records.role_label(screening.signer_role, investigator=True),
        "software_version": screening.signed_software_version or _("not recorded"),
        "ward_time_zone": settings.TIME_ZONE,
        # The "during screening" window the evaluation used: the ward's setting (≤ 28).
        "window_days": window_of(screening.protocol_version),
    }


def store(screening, language, *, actor=None):
    """The stored PDF/A-3b of a signed checklist in ``language`` (rendered if new)."""
    return signed_records.store(
        document(screening),
        template=TEMPLATE,
        build_context=lambda: pdf_context(screening),
        language=language,
        actor=actor,
        description="Signed eligibility assessment (JSON)",
    )


def store_every_language(screening_id):
    """After a signature (the Celery task): the checklist in every language, stored."""
    screening = (
        Screening.objects.select_related("patient", "patient__ward").filter(pk=screening_id).first()
    )
    if screening is None or not is_signed(screening):
        return
    for language, _name in settings.LANGUAGES:
        store(screening, language)
