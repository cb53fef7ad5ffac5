"""C-MAR-1 in a real browser on the ward tablet (820×1180): the nurse records a dose from
its row of the MAR; one row per due dose, each with its own state. With MAR_SCREENSHOT=1
the test also writes the README's picture of the MAR (docs/mar.png)."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from infusion.models import DoseDue, DoseState
from tests.e2e.conftest import sign_in
from tests.e2e.test_e2e_infusion import (  # noqa: F401 (fixtures)
    episode_through_services,
    staff,
    ward,
    weighed,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_a_nurse_records_todays_antiplatelet_dose_on_its_row_of_the_mar(
    page,
    weighed,  # noqa: F811
    staff,  # noqa: F811
):
    from infusion import mar

    start = timezone.now() + timedelta(days=1)
    episode = episode_through_services(weighed, staff, start=start, verify=True)
    dexa = DoseDue.objects.get(episode=episode, order__kind="dexamethasone")
    mar.dose_hold(dose=dexa, actor=staff["nurse"], reason="physician: hold, BP 85/50")
    day_minus_one = DoseDue.objects.get(episode=episode, order__kind="antiplatelet", seq=0)

    page.set_viewport_size({"width": 820, "height": 1180})
    sign_in(page, "nurse")
    page.goto(page.base + f"/infusion/episodes/{episode.pk}/chart/#mar")
    row = page.locator(f"#dose-{day_minus_one.pk}")
    row.locator("button[value=given]").click()
    expect(page.locator(f"#dose-{day_minus_one.pk} .chip")).to_have_text("Given")
    expect(page.locator("#mar .chip.dst-given")).to_have_count(1)
    expect(page.locator("#mar .chip.dst-held")).to_have_count(1)
    expect(page.locator("#mar .chip.dst-due")).to_have_count(14)  # 13 days + the MSC
    day_minus_one.refresh_from_db()
    assert day_minus_one.state == DoseState.GIVEN
    if os.environ.get("MAR_SCREENSHOT"):
        page.locator("#mar").evaluate("e => e.scrollIntoView({block: 'start'})")
        page.screenshot(path=str(DOCS / "mar.png"))  # the tablet's viewport, 820×1180
