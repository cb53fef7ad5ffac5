"""The pharmacist queue: pending orders by urgency with what to check; verify or reject."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from infusion import services
from infusion.models import OrderKind, OrderStatus
from infusion.selectors import QUEUE_PAGE_SIZE, pharmacy_queue, pharmacy_queue_item
from tests.factories import PASSWORD, add_lab, add_weight, make_patient, make_user
from tests.infusion.conftest import open_episode, order_of, sign_all

pytestmark = pytest.mark.django_db


def signed_for_new_patient(ward, physician, nurse, *, days, **overrides):
    patient = make_patient(ward)
    add_weight(patient, nurse, "60", when=timezone.now() - timedelta(days=1))
    add_lab(patient, nurse, "platelets", 200, "10^9/L", when=timezone.now() - timedelta(days=1))
    episode = open_episode(
        patient, physician, start=timezone.now() + timedelta(days=days), **overrides
    )
    sign_all(episode, physician)
    return episode


def test_the_queue_lists_pending_episodes_by_planned_start_with_the_checks(
    ward_a, physician, nurse, pharmacist, login
):
    later = signed_for_new_patient(ward_a, physician, nurse, days=3)
    sooner = signed_for_new_patient(ward_a, physician, nurse, days=1)
    response = login(pharmacist).get("/infusion/queue/")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.index(f'id="queue-item-{sooner.pk}"') < body.index(f'id="queue-item-{later.pk}"')
    card = body[body.index(f'id="queue-item-{sooner.pk}"') :]
    for text in (
        "Candidacy",
        "Informed consent",
        "Product release (certificate of analysis)",
        "B-QC-1",
        "Certificate issuer and third-party re-test",
        "B-SITE-1",
        "Dose per kg",
        "1.67 × 10⁶/kg for 60.00 kg",
        "C-DOSE-1",
        "Cold chain",
        "must be complete by",
        "Dexamethasone premedication",
        "Antiplatelet course",
        "Cyclophosphamide near the infusion",
        "Without filter membrane",
    ):
        assert text in card, text
    assert "Verification is stopped" not in card[: card.index("</article>")]


def test_the_queue_flags_a_dose_outside_the_range_and_cyclophosphamide_near_the_infusion(
    ward_a, physician, nurse, pharmacist, login
):
    episode = signed_for_new_patient(
        ward_a,
        physician,
        nurse,
        days=2,
        dose_cells=130_000_000,
        coa_cell_count_measured=131_000_000,
        coa_cell_count_labelled=130_000_000,
    )
    services.cyclophosphamide_order_create(
        episode=episode,
        actor=physician,
        scheduled_at=episode.planned_start - timedelta(days=1),
        dose_mg=Decimal(400),
        acknowledged=True,
    )
    body = login(pharmacist).get("/infusion/queue/").content.decode()
    dose = _check_li(body, episode, "Dose per kg")
    assert 'class="check failed"' in dose and "✗" in dose and "C-DOSE-1" in dose
    assert "Needs an override" in dose
    assert "Verification is stopped by 1 check (C-VERIFY-1)." in body
    cyc = _check_li(body, episode, "Cyclophosphamide near the infusion")
    assert 'class="check attention"' in cyc


def _episodes_with_cyclophosphamide(ward, physician, nurse, start_days):
    """An episode with signed orders for each start day, each patient with a
    cyclophosphamide order five days after the infusion."""
    episodes = []
    for days in start_days:
        episode = signed_for_new_patient(ward, physician, nurse, days=days)
        services.cyclophosphamide_order_create(
            episode=episode,
            actor=physician,
            scheduled_at=episode.planned_start + timedelta(days=5),
            dose_mg=Decimal(400),
        )
        episodes.append(episode)
    return episodes


def test_the_number_of_queries_does_not_grow_with_the_rows(
    ward_a, physician, nurse, pharmacist, login
):
    client = login(pharmacist)
    signed_for_new_patient(ward_a, physician, nurse, days=1)
    client.get("/infusion/queue/")  # warm caches (content types, permissions)
    with CaptureQueriesContext(connection) as one:
        client.get("/infusion/queue/")
    _episodes_with_cyclophosphamide(ward_a, physician, nurse, range(2, 7))
    with CaptureQueriesContext(connection) as six:
        response = client.get("/infusion/queue/")
    assert response.content.decode().count('class="card queue-item"') == QUEUE_PAGE_SIZE
    assert len(six) == len(one), [q["sql"] for q in six.captured_queries]


def test_a_queue_page_and_a_card_read_in_two_queries_without_overrides(
    ward_a, physician, nurse, pharmacist
):
    # The page of episodes with its total, then the orders, the patients' cyclophosphamide
    # orders and the signatures together.
    episode = _episodes_with_cyclophosphamide(
        ward_a, physician, nurse, range(1, QUEUE_PAGE_SIZE + 2)
    )[-1]
    assert pharmacist.role  # read once per request with the user, before the queue
    with CaptureQueriesContext(connection) as page:
        items, total, _page = pharmacy_queue(pharmacist, 1)
    assert (len(items), total) == (QUEUE_PAGE_SIZE, QUEUE_PAGE_SIZE + 1)
    assert all(row.prescribed for item in items for row in item.orders)
    assert all(len(item.cyc_orders) == 1 for item in items)
    # The page of episodes (with what the checks read of them and whether a check is
    # overridden) and the orders with their signatures; no card has an override.
    assert len(page) == 2, [q["sql"] for q in page.captured_queries]
    with CaptureQueriesContext(connection) as card:
        item = pharmacy_queue_item(pharmacist, episode.pk)
    assert item.episode.pk == episode.pk and item.orders[0].prescribed.signer_id == physician.pk
    assert len(card) == 2, [q["sql"] for q in card.captured_queries]


def test_the_overrides_are_read_when_a_card_has_one_and_show_on_it(
    weighed_patient, physician, physician2, pharmacist, login
):
    from tests.infusion.test_verification_gate import opened, override

    episode = opened(weighed_patient, physician, 120_600_000, 121_000_000, 120_000_000)
    sign_all(episode, physician)
    (item,), _total, _page = pharmacy_queue(pharmacist, 1)
    dose = next(c for c in item.checks if c.check.key == "dose")
    assert (dose.status, dose.override) == ("failed", None)
    override(episode, physician, physician2, "dose", reason="Team agreed: 2.01/kg")
    with CaptureQueriesContext(connection) as page:
        (item,), _total, _page = pharmacy_queue(pharmacist, 1)
    assert len(page) == 3, [q["sql"] for q in page.captured_queries]
    dose = next(c for c in item.checks if c.check.key == "dose")
    assert dose.status == "overridden" and dose.override.reason == "Team agreed: 2.01/kg"
    assert pharmacy_queue_item(pharmacist, episode.pk).overrides == item.overrides
    body = login(pharmacist).get("/infusion/queue/").content.decode()
    assert "Team agreed: 2.01/kg" in body


def _cards(body):
    return [int(m) for m in re.findall(r'class="card queue-item" id="queue-item-(\d+)"', body)]


def test_the_queue_pages_by_urgency_and_a_page_out_of_range_shows_the_last(
    ward_a, physician, nurse, pharmacist, login
):
    episodes = [
        signed_for_new_patient(ward_a, physician, nurse, days=days)
        for days in range(QUEUE_PAGE_SIZE + 2, 0, -1)
    ]
    by_urgency = [e.pk for e in sorted(episodes, key=lambda e: e.planned_start)]
    client = login(pharmacist)
    first = client.get("/infusion/queue/").content.decode()
    assert _cards(first) == by_urgency[:QUEUE_PAGE_SIZE]
    assert "Page 1 of 2" in first and 'href="?page=2"' in first
    assert f"{QUEUE_PAGE_SIZE + 2} episodes waiting" in first
    second = client.get("/infusion/queue/?page=2").content.decode()
    assert _cards(second) == by_urgency[QUEUE_PAGE_SIZE:]
    assert "Page 2 of 2" in second and 'href="?page=1"' in second
    for wrong in ("99", "-3", "two"):
        body = client.get(f"/infusion/queue/?page={wrong}").content.decode()
        expected = by_urgency[QUEUE_PAGE_SIZE:] if wrong == "99" else by_urgency[:QUEUE_PAGE_SIZE]
        assert _cards(body) == expected, wrong


def test_verifying_an_order_of_an_episode_on_a_later_page_returns_its_card(
    ward_a, physician, nurse, pharmacist, login
):
    episodes = [
        signed_for_new_patient(ward_a, physician, nurse, days=days)
        for days in range(1, QUEUE_PAGE_SIZE + 2)
    ]
    last = episodes[-1]  # the least urgent: on page 2
    order = order_of(last, OrderKind.DEXAMETHASONE)
    response = login(pharmacist).post(
        f"/infusion/orders/{order.pk}/verify/",
        {"password": PASSWORD, "username": "pharm"},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert body.lstrip().startswith(f'<article class="card queue-item" id="queue-item-{last.pk}"')
    assert "Order verified." in body
    msc = order_of(last, OrderKind.MSC_IV)
    assert f'id="queue-order-{msc.pk}"' in body  # the orders still waiting are still there
    assert f'id="queue-order-{order.pk}"' not in body
    assert "No more orders of this episode wait" not in body


def test_verifying_from_the_queue_with_htmx_returns_the_card_only(
    signed_episode, pharmacist, login
):
    order = order_of(signed_episode, OrderKind.DEXAMETHASONE)
    response = login(pharmacist).post(
        f"/infusion/orders/{order.pk}/verify/",
        {"password": PASSWORD, "username": "pharm"},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith(
        f'<article class="card queue-item" id="queue-item-{signed_episode.pk}"'
    )
    assert "<html" not in body and "Order verified." in body
    order.refresh_from_db()
    assert order.status == OrderStatus.VERIFIED


def test_a_wrong_password_or_an_already_verified_order_shows_the_reason(
    signed_episode, pharmacist, pharmacist2, login
):
    order = order_of(signed_episode, OrderKind.DEXAMETHASONE)
    body = (
        login(pharmacist)
        .post(
            f"/infusion/orders/{order.pk}/verify/",
            {"password": "nope-nope", "username": "pharm"},
            HTTP_HX_REQUEST="true",
        )
        .content.decode()
    )
    assert "The password is not correct" in body
    services.order_verify(order=order, actor=pharmacist, password=PASSWORD)
    client = login(pharmacist2)
    response = client.post(
        f"/infusion/orders/{order.pk}/verify/", {"password": PASSWORD, "username": "pharm2"}
    )
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "already verified this order" in page


def test_rejecting_needs_a_reason(signed_episode, pharmacist, login):
    order = order_of(signed_episode, OrderKind.ANTIPLATELET)
    client = login(pharmacist)
    body = client.post(
        f"/infusion/orders/{order.pk}/reject/", {"reason": ""}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Give a reason for rejecting the order." in body
    client.post(f"/infusion/orders/{order.pk}/reject/", {"reason": "aspirin allergy"})
    order.refresh_from_db()
    assert order.status == OrderStatus.REJECTED


def test_a_physician_sees_no_queue_and_cannot_verify(signed_episode, physician2, login):
    client = login(physician2)
    assert client.get("/infusion/queue/").status_code == 403
    order = order_of(signed_episode, OrderKind.DEXAMETHASONE)
    assert (
        client.post(f"/infusion/orders/{order.pk}/verify/", {"password": PASSWORD}).status_code
        == 403
    )


def test_the_queue_shows_only_the_pharmacists_ward(signed_episode, ward_b, login):
    from tests.factories import make_user

    other = make_user("pharmacist", ward_b, username="pharm_b")
    body = login(other).get("/infusion/queue/").content.decode()
    assert signed_episode.patient.name not in body
    order = order_of(signed_episode, OrderKind.DEXAMETHASONE)
    assert (
        login(other)
        .post(f"/infusion/orders/{order.pk}/verify/", {"password": PASSWORD})
        .status_code
        == 404
    )


def _check_li(body, episode, label):
    """The <li> of one check in the queue card of `episode` (class, mark, text)."""
    card = body[body.index(f'id="queue-item-{episode.pk}"') :]
    card = card[: card.index("</article>")]
    end = card.index(f"<strong>{label}</strong>")
    start = card.rindex("<li", 0, end)
    return card[start : card.index("</li>", end)]


def test_the_queue_checks_cite_the_recommendation_and_grade(
    ward_a, physician, nurse, pharmacist, login
):
    episode = signed_for_new_patient(ward_a, physician, nurse, days=2)
    body = login(pharmacist).get("/infusion/queue/").content.decode()
    assert "B-PREMED-1 (R7, 2C)" in _check_li(body, episode, "Dexamethasone premedication")
    assert "B-AP-1 (R7, 2C)" in _check_li(body, episode, "Antiplatelet course")
    assert "B-DOSE-1 (R3, 1B)" in _check_li(body, episode, "Dose per kg")
    assert "B-ADM-1 (§3.7)" in _check_li(body, episode, "Cold chain")


def test_a_product_not_yet_released_is_a_failed_check(ward_a, physician, nurse, pharmacist, login):
    episode = signed_for_new_patient(ward_a, physician, nurse, days=2, coa_virus=None)
    body = login(pharmacist).get("/infusion/queue/").content.decode()
    li = _check_li(body, episode, "Product release (certificate of analysis)")
    assert 'class="check refused"' in li and "✗" in li
    assert "Pending: the certificate is incomplete" in li and "B-QC-1" in li
    assert "Cannot be overridden" in li


@pytest.mark.parametrize(
    "kind, label",
    [
        (OrderKind.DEXAMETHASONE, "Dexamethasone premedication"),
        (OrderKind.ANTIPLATELET, "Antiplatelet course"),
    ],
)
def test_a_missing_premedication_or_antiplatelet_order_is_a_failed_check(
    ward_a, physician, nurse, pharmacist, login, kind, label
):
    episode = signed_for_new_patient(ward_a, physician, nurse, days=2)
    services.order_cancel(order=order_of(episode, kind), actor=physician, reason="not wanted")
    body = login(pharmacist).get("/infusion/queue/").content.decode()
    li = _check_li(body, episode, label)
    assert 'class="check failed"' in li and "proceeds only with an override" in li
    other = (
        "Antiplatelet course" if kind == OrderKind.DEXAMETHASONE else "Dexamethasone premedication"
    )
    assert 'class="check passed"' in _check_li(body, episode, other)


def test_an_infusion_ending_after_the_late_from_time_is_flagged(
    ward_a, physician, nurse, pharmacist, login
):
    start = timezone.now() + timedelta(days=2)
    # Prepared 8 h before the start: the 32.5 min infusion ends after the 8 h "late from".
    episode = signed_for_new_patient(
        ward_a, physician, nurse, days=2, preparation_time=start - timedelta(hours=8)
    )
    assert episode.planned_end > episode.cold_chain_late_from
    assert episode.planned_end <= episode.cold_chain_must_complete_by
    body = login(pharmacist).get("/infusion/queue/").content.decode()
    li = _check_li(body, episode, "Cold chain")
    assert 'class="check attention"' in li and "!" in li
    limit = timezone.localtime(episode.cold_chain_must_complete_by).strftime("%m-%d %H:%M")
    assert f"(limit {limit}, B-ADM-1)" in li


def _order_row(body, order):
    """The queue's <tr> of one order."""
    start = body.index(f'<tr id="queue-order-{order.pk}">')
    return body[start : body.index("</tr>", start)]


def _form(html, action):
    """(action URL, CSRF token) of a reject form (in a row) or the card's verify form."""
    match = re.search(
        rf'<form method="post" (?:id="verify-\d+" class="verify-all" )?'
        rf'action="(/infusion/(?:orders|episodes)/\d+/{action}/)"[^>]*>'
        r'<input type="hidden" name="csrfmiddlewaretoken" value="([^"]+)">',
        html,
    )
    assert match, html
    return match.group(1), match.group(2)


def test_the_verify_and_reject_forms_post_with_the_pages_csrf_token(signed_episode, pharmacist):
    client = Client(enforce_csrf_checks=True)
    client.force_login(pharmacist)
    body = client.get("/infusion/queue/").content.decode()
    dexa = order_of(signed_episode, OrderKind.DEXAMETHASONE)
    ap = order_of(signed_episode, OrderKind.ANTIPLATELET)
    verify_url, verify_token = _form(body, "verify")
    reject_url, reject_token = _form(_order_row(body, ap), "reject")
    assert verify_url == f"/infusion/episodes/{signed_episode.pk}/verify/"
    assert reject_url == f"/infusion/orders/{ap.pk}/reject/"
    tick = f"{dexa.pk}:{dexa.version}"
    assert f'value="{tick}" form="verify-{signed_episode.pk}"' in _order_row(body, dexa)
    data = {"password": PASSWORD, "username": "pharm", "reviewed": [tick]}
    assert client.post(verify_url, data).status_code == 403  # no token
    response = client.post(verify_url, {**data, "csrfmiddlewaretoken": verify_token})
    assert response.status_code == 302
    response = client.post(
        reject_url, {"reason": "aspirin allergy", "csrfmiddlewaretoken": reject_token}
    )
    assert response.status_code == 302
    dexa.refresh_from_db()
    ap.refresh_from_db()
    assert (dexa.status, ap.status) == (OrderStatus.VERIFIED, OrderStatus.REJECTED)


def test_ticking_every_order_verifies_them_with_one_password_and_updates_the_count(
    signed_episode, pharmacist, login
):
    waiting = list(signed_episode.orders.filter(status=OrderStatus.SIGNED))
    response = login(pharmacist).post(
        f"/infusion/episodes/{signed_episode.pk}/verify/",
        {
            "password": PASSWORD,
            "username": "pharm",
            "reviewed": [f"{o.pk}:{o.version}" for o in waiting],
        },
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert f"{len(waiting)} orders verified." in body
    assert "No more orders of this episode wait for verification." in body
    # The page header's count, swapped out of band.
    assert '<small id="queue-count" hx-swap-oob="true">0 episodes waiting</small>' in body
    assert not signed_episode.orders.filter(status=OrderStatus.SIGNED).exists()


def test_verifying_with_nothing_ticked_or_a_forged_tick_verifies_nothing(
    signed_episode, pharmacist, login
):
    client = login(pharmacist)
    url = f"/infusion/episodes/{signed_episode.pk}/verify/"
    for reviewed, message in (
        ([], "Tick each order you have reviewed"),
        (["1;2"], "could not be read"),
        (["１:1"], "could not be read"),
    ):
        body = client.post(
            url, {"password": PASSWORD, "reviewed": reviewed}, HTTP_HX_REQUEST="true"
        ).content.decode()
        assert message in body
    assert not signed_episode.orders.filter(status=OrderStatus.VERIFIED).exists()


def test_each_row_names_the_prescriber_and_targets_its_card(
    signed_episode, physician, pharmacist, login
):
    body = login(pharmacist).get("/infusion/queue/").content.decode()
    msc = order_of(signed_episode, OrderKind.MSC_IV)
    row = _order_row(body, msc)
    assert "<strong>MSC intravenous infusion</strong>" in row
    assert '<span class="chip ost-signed">Signed, awaiting verification</span>' in row
    assert f"Prescribed by <strong>{physician.get_full_name()}</strong>" in row
    assert row.count(f'hx-target="#queue-item-{signed_episode.pk}"') == 1  # its reject form
    assert 'placeholder="Reason"' in row and 'type="checkbox" name="reviewed"' in row
    assert 'placeholder="Password"' in body  # the card's one verify form


def test_the_rows_escape_what_people_typed(ward_a, nurse, pharmacist, login):
    xss = "<script>alert(1)</script>"
    physician = make_user("physician", ward_a)
    physician.first_name = xss
    physician.save(update_fields=["first_name"])
    episode = signed_for_new_patient(ward_a, physician, nurse, days=1)
    body = login(pharmacist).get("/infusion/queue/").content.decode()
    row = _order_row(body, order_of(episode, OrderKind.MSC_IV))
    assert "<strong>&lt;script&gt;alert(1)&lt;/script&gt;" in row
    assert "<script>alert" not in body


def test_the_queue_reads_in_chinese(signed_episode, pharmacist, login):
    client = login(pharmacist)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    body = client.get("/infusion/queue/").content.decode()
    row = _order_row(body, order_of(signed_episode, OrderKind.MSC_IV))
    for text in (
        "<strong>间充质干细胞静脉输注</strong>",
        "已签署,待审核",
        "开具医师 <strong>",
        'placeholder="理由" aria-label="拒绝理由"',
        ">拒绝</button>",
    ):
        assert text in row, text
    assert 'placeholder="密码" aria-label="您的密码(签名)"' in body
    assert "<strong>每千克剂量</strong>" in body  # the C-VERIFY-1 checks read in Chinese too
    assert "审核所勾选的医嘱" in body


def test_an_order_the_pharmacist_prescribed_has_no_forms_for_them(
    episode, pharmacist, pharmacist2, login
):
    # A pharmacist who may also prescribe (a permission given to them alone) signs the orders.
    pharmacist.user_permissions.add(Permission.objects.get(codename="sign_order"))
    pharmacist = type(pharmacist).objects.get(pk=pharmacist.pk)  # fresh permission cache
    sign_all(episode, pharmacist)
    msc = order_of(episode, OrderKind.MSC_IV)
    own = _order_row(login(pharmacist).get("/infusion/queue/").content.decode(), msc)
    assert "You prescribed this order; another pharmacist must verify it." in own
    assert "<form" not in own and 'name="reviewed"' not in own
    other = _order_row(login(pharmacist2).get("/infusion/queue/").content.decode(), msc)
    assert "You prescribed this order" not in other and other.count("<form") == 1
    assert 'name="reviewed"' in other


def test_an_auditor_sees_the_rows_without_forms(signed_episode, auditor, login):
    body = login(auditor).get("/infusion/queue/").content.decode()
    row = _order_row(body, order_of(signed_episode, OrderKind.MSC_IV))
    assert "Signed, awaiting verification" in row
    card = body[body.index(f'id="queue-item-{signed_episode.pk}"') :]
    assert "<form" not in card[: card.index("</article>")]
    assert "Verify the ticked orders" not in body and 'name="reviewed"' not in body
