"""A physician opens an MSC episode: candidacy recorded, record values used, orders drafted."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from core.models import AuditEvent
from infusion import services
from infusion.demo import episode_data
from infusion.models import Episode, OrderKind, OrderStatus
from tests.factories import add_lab, add_weight
from tests.infusion.conftest import open_episode

pytestmark = pytest.mark.django_db


def tomorrow():
    return timezone.now() + timedelta(days=1)


def test_it_records_the_candidacy_and_drafts_msc_dexamethasone_and_antiplatelet(
    weighed_patient, physician
):
    episode = open_episode(weighed_patient, physician)
    assert episode.candidacy_overall == "recommended"
    rule_ids = {f["rule_id"] for f in episode.plan["candidacy"]["findings"]}
    assert {"B-IND-1", "B-IND-2", "B-CI-1", "B-CI-2", "B-CI-3"} <= rule_ids
    kinds = {o.kind: o for o in episode.orders.all()}
    assert set(kinds) == {OrderKind.MSC_IV, OrderKind.DEXAMETHASONE, OrderKind.ANTIPLATELET}
    assert all(o.status == OrderStatus.DRAFT for o in kinds.values())
    msc = kinds[OrderKind.MSC_IV]
    assert msc.dose == 100_000_000 and msc.dose_unit == "cells" and msc.route == "iv_infusion"
    assert msc.volume_ml == Decimal("100")
    assert [p["rate_ml_per_min"] for p in msc.rate_plan] == ["2.00", "3.00", "4.00"]
    assert "B-ADM-3" in msc.rule_ids and any(i["rule_id"] == "B-ADM-3" for i in msc.instructions)
    dexa = kinds[OrderKind.DEXAMETHASONE]
    assert dexa.dose == 5 and dexa.route == "iv_push"
    assert dexa.scheduled_at == episode.planned_start - timedelta(minutes=30)
    ap = kinds[OrderKind.ANTIPLATELET]
    start_day = timezone.localtime(episode.planned_start).date()
    assert ap.first_day == start_day - timedelta(days=1)
    assert ap.last_day == ap.first_day + timedelta(days=13)
    event = AuditEvent.objects.get(action="episode_open", object_id=str(episode.pk))
    assert event.actor == physician and event.patient_id == weighed_patient.pk
    assert any(
        f["rule_id"] == "B-IND-1" and f["citation"] == "R1, 1B"
        for f in event.new_values["candidacy"]
    )


def test_it_takes_the_latest_dated_weight_and_platelets_from_the_record(patient, physician, nurse):
    now = timezone.now()
    add_weight(patient, nurse, "70", when=now - timedelta(days=20))
    add_weight(patient, nurse, "55.5", when=now - timedelta(days=3))
    add_lab(patient, nurse, "platelets", 210, "10^9/L", when=now - timedelta(days=9))
    add_lab(patient, nurse, "platelets", 150, "10^9/L", when=now - timedelta(days=2))
    episode = open_episode(patient, physician)
    assert episode.plan_input["patient"]["weight"]["kg"] == "55.5"
    assert episode.plan_input["patient"]["platelets"]["value_10e9_per_l"] == "150"
    assert episode.plan_input["patient"]["date_of_birth"] == "1990-05-17"
    assert episode.plan_input["patient"]["sex"] == "female"
    assert episode.weight_kg == Decimal("55.5")


def test_without_a_weight_it_is_refused_with_a_field_error(patient, physician):
    with pytest.raises(services.InvalidPlanInput) as exc:
        open_episode(patient, physician)
    assert any(e.path.startswith("patient.weight") for e in exc.value.errors)
    assert not Episode.objects.exists()


def test_a_not_recommended_candidacy_needs_a_reason_and_a_second_physician_c_ovr_1(
    weighed_patient, physician, physician2
):
    with pytest.raises(services.ActionRefused) as exc:
        open_episode(weighed_patient, physician, pregnant=True)
    assert exc.value.code == "override_required"
    assert any(f.rule_id == "B-CI-2" for f in exc.value.findings)
    # A reason alone is no longer enough (C-OVR-1).
    with pytest.raises(services.ActionRefused) as exc:
        open_episode(weighed_patient, physician, pregnant=True, override_reason="MDT")
    assert exc.value.code == "override_required"
    assert not Episode.objects.exists()
    episode = open_episode(
        weighed_patient,
        physician,
        pregnant=True,
        override_reason="Life-threatening nephritis; MDT",
        second_physician=physician2,
    )
    assert episode.candidacy_overall == "not_recommended"
    assert episode.override_reason == "Life-threatening nephritis; MDT"
    event = AuditEvent.objects.get(action="candidacy_override")
    assert event.reason == "Life-threatening nephritis; MDT"
    assert event.new_values["candidacy"] == "not_recommended"
    assert any(f["rule_id"] == "B-CI-2" for f in event.new_values["findings"])
    assert event.new_values["second_physician"] == physician2.pk


def test_an_incomplete_candidacy_also_needs_a_reason_and_a_second_physician(
    weighed_patient, physician, physician2
):
    with pytest.raises(services.ActionRefused) as exc:
        open_episode(weighed_patient, physician, tumour=None, override_reason="unknown")
    assert exc.value.code == "override_required"
    episode = open_episode(
        weighed_patient,
        physician,
        tumour=None,
        override_reason="Imaging pending; MDT agreed",
        second_physician=physician2,
    )
    assert episode.candidacy_overall == "incomplete"


def test_cautions_must_be_acknowledged(weighed_patient, physician):
    with pytest.raises(services.ActionRefused) as exc:
        open_episode(weighed_patient, physician, bleeding_history=True, acknowledged=False)
    assert exc.value.code == "acknowledgement_required"
    assert any(f.rule_id == "B-AP-1" for f in exc.value.findings)
    episode = open_episode(weighed_patient, physician, bleeding_history=True)
    assert any(a["rule_id"] == "B-AP-1" for a in episode.acknowledged)


def test_a_product_failing_release_blocks_the_plan(weighed_patient, physician):
    with pytest.raises(services.ActionRefused) as exc:
        open_episode(weighed_patient, physician, coa_cd105=Decimal("94.9"))
    assert exc.value.code == "blocked"
    assert any(f.rule_id == "B-QC-2" for f in exc.value.findings)


def test_a_start_after_the_cold_chain_limit_blocks_the_plan(weighed_patient, physician):
    start = tomorrow()
    with pytest.raises(services.ActionRefused) as exc:
        open_episode(
            weighed_patient, physician, start=start, preparation_time=start - timedelta(hours=12)
        )
    assert any(f.rule_id == "B-ADM-1" for f in exc.value.findings)


def test_cns_involvement_with_clear_consciousness_adds_an_intrathecal_order(
    weighed_patient, physician
):
    episode = open_episode(weighed_patient, physician, involvement_cns=True)
    it = episode.orders.get(kind=OrderKind.MSC_INTRATHECAL)
    assert it.dose == 1_000_000 and it.route == "intrathecal" and it.rule_ids == ["B-ROUTE-2"]


def test_a_long_term_antiplatelet_user_gets_no_course(weighed_patient, physician):
    episode = open_episode(
        weighed_patient,
        physician,
        long_term_antiplatelet=True,
        antiplatelet_drug=None,
        antiplatelet_dose_mg=None,
    )
    assert not episode.orders.filter(kind=OrderKind.ANTIPLATELET).exists()


def test_nurses_and_pharmacists_cannot_open_an_episode(weighed_patient, nurse, pharmacist):
    for user in (nurse, pharmacist):
        with pytest.raises(PermissionDenied):
            services.episode_open(
                patient=weighed_patient,
                actor=user,
                data=episode_data(tomorrow()),
                acknowledged=True,
            )


def test_a_physician_of_another_ward_cannot_open_one(weighed_patient, physician_b):
    with pytest.raises(PermissionDenied):
        services.episode_open(
            patient=weighed_patient,
            actor=physician_b,
            data=episode_data(tomorrow()),
            acknowledged=True,
        )


def test_moving_the_planned_start_edits_the_orders_and_voids_their_signatures(
    signed_episode, physician
):
    dexa = signed_episode.orders.get(kind=OrderKind.DEXAMETHASONE)
    assert dexa.status == OrderStatus.SIGNED
    new_start = signed_episode.planned_start + timedelta(hours=2)
    data = episode_data(new_start, preparation_time=new_start - timedelta(hours=2))
    services.episode_update(
        episode=signed_episode,
        actor=physician,
        data=data,
        reason="theatre delay",
        acknowledged=True,
    )
    dexa.refresh_from_db()
    assert dexa.status == OrderStatus.DRAFT
    assert dexa.scheduled_at == new_start - timedelta(minutes=30)
    assert dexa.signatures.get().voided_at is not None
    event = AuditEvent.objects.filter(action="episode_update").get()
    assert event.reason == "theatre delay"
    assert "planned_start" in event.new_values


def test_cancelling_a_planned_episode_cancels_its_orders(signed_episode, physician):
    services.episode_cancel(episode=signed_episode, actor=physician, reason="patient declined")
    assert set(signed_episode.orders.values_list("status", flat=True)) == {OrderStatus.CANCELLED}
    signed_episode.refresh_from_db()
    assert signed_episode.status == "cancelled"
    with pytest.raises(services.ActionRefused):
        services.episode_cancel(episode=signed_episode, actor=physician, reason="again")


NO_DOSE = (
    "Give the MSC dose: without it no MSC infusion order can be drafted; for 60 kg the range "
    "is 60–120 × 10⁶ cells (1–2 × 10⁶/kg, B-DOSE-1, R3 1B)."
)


def test_an_episode_without_an_msc_dose_is_not_opened(weighed_patient, physician):
    with pytest.raises(services.ActionRefused) as exc:
        open_episode(weighed_patient, physician, dose_cells=None)
    assert exc.value.code == "dose"
    assert exc.value.message == NO_DOSE
    assert "dose_cells" in exc.value.field_errors
    assert not Episode.objects.exists()
    assert not AuditEvent.objects.filter(action__in=("episode_open", "order_create")).exists()


def test_the_preview_still_shows_the_dose_range_without_a_dose(weighed_patient):
    preview = services.episode_preview(
        patient=weighed_patient, data=episode_data(tomorrow(), dose_cells=None)
    )
    assert preview.errors == [] and preview.plan.dose.min_cells == 60_000_000


def test_an_update_that_removes_the_dose_is_refused_and_changes_nothing(episode, physician):
    before = set(episode.orders.values_list("kind", "status", "version"))
    with pytest.raises(services.ActionRefused) as exc:
        services.episode_update(
            episode=episode,
            actor=physician,
            data=episode_data(episode.planned_start, dose_cells=None),
            reason="dose to be decided",
            acknowledged=True,
        )
    assert exc.value.message == NO_DOSE
    episode.refresh_from_db()
    assert episode.dose_cells == 100_000_000
    assert set(episode.orders.values_list("kind", "status", "version")) == before
    assert not AuditEvent.objects.filter(action="episode_update").exists()


def test_the_form_without_a_dose_says_so(weighed_patient, physician, login):
    # The form asks for the dose before the service is reached; the service refuses too
    # (above) for any other caller.
    from tests.infusion.conftest import form_post

    start = (timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0)
    response = login(physician).post(
        f"/infusion/patients/{weighed_patient.pk}/open/",
        form_post(episode_data(start), acknowledge="on", dose_cells_e6=""),
    )
    assert response.status_code == 400
    body = response.content.decode()
    field = body[
        body.index('name="dose_cells_e6"') - 1500 : body.index('name="dose_cells_e6"') + 1500
    ]
    assert "This field is required." in field
    assert not Episode.objects.exists()
