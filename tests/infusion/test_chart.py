"""The bedside chart: product handling, start, rate steps, vitals, reactions, SAE, MAR."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from core.models import AuditEvent
from infusion import notifications, selectors, services
from infusion.models import EpisodeStatus, OrderKind, OrderStatus
from tests.infusion.conftest import order_of, run_infusion

pytestmark = pytest.mark.django_db

NORMAL = {
    "respiration_per_min": 16,
    "pulse_per_min": 80,
    "systolic_mmhg": 120,
    "diastolic_mmhg": 75,
    "spo2_pct": 98,
    "temperature_c": "36.8",
}


def prepare(episode, nurse, start):
    services.infusion_record_received(
        episode=episode, actor=nurse, at=start - timedelta(minutes=40)
    )
    services.infusion_record_out_of_fridge(
        episode=episode, actor=nurse, at=start - timedelta(minutes=15)
    )


def start_at(episode, nurse, start):
    """Received, out of the refrigerator and started at ``start``, the clock there."""
    with time_machine.travel(start, tick=False):
        prepare(episode, nurse, start)
        services.infusion_start(episode=episode, actor=nurse, at=start)


def chart_url(episode, suffix=""):
    return f"/infusion/episodes/{episode.pk}/chart/{suffix}"


def test_a_nurse_charts_received_fridge_start_step_up_and_end(verified_episode, nurse):
    ep = verified_episode
    start = ep.planned_start
    with time_machine.travel(start, tick=False):
        prepare(ep, nurse, start)
        services.order_administer(
            order=order_of(ep, OrderKind.DEXAMETHASONE),
            actor=nurse,
            given_at=start - timedelta(minutes=30),
        )
        result = services.infusion_start(episode=ep, actor=nurse, at=start)
        assert result.warnings == ()
    ep.refresh_from_db()
    assert ep.status == EpisodeStatus.IN_PROGRESS
    msc = order_of(ep, OrderKind.MSC_IV)
    assert msc.status == OrderStatus.ADMINISTERED
    assert msc.administrations.get().given_at == start
    assert ep.rate_steps.get().rate_ml_per_min == 2
    with time_machine.travel(start + timedelta(minutes=3), tick=False):
        with pytest.raises(services.ActionRefused):  # > 2 mL/min in the first 5 min
            services.infusion_rate_step(episode=ep, actor=nurse, rate_ml_per_min=3)
    with time_machine.travel(start + timedelta(minutes=12), tick=False):
        with pytest.raises(services.ActionRefused):  # never above 4 mL/min
            services.infusion_rate_step(episode=ep, actor=nurse, rate_ml_per_min="4.5")
        services.infusion_rate_step(episode=ep, actor=nurse, rate_ml_per_min=4)
    end = start + timedelta(minutes=34)
    with time_machine.travel(end, tick=False):
        services.infusion_end(episode=ep, actor=nurse)
    ep.refresh_from_db()
    assert ep.status == EpisodeStatus.INFUSED and ep.ended_at == end
    assert ep.cyc_hold_until == end + timedelta(hours=48)
    msc.refresh_from_db()
    assert msc.status == OrderStatus.COMPLETED
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "infusion_received",
        "infusion_out_of_fridge",
        "infusion_start",
        "infusion_rate",
        "infusion_end",
    } <= actions


def test_the_chart_prompts_the_step_up_when_it_is_due(verified_episode, nurse, login):
    ep = verified_episode
    start = ep.planned_start
    start_at(ep, nurse, start)
    # (Signed in inside each time jump: the session's idle timeout runs on the clock too.)
    with time_machine.travel(start + timedelta(minutes=9), tick=False):
        body = login(nurse).get(chart_url(ep)).content.decode()
        assert "Next: 3 mL/min at" in body and "Step up now" not in body
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        body = login(nurse).get(chart_url(ep)).content.decode()
        assert "Step up now to 3 mL/min" in body
        assert 'id="step-up-prompt"' in body


def test_the_start_is_refused_until_the_msc_order_is_verified(signed_episode, nurse):
    start = signed_episode.planned_start
    with time_machine.travel(start, tick=False):
        prepare(signed_episode, nurse, start)
        with pytest.raises(services.ActionRefused) as exc:
            services.infusion_start(episode=signed_episode, actor=nurse, at=start)
    assert exc.value.code == "not_verified"


def test_the_start_needs_the_out_of_fridge_time(verified_episode, nurse):
    start = verified_episode.planned_start
    with time_machine.travel(start, tick=False):
        with pytest.raises(services.ActionRefused) as exc:
            services.infusion_start(episode=verified_episode, actor=nurse, at=start)
    assert exc.value.code == "order"


def test_the_start_is_refused_when_the_infusion_would_end_after_the_cold_chain_limit(
    verified_episode, nurse
):
    limit = verified_episode.cold_chain_must_complete_by
    late = limit - timedelta(minutes=20)  # the infusion lasts 32.5 min
    with time_machine.travel(late, tick=False):
        prepare(verified_episode, nurse, late)
        with pytest.raises(services.ActionRefused) as exc:
            services.infusion_start(episode=verified_episode, actor=nurse, at=late)
    assert exc.value.code == "cold_chain"
    assert timezone.localtime(limit).strftime("%H:%M") in exc.value.message


def test_the_start_warns_about_dexamethasone_and_a_short_room_temperature_time(
    verified_episode, nurse
):
    start = verified_episode.planned_start
    with time_machine.travel(start, tick=False):
        services.infusion_record_received(
            episode=verified_episode, actor=nurse, at=start - timedelta(minutes=30)
        )
        services.infusion_record_out_of_fridge(
            episode=verified_episode, actor=nurse, at=start - timedelta(minutes=5)
        )
        result = services.infusion_start(episode=verified_episode, actor=nurse, at=start)
    text = " ".join(result.warnings)
    assert "B-PREMED-1" in text
    # B-ADM-2 (issue 15): the one interval, in the ward's local time, never ISO.
    assert (
        f"Out of the refrigerator at {_hm(start - timedelta(minutes=5))}, 5 min before the "
        f"start at {_hm(start)}: too short: 10–20 min at room temperature." in text
    )


def test_chart_times_in_the_future_are_refused(verified_episode, nurse):
    with pytest.raises(services.ActionRefused) as exc:
        services.infusion_record_received(
            episode=verified_episode, actor=nurse, at=timezone.now() + timedelta(hours=1)
        )
    assert exc.value.code == "future"


def test_physicians_and_pharmacists_do_not_chart(verified_episode, physician, pharmacist):
    for user in (physician, pharmacist):
        with pytest.raises(PermissionDenied):
            services.infusion_record_received(episode=verified_episode, actor=user)


def test_vitals_outside_the_ward_ranges_are_flagged_and_highlighted(verified_episode, nurse, login):
    record = services.vitals_record(
        episode=verified_episode,
        actor=nurse,
        values={**NORMAL, "pulse_per_min": 121, "spo2_pct": 90, "temperature_c": "38.1"},
    )
    assert record.out_of_range == ["pulse_per_min", "spo2_pct", "temperature_c"]
    body = login(nurse).get(chart_url(verified_episode)).content.decode()
    assert '<td class="out">121' in body and '<td class="out">90' in body
    assert "<td>120</td>" in body  # systolic 120 is in range: not highlighted
    event = AuditEvent.objects.get(action="vitals_record")
    assert event.new_values["out_of_range"] == ["pulse_per_min", "spo2_pct", "temperature_c"]


def test_the_vital_ranges_are_ward_settings(verified_episode, nurse, settings):
    settings.INFUSION_VITAL_RANGES = {"pulse_per_min": ("50", "130")}
    record = services.vitals_record(
        episode=verified_episode, actor=nurse, values={**NORMAL, "pulse_per_min": 121}
    )
    assert record.out_of_range == []


def test_implausible_vitals_are_refused(verified_episode, nurse):
    with pytest.raises(services.ActionRefused) as exc:
        services.vitals_record(episode=verified_episode, actor=nurse, values={"pulse_per_min": 800})
    assert "pulse_per_min" in exc.value.field_errors
    with pytest.raises(services.ActionRefused):
        services.vitals_record(episode=verified_episode, actor=nurse, values={})


def test_a_severe_reaction_prompts_to_stop_and_opens_the_sae_report(verified_episode, nurse, login):
    ep = verified_episode
    start = ep.planned_start
    start_at(ep, nurse, start)
    with time_machine.travel(start + timedelta(minutes=12), tick=False):
        client = login(nurse)
        response = client.post(
            chart_url(ep).replace("chart/", "reactions/"),
            {
                "reaction_type": "chest_tightness",
                "severity": "severe",
                "action": "Oxygen; physician called",
            },
            HTTP_HX_REQUEST="true",
        )
        body = response.content.decode()
        assert response.status_code == 200
        assert 'id="severe-prompt"' in body and "Stop the infusion now" in body
        assert 'id="sae-form"' in body and "R6 1A" in body
        response = client.post(
            chart_url(ep, "end/"),
            {
                "stopped": "on",
                "reason": "Severe adverse reaction: chest tightness",
                "volume_given_ml": "24",  # issue 15: an early end gives the volume
            },
            HTTP_HX_REQUEST="true",
        )
        assert response.status_code == 200
    ep.refresh_from_db()
    assert ep.status == EpisodeStatus.INFUSED and ep.stopped_early
    assert AuditEvent.objects.filter(action="infusion_stop").exists()
    reaction = ep.reactions.get()
    with time_machine.travel(start + timedelta(minutes=20), tick=False):
        client = login(nurse)
        response = client.post(
            f"/infusion/reactions/{reaction.pk}/sae/",
            {
                "informed_whom": "Dr Zhao, physician on duty; medical affairs office",
                "informed_at": timezone.localtime(start + timedelta(minutes=15)).strftime(
                    "%Y-%m-%dT%H:%M"
                ),
                "description": "Chest tightness 12 min into the infusion; stopped; ECG normal.",
            },
        )
    assert response.status_code == 302
    report = reaction.sae_report
    assert report.informed_whom.startswith("Dr Zhao")
    event = AuditEvent.objects.get(action="sae_report")
    assert event.new_values["severity"] == "severe"
    body = login(nurse).get(chart_url(ep)).content.decode()
    assert 'id="severe-prompt"' not in body and "SAE reported" in body


def test_the_sae_report_is_e_mailed_after_commit(
    verified_episode, nurse, physician, mailoutbox, django_capture_on_commit_callbacks
):
    ward = verified_episode.patient.ward
    physician.email = "doc@ward.example"
    physician.save()
    ward.physician_on_duty = physician
    ward.save()
    reaction = services.adverse_reaction_record(
        episode=verified_episode,
        actor=nurse,
        reaction_type="fever",
        severity="severe",
        action="Paracetamol",
    )
    with django_capture_on_commit_callbacks() as callbacks:
        report = services.sae_report(
            reaction=reaction,
            actor=nurse,
            informed_whom="Dr Doc",
            informed_at=timezone.now(),
            description="Fever 39.2",
        )
    assert len(callbacks) == 1  # the notification is enqueued only once the report commits
    notifications.notify_sae_report(report.pk)
    assert mailoutbox[0].to == ["doc@ward.example"]
    assert verified_episode.patient.hospital_number in mailoutbox[0].subject
    with pytest.raises(services.ActionRefused):
        services.sae_report(
            reaction=reaction,
            actor=nurse,
            informed_whom="x",
            informed_at=timezone.now(),
            description="y",
        )


def test_the_mar_shows_planned_and_given_with_who_and_when(verified_episode, nurse, login):
    dexa = order_of(verified_episode, OrderKind.DEXAMETHASONE)
    given = services.order_administer(order=dexa, actor=nurse)
    body = login(nurse).get(chart_url(verified_episode)).content.decode()
    mar = body[body.index('id="mar"') :]
    assert timezone.localtime(dexa.scheduled_at).strftime("%m-%d %H:%M") in mar
    assert timezone.localtime(given.given_at).strftime("%m-%d %H:%M") in mar
    assert nurse.get_full_name() in mar


def test_a_chart_post_with_htmx_returns_the_chart_only_and_without_htmx_redirects(
    verified_episode, nurse, login
):
    with time_machine.travel(verified_episode.planned_start - timedelta(minutes=30), tick=False):
        client = login(nurse)
        response = client.post(chart_url(verified_episode, "received/"), {}, HTTP_HX_REQUEST="true")
        body = response.content.decode()
        assert response.status_code == 200
        assert body.lstrip().startswith('<div id="chart"') and "<html" not in body
        assert "Product received." in body
        response = client.post(chart_url(verified_episode, "out-of-fridge/"), {})
        assert response.status_code == 302 and response.url == chart_url(verified_episode)
    verified_episode.refresh_from_db()
    assert verified_episode.out_of_fridge_at is not None


def test_the_status_poll_returns_only_the_status_partial(verified_episode, nurse, login):
    client = login(nurse)
    body = client.get(
        chart_url(verified_episode), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="chart-status"
    ).content.decode()
    assert body.lstrip().startswith('<section class="card chart-status" id="chart-status"')
    assert "<html" not in body and 'id="vitals"' not in body
    full = client.get(chart_url(verified_episode)).content.decode()
    assert "<html" in full and 'id="chart-status"' in full and 'id="vitals"' in full


def test_a_refused_chart_action_shows_the_reason(verified_episode, nurse, login):
    response = login(nurse).post(chart_url(verified_episode, "start/"), {}, HTTP_HX_REQUEST="true")
    assert "Record when the suspension left the refrigerator first" in response.content.decode()


def test_an_unknown_chart_event_is_404(verified_episode, nurse, login):
    assert login(nurse).post(chart_url(verified_episode, "teleport/"), {}).status_code == 404


def test_after_the_infusion_the_chart_shows_the_cyclophosphamide_hold(
    verified_episode, nurse, login
):
    end = run_infusion(verified_episode, nurse)
    body = login(nurse).get(chart_url(verified_episode)).content.decode()
    assert timezone.localtime(end + timedelta(hours=48)).strftime("%Y-%m-%d %H:%M") in body


def _hm(value):
    return timezone.localtime(value).strftime("%H:%M")


def _countdown(value):
    """What _countdown.html renders for a deadline: the local time and the epoch seconds."""
    return (
        f"{_hm(value)}</time> "
        f'<span class="countdown" data-deadline="{int(value.timestamp())}" aria-hidden="true">'
    )


def test_a_start_that_would_end_after_the_late_from_time_warns(verified_episode, nurse, login):
    ep = verified_episode
    # Prepared 2 h before the planned start: "late from" is start + 6 h, the hard limit
    # start + 10 h. Started 10 min before "late from", the 32.5 min infusion ends after it.
    start = ep.cold_chain_late_from - timedelta(minutes=10)
    with time_machine.travel(start - timedelta(minutes=1), tick=False):
        prepare(ep, nurse, start - timedelta(minutes=1))
    with time_machine.travel(start, tick=False):
        response = login(nurse).post(chart_url(ep, "start/"), {}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    ep.refresh_from_db()
    assert ep.status == EpisodeStatus.IN_PROGRESS  # a warning, not a refusal
    alert = body[body.index('id="chart-alert"') :]
    alert = alert[: alert.index("</div>")]
    projected = start + (ep.planned_end - ep.planned_start)
    assert f"would end at {timezone.localtime(projected).strftime('%Y-%m-%d %H:%M')}" in alert
    assert "more than 8 h after preparation" in alert and "B-ADM-1" in alert
    limit = timezone.localtime(ep.cold_chain_must_complete_by).strftime("%Y-%m-%d %H:%M")
    assert f"must be complete by {limit}" in alert
    event = AuditEvent.objects.get(action="infusion_start")
    assert any("B-ADM-1" in w for w in event.new_values["warnings"])


def test_a_start_ending_before_the_late_from_time_has_no_cold_chain_warning(
    verified_episode, nurse
):
    ep = verified_episode
    start = ep.cold_chain_late_from - timedelta(minutes=33)  # ends 30 s before "late from"
    with time_machine.travel(start, tick=False):
        prepare(ep, nurse, start)
        result = services.infusion_start(episode=ep, actor=nurse, at=start)
    assert not any("B-ADM-1" in w for w in result.warnings)


def test_the_chart_counts_down_the_room_temperature_window_and_the_cold_chain_limit(
    verified_episode, nurse, login
):
    ep = verified_episode
    start = ep.planned_start
    with time_machine.travel(start - timedelta(minutes=15), tick=False):
        services.infusion_record_received(episode=ep, actor=nurse)
        services.infusion_record_out_of_fridge(episode=ep, actor=nurse)
        ep.refresh_from_db()
        body = login(nurse).get(chart_url(ep)).content.decode()
    room = body[body.index('class="room-temp"') :]
    room = room[: room.index("</div>")]
    assert "Room temperature: start from" in room and "at the latest" in room
    assert _countdown(ep.out_of_fridge_at + timedelta(minutes=10)) in room
    assert _countdown(ep.out_of_fridge_at + timedelta(minutes=20)) in room
    cold = body[body.index('class="cold') :]
    cold = cold[: cold.index("</li>")]
    assert f"late from {_hm(ep.cold_chain_late_from)}" in cold
    assert "hard limit" in cold and _countdown(ep.cold_chain_must_complete_by) in cold
    assert "B-ADM-1 (§3.7)" in cold
    # Once started, the room-temperature countdown is gone; the cold chain still counts down.
    with time_machine.travel(start, tick=False):
        services.infusion_start(episode=ep, actor=nurse, at=start)
        body = login(nurse).get(chart_url(ep)).content.decode()
    assert 'class="room-temp"' not in body
    assert _countdown(ep.cold_chain_must_complete_by) in body
    run_infusion_end(ep, nurse, start + timedelta(minutes=34))
    body = login(nurse).get(chart_url(ep)).content.decode()
    cold = body[body.index('class="cold') :]
    cold = cold[: cold.index("</li>")]
    assert 'class="countdown"' not in cold  # ended: the limit is shown, no countdown
    assert f"hard limit {_hm(ep.cold_chain_must_complete_by)}" in cold


def run_infusion_end(ep, nurse, at):
    with time_machine.travel(at, tick=False):
        # 4 mL/min from 24 min before the end, so the 100 mL can have run in (issue 15).
        services.infusion_rate_step(
            episode=ep, actor=nurse, at=at - timedelta(minutes=24), rate_ml_per_min=4
        )
        services.infusion_end(episode=ep, actor=nurse)
    ep.refresh_from_db()
    return ep.ended_at


def _step_li(body, marker):
    """The status panel's <li> (opening tag included) around ``marker``."""
    at = body.index(marker)
    return body[body.rindex("<li", 0, at) : body.index("</li>", at)]


def _vitals_li(body):
    return _step_li(body, '<span class="step-name">Vital signs')


def test_the_chart_prompts_vital_signs_when_they_are_due(verified_episode, nurse, login):
    ep = verified_episode
    start = ep.planned_start
    start_at(ep, nurse, start)
    with time_machine.travel(start + timedelta(minutes=14), tick=False):
        li = _vitals_li(login(nurse).get(chart_url(ep)).content.decode())
    assert 'class=""' in li and "Check now" not in li
    assert "next check" in li and _countdown(start + timedelta(minutes=15)) in li
    with time_machine.travel(start + timedelta(minutes=15), tick=False):
        li = _vitals_li(login(nurse).get(chart_url(ep)).content.decode())
        assert 'class="due"' in li and "<strong>Check now</strong>" in li
        services.vitals_record(episode=ep, actor=nurse, values=NORMAL)
        li = _vitals_li(login(nurse).get(chart_url(ep)).content.decode())
    # Recorded: the next check is one interval after this one.
    assert "Check now" not in li and _countdown(start + timedelta(minutes=30)) in li


def _expected_end(body):
    return _step_li(body, 'id="expected-end"')


def test_before_the_start_the_panel_shows_when_a_start_now_would_end(
    verified_episode, nurse, login
):
    ep = verified_episode
    now = ep.planned_start
    with time_machine.travel(now, tick=False):
        prepare(ep, nurse, now)
        body = login(nurse).get(chart_url(ep)).content.decode()
    item = _expected_end(body)
    assert item.startswith('<li class="" ') and "end-flag" not in item
    assert "If started now, ends at" in item and "B-ADM-1" in item
    assert _hm(now + (ep.planned_end - ep.planned_start)) in item


@pytest.mark.parametrize(
    "before, flag",
    [
        ("late_from", "more than 8 h after preparation: late; it must be complete by"),
        ("limit", "do not start; contact the physician and the cell-processing lab"),
    ],
)
def test_the_panel_warns_before_the_start_that_the_end_would_be_late(
    verified_episode, nurse, login, before, flag
):
    ep = verified_episode
    deadline = ep.cold_chain_late_from if before == "late_from" else ep.cold_chain_must_complete_by
    now = deadline - timedelta(minutes=10)  # the 32.5 min infusion would end after it
    with time_machine.travel(now, tick=False):
        prepare(ep, nurse, now)
        body = login(nurse).get(chart_url(ep)).content.decode()
    item = _expected_end(body)
    assert item.startswith('<li class="due"') and flag in item
    assert _hm(ep.cold_chain_must_complete_by) in item


def test_the_panel_flags_a_running_infusion_expected_to_end_late(verified_episode, nurse, login):
    ep = verified_episode
    start = ep.cold_chain_late_from - timedelta(minutes=10)
    start_at(ep, nurse, start)
    with time_machine.travel(start + timedelta(minutes=5), tick=False):
        body = login(nurse).get(chart_url(ep)).content.decode()
    item = _expected_end(body)
    assert "Expected end" in item and "If started now" not in item
    assert _hm(start + (ep.planned_end - ep.planned_start)) in item
    assert "more than 8 h after preparation: late" in item


@pytest.mark.parametrize(
    "deadline, offset, flag",
    [
        ("late_from", timedelta(0), ""),  # ending at "late from" is on time
        ("late_from", timedelta(seconds=1), "late"),
        ("limit", timedelta(0), "late"),  # at the hard limit: late, not over it
        ("limit", timedelta(seconds=1), "over_limit"),
    ],
)
def test_the_end_flag_boundaries_are_late_from_and_the_hard_limit(
    verified_episode, nurse, deadline, offset, flag
):
    """B-ADM-1: complete within 8 h of preparation (late after), 12 h at the most."""
    ep = verified_episode
    duration = ep.planned_end - ep.planned_start
    at = ep.cold_chain_late_from if deadline == "late_from" else ep.cold_chain_must_complete_by
    now = at - duration + offset  # a start now would end `offset` after the deadline
    with time_machine.travel(now, tick=False):
        prepare(ep, nurse, now)
    msc = order_of(ep, OrderKind.MSC_IV)
    before = selectors.chart_state(ep, msc, now=now)
    assert (before.end_if_started_now, before.end_flag) == (at + offset, flag)
    ep.started_at, ep.status = now, EpisodeStatus.IN_PROGRESS  # the same end, as it runs
    running = selectors.chart_state(ep, msc, now=now)
    assert (running.projected_end, running.end_flag) == (at + offset, flag)
