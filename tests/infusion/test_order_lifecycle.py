"""Order life cycle on the server: every transition, allowed and refused, per role."""

from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from core.models import AuditEvent
from infusion import services
from infusion.models import OrderKind, OrderStatus, Signature, SignatureMeaning
from tests.factories import PASSWORD, make_user
from tests.infusion.conftest import order_of, record_consent, sign_all, verify_all

pytestmark = pytest.mark.django_db


def test_the_prescriber_signs_with_the_password_and_the_signature_keeps_meaning_and_hash(
    episode, physician
):
    order = order_of(episode, OrderKind.DEXAMETHASONE)
    record_consent(episode, physician)  # B-CONSENT-1: before any order is signed
    services.order_sign(order=order, actor=physician, password=PASSWORD)
    order.refresh_from_db()
    assert order.status == OrderStatus.SIGNED
    signature = order.signatures.get()
    assert signature.meaning == SignatureMeaning.PRESCRIBED
    assert signature.signer == physician
    assert signature.content_hash == order.content_hash() and len(signature.content_hash) == 64
    event = AuditEvent.objects.get(action="order_sign")
    assert event.old_values == {"status": "draft", "version": 1}
    assert event.new_values["status"] == "signed"
    assert event.new_values["content_hash"] == signature.content_hash


def test_a_wrong_password_signs_nothing_and_is_audited(episode, physician):
    order = order_of(episode, OrderKind.DEXAMETHASONE)
    with pytest.raises(services.ActionRefused) as exc:
        services.order_sign(order=order, actor=physician, password="wrong-password")
    assert exc.value.code == "password"
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT and not order.signatures.exists()
    assert AuditEvent.objects.filter(action="signature_refused", actor=physician).exists()


def test_nurses_pharmacists_and_the_admin_cannot_sign(episode, nurse, pharmacist, auditor):
    order = order_of(episode, OrderKind.DEXAMETHASONE)
    for user in (nurse, pharmacist, auditor):
        with pytest.raises(PermissionDenied):
            services.order_sign(order=order, actor=user, password=PASSWORD)


def test_only_a_draft_can_be_signed(signed_episode, physician):
    order = order_of(signed_episode, OrderKind.DEXAMETHASONE)
    with pytest.raises(services.ActionRefused) as exc:
        services.order_sign(order=order, actor=physician, password=PASSWORD)
    assert exc.value.code == "state"


def test_a_pharmacist_verifies_a_signed_order(signed_episode, pharmacist):
    order = order_of(signed_episode, OrderKind.MSC_IV)
    services.order_verify(order=order, actor=pharmacist, password=PASSWORD)
    order.refresh_from_db()
    assert order.status == OrderStatus.VERIFIED
    verified = order.signatures.get(meaning=SignatureMeaning.VERIFIED)
    assert verified.signer == pharmacist and verified.content_hash == order.content_hash()
    assert AuditEvent.objects.filter(action="order_verify", object_id=str(order.pk)).exists()


def test_a_draft_cannot_be_verified(episode, pharmacist):
    order = order_of(episode, OrderKind.MSC_IV)
    with pytest.raises(services.ActionRefused) as exc:
        services.order_verify(order=order, actor=pharmacist, password=PASSWORD)
    assert exc.value.code == "state"


def test_physicians_and_nurses_cannot_verify(signed_episode, physician2, nurse):
    order = order_of(signed_episode, OrderKind.MSC_IV)
    for user in (physician2, nurse):
        with pytest.raises(PermissionDenied):
            services.order_verify(order=order, actor=user, password=PASSWORD)


def test_the_prescriber_cannot_verify_their_own_order(episode, ward_a):
    # A user who may both sign and verify (e.g. a physician-pharmacist) is still refused.
    from django.contrib.auth.models import Permission

    both = make_user("physician", ward_a, username="docpharm")
    both.user_permissions.add(Permission.objects.get(codename="verify_order"))
    order = order_of(episode, OrderKind.DEXAMETHASONE)
    record_consent(episode, episode.opened_by)
    services.order_sign(order=order, actor=both, password=PASSWORD)
    both = type(both).objects.get(pk=both.pk)  # drop the permission cache
    with pytest.raises(services.ActionRefused) as exc:
        services.order_verify(order=order, actor=both, password=PASSWORD)
    assert exc.value.code == "own_order"
    order.refresh_from_db()
    assert order.status == OrderStatus.SIGNED
    # The refused attempt is on the record (a signed-in user's refusal stays in the chain).
    event = AuditEvent.objects.get(action="verify_refused", actor=both)
    assert event.object_id == str(order.pk) and "own order" in event.reason


def test_a_second_verification_is_refused_with_who_did_it(signed_episode, pharmacist, pharmacist2):
    order = order_of(signed_episode, OrderKind.DEXAMETHASONE)
    services.order_verify(order=order, actor=pharmacist, password=PASSWORD)
    with pytest.raises(services.ActionRefused) as exc:
        services.order_verify(order=order, actor=pharmacist2, password=PASSWORD)
    assert exc.value.code == "already_verified"
    assert pharmacist.get_full_name() in exc.value.message


def test_the_msc_order_is_not_verified_while_the_product_is_not_released(
    weighed_patient, physician, pharmacist
):
    from tests.infusion.conftest import open_episode

    episode = open_episode(weighed_patient, physician, coa_virus=None)
    assert episode.release_status == "pending"
    sign_all(episode, physician)
    with pytest.raises(services.ActionRefused) as exc:
        services.order_verify(
            order=order_of(episode, OrderKind.MSC_IV), actor=pharmacist, password=PASSWORD
        )
    # C-VERIFY-1: the release check stops it, named with its rules, not overridable.
    assert exc.value.code == "checks"
    assert [c.key for c in exc.value.checks] == ["release"]
    assert "B-QC-1" in exc.value.message


def test_a_pharmacist_rejects_with_a_reason(signed_episode, pharmacist):
    order = order_of(signed_episode, OrderKind.ANTIPLATELET)
    with pytest.raises(services.ActionRefused):
        services.order_reject(order=order, actor=pharmacist, reason="  ")
    services.order_reject(
        order=order, actor=pharmacist, reason="Allergic to aspirin: use clopidogrel"
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.REJECTED and order.rejected_by == pharmacist
    event = AuditEvent.objects.get(action="order_reject")
    assert event.reason == "Allergic to aspirin: use clopidogrel"
    assert event.old_values["status"] == "signed" and event.new_values["status"] == "rejected"


def test_a_verified_order_cannot_be_rejected(verified_episode, pharmacist):
    with pytest.raises(services.ActionRefused):
        services.order_reject(
            order=order_of(verified_episode, OrderKind.ANTIPLATELET), actor=pharmacist, reason="x"
        )


def test_the_physician_cancels_with_a_reason_but_not_after_it_was_given(
    verified_episode, physician, nurse
):
    dexa = order_of(verified_episode, OrderKind.DEXAMETHASONE)
    services.order_administer(order=dexa, actor=nurse)
    with pytest.raises(services.ActionRefused):
        services.order_cancel(order=dexa, actor=physician, reason="not needed")
    ap = order_of(verified_episode, OrderKind.ANTIPLATELET)
    with pytest.raises(services.ActionRefused):
        services.order_cancel(order=ap, actor=physician, reason="")
    services.order_cancel(order=ap, actor=physician, reason="started on warfarin")
    ap.refresh_from_db()
    assert ap.status == OrderStatus.CANCELLED and ap.cancel_reason == "started on warfarin"


def test_nurses_cannot_cancel_orders(signed_episode, nurse):
    with pytest.raises(PermissionDenied):
        services.order_cancel(
            order=order_of(signed_episode, OrderKind.DEXAMETHASONE), actor=nurse, reason="x"
        )


def test_editing_a_signed_order_voids_its_signatures(verified_episode, physician, pharmacist):
    order = order_of(verified_episode, OrderKind.DEXAMETHASONE)
    services.order_edit(
        order=order, actor=physician, changes={"note": "Give slowly over 2 min"}, reason="clarify"
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT
    assert order.note == "Give slowly over 2 min"
    assert Signature.objects.filter(order=order, voided_at__isnull=True).count() == 0
    assert Signature.objects.filter(order=order, voided_at__isnull=False).count() == 2
    event = AuditEvent.objects.get(action="order_edit")
    assert event.old_values["status"] == "verified"
    assert event.new_values == {
        "note": "Give slowly over 2 min",
        "version": event.new_values["version"],
        "status": "draft",
        "signatures_voided": True,
    }
    assert event.reason == "clarify"
    assert AuditEvent.objects.filter(action="signature_void").count() == 2
    # Signed again and verified again, by the same people: a new cycle.
    services.order_sign(order=order, actor=physician, password=PASSWORD)
    services.order_verify(order=order, actor=pharmacist, password=PASSWORD)


def test_an_edit_needs_a_reason_and_keeps_plan_fields_to_the_episode(signed_episode, physician):
    order = order_of(signed_episode, OrderKind.DEXAMETHASONE)
    with pytest.raises(services.ActionRefused):
        services.order_edit(order=order, actor=physician, changes={"note": "x"}, reason="")
    with pytest.raises(services.ActionRefused) as exc:
        services.order_edit(order=order, actor=physician, changes={"dose": 10}, reason="more")
    assert exc.value.code == "fields"


def test_a_nurse_gives_a_verified_order_and_completes_it(verified_episode, nurse):
    dexa = order_of(verified_episode, OrderKind.DEXAMETHASONE)
    record = services.order_administer(order=dexa, actor=nurse, note="left forearm")
    dexa.refresh_from_db()
    assert dexa.status == OrderStatus.ADMINISTERED
    assert record.given_by == nurse and record.dose == dexa.dose
    with pytest.raises(services.ActionRefused):
        services.order_administer(order=dexa, actor=nurse)
    services.order_complete(order=dexa, actor=nurse)
    dexa.refresh_from_db()
    assert dexa.status == OrderStatus.COMPLETED
    with pytest.raises(services.ActionRefused):
        services.order_complete(order=dexa, actor=nurse)


def test_an_order_that_is_not_verified_cannot_be_given(signed_episode, nurse):
    with pytest.raises(services.ActionRefused) as exc:
        services.order_administer(
            order=order_of(signed_episode, OrderKind.DEXAMETHASONE), actor=nurse
        )
    assert exc.value.code == "state"


def test_physicians_and_pharmacists_do_not_record_administrations(
    verified_episode, physician, pharmacist
):
    for user in (physician, pharmacist):
        with pytest.raises(PermissionDenied):
            services.order_administer(
                order=order_of(verified_episode, OrderKind.DEXAMETHASONE), actor=user
            )


def test_the_msc_order_is_given_on_the_bedside_chart_not_the_mar(verified_episode, nurse):
    with pytest.raises(services.ActionRefused) as exc:
        services.order_administer(order=order_of(verified_episode, OrderKind.MSC_IV), actor=nurse)
    assert exc.value.code == "chart"


def test_the_antiplatelet_course_is_given_once_a_day_inside_the_course(verified_episode, nurse):
    ap = order_of(verified_episode, OrderKind.ANTIPLATELET)
    first = timezone.make_aware(datetime.combine(ap.first_day, time(8, 0)))
    with time_machine.travel(first, tick=False):
        services.order_administer(order=ap, actor=nurse)
        with pytest.raises(services.ActionRefused) as exc:
            services.order_administer(order=ap, actor=nurse)
        assert exc.value.code == "course"
    with time_machine.travel(first + timedelta(days=1), tick=False):
        services.order_administer(order=ap, actor=nurse)
    ap.refresh_from_db()
    assert ap.status == OrderStatus.ADMINISTERED and ap.administrations.count() == 2
    with time_machine.travel(first - timedelta(days=1), tick=False):
        with pytest.raises(services.ActionRefused) as exc:
            services.order_administer(order=ap, actor=nurse)
        assert exc.value.code == "course"


def test_every_order_write_is_audited_with_the_patient(verified_episode):
    actions = set(
        AuditEvent.objects.filter(patient_id=verified_episode.patient_id).values_list(
            "action", flat=True
        )
    )
    assert {"episode_open", "order_create", "order_sign", "order_verify"} <= actions


def test_verification_reads_the_whole_flow(episode, physician, pharmacist):
    sign_all(episode, physician)
    verify_all(episode, pharmacist)
    assert set(episode.orders.values_list("status", flat=True)) == {OrderStatus.VERIFIED}


# --- Refused transitions: the message the user reads, and nothing changed ------------------


def _refused(call, order, *, code, message, audited=0):
    """`call` is refused with `code` and `message`; the order's status and version stand,
    and exactly `audited` events (the refusal's own) were written."""
    before = type(order).objects.get(pk=order.pk)
    signatures = before.signatures.count()
    events = AuditEvent.objects.count()
    with pytest.raises(services.ActionRefused) as exc:
        call()
    assert exc.value.code == code
    assert exc.value.message == message
    after = type(order).objects.get(pk=order.pk)
    assert (after.status, after.version) == (before.status, before.version)
    assert after.signatures.count() == signatures
    assert AuditEvent.objects.count() == events + audited
    return after


def test_a_draft_cannot_be_rejected(episode, pharmacist):
    order = order_of(episode, OrderKind.DEXAMETHASONE)
    _refused(
        lambda: services.order_reject(order=order, actor=pharmacist, reason="wrong drug"),
        order,
        code="state",
        message="Only a signed order can be rejected; this one is draft.",
    )


@pytest.fixture
def rejected_order(signed_episode, pharmacist):
    order = order_of(signed_episode, OrderKind.DEXAMETHASONE)
    services.order_reject(order=order, actor=pharmacist, reason="dose unclear")
    order.refresh_from_db()
    return order


@pytest.fixture
def cancelled_order(signed_episode, physician):
    order = order_of(signed_episode, OrderKind.DEXAMETHASONE)
    services.order_cancel(order=order, actor=physician, reason="not needed")
    order.refresh_from_db()
    return order


@pytest.mark.parametrize(
    "fixture, status", [("rejected_order", "rejected"), ("cancelled_order", "cancelled")]
)
def test_a_rejected_or_cancelled_order_cannot_be_signed_verified_or_given(
    fixture, status, physician, pharmacist, nurse, request
):
    order = request.getfixturevalue(fixture)
    assert order.status == status
    _refused(
        lambda: services.order_sign(order=order, actor=physician, password=PASSWORD),
        order,
        code="state",
        message=f"Only a draft order can be signed; this one is {status}.",
    )
    _refused(
        lambda: services.order_verify(order=order, actor=pharmacist, password=PASSWORD),
        order,
        code="state",
        message=f"Only a signed order can be verified; this one is {status}.",
    )
    _refused(
        lambda: services.order_administer(order=order, actor=nurse),
        order,
        code="state",
        message=f"Only a verified order can be given; this one is {status}.",
    )
    assert not order.administrations.exists()


def test_a_verified_order_not_yet_given_cannot_be_completed(verified_episode, nurse):
    order = order_of(verified_episode, OrderKind.DEXAMETHASONE)
    _refused(
        lambda: services.order_complete(order=order, actor=nurse),
        order,
        code="state",
        message="Only an administered order can be completed; this one is verified.",
    )


def test_a_completed_order_cannot_be_cancelled(verified_episode, nurse, physician):
    order = order_of(verified_episode, OrderKind.DEXAMETHASONE)
    services.order_administer(order=order, actor=nurse)
    services.order_complete(order=order, actor=nurse)
    order.refresh_from_db()
    after = _refused(
        lambda: services.order_cancel(order=order, actor=physician, reason="changed my mind"),
        order,
        code="state",
        message="This order is completed and can no longer be cancelled.",
    )
    assert after.status == OrderStatus.COMPLETED and after.cancel_reason == ""


def test_an_order_changed_behind_its_signature_is_not_verified(signed_episode, pharmacist):
    # Content changed without order_edit (a direct database change, which the ORM refuses):
    # the prescriber's signature no longer covers what the pharmacist would verify.
    from django.db import connection

    from infusion.models import Order

    order = order_of(signed_episode, OrderKind.DEXAMETHASONE)
    assert Order._meta.db_table == "infusion_order"
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE infusion_order SET note = %s WHERE id = %s",
            ["changed after signing", order.pk],
        )
    after = _refused(
        lambda: services.order_verify(order=order, actor=pharmacist, password=PASSWORD),
        order,
        code="hash",
        message="The order changed after it was signed; it must be signed again.",
        audited=1,
    )
    assert after.status == OrderStatus.SIGNED
    assert not after.signatures.filter(meaning=SignatureMeaning.VERIFIED).exists()
    # The attempt on a record changed behind its signature is on the audit trail.
    event = AuditEvent.objects.latest("seq")
    assert (event.action, event.reason) == ("signature_refused", "content changed after signing")
    assert event.actor == pharmacist and event.object_id == str(order.pk)
