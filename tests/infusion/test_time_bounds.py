"""Issue 16 item 1 in the infusion app: poison rows. Dates and times stored out of range
before the input boundary render flagged (core.stored_time, ``|when``), never a 500; the
cyclophosphamide schedule and the episode's times are bounded on the way in."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from infusion import services
from tests.infusion.conftest import run_infusion
from tests.infusion.test_documents import pdf_text

pytestmark = pytest.mark.django_db

# Year 1 typed in a zone east of UTC is stored BC (psycopg cannot load it); year 1 in UTC
# loads but overflows in a zone west of UTC; 9999-12-31 23:00 UTC overflows in a zone
# east of UTC; year 10000 cannot be loaded at all.
POISON = {
    "Asia/Shanghai": ("0001-01-01 00:00:00+08", "9999-12-31 23:00:00+00", "0001-01-01 BC"),
    "America/New_York": ("0001-01-01 00:00:00+00", "10000-01-01 00:00:00+00", "10000-01-01"),
}


def _poison(episode, early, late, day):
    with connection.cursor() as c:
        c.execute("UPDATE core_measurement SET measured_at = %s::timestamptz", [early])
        c.execute("UPDATE core_labresult SET observed_at = %s::timestamptz", [late])
        c.execute(
            "UPDATE infusion_episode SET received_at = %s::timestamptz, "
            "started_at = %s::timestamptz, ended_at = %s::timestamptz WHERE id = %s",
            [early, early, late, episode.pk],
        )
        for table, column, value in (
            ("infusion_vitalsigns", "at", early),
            ("infusion_ratestep", "at", late),
            ("infusion_adversereaction", "at", early),
            ("infusion_seriousadverseeventreport", "informed_at", late),
            ("infusion_dosedue", "at", early),
        ):
            c.execute(f"UPDATE {table} SET {column} = %s::timestamptz", [value])  # noqa: S608
        c.execute("UPDATE core_patient SET date_of_birth = %s::date", [day])


@pytest.mark.parametrize("zone", list(POISON))
def test_poison_rows_already_stored_render_flagged_not_500(
    verified_episode, nurse, physician, login, settings, zone
):
    settings.TIME_ZONE = zone
    ep = verified_episode
    end = run_infusion(ep, nurse)
    with time_machine.travel(end + timedelta(minutes=2), tick=False):
        services.vitals_record(episode=ep, actor=nurse, values={"pulse_per_min": 80})
        reaction = services.adverse_reaction_record(
            episode=ep, actor=nurse, reaction_type="fever", severity="severe", action="Stopped"
        )
        services.sae_report(
            reaction=reaction,
            actor=physician,
            informed_whom="Ethics committee",
            informed_at=timezone.now(),
            description="Fever",
        )
    _poison(ep, *POISON[zone])

    client = login(physician)
    for url in (
        f"/patients/{ep.patient_id}/",
        f"/infusion/episodes/{ep.pk}/",
        f"/infusion/episodes/{ep.pk}/chart/",
        f"/infusion/episodes/{ep.pk}/timeline.svg",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        if url.endswith("/chart/") or url.startswith("/patients/"):
            assert "needs correction" in response.content.decode(), url
    record = pdf_text(client.get(f"/infusion/episodes/{ep.pk}/infusion-record.pdf"))
    assert "needs correction" in record
    pdf_text(client.get(f"/infusion/episodes/{ep.pk}/order-sheet.pdf"))


# --- On the way in: the cyclophosphamide schedule (issue 16) -----------------------------


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York"])
def test_cyclophosphamide_scheduled_at_year_one_refused(
    verified_episode, physician, login, settings, zone
):
    """Was an OverflowError (500); now a field error, the typed text kept, nothing stored."""
    settings.TIME_ZONE = zone
    url = f"/infusion/episodes/{verified_episode.pk}/cyclophosphamide/"
    for typed, message in (
        ("0001-01-01T00:00", "is not plausible"),
        ("9999-12-31T23:59", "is not plausible"),
        ("10000-01-01T00:00", "Enter a valid date/time."),
    ):
        response = login(physician).post(url, {"scheduled_at": typed, "dose_mg": "500"})
        body = response.content.decode()
        assert response.status_code == 400, typed
        assert message in body and f'value="{typed}"' in body, typed
    assert not verified_episode.orders.filter(kind="cyclophosphamide").exists()


def test_cyclophosphamide_scheduled_more_than_two_years_ahead_refused_by_the_service(
    verified_episode, physician
):
    """The service holds the bound for any caller: 732 days ahead accepted, a day more refused."""
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        with pytest.raises(services.ActionRefused) as exc:
            services.cyclophosphamide_order_create(
                episode=verified_episode,
                actor=physician,
                scheduled_at=now + timedelta(days=733),
                dose_mg=500,
            )
        assert "days ahead" in exc.value.field_errors["scheduled_at"][0]
        services.cyclophosphamide_order_create(
            episode=verified_episode,
            actor=physician,
            scheduled_at=now + timedelta(days=732),
            dose_mg=500,
        )


# --- The JSON API: a 400 with the field and a clear message, never a 500 ----------------


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("patient", "weight", "date"), "0001-01-01"),
        (("patient", "weight", "date"), "9999-12-31"),
        (("patient", "weight", "date"), "10000-01-01"),
        (("order", "planned_start"), "0001-01-01T00:00:00+08:00"),
        (("order", "planned_start"), "9999-12-31T23:59:00-05:00"),
    ],
)
def test_plan_api_year_one_and_year_9999_are_400_with_the_field(login, nurse, path, value):
    import json

    from tests.infusion.engine import example_doc

    doc = example_doc()
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    response = login(nurse).post("/api/infusion/plan", json.dumps(doc), "application/json")
    assert response.status_code == 400
    (error,) = [e for e in response.json()["errors"] if e["field"] == ".".join(path)]
    assert "year must be between" in error["message"] or "date" in error["message"]
