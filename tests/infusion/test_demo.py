"""Demo episodes for scripts/run and the load benchmark's episodes, made through the services."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from core.models import AuditEvent, Patient, SignedRecord, Ward
from infusion.demo import bench_seed
from infusion.models import Consent, Episode, EpisodeStatus, OrderStatus

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _only_this_apps_demo(monkeypatch):
    # seed_demo calls every app's seed_demo(); test this app's alone (on core's base data).
    from django.apps import apps
    from django.template import engines
    from django.template.utils import get_app_template_dirs

    # Template directories are found once per process from the installed apps: find them
    # before the app list is narrowed, or a PDF rendered here misses the shell's templates.
    for engine in engines.all():
        engine.template_dirs  # noqa: B018
    get_app_template_dirs("templates"), get_app_template_dirs("jinja2")
    infusion = apps.get_app_config("infusion")
    monkeypatch.setattr(apps, "get_app_configs", lambda: [infusion])


def test_seed_demo_makes_three_episodes_on_ward_a_and_is_idempotent():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    ward = Ward.objects.get(code="rheum-a")
    episodes = list(Episode.objects.filter(patient__ward=ward).order_by("pk"))
    assert len(episodes) == 3
    tomorrow, yesterday, today = episodes
    now = timezone.now()
    assert tomorrow.planned_start > now
    assert set(tomorrow.orders.values_list("status", flat=True)) == {OrderStatus.SIGNED}
    assert yesterday.status == EpisodeStatus.INFUSED
    assert yesterday.ended_at < now < yesterday.cyc_hold_until  # the hold is running
    assert yesterday.vitals.count() == 3 and yesterday.rate_steps.count() == 3
    assert today.status == EpisodeStatus.PLANNED
    assert set(today.orders.values_list("status", flat=True)) == {OrderStatus.VERIFIED}
    assert "MSC episodes" in out.getvalue()
    assert AuditEvent.objects.filter(action="infusion_end").count() == 1
    # B-CONSENT-1 before signing; B-SITE-1: a named third-party re-test.
    for episode in episodes:
        consent = Consent.objects.get(episode=episode)
        assert consent.form_version and consent.consented_on <= timezone.localdate()
        assert episode.plan["consent"]["status"] == "met"
        assert episode.plan["site"]["status"] == "met"
    call_command("seed_demo", stdout=StringIO())
    assert Episode.objects.count() == 3


def test_bench_seed_makes_the_episodes_through_the_services(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", stdout=StringIO())
    bench_seed(8)
    ward = Ward.objects.get(code="rheum-a")
    assert Episode.objects.filter(patient__ward=ward).count() == 8
    assert Episode.objects.filter(orders__status=OrderStatus.SIGNED).distinct().count() >= 2
    assert AuditEvent.objects.filter(action="episode_open").count() == 8
    assert Patient.objects.filter(infusion_episodes__isnull=False).distinct().count() == 8
    signed = Episode.objects.exclude(orders__status=OrderStatus.DRAFT)
    assert not signed.filter(consent__isnull=True).exists()  # B-CONSENT-1
    # The signed episodes' order sheets are already stored as PDF/A (what the worker does).
    stored = SignedRecord.objects.filter(kind="infusion.order_sheet")
    assert stored.values("object_id").distinct().count() >= 2
