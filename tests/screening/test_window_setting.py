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


# --- Issue 18: the ward may shorten the window, never lengthen it past 28 days ---------


@pytest.mark.parametrize(("value", "accepted"), [("28", True), ("29", False), ("365", False)])
def test_the_window_setting_refuses_more_than_28_days(monkeypatch, value, accepted):
    # The setting is the SCREENING_WINDOW_DAYS environment variable (there is no form):
    # a value above the protocol's 28 days stops the app at start-up, naming it.
    import runpy

    from django.conf import settings as django_settings
    from django.core.exceptions import ImproperlyConfigured

    monkeypatch.setenv("SCREENING_WINDOW_DAYS", value)
    path = django_settings.BASE_DIR / "config" / "settings.py"
    if accepted:
        assert runpy.run_path(str(path))["SCREENING_WINDOW_DAYS"] == int(value)
    else:
        with pytest.raises(ImproperlyConfigured, match=f"SCREENING_WINDOW_DAYS={value} is outside"):
            runpy.run_path(str(path))


@override_settings(SCREENING_WINDOW_DAYS=365)
def test_a_longer_window_reaching_the_evaluation_is_capped_at_the_protocols():
    # At 365 days a year-old pregnancy test counted as "during screening" (issue 18).
    c = make_case("SLE")
    c.set("general.pregnancy_test.date", c.days_before(40))
    protocol = protocol_on(c.screening_date)
    assert (protocol.version, protocol.screening_window_days) == ("1.0", 28)
    errors, evaluation, _filled = evaluate_document(c.doc)
    assert evaluation.criterion("A-GEN-4").status.value == "unknown"  # 40 days: stale


def test_drafts_evaluated_under_a_longer_window_must_be_re_evaluated(nurse, labs):
    # screening/migrations/0006_fidelity.py: drafts with "-w29" or more lose their
    # evaluation time, so the page offers re-evaluation and signing is refused.
    import importlib

    from django.apps import apps

    from screening.models import Screening
    from screening.services import needs_refresh

    migration = importlib.import_module("screening.migrations.0006_fidelity")
    wide, short, signed = (start(nurse, labs, indication) for indication in ("SLE", "IIM", "SS"))
    rows = Screening._base_manager  # test set-up only: the services never write these
    rows.filter(pk=wide.pk).update(protocol_version="1.0-w365")
    rows.filter(pk=short.pk).update(protocol_version="1.0-w14")
    rows.filter(pk=signed.pk).update(protocol_version="1.0-w60", status="signed")
    migration.clear_wide_window_evaluations(apps, None)
    wide, short, signed = (Screening.objects.get(pk=s.pk) for s in (wide, short, signed))
    assert wide.evaluated_at is None and needs_refresh(wide, nurse)
    assert short.evaluated_at is not None
    assert signed.evaluated_at is not None


@override_settings(SCREENING_WINDOW_DAYS=14)
def test_the_page_and_the_pdf_label_the_window_as_the_wards_choice(login, nurse, labs):
    from screening.records import pdf_context

    screening = start(nurse, labs)
    html = login(nurse).get(f"/screening/{screening.pk}/").content.decode()
    assert "Screening window 14 days: the ward's choice (the protocol allows at most 28)" in html
    assert pdf_context(screening)["window_days"] == 14
