"""B-REP-1 (R10, 2B) in the ward: a repeat infusion reads the patient's latest infused
episode (its infusion day, the response and the relapse a physician documented at
follow-up); a repeat that is not "eligible" proceeds only with the C-OVR-1 override; a
second active episode is refused (issue 14)."""

from datetime import UTC, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from core.models import AuditEvent
from infusion import services
from infusion.demo import episode_data
from infusion.inputs import record_values
from infusion.models import Episode, EpisodeStatus
from tests.factories import PASSWORD, add_lab, add_weight
from tests.infusion.conftest import open_episode, run_infusion

pytestmark = pytest.mark.django_db


def day(at):
    """The ward day of an instant."""
    return timezone.localtime(at).date()


def after(end, days):
    """The clock `days` after the infusion end (follow-up visits happen later)."""
    return time_machine.travel(end + timedelta(days=days), tick=False)


@pytest.fixture
def infused(verified_episode, nurse):
    """The patient's first MSC infusion, charted to its end; returns (episode, end)."""
    end = run_infusion(verified_episode, nurse)
    return verified_episode, end


def follow_up(episode, physician, **values):
    fields = {"response": None, "response_date": None, "relapse": None, "relapse_date": None}
    return services.episode_follow_up_record(
        episode=episode, actor=physician, **{**fields, **values}
    )


def document(episode, end, physician, *, response=True, relapse=True):
    """A response at 4 weeks, then (optionally) a relapse at 7 months."""
    with after(end, 30):
        follow_up(episode, physician, response=response, response_date=day(end) + timedelta(28))
    if relapse:
        with after(end, 220):
            follow_up(
                episode,
                physician,
                response=response,
                response_date=day(end) + timedelta(28),
                relapse=True,
                relapse_date=day(end) + timedelta(210),
                reason="",
            )


def weigh_again(patient, nurse):
    now = timezone.now()
    add_weight(patient, nurse, "60", when=now - timedelta(days=1))
    add_lab(patient, nurse, "platelets", 180, "10^9/L", when=now - timedelta(days=1))


def open_repeat(patient, physician, **kwargs):
    return services.episode_open(
        patient=patient,
        actor=physician,
        data=episode_data(timezone.now() + timedelta(days=1)),
        acknowledged=True,
        **kwargs,
    )


# --- The prior-infusion input ---------------------------------------------------------


def test_a_first_infusion_has_no_prior_infusion_and_no_b_rep_1_finding(weighed_patient, physician):
    episode = open_episode(weighed_patient, physician)
    assert "prior_infusion" not in episode.plan_input["patient"]
    assert episode.plan["repeat_infusion"] is None
    assert not any(f["rule_id"] == "B-REP-1" for f in episode.plan["attention"])
    preview = services.episode_preview(
        patient=weighed_patient, data=episode_data(timezone.now() + timedelta(days=2))
    )
    assert not preview.needs_second_signature and not preview.second_signature_findings


def test_a_planned_or_cancelled_episode_is_not_a_prior_infusion(episode, physician):
    services.episode_cancel(episode=episode, actor=physician, reason="postponed")
    again = open_episode(episode.patient, physician)
    assert "prior_infusion" not in again.plan_input["patient"]


def test_b_rep_1_repeat_with_a_response_then_a_later_relapse_is_eligible_and_opens(
    infused, physician, nurse
):
    first, end = infused
    document(first, end, physician)
    with after(end, 230):
        weigh_again(first.patient, nurse)
        preview = services.episode_preview(
            patient=first.patient, data=episode_data(timezone.now() + timedelta(days=1))
        )
        assert preview.plan.repeat_infusion.status == "eligible"
        assert not preview.needs_second_signature and not preview.blocking
        repeat = open_repeat(first.patient, physician)  # no override needed
    assert repeat.plan_input["patient"]["prior_infusion"] == {
        "infusion_date": day(end).isoformat(),
        "response": True,
        "response_date": (day(end) + timedelta(28)).isoformat(),
        "relapse": True,
        "relapse_date": (day(end) + timedelta(210)).isoformat(),
    }
    assert repeat.plan["repeat_infusion"]["status"] == "eligible"
    assert repeat.override_reason == ""


def test_b_rep_1_the_prior_infusion_day_is_the_ward_day_of_the_recorded_end(
    infused, physician, nurse
):
    first, end = infused
    with after(end, 10):
        record = record_values(first.patient)
    assert record.prior_infusion.infusion_date == day(first.ended_at)
    assert record.prior_infusion.response is None


def test_b_rep_1_repeat_without_a_documented_response_is_unknown_and_needs_the_c_ovr_1_override(
    infused, physician, physician2, nurse
):
    first, end = infused
    with after(end, 200):
        weigh_again(first.patient, nurse)
        data = episode_data(timezone.now() + timedelta(days=1))
        preview = services.episode_preview(patient=first.patient, data=data)
        assert preview.plan.repeat_infusion.status == "unknown"
        assert preview.needs_second_signature
        assert [f.rule_id for f in preview.second_signature_findings] == ["B-REP-1"]
        assert not any(f.rule_id == "B-REP-1" for f in preview.blocking)
        with pytest.raises(services.ActionRefused) as exc:
            open_repeat(first.patient, physician)
        assert any(f.rule_id == "B-REP-1" for f in exc.value.findings)
        assert Episode.objects.filter(patient=first.patient).count() == 1
        repeat = open_repeat(
            first.patient,
            physician,
            override_reason="Refractory nephritis; response letter from the referring centre",
            second_physician=physician2,
            second_password=PASSWORD,
        )
    assert repeat.plan["repeat_infusion"]["status"] == "unknown"
    assert repeat.override_reason.startswith("Refractory nephritis")


def test_b_rep_1_repeat_after_no_response_is_not_eligible_and_not_silently_opened(
    infused, physician, nurse
):
    first, end = infused
    document(first, end, physician, response=False, relapse=False)
    with after(end, 200):
        weigh_again(first.patient, nurse)
        preview = services.episode_preview(
            patient=first.patient, data=episode_data(timezone.now() + timedelta(days=1))
        )
        assert preview.plan.repeat_infusion.status == "not_eligible"
        # Not an outright block: the engine's verdict stands, overridable per C-OVR-1.
        assert not any(f.rule_id == "B-REP-1" for f in preview.blocking)
        assert preview.needs_second_signature
        assert preview.second_signature_findings[0].status == "not_eligible"
        with pytest.raises(services.ActionRefused) as exc:
            open_repeat(first.patient, physician)
        assert any(f.rule_id == "B-REP-1" for f in exc.value.findings)
    assert Episode.objects.filter(patient=first.patient).count() == 1


def test_b_rep_1_a_response_without_a_relapse_yet_is_unknown(infused, physician, nurse):
    first, end = infused
    document(first, end, physician, relapse=False)
    with after(end, 200):
        weigh_again(first.patient, nurse)
        preview = services.episode_preview(
            patient=first.patient, data=episode_data(timezone.now() + timedelta(days=1))
        )
    assert preview.plan.repeat_infusion.status == "unknown"
    assert preview.needs_second_signature


# --- Recording the follow-up ------------------------------------------------------------


def test_b_rep_1_follow_up_is_recorded_and_audited_with_old_and_new_values(infused, physician):
    first, end = infused
    document(first, end, physician)
    first.refresh_from_db()
    assert first.response is True and first.response_date == day(end) + timedelta(28)
    assert first.relapse is True and first.relapse_date == day(end) + timedelta(210)
    events = AuditEvent.objects.filter(action="episode_follow_up", object_id=str(first.pk))
    assert events.count() == 2
    second = events.order_by("seq").last()
    assert second.actor == physician
    assert second.old_values["relapse"] is None
    assert second.new_values["relapse"] is True
    assert second.new_values["relapse_date"] == (day(end) + timedelta(210)).isoformat()
    assert second.new_values["infusion_date"] == day(end).isoformat()


def test_b_rep_1_a_relapse_dated_before_the_response_is_refused(infused, physician):
    first, end = infused
    with after(end, 60):
        with pytest.raises(services.ActionRefused) as exc:
            follow_up(
                first,
                physician,
                response=True,
                response_date=day(end) + timedelta(30),
                relapse=True,
                relapse_date=day(end) + timedelta(20),
            )
    assert exc.value.code == "follow_up" and "relapse_date" in exc.value.field_errors
    first.refresh_from_db()
    assert first.response is None and first.relapse is None
    assert not AuditEvent.objects.filter(action="episode_follow_up").exists()


def test_b_rep_1_a_relapse_on_the_day_of_the_response_is_refused(infused, physician):
    first, end = infused
    with after(end, 60), pytest.raises(services.ActionRefused) as exc:
        follow_up(
            first,
            physician,
            response=True,
            response_date=day(end) + timedelta(30),
            relapse=True,
            relapse_date=day(end) + timedelta(30),
        )
    assert "relapse_date" in exc.value.field_errors


def test_b_rep_1_a_relapse_needs_a_documented_response(infused, physician):
    first, end = infused
    with after(end, 60), pytest.raises(services.ActionRefused) as exc:
        follow_up(
            first,
            physician,
            response=False,
            response_date=day(end) + timedelta(30),
            relapse=True,
            relapse_date=day(end) + timedelta(40),
        )
    assert "relapse" in exc.value.field_errors


def test_b_rep_1_a_relapse_needs_its_date_and_a_date_needs_a_relapse(infused, physician):
    first, end = infused
    response = {"response": True, "response_date": day(end) + timedelta(30)}
    with after(end, 60):
        with pytest.raises(services.ActionRefused) as exc:
            follow_up(first, physician, **response, relapse=True)
        assert "relapse_date" in exc.value.field_errors
        with pytest.raises(services.ActionRefused) as exc:
            follow_up(first, physician, **response, relapse=False, relapse_date=day(end))
        assert "relapse_date" in exc.value.field_errors


def test_b_rep_1_the_response_cannot_be_dated_before_the_infusion(infused, physician):
    first, end = infused
    with after(end, 60), pytest.raises(services.ActionRefused) as exc:
        follow_up(first, physician, response=True, response_date=day(end) - timedelta(1))
    assert "response_date" in exc.value.field_errors
    with after(end, 60):  # the infusion day itself is allowed
        follow_up(first, physician, response=True, response_date=day(end))


def test_b_rep_1_dates_in_the_future_of_the_ward_day_are_refused(infused, physician):
    first, end = infused
    # 17:30 UTC is 01:30 the next day on the ward (Asia/Shanghai): "today" is the ward's.
    moment = (end + timedelta(days=40)).astimezone(UTC)
    moment = moment.replace(hour=17, minute=30, second=0, microsecond=0)
    ward_today = day(moment)
    assert ward_today == moment.date() + timedelta(days=1)
    with time_machine.travel(moment, tick=False):
        with pytest.raises(services.ActionRefused) as exc:
            follow_up(first, physician, response=True, response_date=ward_today + timedelta(1))
        assert "response_date" in exc.value.field_errors
        follow_up(first, physician, response=True, response_date=ward_today)


def test_b_rep_1_changing_a_documented_response_needs_a_reason(infused, physician):
    first, end = infused
    document(first, end, physician, relapse=False)
    with after(end, 40):
        with pytest.raises(services.ActionRefused) as exc:
            follow_up(first, physician, response=False, response_date=day(end) + timedelta(28))
        assert exc.value.code == "reason"
        follow_up(
            first,
            physician,
            response=False,
            response_date=day(end) + timedelta(28),
            reason="SLEDAI re-scored: no response",
        )
        with pytest.raises(services.ActionRefused) as exc:  # the same values again
            follow_up(first, physician, response=False, response_date=day(end) + timedelta(28))
        assert exc.value.code == "unchanged"
    event = AuditEvent.objects.filter(action="episode_follow_up").order_by("seq").last()
    assert event.reason == "SLEDAI re-scored: no response"
    assert event.old_values["response"] is True and event.new_values["response"] is False
    assert event.new_values["corrected"] == ["response"]


def test_b_rep_1_follow_up_on_an_episode_not_infused_is_refused(episode, physician):
    with pytest.raises(services.ActionRefused) as exc:
        follow_up(episode, physician, response=True, response_date=day(timezone.now()))
    assert exc.value.code == "state"
    episode.refresh_from_db()
    assert episode.response is None


def test_b_rep_1_only_a_physician_of_the_ward_records_the_follow_up(
    infused, nurse, pharmacist, auditor, physician_b
):
    first, end = infused
    with after(end, 30):
        for user in (nurse, pharmacist, auditor, physician_b):
            with pytest.raises(PermissionDenied):
                follow_up(first, user, response=True, response_date=day(end) + timedelta(28))
    first.refresh_from_db()
    assert first.response is None


# --- The follow-up form on the episode page ---------------------------------------------


def url(episode):
    return f"/infusion/episodes/{episode.pk}/follow-up/"


def test_b_rep_1_the_episode_page_shows_the_form_and_the_documented_values(
    infused, physician, nurse, login
):
    first, end = infused
    with after(end, 30):
        page = login(physician).get(f"/infusion/episodes/{first.pk}/").content.decode()
        assert 'id="follow-up-form"' in page and "not documented" in page
        response = login(physician).post(
            url(first),
            {"response": "true", "response_date": (day(end) + timedelta(28)).isoformat()},
        )
        assert response.status_code == 302
        assert response.url == f"/infusion/episodes/{first.pk}/#follow-up"
        page = login(physician).get(f"/infusion/episodes/{first.pk}/").content.decode()
        assert "Responded" in page and (day(end) + timedelta(28)).isoformat() in page
        # A nurse reads the documented values but gets no form.
        page = login(nurse).get(f"/infusion/episodes/{first.pk}/").content.decode()
        assert "Responded" in page and 'id="follow-up-form"' not in page


def test_b_rep_1_a_planned_episode_page_has_no_follow_up_form(episode, physician, login):
    page = login(physician).get(f"/infusion/episodes/{episode.pk}/").content.decode()
    assert 'id="follow-up-form"' not in page


def test_b_rep_1_the_htmx_form_keeps_typed_values_with_field_errors(infused, physician, login):
    first, end = infused
    response_day = (day(end) + timedelta(30)).isoformat()
    relapse_day = (day(end) + timedelta(20)).isoformat()
    with after(end, 60):
        response = login(physician).post(
            url(first),
            {
                "response": "true",
                "response_date": response_day,
                "relapse": "true",
                "relapse_date": relapse_day,
            },
            HTTP_HX_REQUEST="true",
        )
    body = response.content.decode()
    assert response.status_code == 200  # htmx swaps 200 answers only
    assert body.lstrip().startswith('<div id="follow-up-record">') and "<html" not in body
    assert "The relapse must be dated after the response" in body
    assert f'value="{relapse_day}"' in body and f'value="{response_day}"' in body
    first.refresh_from_db()
    assert first.relapse is None


def test_b_rep_1_an_invalid_form_without_htmx_is_the_page_with_a_400(infused, physician, login):
    first, end = infused
    with after(end, 30):
        response = login(physician).post(url(first), {"response": "maybe", "response_date": "x"})
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()


def test_b_rep_1_a_refused_follow_up_without_htmx_is_the_page_with_a_409(episode, physician, login):
    response = login(physician).post(
        url(episode), {"response": "true", "response_date": day(timezone.now()).isoformat()}
    )
    assert response.status_code == 409
    assert "documented after the infusion" in response.content.decode()


def test_b_rep_1_the_follow_up_view_refuses_other_roles_and_wards(
    infused, nurse, pharmacist, auditor, physician_b, login
):
    first, end = infused
    body = {"response": "true", "response_date": (day(end) + timedelta(28)).isoformat()}
    with after(end, 30):
        for user in (nurse, pharmacist, auditor):
            assert login(user).post(url(first), body).status_code == 403
        assert login(physician_b).post(url(first), body).status_code == 404
    assert login(nurse).get(url(first)).status_code in (403, 405)
    first.refresh_from_db()
    assert first.response is None


# --- One active episode per patient -----------------------------------------------------


def test_a_second_active_episode_is_refused_naming_the_existing_one(episode, physician):
    with pytest.raises(services.ActionRefused) as exc:
        open_episode(episode.patient, physician, start=timezone.now() + timedelta(days=3))
    assert exc.value.code == "duplicate_episode"
    assert f"#{episode.pk}" in exc.value.message
    assert exc.value.existing == episode
    assert Episode.objects.filter(patient=episode.patient).count() == 1


def test_a_second_episode_is_refused_while_the_first_is_infusing(
    verified_episode, nurse, physician
):
    start = verified_episode.planned_start
    with time_machine.travel(start + timedelta(minutes=5), tick=False):
        services.infusion_record_received(
            episode=verified_episode, actor=nurse, at=start - timedelta(minutes=40)
        )
        services.infusion_record_out_of_fridge(
            episode=verified_episode, actor=nurse, at=start - timedelta(minutes=15)
        )
        services.infusion_start(episode=verified_episode, actor=nurse, at=start)
        verified_episode.refresh_from_db()
        assert verified_episode.status == EpisodeStatus.IN_PROGRESS
        with pytest.raises(services.ActionRefused) as exc:
            open_episode(verified_episode.patient, physician, start=start + timedelta(days=1))
    assert exc.value.code == "duplicate_episode"


def test_after_the_infusion_a_new_episode_may_open(infused, physician, physician2, nurse):
    first, end = infused
    document(first, end, physician)
    with after(end, 230):
        weigh_again(first.patient, nurse)
        repeat = open_repeat(first.patient, physician)
        with pytest.raises(services.ActionRefused) as exc:  # ... but not a third one
            open_repeat(first.patient, physician)
    assert exc.value.code == "duplicate_episode" and exc.value.existing == repeat


def test_the_open_page_refuses_a_duplicate_with_a_link_to_the_existing_episode(
    episode, physician, login
):
    from tests.infusion.conftest import form_post

    client = login(physician)
    page_url = f"/infusion/patients/{episode.patient_id}/open/"
    page = client.get(page_url)
    assert page.status_code == 200
    assert f'href="/infusion/episodes/{episode.pk}/"' in page.content.decode()
    assert "already has an active MSC episode" in page.content.decode()
    start = (timezone.now() + timedelta(days=3)).replace(second=0, microsecond=0)
    response = client.post(page_url, form_post(episode_data(start), acknowledge="on"))
    body = response.content.decode()
    assert response.status_code == 409
    assert f"#{episode.pk}" in body
    assert f'<a href="/infusion/episodes/{episode.pk}/" id="existing-episode">' in body
    assert Episode.objects.filter(patient=episode.patient).count() == 1


def test_the_patient_page_points_to_the_active_episode(episode, physician, login):
    body = login(physician).get(f"/patients/{episode.patient_id}/").content.decode()
    assert 'id="active-episode-link"' in body
    assert f'href="/infusion/episodes/{episode.pk}/" id="active-episode-link"' in body
    assert f"/infusion/patients/{episode.patient_id}/open/" not in body
