"""Issue 15 at the bedside: C-TIME-1 (every recorded clinical time checked in the service),
the early end (B-ADM-4), one B-ADM-2 room-temperature interval, the B-ADM-1 deviation of an
actual end past the hard limit, and the B-CYC-1 hold that never moves for an implausible end.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from core import services as core_services
from core.models import AuditEvent, LabResult, Measurement
from infusion import services, timeline
from infusion.models import EpisodeStatus, OrderKind, VitalSigns
from infusion.selectors import episode_orders
from tests.infusion.conftest import order_of
from tests.infusion.test_documents import pdf_text

pytestmark = pytest.mark.django_db

TOLERANCE = timedelta(minutes=5)
ONE_SECOND = timedelta(seconds=1)


def _hm(value):
    return timezone.localtime(value).strftime("%H:%M")


def _received(ep, nurse):
    start = ep.planned_start
    with time_machine.travel(start, tick=False):
        services.infusion_record_received(episode=ep, actor=nurse, at=start - timedelta(minutes=40))
    return start


def _ready(ep, nurse, *, out_before=timedelta(minutes=15)):
    start = _received(ep, nurse)
    with time_machine.travel(start, tick=False):
        services.infusion_record_out_of_fridge(episode=ep, actor=nurse, at=start - out_before)
    return start


def _started(ep, nurse):
    start = _ready(ep, nurse)
    with time_machine.travel(start, tick=False):
        services.infusion_start(episode=ep, actor=nurse, at=start)
    ep.refresh_from_db()
    return start


# --- C-TIME-1: now + 5 min accepted, + 5 min 1 s refused, for each service ---------------


def _refused_in_future(call, now):
    with time_machine.travel(now, tick=False):
        with pytest.raises(services.ActionRefused) as exc:
            call(now + TOLERANCE + ONE_SECOND)
    assert exc.value.code == "future"
    assert "in the future" in exc.value.field_errors["at"][0]
    with time_machine.travel(now, tick=False):
        return call(now + TOLERANCE)


def test_received_out_of_fridge_and_start_accept_now_plus_5_min_and_refuse_a_second_more(
    verified_episode, nurse
):
    ep = verified_episode
    now = ep.planned_start - timedelta(minutes=45)
    _refused_in_future(
        lambda at: services.infusion_record_received(episode=ep, actor=nurse, at=at), now
    )
    now += timedelta(minutes=10)
    _refused_in_future(
        lambda at: services.infusion_record_out_of_fridge(episode=ep, actor=nurse, at=at), now
    )
    now += timedelta(minutes=15)
    result = _refused_in_future(
        lambda at: services.infusion_start(episode=ep, actor=nurse, at=at), now
    )
    assert result.episode.status == EpisodeStatus.IN_PROGRESS


def test_rate_steps_vitals_and_reactions_accept_now_plus_5_min_and_refuse_a_second_more(
    verified_episode, nurse
):
    ep = verified_episode
    start = _started(ep, nurse)
    now = start + timedelta(minutes=10)
    _refused_in_future(
        lambda at: services.infusion_rate_step(episode=ep, actor=nurse, at=at, rate_ml_per_min=3),
        now,
    )
    _refused_in_future(
        lambda at: services.vitals_record(
            episode=ep, actor=nurse, at=at, values={"pulse_per_min": 80}
        ),
        now,
    )
    _refused_in_future(
        lambda at: services.adverse_reaction_record(
            episode=ep,
            actor=nurse,
            at=at,
            reaction_type="fever",
            severity="mild",
            action="Observed",
        ),
        now,
    )
    assert ep.rate_steps.count() == 2 and ep.vitals.count() == 1 and ep.reactions.count() == 1


def test_the_end_accepts_now_plus_5_min_and_refuses_a_second_more(verified_episode, nurse):
    ep = verified_episode
    start = _started(ep, nurse)
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        services.infusion_rate_step(episode=ep, actor=nurse, rate_ml_per_min=4)
    _refused_in_future(
        lambda at: services.infusion_end(episode=ep, actor=nurse, at=at),
        start + timedelta(minutes=30),
    )
    ep.refresh_from_db()
    assert ep.ended_at == start + timedelta(minutes=35)


def test_an_administration_accepts_now_plus_5_min_and_refuses_a_second_more(
    verified_episode, nurse
):
    dexa = order_of(verified_episode, OrderKind.DEXAMETHASONE)
    now = verified_episode.planned_start - timedelta(minutes=40)
    with time_machine.travel(now, tick=False):
        with pytest.raises(services.ActionRefused) as exc:
            services.order_administer(
                order=dexa, actor=nurse, given_at=now + TOLERANCE + ONE_SECOND
            )
        assert "at" in exc.value.field_errors and not dexa.administrations.exists()
        services.order_administer(order=dexa, actor=nurse, given_at=now + TOLERANCE)
    assert dexa.administrations.count() == 1


def test_the_sae_informed_time_is_checked_on_its_own_field(verified_episode, nurse):
    ep = verified_episode
    start = _started(ep, nurse)
    now = start + timedelta(minutes=12)
    with time_machine.travel(now, tick=False):
        reaction = services.adverse_reaction_record(
            episode=ep, actor=nurse, reaction_type="fever", severity="severe", action="Stopped"
        )
        report = {"informed_whom": "Duty officer", "description": "Fever 39.5 °C"}
        for at in (now + TOLERANCE + ONE_SECOND, now - timedelta(minutes=1)):  # future; before
            with pytest.raises(services.ActionRefused) as exc:
                services.sae_report(reaction=reaction, actor=nurse, informed_at=at, **report)
            assert list(exc.value.field_errors) == ["informed_at"]
        services.sae_report(reaction=reaction, actor=nurse, informed_at=now + TOLERANCE, **report)


def test_lab_and_measurement_times_are_checked_in_the_core_services(patient, nurse):
    now = timezone.now()
    for at in (now + TOLERANCE + timedelta(seconds=2), datetime(1, 1, 1, tzinfo=UTC)):
        with pytest.raises(core_services.ClinicalTimeRefused) as exc:
            core_services.measurement_record(
                actor=nurse, patient=patient, kind="weight_kg", value=Decimal(60), measured_at=at
            )
        assert list(exc.value.field_errors) == ["measured_at"]
        with pytest.raises(core_services.ClinicalTimeRefused) as exc:
            core_services.lab_result_record(
                actor=nurse,
                patient=patient,
                analyte="platelets",
                value=Decimal(180),
                unit="10^9/L",
                lab="Central",
                observed_at=at,
            )
        assert list(exc.value.field_errors) == ["observed_at"]
    assert not Measurement.objects.exists() and not LabResult.objects.exists()


def test_a_lab_time_in_the_future_is_shown_on_the_lab_form(patient, nurse, login):
    """C-TIME-1 over HTTP: the service refusal lands on the form that caused it."""
    at = timezone.localtime() + timedelta(hours=2)
    response = login(nurse).post(
        f"/patients/{patient.pk}/labs/",
        {
            "analyte": "platelets",
            "value": "180",
            "unit": "10^9/L",
            "lab": "Central",
            "observed_at": at.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 400
    assert "in the future" in response.content.decode()
    assert not LabResult.objects.exists()


# --- C-TIME-1: birth, preparation, before 1900, end vs start ------------------------------


def test_a_time_on_the_birth_day_is_accepted_and_the_day_before_is_refused(verified_episode, nurse):
    born = verified_episode.patient.date_of_birth
    zone = timezone.get_default_timezone()
    day_before = datetime.combine(born - timedelta(days=1), datetime.min.time(), zone)
    with pytest.raises(services.ActionRefused) as exc:
        services.vitals_record(
            episode=verified_episode, actor=nurse, at=day_before, values={"pulse_per_min": 80}
        )
    assert "before the patient's birth" in exc.value.field_errors["at"][0]
    birth_day = datetime.combine(born, datetime.min.time(), zone)
    services.vitals_record(
        episode=verified_episode, actor=nurse, at=birth_day, values={"pulse_per_min": 80}
    )


def test_a_year_1_time_is_refused_and_nothing_is_stored(verified_episode, nurse):
    """Issue 16's poison rows."""
    with pytest.raises(services.ActionRefused) as exc:
        services.vitals_record(
            episode=verified_episode,
            actor=nurse,
            at=datetime(1, 1, 1, tzinfo=UTC),
            values={"pulse_per_min": 80},
        )
    assert "before 1900" in exc.value.message
    assert not VitalSigns.objects.exists()


def test_received_before_the_preparation_is_refused(verified_episode, nurse):
    ep = verified_episode
    with time_machine.travel(ep.planned_start, tick=False):
        with pytest.raises(services.ActionRefused) as exc:
            services.infusion_record_received(
                episode=ep, actor=nurse, at=ep.preparation_time - ONE_SECOND
            )
        assert "before the product was prepared" in exc.value.field_errors["at"][0]
        services.infusion_record_received(episode=ep, actor=nurse, at=ep.preparation_time)


def test_an_end_at_its_start_or_before_the_preparation_is_refused_and_the_hold_stays(
    verified_episode, nurse
):
    """C-TIME-1, B-CYC-1: an implausible end never moves the cyclophosphamide hold."""
    ep = verified_episode
    start = _started(ep, nurse)
    hold = ep.cyc_hold_until
    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        for at in (start, ep.preparation_time - timedelta(days=2)):
            with pytest.raises(services.ActionRefused) as exc:
                services.infusion_end(
                    episode=ep, actor=nurse, at=at, stopped=True, reason="x", volume_given_ml=1
                )
            assert exc.value.field_errors["at"]
    ep.refresh_from_db()
    assert ep.status == EpisodeStatus.IN_PROGRESS and ep.ended_at is None
    assert ep.cyc_hold_until == hold and hold >= ep.planned_end + timedelta(hours=48)


def test_the_plan_api_refuses_an_actual_end_before_the_preparation(physician, client):
    from tests.infusion.engine import example_doc

    doc = example_doc()
    prep = datetime.fromisoformat(doc["product"]["preparation_time"])
    doc["order"]["actual_infusion_end"] = (prep - timedelta(days=2)).isoformat()
    client.force_login(physician)
    response = client.post("/api/infusion/plan", doc, content_type="application/json")
    assert response.status_code in (400, 422), response.status_code
    assert "order.actual_infusion_end" in response.content.decode()


def test_a_time_error_is_shown_on_the_chart_form_field(verified_episode, nurse, login):
    ep = verified_episode
    at = timezone.localtime(ep.preparation_time - timedelta(hours=1))
    with time_machine.travel(ep.planned_start, tick=False):
        response = login(nurse).post(
            f"/infusion/episodes/{ep.pk}/chart/received/",
            {"at": at.strftime("%Y-%m-%dT%H:%M")},
            HTTP_HX_REQUEST="true",
        )
    body = response.content.decode()
    form = body[body.index('id="form-received"') :]
    assert "before the product was prepared" in form[: form.index("</form>")]
    ep.refresh_from_db()
    assert ep.received_at is None


def test_another_wards_nurse_is_refused_before_any_time_check(verified_episode, nurse_b):
    with pytest.raises(PermissionDenied):
        services.infusion_record_received(
            episode=verified_episode, actor=nurse_b, at=timezone.now() + timedelta(days=1)
        )


# --- Early end (B-ADM-4) ----------------------------------------------------------------


def test_100_ml_ended_after_11_min_is_refused_as_completed_without_volume_and_reason(
    verified_episode, nurse
):
    ep = verified_episode
    start = _started(ep, nurse)
    end = start + timedelta(minutes=11)
    with time_machine.travel(end, tick=False):
        with pytest.raises(services.ActionRefused) as exc:
            services.infusion_end(episode=ep, actor=nurse)
    assert exc.value.code == "early_end"
    assert set(exc.value.field_errors) == {"volume_given_ml", "reason"}
    assert "100 mL cannot have run in" in exc.value.message and "about 22 mL" in exc.value.message
    ep.refresh_from_db()
    assert ep.status == EpisodeStatus.IN_PROGRESS and ep.ended_at is None


def test_an_early_end_is_accepted_with_the_volume_and_a_reason_and_the_timeline_stops_there(
    verified_episode, nurse
):
    ep = verified_episode
    start = _started(ep, nurse)
    end = start + timedelta(minutes=11)
    with time_machine.travel(end, tick=False):
        services.infusion_end(
            episode=ep,
            actor=nurse,
            volume_given_ml=Decimal(22),
            reason="Completed: pump ran at 4 mL/min, not charted",
        )
    ep.refresh_from_db()
    assert ep.status == EpisodeStatus.INFUSED and not ep.stopped_early
    event = AuditEvent.objects.get(action="infusion_end")
    assert event.new_values["volume_given_ml"] == "22"
    assert event.new_values["outcome"] == "completed" and event.new_values["early_end"] is True
    assert ep.volume_given_ml == Decimal(22)  # kept on the episode, shown on the chart
    data = timeline.build(ep, episode_orders(ep))
    infusion = next(p for p in data["panels"] if str(p["title"]) == "The infusion")
    phases = next(r for r in infusion["rows"] if "B-ADM-4" in str(r["label"]))["items"]
    marks = next(r for r in infusion["rows"] if str(r["label"]) == "Start and end")["items"]
    end_x = next(m["x"] for m in marks if m["cls"] == "end")
    assert len(phases) == 1 and phases[0]["x"] + phases[0]["w"] <= end_x + 0.1


def test_an_early_stop_over_http_asks_for_the_volume_on_the_end_form(
    verified_episode, nurse, login
):
    ep = verified_episode
    start = _started(ep, nurse)
    with time_machine.travel(start + timedelta(minutes=11), tick=False):
        client = login(nurse)
        response = client.post(
            f"/infusion/episodes/{ep.pk}/chart/end/",
            {"stopped": "on", "reason": "Chest tightness"},
            HTTP_HX_REQUEST="true",
        )
        body = response.content.decode()
        assert "Give the volume actually given (mL)." in body
        response = client.post(
            f"/infusion/episodes/{ep.pk}/chart/end/",
            {"stopped": "on", "reason": "Chest tightness", "volume_given_ml": "20"},
            HTTP_HX_REQUEST="true",
        )
    ep.refresh_from_db()
    assert ep.status == EpisodeStatus.INFUSED and ep.stopped_early


def test_an_end_after_the_volume_could_run_needs_no_volume(verified_episode, nurse):
    ep = verified_episode
    start = _started(ep, nurse)
    with time_machine.travel(start + timedelta(minutes=49), tick=False):  # 2 mL/min: 50 min
        services.infusion_end(episode=ep, actor=nurse)  # 1 min of charting tolerance
    ep.refresh_from_db()
    assert ep.status == EpisodeStatus.INFUSED


# --- B-ADM-2: one interval, localized, the same on the chart and the PDF ------------------


def test_the_room_temperature_text_is_the_same_on_the_chart_the_episode_page_and_the_pdf(
    verified_episode, nurse, physician, login
):
    ep = verified_episode
    start = _ready(ep, nurse, out_before=timedelta(minutes=6))
    with time_machine.travel(start, tick=False):
        result = services.infusion_start(episode=ep, actor=nurse, at=start)
    expected = (
        f"Out of the refrigerator at {_hm(start - timedelta(minutes=6))}, 6 min before the "
        f"start at {_hm(start)}: too short: 10–20 min at room temperature."
    )
    assert expected in result.warnings
    with time_machine.travel(start + timedelta(minutes=5), tick=False):
        chart = login(nurse).get(f"/infusion/episodes/{ep.pk}/chart/").content.decode()
        page = login(physician).get(f"/infusion/episodes/{ep.pk}/").content.decode()
        pdf = pdf_text(login(physician).get(f"/infusion/episodes/{ep.pk}/infusion-record.pdf"))
    assert expected in chart and expected in page
    assert expected in " ".join(pdf.split())
    assert "T0" not in expected and "+08:00" not in chart[chart.index("room-temp-check") :][:300]


def test_starting_7_s_after_out_of_fridge_is_a_warning_not_a_green_banner(
    verified_episode, nurse, login
):
    ep = verified_episode
    start = _received(ep, nurse)
    with time_machine.travel(start, tick=False):
        services.infusion_record_out_of_fridge(
            episode=ep, actor=nurse, at=start - timedelta(seconds=7)
        )
        response = login(nurse).post(
            f"/infusion/episodes/{ep.pk}/chart/start/",
            {"at": ""},
            HTTP_HX_REQUEST="true",
        )
    body = response.content.decode()
    assert "7 s before the start at" in body and "too short: 10–20 min" in body
    assert "T0" not in body[body.index("7 s before") - 80 : body.index("7 s before")]


def test_before_the_start_the_interval_runs_to_the_planned_start(verified_episode, nurse, login):
    ep = verified_episode
    start = _ready(ep, nurse, out_before=timedelta(minutes=15))
    with time_machine.travel(start - timedelta(minutes=10), tick=False):
        chart = login(nurse).get(f"/infusion/episodes/{ep.pk}/chart/").content.decode()
    assert (
        f"15 min before the planned start at {_hm(start)} (10–20 min at room temperature)." in chart
    )


# --- B-ADM-1: an actual end after the hard limit is a recorded deviation -----------------


def test_an_actual_end_after_the_hard_limit_is_a_deviation_on_the_chart_page_and_pdf(
    verified_episode, nurse, physician, login
):
    ep = verified_episode
    limit = ep.cold_chain_must_complete_by
    start = limit - timedelta(minutes=40)
    with time_machine.travel(start, tick=False):
        services.infusion_record_received(episode=ep, actor=nurse, at=start - timedelta(minutes=30))
        services.infusion_record_out_of_fridge(
            episode=ep, actor=nurse, at=start - timedelta(minutes=15)
        )
        services.infusion_start(episode=ep, actor=nurse, at=start)
    end = limit + timedelta(minutes=10)  # 50 min at 2 mL/min: ran slow, past the limit
    with time_machine.travel(end, tick=False):
        services.infusion_end(episode=ep, actor=nurse)
        chart = login(nurse).get(f"/infusion/episodes/{ep.pk}/chart/").content.decode()
        page = login(physician).get(f"/infusion/episodes/{ep.pk}/").content.decode()
        pdf = pdf_text(login(physician).get(f"/infusion/episodes/{ep.pk}/infusion-record.pdf"))
    local = timezone.localtime
    expected = (
        f"Deviation (B-ADM-1): the infusion ended at {local(end):%Y-%m-%d %H:%M}, after the "
        f"cold-chain hard limit {local(limit):%Y-%m-%d %H:%M}."
    )
    assert expected in chart and expected in page
    mar = chart[chart.index('id="mar"') :]
    assert expected in mar  # C-MAR-1: the deviation is on the MAR too
    assert expected in " ".join(pdf.split()).replace("- ", "-")  # a line may break at "-"
    assert AuditEvent.objects.get(action="infusion_end").new_values["after_cold_chain_limit"]
