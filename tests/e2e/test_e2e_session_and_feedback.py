"""Issue 15 on a ward tablet (820×1180): the session ends while a nurse types vitals; she
signs in again and lands back on the chart with what she typed; and the result of an
action shows next to the control, inside the viewport, without scrolling."""

import re
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import PASSWORD, add_lab, add_weight, make_patient, make_user, make_ward

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TABLET = {"width": 820, "height": 1180}


@pytest.fixture
def nurse_and_episode(db):
    from infusion import services
    from infusion.demo import episode_data, record_consent

    ward = make_ward("ward-a", "Ward A")
    doc = make_user("physician", ward, username="doc", investigator=True)
    nurse = make_user("nurse", ward, username="nurse")
    pharm = make_user("pharmacist", ward, username="pharm")
    patient = make_patient(ward, name="Lin Xiaomei")
    now = timezone.now().replace(second=0, microsecond=0)
    add_weight(patient, nurse, "60", when=now - timedelta(days=2))
    add_lab(patient, nurse, "platelets", 180, "10^9/L", when=now - timedelta(days=1))
    start = now - timedelta(minutes=12)
    episode = services.episode_open(
        patient=patient,
        actor=doc,
        data=episode_data(start, preparation_time=start - timedelta(hours=2)),
        acknowledged=True,
    )
    record_consent(episode, doc)
    services.orders_sign_all(episode=episode, actor=doc, password=PASSWORD)
    for order in episode.orders.filter(status="signed"):
        services.order_verify(order=order, actor=pharm, password=PASSWORD)
    services.infusion_record_received(episode=episode, actor=nurse, at=now - timedelta(minutes=40))
    services.infusion_record_out_of_fridge(
        episode=episode, actor=nurse, at=start - timedelta(minutes=15)
    )
    services.infusion_start(episode=episode, actor=nurse, at=start)
    return nurse, episode


def sign_in_here(page, username):
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")


def in_viewport(page, locator):
    """Inside the viewport (to a pixel of rounding), once the page has settled."""
    page.wait_for_function("() => !document.querySelector('[data-feedback]')")
    box = locator.bounding_box()
    assert box is not None
    return -1 <= box["y"] and box["y"] + box["height"] <= page.viewport_size["height"] + 1


def test_a_nurse_whose_session_ended_signs_in_again_and_finds_her_typed_vitals(
    page, nurse_and_episode
):
    nurse, episode = nurse_and_episode
    page.set_viewport_size(TABLET)
    chart = f"/infusion/episodes/{episode.pk}/chart/"
    page.goto(page.base + "/login/")
    sign_in_here(page, "nurse")
    page.wait_for_url(re.compile(r".*/$"))
    page.goto(page.base + chart)
    page.fill("#vitals_pulse_per_min", "88")
    page.fill("#vitals_spo2_pct", "97")
    page.fill("#vitals_systolic_mmhg", "121")
    page.fill("#vitals_diastolic_mmhg", "76")
    Session.objects.all().delete()  # the session ends while she types

    page.click("#vitals-form button[type=submit]")
    # The whole page goes to the sign-in page (never a sign-in form inside the chart).
    page.wait_for_url(re.compile(r".*/login/\?next="))
    expect(page.locator("#chart")).to_have_count(0)
    assert not episode.vitals.exists()
    sign_in_here(page, "nurse")

    page.wait_for_url(page.base + chart)  # back on the chart, after one sign-in
    expect(page.locator("#vitals_pulse_per_min")).to_have_value("88")
    expect(page.locator("#vitals_spo2_pct")).to_have_value("97")
    expect(page.locator("#vitals_systolic_mmhg")).to_have_value("121")
    expect(page.locator("#vitals_diastolic_mmhg")).to_have_value("76")
    expect(page.locator("#vitals-form .kept-forms-note")).to_contain_text("what you typed is back")
    page.click("#vitals-form button[type=submit]")
    expect(page.locator("#chart-alert")).to_contain_text("Vital signs recorded.")
    assert episode.vitals.count() == 1
    # Used once: a later visit does not fill the form again.
    page.goto(page.base + chart)
    expect(page.locator("#vitals_pulse_per_min")).to_have_value("")


def test_another_nurse_signing_in_at_that_tablet_does_not_get_her_typing(page, nurse_and_episode):
    nurse, episode = nurse_and_episode
    make_user("nurse", nurse.ward, username="nurse2")
    page.set_viewport_size(TABLET)
    chart = f"/infusion/episodes/{episode.pk}/chart/"
    page.goto(page.base + "/login/")
    sign_in_here(page, "nurse")
    page.wait_for_url(re.compile(r".*/$"))
    page.goto(page.base + chart)
    page.fill("#vitals_pulse_per_min", "88")
    Session.objects.all().delete()
    page.click("#vitals-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/login/\?next="))
    sign_in_here(page, "nurse2")
    page.wait_for_url(page.base + chart)
    expect(page.locator("#vitals_pulse_per_min")).to_have_value("")
    expect(page.locator(".kept-forms-note")).to_have_count(0)


def test_the_result_of_an_action_low_on_the_chart_is_in_view_on_a_tablet(page, nurse_and_episode):
    nurse, episode = nurse_and_episode
    page.set_viewport_size(TABLET)
    page.goto(page.base + "/login/")
    sign_in_here(page, "nurse")
    page.wait_for_url(re.compile(r".*/$"))
    page.goto(page.base + f"/infusion/episodes/{episode.pk}/chart/")

    # Vital signs, low on the chart.
    page.locator("#vitals-form button[type=submit]").scroll_into_view_if_needed()
    page.fill("#vitals_pulse_per_min", "128")
    page.fill("#vitals_spo2_pct", "97")
    page.locator("#vitals-form button[type=submit]").click()
    alert = page.locator("#vitals #chart-alert")
    expect(alert).to_contain_text("Outside the ward's range: Pulse")
    assert page.evaluate("window.scrollY") > 0  # the tablet is scrolled down to the form
    assert in_viewport(page, alert)
    expect(page.locator("#live-region")).to_contain_text("Outside the ward's range: Pulse")

    # A rate above the maximum: refused, and said beside the rate form.
    page.locator("#rate-form button[type=submit]").scroll_into_view_if_needed()
    page.fill("#rate_rate_ml_per_min", "40")
    page.locator("#rate-form button[type=submit]").click()
    alert = page.locator("#chart-actions #chart-alert")
    expect(alert).to_be_visible()
    expect(alert).to_have_attribute("role", "alert")
    assert in_viewport(page, alert)
