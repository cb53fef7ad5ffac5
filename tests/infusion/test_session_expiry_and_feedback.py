"""Issue 15: an htmx action from an ended session sends the whole page to the sign-in page
(never a sign-in page inside a fragment) with the chart as `next`; the chart shows the
result of an action next to the control that caused it."""

import re
import time
from datetime import timedelta

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.test import Client

from core.middleware import SessionTimeoutMiddleware
from infusion import services
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NORMAL = {
    "respiration_per_min": 16,
    "pulse_per_min": 80,
    "systolic_mmhg": 120,
    "diastolic_mmhg": 75,
    "spo2_pct": 98,
    "temperature_c": "36.8",
}


def chart_path(episode):
    return f"/infusion/episodes/{episode.pk}/chart/"


def htmx_from(page, host="testserver"):
    return {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": f"http://{host}{page}"}


def started(episode, nurse):
    start = episode.planned_start
    with time_machine.travel(start, tick=False):
        services.infusion_record_received(
            episode=episode, actor=nurse, at=start - timedelta(minutes=40)
        )
        services.infusion_record_out_of_fridge(
            episode=episode, actor=nurse, at=start - timedelta(minutes=15)
        )
        services.infusion_start(episode=episode, actor=nurse, at=start)
    return start


def test_an_htmx_action_after_the_session_was_deleted_sends_the_page_to_sign_in_with_the_chart_as_next(
    verified_episode, nurse, login
):
    client = login(nurse)
    Session.objects.all().delete()  # the session ended on the server (expired, signed out)
    page = chart_path(verified_episode)
    response = client.post(
        f"/infusion/episodes/{verified_episode.pk}/vitals/", NORMAL, **htmx_from(page)
    )
    assert response.status_code == 200
    assert response.content == b""  # nothing for htmx to swap into the chart
    assert response["HX-Redirect"] == f"/login/?next={page.replace('/', '%2F')}"
    assert not verified_episode.vitals.exists()


def test_an_htmx_action_after_the_idle_timeout_keeps_the_notice_and_the_chart_as_next(
    settings, verified_episode, nurse, login
):
    client = login(nurse)
    session = client.session
    past = time.time() - settings.SESSION_IDLE_TIMEOUT_SECONDS - 60
    session[SessionTimeoutMiddleware.SESSION_STARTED] = past
    session[SessionTimeoutMiddleware.LAST_SEEN] = past
    session.save()
    page = chart_path(verified_episode)
    response = client.post(
        f"/infusion/episodes/{verified_episode.pk}/vitals/", NORMAL, **htmx_from(page)
    )
    assert response["HX-Redirect"] == f"/login/?timeout=idle&next={page.replace('/', '%2F')}"
    assert b"<form" not in response.content


def test_a_page_of_another_site_never_becomes_next(verified_episode, nurse, login):
    client = login(nurse)
    Session.objects.all().delete()
    response = client.post(
        f"/infusion/episodes/{verified_episode.pk}/vitals/",
        NORMAL,
        **htmx_from("/phish/", host="evil.example"),
    )
    assert response["HX-Redirect"] == "/login/"


def test_a_form_posted_without_htmx_after_the_session_ended_is_an_ordinary_redirect(
    verified_episode, nurse, login
):
    client = login(nurse)
    Session.objects.all().delete()
    response = client.post(f"/infusion/episodes/{verified_episode.pk}/vitals/", NORMAL)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")
    assert "HX-Redirect" not in response


def test_signing_in_on_the_login_page_returns_to_the_chart_once(verified_episode, nurse):
    page = chart_path(verified_episode)
    client = Client()
    login_page = client.get(f"/login/?next={page}")
    assert f'name="next" value="{page}"' in login_page.content.decode()
    response = client.post(
        f"/login/?next={page}", {"username": nurse.username, "password": PASSWORD, "next": page}
    )
    assert response.status_code == 302 and response["Location"] == page
    chart = client.get(page)
    assert chart.status_code == 200 and b'id="id_username"' not in chart.content


def _section(body, section_id):
    start = body.index(f'id="{section_id}"')
    return body[start : body.index("</section>", start)]


def test_the_vitals_result_is_shown_under_the_vitals_form_not_at_the_top(
    verified_episode, nurse, login
):
    start = started(verified_episode, nurse)
    with time_machine.travel(start + timedelta(minutes=15), tick=False):
        response = login(nurse).post(
            f"/infusion/episodes/{verified_episode.pk}/vitals/",
            NORMAL,
            **htmx_from(chart_path(verified_episode)),
        )
    body = response.content.decode()
    assert response.status_code == 200
    vitals = _section(body, "vitals")
    form_end = vitals.index("</form>")
    feedback = re.search(
        r'<div class="msg feedback success" role="status"[^>]*>([^<]*)</div>', vitals
    )
    assert feedback and feedback.start() > form_end
    assert feedback.group(1) == "Vital signs recorded."
    assert body.count('id="chart-alert"') == 1  # only there, not at the top of the chart


def test_a_refused_rate_is_explained_under_the_rate_form(verified_episode, nurse, login):
    start = started(verified_episode, nurse)
    with time_machine.travel(start + timedelta(minutes=5), tick=False):
        response = login(nurse).post(
            f"/infusion/episodes/{verified_episode.pk}/chart/rate/",
            {"rate_ml_per_min": "40"},
            **htmx_from(chart_path(verified_episode)),
        )
    body = response.content.decode()
    actions = _section(body, "chart-actions")
    rate_form_end = actions.index("</form>")
    feedback = actions.index('id="chart-alert"')
    assert rate_form_end < feedback < actions.index('id="end-form"')
    assert 'role="alert"' in actions[feedback - 200 : feedback]


def test_every_page_has_a_polite_live_region_for_the_results(verified_episode, nurse, login):
    body = login(nurse).get(chart_path(verified_episode)).content.decode()
    assert '<div id="live-region" class="sr-only" aria-live="polite"' in body
