"""Issue 16, item 3 on the infusion pages: order notes and reasons are at most 2,000
characters (form and service). The database holds no longer note (issue 16 findings:
tests/security/test_issue16_findings.py); the PDF time budget is tested in
tests/core/test_pdf_budget.py."""

import pytest

from infusion import services
from infusion.services import ActionRefused
from tests.infusion.conftest import order_of

pytestmark = pytest.mark.django_db


def test_an_order_note_longer_than_2000_characters_is_a_field_error(login, physician, episode):
    order = order_of(episode, "msc_iv")
    response = login(physician).post(
        f"/infusion/orders/{order.pk}/edit/", {"note": "n" * 2001, "reason": "longer note"}
    )
    assert response.status_code == 400
    assert "at most 2000 characters" in response.content.decode()
    order.refresh_from_db()
    assert order.note == ""


@pytest.mark.parametrize(
    "call",
    [
        lambda order, actor: services.order_edit(
            order=order, actor=actor, changes={"note": "n" * 2001}, reason="why"
        ),
        lambda order, actor: services.order_cancel(order=order, actor=actor, reason="r" * 2001),
    ],
    ids=["note", "reason"],
)
def test_the_services_refuse_a_note_or_reason_longer_than_2000_characters(physician, episode, call):
    order = order_of(episode, "msc_iv")
    with pytest.raises(ActionRefused) as raised:
        call(order, physician)
    assert raised.value.code == "too_long"
    order.refresh_from_db()
    assert order.status == "draft" and order.note == ""
