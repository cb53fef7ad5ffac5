"""SCREENING_WINDOW_DAYS: a ward window that differs from the protocol's makes a derived
protocol version ("1.0-w14"), recorded with the evaluation, and moves the stale limit."""

import pytest
from django.test import override_settings

from screening.engine import protocol_for
from screening.evaluation import evaluate_document, protocol_on, window_days
from tests.screening.conftest import start
from tests.screening.engine import make_case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


def platelets_days_old(days):
    c = make_case("SLE")
    c.set("labs.platelets.date", c.days_before(days))
    return c


def org_1(doc):
    errors, evaluation, _filled = evaluate_document(doc)
    assert errors == []
    return evaluation, evaluation.criterion("A-ORG-1")


@override_settings(SCREENING_WINDOW_DAYS=14)
def test_it_records_a_derived_protocol_version_for_a_ward_window():
    c = platelets_days_old(14)
    base = protocol_for(c.screening_date)
    assert base.screening_window_days != 14  # otherwise this test proves nothing
    evaluation, result = org_1(c.doc)
    assert evaluation.protocol_version == f"{base.version}-w14"
    assert protocol_on(c.screening_date).screening_window_days == 14
    assert window_days(c.screening_date) == 14
    assert result.status.value == "met"  # 14 days old: inside the window, used


@override_settings(SCREENING_WINDOW_DAYS=14)
def test_a_value_one_day_older_than_the_ward_window_is_stale():
    evaluation, result = org_1(platelets_days_old(15).doc)
    assert result.status.value == "unknown"
    stale = [m for m in result.missing if m.field == "labs.platelets"]
    assert stale and stale[0].reason.render().startswith("stale: observed")


def test_the_protocol_window_applies_without_the_setting_override():
    c = platelets_days_old(15)
    evaluation, result = org_1(c.doc)
    assert evaluation.protocol_version == protocol_for(c.screening_date).version
    assert result.status.value == "met"  # 15 days old is fine in the default 28-day window


@override_settings(SCREENING_WINDOW_DAYS=14)
def test_a_saved_screening_records_the_derived_version(nurse, labs):
    screening = start(nurse, labs)
    assert screening.protocol_version.endswith("-w14")
    assert screening.evaluation["protocol_version"] == screening.protocol_version
