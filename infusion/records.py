"""The signed MSC order sheet, stored once as PDF/A-3b (``core.signed_records``).

An episode whose orders carry a signature (prescribed, verified, a second physician's
hold override) prints its order sheet from here. Its signed document lists each signed
order: its content as signed (``Order.content()``: what a signature's ``content_hash``
covers) and its live signatures (signer, role, meaning, time, hash, software version).
Voided signatures are not in it. An episode with no signature yet prints as before,
stored nowhere.
"""

from django.conf import settings

from core import signed_records

from . import selectors, services, verification

KIND = "infusion.order_sheet"
TEMPLATE = "infusion/pdf/order_sheet.html"


def _live_signatures(order):
    # The orders come with their signatures prefetched (selectors.episode_orders).
    return [s for s in order.signatures.all() if s.voided_at is None]


def document(episode, orders):
    """The order sheet's signed document, or None while nothing on it is signed."""
    signed = []
    for order in orders:
        live = _live_signatures(order)
        if not live:
            continue
        signed.append(
            {
                "order": order.pk,
                "content": order.content(),
                "content_sha256": order.content_hash(),
                "signatures": [
                    {
                        "meaning": s.meaning,
                        "signer": s.signer_name,
                        "signer_id": s.signer_id,
                        "signer_role": s.signer_role,
                        "signed_at": s.signed_at.isoformat(),
                        "content_sha256": s.content_hash,
                        "software_version": s.software_version,
                    }
                    for s in live
                ],
            }
        )
    if not signed:
        return None
    return signed_records.SignedDocument(
        kind=KIND,
        object_id=episode.pk,
        patient_id=episode.patient_id,
        content={
            "record": KIND,
            "episode": episode.pk,
            "patient": {
                "id": episode.patient_id,
                "hospital_number": episode.patient.hospital_number,
            },
            "orders": signed,
        },
        signed_at=max(s.signed_at for order in orders for s in _live_signatures(order)),
    )


def store(episode, language, *, build_context, actor=None):
    """The stored PDF/A-3b of the signed order sheet in ``language`` (rendered if new), or
    None while nothing on it is signed. ``build_context()`` gives the sheet's context
    (``pdf_context`` below); it is called in ``language``."""
    signed = document(episode, selectors.episode_orders(episode))
    if signed is None:
        return None
    return signed_records.store(
        signed,
        template=TEMPLATE,
        build_context=lambda: {**build_context(), "ward_time_zone": settings.TIME_ZONE},
        language=language,
        actor=actor,
        description="Signed MSC orders (JSON)",
    )


def pdf_context(episode):
    """What the order sheet prints (views, the pre-render task and the stored record)."""
    orders = selectors.episode_orders(episode)
    checks, overrides = verification.episode_check_views(episode.pk)
    return {
        # C-VERIFY-1 / C-OVR-1: the checks and the overrides, on every printed record.
        "checks": checks,
        "overrides": overrides,
        "episode": episode,
        "patient": episode.patient,
        "plan": episode.plan,
        "rows": selectors.order_rows(orders),
        "mar": selectors.mar_lines(orders),
        "vitals": selectors.vitals_rows(episode),
        "ranges": selectors.vital_ranges(),
        "reactions": list(episode.reactions.select_related("recorded_by")),
        "sae_reports": list(episode.sae_reports.select_related("reported_by", "reaction")),
        "rate_steps": list(episode.rate_steps.select_related("recorded_by")),
        # B-CONSENT-1 and B-SITE-1 on the order sheet.
        "consent": services.consent_of(episode),
        "ethics_approval_number": settings.ETHICS_APPROVAL_NUMBER,
    }
