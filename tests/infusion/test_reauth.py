"""The password typed again to sign, verify and co-sign overrides (core.reauth): the
lockout after wrong passwords, and 21 CFR Part 11 §11.200(a)(1)(i) — the first signature
of a session asks for the username too, later ones the password only."""

import pytest
from django.conf import settings
from django.test import Client

from core.models import AuditEvent, User
from infusion import services
from infusion.models import CheckOverride, OrderKind, OrderStatus
from tests.factories import PASSWORD

from .conftest import open_episode, order_of, sign_all

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def verify(client, order, password=PASSWORD, **extra):
    return client.post(f"/infusion/orders/{order.pk}/verify/", {"password": password, **extra})


def status(order):
    order.refresh_from_db()
    return order.status


# --- Lockout ------------------------------------------------------------------------------


def test_twelve_wrong_passwords_then_the_right_one_verify_nothing_and_lock_the_pharmacist_out(
    signed_episode, pharmacist, login
):
    order = order_of(signed_episode, OrderKind.DEXAMETHASONE)
    client = login(pharmacist)
    for n in range(12):
        verify(client, order, f"guess-{n}", username="pharm")
    response = verify(client, order, PASSWORD, username="pharm")

    assert status(order) == OrderStatus.SIGNED
    assert response.status_code == 302 and response.url.startswith("/login/")
    assert client.get("/infusion/queue/").status_code == 302  # signed out
    refused = Client().post("/login/", {"username": "pharm", "password": PASSWORD})
    assert refused.status_code == 429
    assert "Too many failed sign-in attempts" in refused.content.decode()
    limit = settings.REAUTH_FAILURE_LIMIT
    wrong = AuditEvent.objects.filter(
        action="signature_refused", actor=pharmacist, reason="wrong password"
    )
    assert wrong.count() == limit
    lockout = AuditEvent.objects.get(action="reauth_lockout")
    assert (lockout.actor, lockout.object_id) == (pharmacist, str(order.pk))
    assert lockout.patient_id == signed_episode.patient_id
    assert lockout.new_values["action"] == "order_verify"


def test_the_lockout_from_the_queue_card_sends_the_browser_to_the_sign_in_page(
    signed_episode, pharmacist, login
):
    client = login(pharmacist)
    url = f"/infusion/episodes/{signed_episode.pk}/verify/"
    order = order_of(signed_episode, OrderKind.DEXAMETHASONE)
    data = {"reviewed": [f"{order.pk}:{order.version}"], "username": "pharm"}
    for n in range(settings.REAUTH_FAILURE_LIMIT):
        response = client.post(url, {**data, "password": f"guess-{n}"}, **HTMX)
    # htmx must load the sign-in page as a page, not swap it into the card.
    assert response.headers["HX-Redirect"].startswith("/login/")
    assert status(order) == OrderStatus.SIGNED


def test_a_correct_password_resets_the_count(signed_episode, pharmacist, login):
    client = login(pharmacist)
    dex = order_of(signed_episode, OrderKind.DEXAMETHASONE)
    aspirin = order_of(signed_episode, OrderKind.ANTIPLATELET)
    limit = settings.REAUTH_FAILURE_LIMIT
    for n in range(limit - 1):
        verify(client, dex, f"guess-{n}", username="pharm")
    verify(client, dex, username="pharm")
    assert status(dex) == OrderStatus.VERIFIED
    for n in range(limit - 1):
        assert verify(client, aspirin, f"again-{n}").url == "/infusion/queue/"
    assert client.get("/infusion/queue/").status_code == 200  # still signed in
    verify(client, aspirin)
    assert status(aspirin) == OrderStatus.VERIFIED


def test_a_wrong_password_on_the_card_warns_before_the_lockout(signed_episode, pharmacist, login):
    client = login(pharmacist)
    order = order_of(signed_episode, OrderKind.DEXAMETHASONE)
    for n in range(settings.REAUTH_FAILURE_LIMIT - 1):
        body = client.post(
            f"/infusion/orders/{order.pk}/verify/",
            {"password": f"guess-{n}", "username": "pharm"},
            **HTMX,
        ).content.decode()
    assert "The password is not correct; nothing was signed." in body
    assert "After one more wrong attempt this account is locked for 15 minutes." in body


@pytest.fixture
def overdosed(weighed_patient, physician):
    """An episode whose MSC dose fails C-DOSE-1: verification needs an override."""
    from infusion.demo import certificate_data

    cert = certificate_data(
        coa_cell_count_measured=131_000_000, coa_cell_count_labelled=130_000_000
    )
    episode = open_episode(weighed_patient, physician, dose_cells=130_000_000, **cert)
    sign_all(episode, physician)
    return episode


def override(client, episode, second, password):
    return client.post(
        f"/infusion/episodes/{episode.pk}/override/",
        {
            "check_key": "dose",
            "reason": "Second infusion not planned; MDT 12-06",
            "second_physician": str(second.pk),
            "second_password": password,
        },
    )


def test_wrong_second_passwords_lock_the_second_physician_not_the_one_signed_in(
    overdosed, physician, physician2, login
):
    client = login(physician)
    limit = settings.REAUTH_FAILURE_LIMIT
    for n in range(limit - 1):
        assert override(client, overdosed, physician2, f"guess-{n}").status_code == 409
    last = override(client, overdosed, physician2, "guess-last")
    assert last.status_code == 409
    assert f"{physician2.get_full_name()} is now locked out for 15 minutes" in (
        last.content.decode()
    )
    # Locked: even the right password co-signs nothing now.
    refused = override(client, overdosed, physician2, PASSWORD)
    assert refused.status_code == 409
    assert "is locked out after too many wrong passwords" in refused.content.decode()
    assert not CheckOverride.objects.exists()
    # The physician at the keyboard stays signed in; the second physician cannot sign in.
    assert client.get(f"/infusion/episodes/{overdosed.pk}/").status_code == 200
    assert User.objects.get(pk=physician.pk).reauth_failures == 0
    locked = Client().post("/login/", {"username": "doc2", "password": PASSWORD})
    assert locked.status_code == 429
    lockout = AuditEvent.objects.get(action="reauth_lockout")
    assert lockout.actor == physician2 and lockout.new_values["action"] == "check_override"


def test_the_services_count_without_a_request_too(signed_episode, pharmacist):
    order = order_of(signed_episode, OrderKind.DEXAMETHASONE)
    for n in range(settings.REAUTH_FAILURE_LIMIT):
        with pytest.raises(services.ActionRefused):
            services.order_verify(order=order, actor=pharmacist, password=f"guess-{n}")
    with pytest.raises(services.ActionRefused) as refused:
        services.order_verify(order=order, actor=pharmacist, password=PASSWORD)
    assert refused.value.code == "locked"
    assert status(order) == OrderStatus.SIGNED


# --- §11.200(a)(1)(i): username and password on the first signature of a session --------


def test_the_first_signature_of_a_session_without_the_username_is_refused(
    signed_episode, pharmacist, login
):
    order = order_of(signed_episode, OrderKind.DEXAMETHASONE)
    body = (
        login(pharmacist)
        .post(f"/infusion/orders/{order.pk}/verify/", {"password": PASSWORD}, **HTMX)
        .content.decode()
    )
    assert "This is your first signature since you signed in: enter your username" in body
    assert status(order) == OrderStatus.SIGNED
    event = AuditEvent.objects.get(action="signature_refused")
    assert (event.actor, event.reason) == (pharmacist, "username required")
    assert User.objects.get(pk=pharmacist.pk).reauth_failures == 0  # nothing was guessed


def test_the_first_signature_with_the_username_is_accepted_and_the_next_needs_the_password_only(
    signed_episode, pharmacist, login
):
    client = login(pharmacist)
    dex = order_of(signed_episode, OrderKind.DEXAMETHASONE)
    aspirin = order_of(signed_episode, OrderKind.ANTIPLATELET)
    verify(client, dex, username="pharm")
    assert status(dex) == OrderStatus.VERIFIED
    verify(client, aspirin)
    assert status(aspirin) == OrderStatus.VERIFIED


def test_a_new_session_asks_for_the_username_again(signed_episode, pharmacist, login):
    dex = order_of(signed_episode, OrderKind.DEXAMETHASONE)
    aspirin = order_of(signed_episode, OrderKind.ANTIPLATELET)
    first = login(pharmacist)
    verify(first, dex, username="pharm")
    assert status(dex) == OrderStatus.VERIFIED
    first.post("/logout/")
    second = login(pharmacist)
    verify(second, aspirin)
    assert status(aspirin) == OrderStatus.SIGNED
    verify(second, aspirin, username="pharm")
    assert status(aspirin) == OrderStatus.VERIFIED


def test_another_users_name_with_ones_own_password_is_refused_and_counted(
    signed_episode, pharmacist, pharmacist2, login
):
    order = order_of(signed_episode, OrderKind.DEXAMETHASONE)
    body = (
        login(pharmacist)
        .post(
            f"/infusion/orders/{order.pk}/verify/",
            {"password": PASSWORD, "username": "pharm2"},
            **HTMX,
        )
        .content.decode()
    )
    assert "This is not the username you signed in with; nothing was signed." in body
    assert status(order) == OrderStatus.SIGNED
    assert User.objects.get(pk=pharmacist.pk).reauth_failures == 1
    assert User.objects.get(pk=pharmacist2.pk).reauth_failures == 0


def test_the_queue_card_asks_for_the_username_until_the_first_signature(
    signed_episode, pharmacist, login
):
    client = login(pharmacist)
    card = client.get("/infusion/queue/").content.decode()
    form = card[card.index(f'id="verify-{signed_episode.pk}"') :]
    form = form[: form.index("</form>")]
    assert 'name="username" autocomplete="username"' in form
    assert 'aria-label="Your username (first signature since you signed in)"' in form
    order = order_of(signed_episode, OrderKind.DEXAMETHASONE)
    after = client.post(
        f"/infusion/episodes/{signed_episode.pk}/verify/",
        {"password": PASSWORD, "username": "pharm", "reviewed": [f"{order.pk}:{order.version}"]},
        **HTMX,
    ).content.decode()
    assert "1 order verified." in after
    assert 'name="username"' not in after


def test_the_sign_all_form_asks_the_physician_for_the_username_first(episode, physician, login):
    from .conftest import record_consent

    record_consent(episode, physician)
    client = login(physician)
    page = client.get(f"/infusion/episodes/{episode.pk}/").content.decode()
    form = page[page.index('id="sign-all"') :]
    assert 'id="sign-all-username"' in form[: form.index("</form>")]
    refused = client.post(f"/infusion/episodes/{episode.pk}/sign/", {"password": PASSWORD})
    assert "enter your username" in client.get(refused.url).content.decode()
    assert not episode.orders.filter(status=OrderStatus.SIGNED).exists()
    client.post(f"/infusion/episodes/{episode.pk}/sign/", {"password": PASSWORD, "username": "doc"})
    assert not episode.orders.filter(status=OrderStatus.DRAFT).exists()
    page = client.get(f"/infusion/episodes/{episode.pk}/").content.decode()
    assert 'name="username"' not in page


def test_a_second_physician_co_signs_with_the_password_every_time(
    overdosed, physician, physician2, login
):
    # The second physician is named in the form and is not the session's user: their
    # signature is username (chosen) and password whatever the session did before.
    client = login(physician)
    assert override(client, overdosed, physician2, PASSWORD).status_code == 302
    assert CheckOverride.objects.get().second_signer == physician2
