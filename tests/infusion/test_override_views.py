"""C-VERIFY-1 on the pages: the episode page lists every check the pharmacist's
verification enforces, a physician records an override there (the form keeps what was
typed), and the override shows on the order sheet and the infusion record (MAR) PDFs."""

import pytest

from infusion.models import CheckOverride
from tests.factories import PASSWORD

from .conftest import open_episode, sign_all
from .test_documents import pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def overdosed(weighed_patient, physician):
    from infusion.demo import certificate_data

    cert = certificate_data(
        coa_cell_count_measured=131_000_000, coa_cell_count_labelled=130_000_000
    )
    episode = open_episode(weighed_patient, physician, dose_cells=130_000_000, **cert)
    sign_all(episode, physician)
    return episode


def post_override(client, episode, second, **extra):
    data = {
        "check_key": "dose",
        "reason": "Second infusion not planned; MDT 12-06",
        "second_physician": str(second.pk),
        "second_password": PASSWORD,
        **extra,
    }
    return client.post(f"/infusion/episodes/{episode.pk}/override/", data)


def test_the_episode_page_lists_the_checks_and_offers_an_override_for_a_failing_one(
    overdosed, physician, login
):
    body = login(physician).get(f"/infusion/episodes/{overdosed.pk}/").content.decode()
    panel = body[body.index('id="checks"') :]
    panel = panel[: panel.index("</section>")]
    assert "C-VERIFY-1" in panel
    dose = panel[panel.index('id="check-dose"') :]
    assert 'class="check failed"' in panel and "2.17 × 10⁶/kg" in dose
    assert "Override this check" in dose
    assert 'name="second_password"' in dose
    # A passing check offers nothing to override.
    release = panel[panel.index('id="check-release"') : panel.index('id="check-site"')]
    assert "Override this check" not in release


def test_a_physician_overrides_a_failing_check_with_a_second_physician(
    overdosed, physician, physician2, login
):
    client = login(physician)
    response = post_override(client, overdosed, physician2)
    assert response.status_code == 302
    assert response.url.endswith(f"/infusion/episodes/{overdosed.pk}/#checks")
    record = CheckOverride.objects.get()
    assert (record.requested_by, record.second_signer) == (physician, physician2)
    page = client.get(response.url).content.decode()
    assert "Override recorded" in page
    dose = page[page.index('id="check-dose"') :]
    assert 'class="check overridden"' in page
    assert f"co-signed by {physician2.get_full_name()}" in dose
    assert "Second infusion not planned; MDT 12-06" in dose


def test_a_wrong_second_password_keeps_the_reason_typed_and_stores_nothing(
    overdosed, physician, physician2, login
):
    response = post_override(login(physician), overdosed, physician2, second_password="wrong")
    assert response.status_code == 409
    body = response.content.decode()
    assert "The password is not correct" in body
    assert "Second infusion not planned; MDT 12-06</textarea>" in body
    assert "<details open>" in body  # the form stays open where the physician was
    assert not CheckOverride.objects.exists()


def test_an_empty_override_form_names_the_missing_fields(overdosed, physician, login):
    response = login(physician).post(
        f"/infusion/episodes/{overdosed.pk}/override/", {"check_key": "dose"}
    )
    assert response.status_code == 400
    assert response.content.decode().count("This field is required.") >= 3


@pytest.mark.parametrize("who", ["nurse", "pharmacist", "auditor"])
def test_only_physicians_may_post_an_override(overdosed, physician2, who, request, login):
    client = login(request.getfixturevalue(who))
    assert post_override(client, overdosed, physician2).status_code == 403
    assert not CheckOverride.objects.exists()


def test_another_wards_physician_gets_a_404(overdosed, physician2, physician_b, login):
    assert post_override(login(physician_b), overdosed, physician2).status_code == 404


def test_the_override_shows_on_the_order_sheet_and_the_record_pdf(
    overdosed, physician, physician2, login
):
    client = login(physician)
    post_override(client, overdosed, physician2)
    for url in ("order-sheet.pdf", "infusion-record.pdf"):
        text = pdf_text(client.get(f"/infusion/episodes/{overdosed.pk}/{url}"))
        assert "Verification checks and overrides" in text, url
        assert "Second infusion not planned" in text, url
        assert physician2.get_full_name() in text, url


def test_the_bedside_mar_shows_the_overrides_in_force(
    overdosed, physician, physician2, nurse, login
):
    post_override(login(physician), overdosed, physician2)
    body = login(nurse).get(f"/infusion/episodes/{overdosed.pk}/chart/").content.decode()
    mar = body[body.index('id="mar"') :]
    assert "Dose per kg" in mar and "Second infusion not planned; MDT 12-06" in mar


def test_a_cyclophosphamide_hold_override_reason_shows_on_the_queue(
    signed_episode, physician, physician2, pharmacist, login
):
    from datetime import timedelta

    from infusion import services

    services.cyclophosphamide_order_create(
        episode=signed_episode,
        actor=physician,
        scheduled_at=signed_episode.planned_end + timedelta(hours=20),
        dose_mg=400,
        override_reason="Rapidly progressive GN; nephrology",
        second_physician=physician2,
        second_password=PASSWORD,
    )
    body = login(pharmacist).get("/infusion/queue/").content.decode()
    assert "Hold override (two physicians): “Rapidly progressive GN; nephrology”" in body
    card = body[body.index(f'id="queue-item-{signed_episode.pk}"') :]
    assert "inside the 48 h hold" in card[: card.index("</article>")]
