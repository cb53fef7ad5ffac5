"""The BVAS v3 form: the instrument, not the tick, decides which items are major."""

import re

import pytest

from tests.screening.conftest import HTMX, form_data, start

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


def chip(html, rule_id):
    match = re.search(rf'id="crit-{rule_id}"[^>]*>\s*<span class="chip (\w+)"', html, flags=re.S)
    assert match, f"no chip for {rule_id}"
    return match.group(1)


def test_it_stores_a_fixed_major_item_as_major_without_the_tick(login, nurse, labs):
    aav = start(nurse, labs, "AAV")
    bvas = {
        "aav.bvas_assessments.0.date": "2026-02-27",
        "aav.bvas_assessments.0.items.0.item": "Mononeuritis multiplex",
        "aav.bvas_assessments.0.items.0.new": "1",
    }
    html = (
        login(nurse)
        .post(f"/screening/{aav.pk}/evaluate/", form_data(aav, **bvas), **HTMX)
        .content.decode()
    )
    assert chip(html, "A-AAV-2") == "met"
    aav.refresh_from_db()
    assert aav.facts["aav"]["bvas_assessments"][0]["items"][0]["major"] is True


def test_it_refuses_a_minor_item_ticked_as_major(login, nurse, labs):
    aav = start(nurse, labs, "AAV")
    bvas = {
        "aav.bvas_assessments.0.date": "2026-02-27",
        "aav.bvas_assessments.0.items.0.item": "Myalgia",
        "aav.bvas_assessments.0.items.0.major": "1",
    }
    html = (
        login(nurse)
        .post(f"/screening/{aav.pk}/evaluate/", form_data(aav, **bvas), **HTMX)
        .content.decode()
    )
    assert "Myalgia is not a major item in BVAS v3." in html
