"""The episode pages: opening through the form, the candidacy preview, signing, access."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import AuditEvent
from infusion import services
from infusion.demo import episode_data
from infusion.models import Episode, OrderKind, OrderStatus
from tests.factories import PASSWORD
from tests.infusion.conftest import form_post, order_of, record_consent

pytestmark = pytest.mark.django_db


def start_tomorrow():
    return (timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0)


def test_a_physician_opens_an_episode_through_the_form(weighed_patient, physician, login):
    client = login(physician)
    url = f"/infusion/patients/{weighed_patient.pk}/open/"
    page = client.get(url).content.decode()
    assert "60.00 kg" in page and "180" in page  # from the record
    response = client.post(url, form_post(episode_data(start_tomorrow()), acknowledge="on"))
    assert response.status_code == 302
    episode = Episode.objects.get()
    assert response.url == f"/infusion/episodes/{episode.pk}/"
    assert episode.orders.count() == 3
    detail = client.get(response.url).content.decode()
    assert "B-IND-1 (R1, 1B)" in detail and "B-IND-2 (R2, 1A)" in detail
    assert "Sign all draft orders" in detail


def test_the_plan_check_shows_the_candidacy_with_rule_ids_and_grade_and_saves_nothing(
    weighed_patient, physician, login
):
    client = login(physician)
    url = f"/infusion/patients/{weighed_patient.pk}/open/"
    body = form_post(episode_data(start_tomorrow(), pregnant=True), preview="1")
    response = client.post(url, body, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="plan-preview")
    html = response.content.decode()
    assert response.status_code == 200
    assert (
        html.lstrip().startswith('<section class="card" id="plan-preview"') and "<html" not in html
    )
    assert "B-CI-2" in html and "not recommended" in html and "B-IND-2 (R2, 1A)" in html
    full = client.post(url, body)
    assert full.status_code == 200 and "<html" in full.content.decode()
    assert not Episode.objects.exists()


def test_opening_a_not_recommended_candidacy_asks_for_a_reason_and_a_second_physician(
    weighed_patient, physician, physician2, login
):
    client = login(physician)
    url = f"/infusion/patients/{weighed_patient.pk}/open/"
    data = episode_data(start_tomorrow(), tumour=True)
    response = client.post(url, form_post(data, acknowledge="on"))
    assert response.status_code == 409
    body = response.content.decode()
    assert "give a reason and the signature of a second physician (C-OVR-1" in body
    assert f'<option value="{physician2.pk}">' in body  # the co-signer to choose
    assert f'<option value="{physician.pk}">' not in body  # never oneself
    reason = "Tumour in remission 5 years; MDT"
    response = client.post(
        url,
        form_post(
            data,
            acknowledge="on",
            override_reason=reason,
            second_physician=physician2.pk,
            second_password="wrong",
        ),
    )
    assert response.status_code == 409
    body = response.content.decode()
    assert "The password is not correct" in body
    assert reason in body  # what was typed is kept
    assert not Episode.objects.exists()
    response = client.post(
        url,
        form_post(
            data,
            acknowledge="on",
            override_reason=reason,
            second_physician=physician2.pk,
            second_password=PASSWORD,
        ),
    )
    assert response.status_code == 302
    episode = Episode.objects.get()
    assert episode.override_reason == reason
    assert episode.overrides.get().second_signer == physician2


def test_form_errors_point_at_the_field(weighed_patient, physician, login):
    data = episode_data(start_tomorrow())
    body = form_post(data, acknowledge="on", coa_cd73="101", planned_start="")
    response = login(physician).post(f"/infusion/patients/{weighed_patient.pk}/open/", body)
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="field-coa_cd73"' in html and "less than or equal to 100" in html


def test_a_patient_without_weight_gets_a_clear_message(patient, physician, login):
    response = login(physician).post(
        f"/infusion/patients/{patient.pk}/open/",
        form_post(episode_data(start_tomorrow()), acknowledge="on"),
    )
    assert response.status_code == 400
    assert "Record the patient&#x27;s body weight first (B-DOSE-1)." in response.content.decode()


def test_the_patient_page_shows_the_msc_panel(episode, physician, nurse, login):
    body = login(physician).get(f"/patients/{episode.patient_id}/").content.decode()
    # One active episode per patient: the button goes to it rather than opening another.
    assert "MSC infusions" in body and "Go to the active MSC episode" in body
    assert "Open an MSC episode" not in body
    assert f"/infusion/episodes/{episode.pk}/" in body
    assert (
        "Go to the active MSC episode"
        not in login(nurse).get(f"/patients/{episode.patient_id}/").content.decode()
    )
    services.episode_cancel(episode=episode, actor=physician, reason="postponed")
    body = login(physician).get(f"/patients/{episode.patient_id}/").content.decode()
    assert "Open an MSC episode" in body


def test_signing_all_drafts_from_the_episode_page(episode, physician, login):
    record_consent(episode, physician)  # B-CONSENT-1: before the orders are signed
    client = login(physician)
    response = client.post(
        f"/infusion/episodes/{episode.pk}/sign/", {"password": PASSWORD, "username": "doc"}
    )
    assert response.status_code == 302
    assert set(episode.orders.values_list("status", flat=True)) == {OrderStatus.SIGNED}
    page = client.get(response.url).content.decode()
    assert "Orders signed" in page and f"Prescribed by <strong>{physician.get_full_name()}" in page


def test_a_wrong_password_on_the_page_signs_nothing(episode, physician, login):
    client = login(physician)
    response = client.post(
        f"/infusion/episodes/{episode.pk}/sign/", {"password": "guess-1234", "username": "doc"}
    )
    assert "The password is not correct" in client.get(response.url).content.decode()
    assert set(episode.orders.values_list("status", flat=True)) == {OrderStatus.DRAFT}


def test_editing_a_note_voids_the_signature_on_the_page(signed_episode, physician, login):
    order = order_of(signed_episode, OrderKind.DEXAMETHASONE)
    client = login(physician)
    response = client.post(
        f"/infusion/orders/{order.pk}/edit/", {"note": "slow push", "reason": "clarify"}
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT
    page = client.get(response.url).content.decode()
    assert "Voided signature" in page


def test_the_order_rows_show_reasons_and_voided_signatures_escaped(
    signed_episode, physician, pharmacist, login
):
    xss = "<script>alert(1)</script>"
    services.order_reject(
        order=order_of(signed_episode, OrderKind.ANTIPLATELET), actor=pharmacist, reason=xss
    )
    dexa = order_of(signed_episode, OrderKind.DEXAMETHASONE)
    services.order_edit(order=dexa, actor=physician, changes={"note": "slow"}, reason=xss)
    services.order_cancel(order=dexa, actor=physician, reason=f"gone {xss}")
    page = login(physician).get(f"/infusion/episodes/{signed_episode.pk}/").content.decode()
    assert "<script>alert" not in page
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    row = page[page.index(f'<tr id="order-{dexa.pk}">') :]
    row = row[: row.index("</tr>")]
    assert f"<br><small>gone {escaped}</small>" in row
    name = physician.get_full_name()
    assert f'<div class="sig voided">Voided signature: Prescribed by {name} (' in row
    assert (
        f'<span class="chip ost-rejected">Rejected</span>\n  <br><small>{escaped}</small>' in page
    )


def test_changing_the_episode_through_the_form_moves_the_start(signed_episode, physician, login):
    client = login(physician)
    url = f"/infusion/episodes/{signed_episode.pk}/edit/"
    page = client.get(url).content.decode()
    local_start = timezone.localtime(signed_episode.planned_start).strftime("%Y-%m-%dT%H:%M")
    assert f'value="{local_start}"' in page
    new_start = (signed_episode.planned_start + timedelta(hours=2)).replace(second=0, microsecond=0)
    data = episode_data(new_start, preparation_time=new_start - timedelta(hours=2))
    response = client.post(url, form_post(data, acknowledge="on", reason="delay"))
    assert response.status_code == 302
    signed_episode.refresh_from_db()
    assert signed_episode.planned_start == new_start


def test_another_wards_episode_is_404_and_the_attempt_is_audited(episode, nurse_b, login):
    response = login(nurse_b).get(f"/infusion/episodes/{episode.pk}/")
    assert response.status_code == 404
    event = AuditEvent.objects.get(action="access_denied", object_type="infusion.Episode")
    assert event.actor == nurse_b and event.patient_id == episode.patient_id


def test_the_admin_reads_everything_and_writes_nothing(signed_episode, auditor, login):
    client = login(auditor)
    for url in (
        "/infusion/",
        "/infusion/queue/",
        f"/infusion/episodes/{signed_episode.pk}/",
        f"/infusion/episodes/{signed_episode.pk}/chart/",
    ):
        assert client.get(url).status_code == 200, url
    order = order_of(signed_episode, OrderKind.DEXAMETHASONE)
    for url, data in (
        (f"/infusion/orders/{order.pk}/verify/", {"password": PASSWORD}),
        (f"/infusion/orders/{order.pk}/cancel/", {"reason": "x"}),
        (f"/infusion/episodes/{signed_episode.pk}/chart/received/", {}),
        (f"/infusion/episodes/{signed_episode.pk}/reactions/", {}),
    ):
        assert client.post(url, data).status_code == 403, url
    body = client.get(f"/infusion/episodes/{signed_episode.pk}/").content.decode()
    assert "Sign all draft orders" not in body and "Cancel order" not in body


def test_the_nav_shows_the_queue_to_pharmacists_and_episodes_to_ward_staff(
    pharmacist, nurse, login
):
    assert 'href="/infusion/queue/"' in login(pharmacist).get("/").content.decode()
    body = login(nurse).get("/").content.decode()
    assert 'href="/infusion/"' in body and 'href="/infusion/queue/"' not in body


def test_an_implausible_record_value_is_named_not_passed(patient, physician, nurse, login):
    from tests.factories import add_weight

    add_weight(patient, nurse, "650", when=timezone.now() - timedelta(days=1))
    response = login(physician).post(
        f"/infusion/patients/{patient.pk}/open/",
        form_post(episode_data(start_tomorrow()), acknowledge="on"),
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "The patient record&#x27;s latest weight cannot be used" in body
    assert not Episode.objects.exists()
