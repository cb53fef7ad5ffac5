"""The episode timeline (server-rendered SVG) and times shown in the ward's time zone."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from infusion import timeline
from infusion.selectors import episode_orders
from tests.infusion.conftest import open_episode, run_infusion

pytestmark = pytest.mark.django_db


def svg(client, episode):
    response = client.get(f"/infusion/episodes/{episode.pk}/timeline.svg")
    assert response.status_code == 200 and response["Content-Type"].startswith("image/svg+xml")
    return response.content.decode()


def test_the_timeline_shows_the_phases_premed_cold_chain_antiplatelet_hold_and_follow_up(
    verified_episode, physician, login
):
    body = svg(login(physician), verified_episode)
    assert body.startswith('<?xml version="1.0"') and "<svg" in body and "<script" not in body
    for text in (
        "The infusion",
        "Start and end",
        "Cold chain (B-ADM-1)",
        "Dexamethasone (B-PREMED-1)",
        "Room temperature (B-ADM-2)",
        "Infusion phases (B-ADM-4)",
        "Antiplatelet (B-AP-1)",
        "Cyclophosphamide hold (B-CYC-1)",
        "no cyclophosphamide until",
        "Efficacy (B-FU-1)",
        "Biopsy, imaging (B-FU-3)",
        'class="bar bar-phase1"',
        'class="bar bar-phase3"',
        'class="bar bar-hold"',
        'class="bar bar-ap"',
    ):
        assert text in body, text
    assert "Phase 2: 3.00 mL/min from" in body


def test_the_hold_bar_runs_from_the_actual_end_once_recorded(verified_episode, nurse):
    end = run_infusion(verified_episode, nurse, minutes=50)
    data = timeline.build(verified_episode, episode_orders(verified_episode))
    days = next(p for p in data["panels"] if "Days" in str(p["title"]))
    hold_row = next(r for r in days["rows"] if "B-CYC-1" in str(r["label"]))
    hold = next(i for i in hold_row["items"] if i["cls"] == "hold")
    local_until = (end + timedelta(hours=48)).astimezone(ZoneInfo("Asia/Shanghai"))
    assert local_until.strftime("%m-%d %H:%M") in hold["text"]


def test_the_episode_page_inlines_the_timeline(verified_episode, physician, login):
    body = login(physician).get(f"/infusion/episodes/{verified_episode.pk}/").content.decode()
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="timeline"' in body


def test_times_are_shown_in_asia_shanghai(weighed_patient, physician, login, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    zone = ZoneInfo("Asia/Shanghai")
    start = datetime(2031, 6, 12, 9, 30, tzinfo=zone)
    episode = open_episode(
        weighed_patient,
        physician,
        start=start,
        preparation_time=datetime(2031, 6, 12, 7, 30, tzinfo=zone),
    )
    assert episode.plan_input["ward_time_zone"] == "Asia/Shanghai"
    body = login(physician).get(f"/infusion/episodes/{episode.pk}/").content.decode()
    assert "2031-06-12 09:30" in body  # planned start (01:30 UTC)
    assert "2031-06-12 19:30" in body  # hard limit: 12 h after 07:30
    assert "Times shown in Asia/Shanghai." in body
    assert "09:00" in svg(login(physician), episode)  # dexamethasone 30 min before


def test_times_are_shown_in_a_dst_zone_and_elapsed_limits_cross_the_change(
    weighed_patient, physician, login, settings
):
    # New York leaves daylight saving time at 02:00 on 2031-11-02 (clocks go back to 01:00).
    settings.TIME_ZONE = "America/New_York"
    zone = ZoneInfo("America/New_York")
    prep = datetime(2031, 11, 2, 0, 30, tzinfo=zone)  # EDT, 04:30 UTC
    start = datetime(2031, 11, 2, 3, 0, tzinfo=zone)  # EST, 08:00 UTC
    episode = open_episode(weighed_patient, physician, start=start, preparation_time=prep)
    assert episode.plan_input["ward_time_zone"] == "America/New_York"
    # 12 elapsed hours after 04:30 UTC is 16:30 UTC = 11:30 EST (not 12:30 by the wall clock).
    assert episode.cold_chain_must_complete_by == datetime(
        2031, 11, 2, 16, 30, tzinfo=ZoneInfo("UTC")
    )
    body = login(physician).get(f"/infusion/episodes/{episode.pk}/").content.decode()
    assert "2031-11-02 03:00" in body
    assert "2031-11-02 11:30" in body and "2031-11-02 12:30" not in body
    assert "Times shown in America/New_York." in body
    ap = episode.orders.get(kind="antiplatelet")
    assert ap.first_day.isoformat() == "2031-11-01"  # the ward's calendar day before
