"""Issue 16 item 1: one input boundary for dates and times (core.forms Bounded*Field,
core.clinical_time), and the system administrator's correction of times already stored
out of range (core.time_corrections)."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection

from core.clinical_time import check_scheduled_time
from core.models import AuditEvent, Measurement, Patient
from tests.factories import add_weight

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


# --- Pure: the schedule horizon (no database) ---------------------------------------------


def test_a_schedule_two_years_ahead_is_accepted_and_a_second_more_refused():
    limit = NOW + timedelta(days=732)
    assert check_scheduled_time(limit, now=NOW, what="t") == []
    (problem,) = check_scheduled_time(limit + timedelta(seconds=1), now=NOW, what="t")
    assert problem.code == "too_far"


@pytest.mark.parametrize(
    ("at", "code"),
    [
        (datetime(1, 1, 1, tzinfo=UTC), "too_old"),
        (datetime(1899, 12, 31, 23, 59, tzinfo=UTC), "too_old"),
        (datetime(9999, 12, 31, tzinfo=UTC), "too_far"),
    ],
)
def test_a_schedule_outside_1900_to_2199_is_refused(at, code):
    assert [p.code for p in check_scheduled_time(at, now=NOW, what="t")] == [code]


def test_a_schedule_in_1900_and_in_the_past_is_accepted():
    assert check_scheduled_time(datetime(1900, 1, 1, tzinfo=UTC), now=NOW, what="t") == []


# --- Forms: a field error, the typed text kept, nothing stored ---------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York"])
@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("0001-01-01T00:00", "is not plausible"),
        ("1899-12-31T23:59", "is not plausible"),
        ("9999-12-31T23:59", "is not plausible"),
        ("10000-01-01T00:00", "Enter a valid date/time."),
    ],
)
def test_poison_rows_year_one_measured_at_refused_with_field_error(
    patient, nurse, login, settings, zone, typed, message
):
    settings.TIME_ZONE = zone
    response = login(nurse).post(
        f"/patients/{patient.pk}/measurements/",
        {"kind": "weight_kg", "value": "60", "measured_at": typed},
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert message in body and f'value="{typed}"' in body
    assert not Measurement.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("born", "accepted"),
    [("1899-12-31", False), ("1900-01-01", True), ("10000-01-01", False)],
)
def test_birth_date_from_1900_accepted_and_before_refused(ward_a, nurse, login, born, accepted):
    # In 2020 the 120-year limit of the form lets 1900 through, so the 1900 bound shows.
    with time_machine.travel(datetime(2020, 6, 1, tzinfo=UTC), tick=False):
        response = login(nurse).post(
            "/patients/new/",
            {
                "hospital_number": "H1900",
                "name": "Born Early",
                "sex": "F",
                "date_of_birth": born,
                "ward": ward_a.pk,
            },
        )
    assert Patient.objects.filter(hospital_number="H1900").exists() is accepted
    if not accepted:
        assert response.status_code in (200, 400)
        assert f'value="{born}"' in response.content.decode()


@pytest.mark.django_db
def test_a_birth_date_in_the_future_is_refused(ward_a, nurse, login):
    response = login(nurse).post(
        "/patients/new/",
        {
            "hospital_number": "HFUT",
            "name": "Not Yet",
            "sex": "F",
            "date_of_birth": (date.today() + timedelta(days=2)).isoformat(),
            "ward": ward_a.pk,
        },
    )
    assert "in the future" in response.content.decode()
    assert not Patient.objects.filter(hospital_number="HFUT").exists()


# --- The system administrator corrects a time stored out of range ------------------------

URL = "/system/implausible-times/"


@pytest.fixture
def poisoned(patient, nurse):
    """A weight stored as year 1 typed in Shanghai: a BC instant psycopg cannot load."""
    weight = add_weight(patient, nurse, "60")
    with connection.cursor() as c:
        c.execute(
            "UPDATE core_measurement SET measured_at = '0001-01-01 00:00:00+08' WHERE id = %s",
            [weight.pk],
        )
    return weight


@pytest.mark.django_db
def test_implausible_times_are_listed_and_corrected_with_an_audited_reason(
    poisoned, sysadmin, login
):
    client = login(sysadmin)
    page = client.get(URL).content.decode()
    assert "core.Measurement.measured_at" in page and "BC" in page
    at = datetime.now(UTC) - timedelta(days=1)
    response = client.post(
        URL,
        {
            "key": "core.Measurement.measured_at",
            "pk": poisoned.pk,
            "value": at.astimezone().strftime("%Y-%m-%dT%H:%M"),
            "reason": "Ward confirmed the weighing time from the paper chart",
        },
    )
    assert response.status_code == 302
    poisoned.refresh_from_db()
    assert poisoned.measured_at.year == at.year
    event = AuditEvent.objects.get(action="update", object_type="core.Measurement")
    assert event.old_values["measured_at"].endswith(" BC")
    assert event.new_values["measured_at"].startswith(str(at.year))
    assert event.reason == "Ward confirmed the weighing time from the paper chart"
    assert "core.Measurement.measured_at" not in client.get(URL).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "reason", "message"),
    [
        ("0001-01-01T00:00", "Paper chart", "is not plausible"),
        ("10000-01-01T00:00", "Paper chart", "Enter a valid date/time."),
        ("2999-01-01T00:00", "Paper chart", "is not plausible"),
        ("2020-01-01T00:00", "", "This field is required."),
    ],
)
def test_an_implausible_correction_is_refused_and_the_row_stays(
    poisoned, sysadmin, login, value, reason, message
):
    response = login(sysadmin).post(
        URL,
        {
            "key": "core.Measurement.measured_at",
            "pk": poisoned.pk,
            "value": value,
            "reason": reason,
        },
    )
    assert response.status_code == 400 and message in response.content.decode()
    with connection.cursor() as c:
        c.execute("SELECT measured_at::text FROM core_measurement WHERE id = %s", [poisoned.pk])
        assert c.fetchone()[0].endswith(" BC")


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["physician", "nurse", "auditor"])
def test_implausible_times_are_refused_to_anyone_but_the_sysadmin(
    poisoned, physician, nurse, auditor, login, role
):
    client = login({"physician": physician, "nurse": nurse, "auditor": auditor}[role])
    assert client.get(URL).status_code == 403
    response = client.post(
        URL,
        {
            "key": "core.Measurement.measured_at",
            "pk": poisoned.pk,
            "value": "2020-01-01T00:00",
            "reason": "x",
        },
    )
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="update", object_type="core.Measurement").exists()
