"""C-VERIFY-1, C-DOSE-1 and C-OVR-1 through the services: the pharmacist's verification is
refused while a check on the episode fails, an override needs a reason and a second
physician's signature (not the prescriber), and some failures no override can lift."""

import pytest
from django.core.exceptions import PermissionDenied

from core.models import AuditEvent
from infusion import services
from infusion.demo import certificate_data
from infusion.models import CheckOverride, OrderKind, OrderStatus
from infusion.services import ActionRefused, ChecksFailed
from tests.factories import PASSWORD, add_weight, make_patient, make_user

from .conftest import open_episode, order_of, sign_all

pytestmark = pytest.mark.django_db


def opened(patient, physician, dose_cells, measured, labelled=None, **extra):
    cert = certificate_data(
        coa_cell_count_measured=measured, coa_cell_count_labelled=labelled or measured
    )
    return open_episode(patient, physician, dose_cells=dose_cells, **cert, **extra)


def verify_msc(episode, pharmacist):
    msc = order_of(episode, OrderKind.MSC_IV)
    return services.order_verify(order=msc, actor=pharmacist, password=PASSWORD)


def override(episode, physician, second, key, reason="Treating team agreed"):
    return services.check_override(
        episode=episode,
        actor=physician,
        check_key=key,
        reason=reason,
        second_physician=second,
        second_password=PASSWORD,
    )


# --- Dose (C-DOSE-1) at every boundary ----------------------------------------------------


def test_a_dose_of_exactly_2_per_kg_is_verified(weighed_patient, physician, pharmacist):
    episode = opened(weighed_patient, physician, 120_000_000, 121_000_000, 120_000_000)
    sign_all(episode, physician)
    assert verify_msc(episode, pharmacist).status == OrderStatus.VERIFIED


def test_a_dose_of_2_01_per_kg_is_refused_then_verified_after_an_override(
    weighed_patient, physician, physician2, pharmacist
):
    episode = opened(weighed_patient, physician, 120_600_000, 121_000_000, 120_000_000)
    sign_all(episode, physician)
    with pytest.raises(ChecksFailed) as refused:
        verify_msc(episode, pharmacist)
    assert [c.key for c in refused.value.checks] == ["dose"]
    assert "Dose per kg" in refused.value.message and "C-DOSE-1" in refused.value.message
    assert "2.01 × 10⁶/kg" in refused.value.message
    msc = order_of(episode, OrderKind.MSC_IV)
    assert msc.status == OrderStatus.SIGNED  # nothing verified
    event = AuditEvent.objects.filter(action="verify_refused").get()
    assert event.reason == "C-VERIFY-1" and event.new_values["checks"][0]["check"] == "dose"

    record = override(episode, physician, physician2, "dose", reason="Second infusion planned")
    assert record.second_signer == physician2 and record.values_hash
    assert verify_msc(episode, pharmacist).status == OrderStatus.VERIFIED
    assert AuditEvent.objects.filter(action="check_override", reason="Second infusion planned")


def test_a_dose_of_5_per_kg_can_be_overridden_but_5_01_is_refused_outright(
    weighed_patient, physician, physician2, pharmacist
):
    episode = opened(weighed_patient, physician, 300_000_000, 300_000_000)
    sign_all(episode, physician)
    with pytest.raises(ChecksFailed):
        verify_msc(episode, pharmacist)
    override(episode, physician, physician2, "dose")
    assert verify_msc(episode, pharmacist).status == OrderStatus.VERIFIED

    other = make_patient(weighed_patient.ward)
    add_weight(other, physician, "60")
    with pytest.raises(ActionRefused) as refused:
        opened(other, physician, 300_600_000, 301_000_000)
    assert refused.value.code == "blocked"
    assert any(f.rule_id == "C-DOSE-1" for f in refused.value.findings)


def test_a_dose_equal_to_the_certificate_count_opens_and_one_cell_more_is_refused(
    weighed_patient, physician
):
    assert opened(weighed_patient, physician, 101_500_000, 101_500_000).dose_cells == 101_500_000
    other = make_patient(weighed_patient.ward)
    add_weight(other, physician, "60")
    with pytest.raises(ActionRefused) as refused:
        opened(other, physician, 101_500_001, 101_500_000)
    (finding,) = [f for f in refused.value.findings if f.rule_id == "C-DOSE-1"]
    assert finding.status == "above_certificate"


def test_the_issue_overdose_cannot_be_opened_let_alone_verified(ward_a, physician, nurse):
    patient = make_patient(ward_a)
    add_weight(patient, nurse, "45.8")
    with pytest.raises(ActionRefused) as refused:
        opened(patient, physician, 1_500_000_000, 110_000_000, 100_000_000)
    reasons = " ".join(f.reason for f in refused.value.findings if f.rule_id == "C-DOSE-1")
    assert "32.76 × 10⁶/kg" in reasons and "110 × 10⁶ cells" in reasons


# --- Every failing check stops verification --------------------------------------------


def test_a_cancelled_premedication_order_stops_every_order_of_the_episode(
    weighed_patient, physician, physician2, pharmacist
):
    episode = open_episode(weighed_patient, physician)
    dex = order_of(episode, OrderKind.DEXAMETHASONE)
    services.order_cancel(order=dex, actor=physician, reason="dexamethasone allergy")
    sign_all(episode, physician)
    antiplatelet = order_of(episode, OrderKind.ANTIPLATELET)
    with pytest.raises(ChecksFailed) as refused:
        services.order_verify(order=antiplatelet, actor=pharmacist, password=PASSWORD)
    assert [c.key for c in refused.value.checks] == ["premedication"]
    assert "B-PREMED-1" in refused.value.message
    override(episode, physician, physician2, "premedication", reason="dexamethasone allergy")
    services.order_verify(order=antiplatelet, actor=pharmacist, password=PASSWORD)
    assert verify_msc(episode, pharmacist).status == OrderStatus.VERIFIED


def test_a_missing_antiplatelet_course_stops_verification_b_ap_1(
    weighed_patient, physician, pharmacist
):
    episode = open_episode(weighed_patient, physician)
    course = order_of(episode, OrderKind.ANTIPLATELET)
    services.order_cancel(order=course, actor=physician, reason="bleeding")
    sign_all(episode, physician)
    with pytest.raises(ChecksFailed) as refused:
        verify_msc(episode, pharmacist)
    assert [c.key for c in refused.value.checks] == ["antiplatelet"]
    assert "B-AP-1" in refused.value.message


def test_a_product_not_retested_by_a_third_party_needs_an_override_b_site_1(
    weighed_patient, physician, physician2, pharmacist
):
    episode = open_episode(weighed_patient, physician, coa_third_party_retest=False)
    sign_all(episode, physician)
    with pytest.raises(ChecksFailed) as refused:
        verify_msc(episode, pharmacist)
    assert [c.key for c in refused.value.checks] == ["site"]
    override(episode, physician, physician2, "site")
    verify_msc(episode, pharmacist)


def test_a_pending_certificate_is_refused_and_cannot_be_overridden(
    weighed_patient, physician, physician2, pharmacist
):
    episode = open_episode(weighed_patient, physician, coa_purity_pct=None)
    assert episode.release_status == "pending"
    sign_all(episode, physician)
    with pytest.raises(ChecksFailed) as refused:
        verify_msc(episode, pharmacist)
    assert [c.key for c in refused.value.checks] == ["release"]
    with pytest.raises(ActionRefused) as not_overridable:
        override(episode, physician, physician2, "release")
    assert not_overridable.value.code == "not_overridable"
    assert not CheckOverride.objects.exists()


# --- The override: who may give it, and who may co-sign ---------------------------------


@pytest.fixture
def overdosed(weighed_patient, physician):
    episode = opened(weighed_patient, physician, 130_000_000, 131_000_000, 130_000_000)
    sign_all(episode, physician)
    return episode


def test_the_prescriber_cannot_co_sign_an_override(overdosed, physician, physician2):
    with pytest.raises(ActionRefused) as refused:
        override(overdosed, physician2, physician, "dose")
    assert refused.value.code == "second_physician"
    with pytest.raises(ActionRefused):  # nor can the physician co-sign their own request
        override(overdosed, physician2, physician2, "dose")
    assert not CheckOverride.objects.exists()


def test_an_override_co_signed_by_a_later_prescriber_does_not_count(
    weighed_patient, physician, physician2, pharmacist
):
    episode = opened(weighed_patient, physician, 130_000_000, 131_000_000, 130_000_000)
    override(episode, physician, physician2, "dose")  # before anything was signed
    sign_all(episode, physician2)  # physician2 becomes the prescriber
    with pytest.raises(ChecksFailed) as refused:
        verify_msc(episode, pharmacist)
    assert [c.key for c in refused.value.checks] == ["dose"]


def test_a_wrong_second_password_stores_nothing_and_is_audited(overdosed, physician, physician2):
    with pytest.raises(ActionRefused) as refused:
        services.check_override(
            episode=overdosed,
            actor=physician,
            check_key="dose",
            reason="why",
            second_physician=physician2,
            second_password="wrong",
        )
    assert refused.value.code == "password"
    assert not CheckOverride.objects.exists()
    assert AuditEvent.objects.filter(action="signature_refused", actor=physician2).exists()


def test_a_reason_is_required(overdosed, physician, physician2):
    with pytest.raises(ActionRefused) as refused:
        override(overdosed, physician, physician2, "dose", reason="  ")
    assert refused.value.code == "reason"


@pytest.mark.parametrize("who", ["nurse", "pharmacist", "auditor", "physician_b"])
def test_only_a_physician_of_the_ward_may_override(overdosed, physician2, who, request):
    actor = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        override(overdosed, actor, physician2, "dose")


def test_a_physician_of_another_ward_cannot_co_sign(overdosed, physician, physician_b):
    with pytest.raises(ActionRefused) as refused:
        override(overdosed, physician, physician_b, "dose")
    assert refused.value.code == "second_physician"


def test_a_changed_dose_needs_a_new_override(overdosed, physician, physician2, pharmacist):
    override(overdosed, physician, physician2, "dose")
    data = dict(overdosed.plan_input)
    from infusion.demo import episode_data

    services.episode_update(
        episode=overdosed,
        actor=physician,
        data=episode_data(
            overdosed.planned_start,
            dose_cells=129_000_000,
            **certificate_data(
                coa_cell_count_measured=131_000_000, coa_cell_count_labelled=130_000_000
            ),
        ),
        reason="dose corrected",
        acknowledged=True,
    )
    assert data  # the old input is kept on the audit trail
    sign_all(overdosed, physician)
    with pytest.raises(ChecksFailed):
        verify_msc(overdosed, pharmacist)


# --- C-OVR-1: "not recommended" needs a second physician to open ----------------------


def test_a_not_recommended_candidacy_needs_a_second_physicians_signature(
    weighed_patient, physician, physician2, pharmacist
):
    with pytest.raises(ActionRefused) as refused:
        open_episode(weighed_patient, physician, pregnant=True, override_reason="wishes")
    assert refused.value.code == "override_required"
    assert "C-OVR-1" in refused.value.message
    with pytest.raises(ActionRefused) as wrong:
        services.episode_open(
            patient=weighed_patient,
            actor=physician,
            data=_data(pregnant=True),
            override_reason="wishes",
            acknowledged=True,
            second_physician=physician2,
            second_password="nope",
        )
    assert wrong.value.code == "password"
    episode = services.episode_open(
        patient=weighed_patient,
        actor=physician,
        data=_data(pregnant=True),
        override_reason="Multidisciplinary decision after termination",
        acknowledged=True,
        second_physician=physician2,
        second_password=PASSWORD,
    )
    record = CheckOverride.objects.get(episode=episode)
    assert record.check_key == "candidacy" and record.second_signer == physician2
    assert "C-OVR-1" in record.rule_ids
    sign_all(episode, physician)
    assert verify_msc(episode, pharmacist).status == OrderStatus.VERIFIED


def test_the_opener_cannot_co_sign_their_own_candidacy_override(weighed_patient, physician):
    with pytest.raises(ActionRefused) as refused:
        services.episode_open(
            patient=weighed_patient,
            actor=physician,
            data=_data(tumour=True),
            override_reason="x",
            acknowledged=True,
            second_physician=physician,
            second_password=PASSWORD,
        )
    assert refused.value.code == "second_physician"


def _data(**overrides):
    from datetime import timedelta

    from django.utils import timezone

    from infusion.demo import episode_data

    return episode_data(timezone.now() + timedelta(days=1), **overrides)


# --- One password verifies the reviewed orders (the queue's bulk verify) --------------


def test_one_password_verifies_every_reviewed_order_with_a_signature_each(
    signed_episode, pharmacist
):
    waiting = list(signed_episode.orders.filter(status=OrderStatus.SIGNED))
    done = services.orders_verify(
        episode=signed_episode,
        actor=pharmacist,
        password=PASSWORD,
        reviewed={o.pk: o.version for o in waiting},
    )
    assert len(done) == len(waiting) >= 3
    for order in done:
        order.refresh_from_db()
        assert order.status == OrderStatus.VERIFIED
        (signature,) = order.signatures.filter(meaning="verified")
        assert signature.content_hash == order.content_hash()
    assert AuditEvent.objects.filter(action="order_verify").count() == len(waiting)


def test_a_changed_order_or_a_failing_check_refuses_the_whole_batch(
    signed_episode, physician, pharmacist
):
    waiting = list(signed_episode.orders.filter(status=OrderStatus.SIGNED).order_by("pk"))
    reviewed = {o.pk: o.version for o in waiting}
    reviewed[waiting[-1].pk] -= 1  # reviewed an older version
    with pytest.raises(ActionRefused) as refused:
        services.orders_verify(
            episode=signed_episode, actor=pharmacist, password=PASSWORD, reviewed=reviewed
        )
    assert refused.value.code == "stale"
    assert not signed_episode.orders.filter(status=OrderStatus.VERIFIED).exists()
    with pytest.raises(ActionRefused) as none:
        services.orders_verify(
            episode=signed_episode, actor=pharmacist, password=PASSWORD, reviewed={}
        )
    assert none.value.code == "none_reviewed"


def test_the_bulk_verify_is_refused_to_a_nurse_and_another_wards_pharmacist(
    signed_episode, nurse, ward_b
):
    other = make_user("pharmacist", ward_b)
    for actor in (nurse, other):
        with pytest.raises(PermissionDenied):
            services.orders_verify(
                episode=signed_episode, actor=actor, password=PASSWORD, reviewed={1: 1}
            )
