"""B-CONSENT-1: the informed consent is recorded (by a physician of the ward, with an
optional scanned form) before any order of the MSC therapy is signed; it is shown on the
episode page, the pharmacist's queue and the order sheet. B-SITE-1: the certificate's
issuer, whether it is a third-party re-test and the site's ethics approval number on the
order sheet."""

import hashlib
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from pypdf import PdfReader

from core.models import AuditEvent
from infusion import services
from infusion.models import Consent, OrderKind, OrderStatus, SignatureMeaning
from infusion.protocol import ward_zone
from tests.factories import PASSWORD, make_user
from tests.infusion.conftest import form_post, open_episode, order_of, record_consent

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


@pytest.fixture(autouse=True)
def _own_pdf_cache(settings, tmp_path):
    settings.VAR_DIR = tmp_path


@pytest.fixture
def frozen():
    """The clock held still, so "today" cannot turn over during a test."""
    with time_machine.travel(timezone.now(), tick=False):
        yield


def today():
    return timezone.localtime(timezone.now(), ward_zone()).date()


def consent_values(physician, **overrides):
    values = {
        "consenter": "patient",
        "consenter_name": "",
        "relationship": "",
        "consented_on": today(),
        "form_version": "MSC-SLE-ICF v3.0",
        "taken_by": physician,
    }
    values.update(overrides)
    return values


def consent_post(physician, **overrides):
    """The consent form's POST body."""
    values = consent_values(physician, **overrides)
    values["taken_by"] = values["taken_by"].pk if values["taken_by"] else ""
    values["consented_on"] = values["consented_on"].isoformat()
    return {k: v for k, v in values.items() if v is not None}


def pdf_text(response):
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    return "\n".join(page.extract_text() for page in reader.pages)


def nothing_signed(episode):
    return not episode.orders.exclude(status=OrderStatus.DRAFT).exists()


# --- Signing needs the consent ---------------------------------------------------------


def test_it_refuses_to_sign_all_without_consent_b_consent_1(episode, physician):
    with pytest.raises(services.ActionRefused) as exc:
        services.orders_sign_all(episode=episode, actor=physician, password=PASSWORD)
    assert exc.value.code == "consent"
    assert "B-CONSENT-1" in exc.value.message
    assert nothing_signed(episode)
    assert not AuditEvent.objects.filter(action="order_sign").exists()


@pytest.mark.parametrize(
    "kind", [OrderKind.MSC_IV, OrderKind.DEXAMETHASONE, OrderKind.ANTIPLATELET]
)
def test_it_refuses_to_sign_any_order_of_the_msc_therapy_without_consent(episode, physician, kind):
    order = order_of(episode, kind)
    with pytest.raises(services.ActionRefused) as exc:
        services.order_sign(order=order, actor=physician, password=PASSWORD)
    assert exc.value.code == "consent" and "B-CONSENT-1" in exc.value.message
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT and not order.signatures.exists()


def test_it_signs_once_the_consent_is_recorded(episode, physician):
    record_consent(episode, physician)
    signed = services.orders_sign_all(episode=episode, actor=physician, password=PASSWORD)
    assert signed and all(o.status == OrderStatus.SIGNED for o in signed)


def test_a_cyclophosphamide_order_is_not_part_of_the_msc_therapy_and_needs_no_consent(
    episode, physician
):
    order = services.cyclophosphamide_order_create(
        episode=episode,
        actor=physician,
        scheduled_at=episode.planned_start + timedelta(days=10),
        dose_mg=Decimal(500),
    )
    services.order_sign(order=order, actor=physician, password=PASSWORD)
    order.refresh_from_db()
    assert order.status == OrderStatus.SIGNED
    assert not Consent.objects.filter(episode=episode).exists()


def test_the_sign_all_view_refuses_without_consent_and_says_why(episode, physician, login):
    client = login(physician)
    response = client.post(
        f"/infusion/episodes/{episode.pk}/sign/",
        {"password": PASSWORD, "username": "doc"},
        follow=True,
    )
    assert "Record the informed consent first" in response.content.decode()
    assert "B-CONSENT-1" in response.content.decode()
    assert nothing_signed(episode)
    record_consent(episode, physician)
    client.post(f"/infusion/episodes/{episode.pk}/sign/", {"password": PASSWORD})
    assert not episode.orders.filter(status=OrderStatus.DRAFT).exists()


def test_the_order_sign_view_refuses_without_consent(episode, physician, login):
    order = order_of(episode, OrderKind.DEXAMETHASONE)
    response = login(physician).post(
        f"/infusion/orders/{order.pk}/sign/",
        {"password": PASSWORD, "username": "doc"},
        follow=True,
    )
    assert "B-CONSENT-1" in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT


# --- Recording the consent -------------------------------------------------------------


def test_it_records_the_patients_consent_with_her_name_and_audits_it(episode, physician, frozen):
    consent = services.consent_record(episode=episode, actor=physician, **consent_values(physician))
    consent.refresh_from_db()
    assert consent.consenter == "patient" and consent.consenter_name == episode.patient.name
    assert consent.consented_on == today() and consent.form_version == "MSC-SLE-ICF v3.0"
    assert consent.taken_by == physician and consent.recorded_by == physician
    assert consent.patient == episode.patient and not consent.scan
    event = AuditEvent.objects.get(action="consent_record")
    assert event.object_type == "infusion.Consent" and event.patient_id == episode.patient_id
    assert event.old_values is None
    assert event.new_values["consenter"] == "patient"
    assert event.new_values["form_version"] == "MSC-SLE-ICF v3.0"
    assert event.new_values["taken_by"] == physician.pk
    assert event.new_values["plan_status"] == "ready"


def test_a_relative_consents_with_a_name_and_a_relationship(episode, physician):
    with pytest.raises(services.ActionRefused) as exc:
        services.consent_record(
            episode=episode, actor=physician, **consent_values(physician, consenter="relative")
        )
    assert set(exc.value.field_errors) == {"consenter_name", "relationship"}
    consent = services.consent_record(
        episode=episode,
        actor=physician,
        **consent_values(
            physician, consenter="relative", consenter_name="Wang Min", relationship="mother"
        ),
    )
    assert (consent.consenter_name, consent.relationship) == ("Wang Min", "mother")


def test_the_plan_finding_b_consent_1_follows_the_record(episode, physician):
    assert episode.plan_status == "incomplete"
    assert episode.plan["consent"]["status"] == "missing"
    assert episode.plan_input["consent"] is None
    record_consent(episode, physician)
    episode.refresh_from_db()
    assert episode.plan["consent"]["status"] == "met"
    assert episode.plan["consent"]["rule_id"] == "B-CONSENT-1"
    assert episode.plan_input["consent"]["consenter"] == "patient"
    assert episode.plan_status == "ready"


def test_a_correction_needs_a_reason_is_audited_with_old_and_new_values_and_voids_nothing(
    signed_episode, physician, physician2, frozen
):
    # B-CONSENT-1: the plan is re-run with the corrected consent; the orders it generates
    # do not change, so the prescriber's signatures stand.
    episode = signed_episode
    signatures = {s.pk for o in episode.orders.all() for s in o.signatures.all()}
    hashes = {o.pk: o.content_hash() for o in episode.orders.all()}
    values = consent_values(physician2, form_version="MSC-SLE-ICF v3.1")
    with pytest.raises(services.ActionRefused) as exc:
        services.consent_record(episode=episode, actor=physician, **values)
    assert "reason" in exc.value.field_errors
    services.consent_record(
        episode=episode, actor=physician, reason="wrong form version typed", **values
    )
    event = AuditEvent.objects.get(action="consent_correct")
    assert event.reason == "wrong form version typed"
    assert event.old_values["form_version"] == "MSC-SLE-ICF v3.0"
    assert event.new_values["form_version"] == "MSC-SLE-ICF v3.1"
    assert event.old_values["taken_by"] == physician.pk
    assert event.new_values["taken_by"] == physician2.pk
    assert "consenter" not in event.new_values  # only what changed
    episode.refresh_from_db()
    assert episode.plan_input["consent"]["form_version"] == "MSC-SLE-ICF v3.1"
    assert all(o.status == OrderStatus.SIGNED for o in episode.orders.all())
    assert {o.pk: o.content_hash() for o in episode.orders.all()} == hashes
    live = {
        s.pk
        for o in episode.orders.all()
        for s in o.signatures.filter(voided_at__isnull=True, meaning=SignatureMeaning.PRESCRIBED)
    }
    assert live == signatures
    assert not AuditEvent.objects.filter(action__in=("signature_void", "order_edit")).exists()


def test_a_correction_that_changes_nothing_is_refused(signed_episode, physician):
    with pytest.raises(services.ActionRefused) as exc:
        services.consent_record(
            episode=signed_episode,
            actor=physician,
            reason="again",
            **consent_values(physician, consented_on=Consent.objects.get().consented_on),
        )
    assert exc.value.code == "unchanged"


def test_correcting_needs_the_change_permission(signed_episode, physician):
    from django.contrib.auth.models import Permission

    physician.groups.first().permissions.remove(Permission.objects.get(codename="change_consent"))
    physician = type(physician).objects.get(pk=physician.pk)
    with pytest.raises(PermissionDenied):
        services.consent_record(
            episode=signed_episode,
            actor=physician,
            reason="typo",
            **consent_values(physician, form_version="v9"),
        )


@pytest.mark.parametrize("role", ["nurse", "pharmacist", "auditor", "physician_b"])
def test_only_a_physician_of_the_ward_records_the_consent(episode, physician, role, request):
    user = request.getfixturevalue(role)
    with pytest.raises(PermissionDenied):
        services.consent_record(episode=episode, actor=user, **consent_values(physician))
    assert not Consent.objects.exists()


def test_the_consent_is_taken_by_an_active_physician_of_the_patients_ward(
    episode, physician, nurse, physician_b, ward_a
):
    gone = make_user("physician", ward_a, username="retired", is_active=False)
    for taker in (nurse, physician_b, gone, None):
        with pytest.raises(services.ActionRefused) as exc:
            services.consent_record(
                episode=episode, actor=physician, **consent_values(physician, taken_by=taker)
            )
        assert "taken_by" in exc.value.field_errors
    assert not Consent.objects.exists()


def test_a_consent_dated_tomorrow_is_refused_today_is_accepted(episode, physician):
    # Midnight in the ward's zone (Asia/Shanghai) is 16:00 UTC the day before.
    with time_machine.travel("2031-03-04T15:59:00+00:00", tick=False):  # 23:59 in the ward
        with pytest.raises(services.ActionRefused) as exc:
            services.consent_record(
                episode=episode,
                actor=physician,
                **consent_values(physician, consented_on=date(2031, 3, 5)),
            )
        assert "in the future" in exc.value.field_errors["consented_on"][0]
        assert not Consent.objects.exists()
        assert not AuditEvent.objects.filter(action="consent_record").exists()
    with time_machine.travel("2031-03-04T16:00:00+00:00", tick=False):  # 00:00 on the 5th
        services.consent_record(
            episode=episode,
            actor=physician,
            **consent_values(physician, consented_on=date(2031, 3, 5)),
        )
    assert Consent.objects.get().consented_on == date(2031, 3, 5)


def test_a_consent_before_the_patients_birth_is_refused(episode, physician):
    born = episode.patient.date_of_birth
    with pytest.raises(services.ActionRefused) as exc:
        services.consent_record(
            episode=episode,
            actor=physician,
            **consent_values(physician, consented_on=born - timedelta(days=1)),
        )
    assert "before the patient's birth" in exc.value.field_errors["consented_on"][0]
    assert not Consent.objects.exists()
    services.consent_record(
        episode=episode, actor=physician, **consent_values(physician, consented_on=born)
    )


def test_the_form_version_is_required(episode, physician):
    with pytest.raises(services.ActionRefused) as exc:
        services.consent_record(
            episode=episode, actor=physician, **consent_values(physician, form_version="  ")
        )
    assert "form_version" in exc.value.field_errors


def test_no_consent_on_a_cancelled_episode(episode, physician):
    services.episode_cancel(episode=episode, actor=physician, reason="patient declined")
    with pytest.raises(services.ActionRefused) as exc:
        services.consent_record(episode=episode, actor=physician, **consent_values(physician))
    assert exc.value.code == "episode_closed"
    assert not Consent.objects.exists()


# --- The scanned form ------------------------------------------------------------------


@pytest.mark.parametrize(("content", "ext"), [(PDF, "pdf"), (PNG, "png"), (JPEG, "jpg")])
def test_a_scan_is_stored_under_a_random_name_with_its_sha256(episode, physician, content, ext):
    upload = SimpleUploadedFile("Wang Min consent.pdf", content, "application/pdf")
    consent = services.consent_record(
        episode=episode, actor=physician, scan=upload, **consent_values(physician)
    )
    assert consent.scan_sha256 == hashlib.sha256(content).hexdigest()
    assert consent.scan.name.startswith("consent/") and consent.scan.name.endswith(f".{ext}")
    assert "Wang" not in consent.scan.name
    with consent.scan.open("rb") as handle:
        assert handle.read() == content
    event = AuditEvent.objects.get(action="consent_record")
    assert event.new_values["scan_sha256"] == consent.scan_sha256


@pytest.mark.parametrize(
    "content",
    [
        b"<html><script>alert(1)</script></html>",
        b"MZ\x90\x00 an executable",
        b"GIF89a not accepted",
        b" %PDF-1.7 late magic",
    ],
)
def test_a_scan_is_told_by_its_bytes_not_its_name(episode, physician, content):
    upload = SimpleUploadedFile("consent.pdf", content, "application/pdf")
    with pytest.raises(services.ActionRefused) as exc:
        services.consent_record(
            episode=episode, actor=physician, scan=upload, **consent_values(physician)
        )
    assert "PDF, JPEG or PNG" in exc.value.field_errors["scan"][0]
    assert not Consent.objects.exists()


def test_a_scan_above_the_size_limit_is_refused_at_the_limit_accepted(episode, physician, settings):
    settings.CONSENT_SCAN_MAX_BYTES = 2048
    too_big = SimpleUploadedFile("c.pdf", PDF + b"0" * (2049 - len(PDF)))
    with pytest.raises(services.ActionRefused) as exc:
        services.consent_record(
            episode=episode, actor=physician, scan=too_big, **consent_values(physician)
        )
    assert "larger than" in exc.value.field_errors["scan"][0]
    assert not Consent.objects.exists()
    at_limit = SimpleUploadedFile("c.pdf", PDF + b"0" * (2048 - len(PDF)))
    consent = services.consent_record(
        episode=episode, actor=physician, scan=at_limit, **consent_values(physician)
    )
    assert consent.scan.size == 2048


def test_the_scan_downloads_as_an_attachment_never_cached(episode, physician, nurse, login):
    upload = SimpleUploadedFile("consent.pdf", PDF, "application/pdf")
    services.consent_record(
        episode=episode, actor=physician, scan=upload, **consent_values(physician)
    )
    response = login(nurse).get(f"/infusion/episodes/{episode.pk}/consent/scan/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert f"consent-episode-{episode.pk}.pdf" in response["Content-Disposition"]
    assert response["Cache-Control"] == "no-store"


def test_the_scan_of_another_wards_episode_is_404(episode, physician, physician_b, login):
    upload = SimpleUploadedFile("consent.pdf", PDF, "application/pdf")
    services.consent_record(
        episode=episode, actor=physician, scan=upload, **consent_values(physician)
    )
    response = login(physician_b).get(f"/infusion/episodes/{episode.pk}/consent/scan/")
    assert response.status_code == 404
    assert AuditEvent.objects.filter(patient_id=episode.patient_id, actor=physician_b).exists()


def test_no_scan_is_404(episode, physician, login):
    record_consent(episode, physician)
    assert login(physician).get(f"/infusion/episodes/{episode.pk}/consent/scan/").status_code == (
        404
    )


# --- The consent form on the episode page ----------------------------------------------


def test_the_episode_page_offers_the_form_until_the_consent_is_recorded(
    episode, physician, nurse, login
):
    body = login(physician).get(f"/infusion/episodes/{episode.pk}/").content.decode()
    assert 'id="consent-missing"' in body and 'id="consent-form"' in body
    assert "B-CONSENT-1" in body
    nurse_body = login(nurse).get(f"/infusion/episodes/{episode.pk}/").content.decode()
    assert 'id="consent-missing"' in nurse_body and 'id="consent-form"' not in nurse_body


def test_a_physician_records_the_consent_through_the_page_with_a_scan(
    episode, physician, login, settings
):
    settings.ETHICS_APPROVAL_NUMBER = "EC-2026-017"
    client = login(physician)
    body = consent_post(physician, consenter="relative", consenter_name="Li Hua")
    body["relationship"] = "daughter"
    body["scan"] = SimpleUploadedFile("scan.png", PNG, "image/png")
    response = client.post(f"/infusion/episodes/{episode.pk}/consent/", body)
    assert response.status_code == 302
    assert response["Location"].endswith(f"/infusion/episodes/{episode.pk}/#consent")
    consent = Consent.objects.get(episode=episode)
    assert (consent.consenter, consent.consenter_name) == ("relative", "Li Hua")
    page = client.get(f"/infusion/episodes/{episode.pk}/").content.decode()
    record = page[page.index('id="consent-record"') :]
    record = record[: record.index("</dl>")]
    for text in (
        "A relative (legal representative)",
        "Li Hua",
        "daughter",
        today().isoformat(),
        "MSC-SLE-ICF v3.0",
        physician.get_full_name(),
        "EC-2026-017",
        f"/infusion/episodes/{episode.pk}/consent/scan/",
    ):
        assert text in record, text


def test_a_bad_submission_keeps_the_typed_values_and_shows_the_field_errors(
    episode, physician, login, frozen
):
    client = login(physician)
    tomorrow = today() + timedelta(days=1)
    body = consent_post(physician, consented_on=tomorrow, form_version="ICF typed v7")
    response = client.post(f"/infusion/episodes/{episode.pk}/consent/", body)
    assert response.status_code == 409
    page = response.content.decode()
    assert 'value="ICF typed v7"' in page and f'value="{tomorrow.isoformat()}"' in page
    assert "is in the future" in page and 'class="msg error"' in page
    assert not Consent.objects.exists()
    born = episode.patient.date_of_birth - timedelta(days=1)
    response = client.post(
        f"/infusion/episodes/{episode.pk}/consent/",
        consent_post(physician, consented_on=born),
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="consent",
    )
    assert response.status_code == 200  # htmx swaps 200 answers: the panel with its errors
    page = response.content.decode()
    assert page.lstrip().startswith('<section class="card" id="consent">')
    assert "before the patient&#x27;s birth" in page or "before the patient's birth" in page
    assert not Consent.objects.exists()


def test_a_wrong_scan_through_the_page_is_a_field_error(episode, physician, login):
    body = consent_post(physician)
    body["scan"] = SimpleUploadedFile("scan.pdf", b"not a pdf at all", "application/pdf")
    response = login(physician).post(f"/infusion/episodes/{episode.pk}/consent/", body)
    assert response.status_code == 409
    assert "The scan must be a PDF, JPEG or PNG file." in response.content.decode()
    assert not Consent.objects.exists()


def test_an_empty_form_is_a_400_and_a_correction_without_reason_too(
    signed_episode, physician, login
):
    client = login(physician)
    url = f"/infusion/episodes/{signed_episode.pk}/consent/"
    assert client.post(url, {}).status_code == 400
    response = client.post(url, consent_post(physician, form_version="v4"))
    assert response.status_code == 400
    assert Consent.objects.get().form_version == "MSC-SLE-ICF v3.0"
    response = client.post(url, {**consent_post(physician, form_version="v4"), "reason": "typo"})
    assert response.status_code == 302
    assert Consent.objects.get().form_version == "v4"


@pytest.mark.parametrize("role", ["nurse", "pharmacist", "auditor"])
def test_other_roles_get_403_on_the_consent_form(episode, physician, role, request, login):
    user = request.getfixturevalue(role)
    response = login(user).post(
        f"/infusion/episodes/{episode.pk}/consent/", consent_post(physician)
    )
    assert response.status_code == 403
    assert not Consent.objects.exists()


def test_another_wards_physician_gets_404_on_the_consent_form(
    episode, physician, physician_b, login
):
    response = login(physician_b).post(
        f"/infusion/episodes/{episode.pk}/consent/", consent_post(physician)
    )
    assert response.status_code == 404
    assert not Consent.objects.exists()


def test_the_consent_form_takes_only_post(episode, physician, login):
    assert login(physician).get(f"/infusion/episodes/{episode.pk}/consent/").status_code == 405


# --- The queue and the order sheet -----------------------------------------------------


def test_the_queue_card_shows_the_consent(signed_episode, pharmacist, login):
    consent = Consent.objects.get(episode=signed_episode)
    body = login(pharmacist).get("/infusion/queue/").content.decode()
    line = body[body.index(f'id="queue-check-{signed_episode.pk}-consent"') :]
    line = line[: line.index("</li>")]
    assert f"Recorded {consent.consented_on.isoformat()} (patient), form MSC-SLE-ICF v3.0" in line
    assert "B-CONSENT-1" in line


def test_the_order_sheet_shows_the_consent_the_ethics_approval_and_the_issuer(
    signed_episode, physician, login, settings
):
    # B-CONSENT-1 and B-SITE-1 on the printed order sheet.
    settings.ETHICS_APPROVAL_NUMBER = "EC-2026-017"
    consent = Consent.objects.get(episode=signed_episode)
    text = pdf_text(login(physician).get(f"/infusion/episodes/{signed_episode.pk}/order-sheet.pdf"))
    flat = " ".join(text.split())
    assert f"Consent: recorded {consent.consented_on.isoformat()}" in flat
    assert "form MSC-SLE-ICF v3.0" in flat
    assert signed_episode.patient.name in flat
    assert "EC-2026-017" in flat
    assert "Provincial Center for Drug Inspection" in flat
    assert "third-party re-test (B-SITE-1)" in flat


def test_the_order_sheet_says_what_is_missing(weighed_patient, physician, login, settings):
    settings.ETHICS_APPROVAL_NUMBER = ""
    episode = open_episode(
        weighed_patient, physician, coa_issuer="Maker Ltd", coa_third_party_retest=False
    )
    text = pdf_text(login(physician).get(f"/infusion/episodes/{episode.pk}/order-sheet.pdf"))
    flat = " ".join(text.split())
    assert "Consent: not recorded (B-CONSENT-1)" in flat
    assert "not configured" in flat
    assert "Maker Ltd" in flat and "not a third-party re-test (B-SITE-1)" in flat


# --- B-SITE-1 on the episode form ------------------------------------------------------


def test_the_episode_form_records_the_issuer_and_the_third_party_flag(
    weighed_patient, physician, login
):
    from infusion.demo import episode_data

    start = (timezone.now() + timedelta(days=2)).replace(second=0, microsecond=0)
    data = episode_data(start, coa_issuer="  City Testing Lab  ", coa_third_party_retest=True)
    response = login(physician).post(
        f"/infusion/patients/{weighed_patient.pk}/open/", form_post(data, acknowledge="on")
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    episode = weighed_patient.infusion_episodes.get()
    certificate = episode.plan_input["product"]["certificate"]
    assert certificate["issuer"] == "City Testing Lab"
    assert certificate["third_party_retest"] is True
    assert episode.plan["site"]["status"] == "met"
    assert episode.release_status == "released"
    page = login(physician).get(f"/infusion/episodes/{episode.pk}/edit/").content.decode()
    assert 'value="City Testing Lab"' in page


def test_a_certificate_that_is_not_a_third_party_re_test_is_a_warning_to_acknowledge(
    weighed_patient, physician
):
    # B-SITE-1: act on it (have the product re-tested), but the release is unchanged.
    with pytest.raises(services.ActionRefused) as exc:
        open_episode(weighed_patient, physician, acknowledged=False, coa_third_party_retest=False)
    assert exc.value.code == "acknowledgement_required"
    assert "B-SITE-1" in {f.rule_id for f in exc.value.findings}
    episode = open_episode(weighed_patient, physician, coa_third_party_retest=False)
    assert episode.plan["site"]["severity"] == "warning"
    assert episode.release_status == "released"
