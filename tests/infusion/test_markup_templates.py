"""The order cells are a Jinja2 fragment (infusion/jinja2/infusion/order_cells.jinja) that
prints what the Python renderer it replaced printed (tests/infusion/legacy_markup.py), for
each order kind and state, every signature line, hostile text and both languages."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from infusion.models import Order, Signature
from infusion.selectors import OrderRow
from infusion.templatetags.infusion_tags import order_cells
from tests.infusion import legacy_markup as legacy

HOSTILE = 'O\'Brien <script>alert("x")</script> & co'
AT = datetime(2026, 3, 29, 0, 45, tzinfo=UTC)  # the night Europe/London goes to summer time


def _order(**fields):
    values = {
        "kind": "msc_iv",
        "status": "draft",
        "drug": "msc_allogeneic_umbilical_cord",
        "dose": Decimal("90000000.000"),
        "dose_unit": "cells",
        "route": "iv_infusion",
        "rule_ids": ["B-IND-2", "B-DOSE-1", "B-ADM-1"],
    }
    values.update(fields)
    return Order(**values)


def _signature(meaning, name="Li Wei", at=AT, void_reason=""):
    return Signature(meaning=meaning, signer_name=name, signed_at=at, void_reason=void_reason)


PRESCRIBED = _signature("prescribed")
VERIFIED = _signature("verified", name="Chen Jing", at=datetime(2026, 3, 29, 1, 5, tzinfo=UTC))

ROWS = {
    "msc-draft-no-signature": OrderRow(
        order=_order(volume_ml=Decimal("50.00"), scheduled_at=AT),
        prescribed=None,
        verified=None,
        override=None,
    ),
    "intrathecal-signed": OrderRow(
        order=_order(
            kind="msc_intrathecal",
            status="signed",
            route="intrathecal",
            dose=Decimal("10000000"),
            scheduled_at=AT,
        ),
        prescribed=PRESCRIBED,
        verified=None,
        override=None,
    ),
    "dexamethasone-verified": OrderRow(
        order=_order(
            kind="dexamethasone",
            status="verified",
            drug="dexamethasone",
            dose=Decimal("5.000"),
            dose_unit="mg",
            route="iv_push",
            scheduled_at=AT,
            rule_ids=["B-PREMED-1"],
        ),
        prescribed=PRESCRIBED,
        verified=VERIFIED,
        override=None,
    ),
    "antiplatelet-course-administered": OrderRow(
        order=_order(
            kind="antiplatelet",
            status="administered",
            drug="aspirin",
            dose=Decimal("100"),
            dose_unit="mg",
            route="oral",
            first_day=date(2026, 3, 28),
            last_day=date(2026, 4, 10),
            rule_ids=["B-AP-1"],
        ),
        prescribed=PRESCRIBED,
        verified=VERIFIED,
        override=None,
    ),
    "cyclophosphamide-hold-override-with-voided": OrderRow(
        order=_order(
            kind="cyclophosphamide",
            status="signed",
            drug="cyclophosphamide",
            dose=Decimal("500.500"),
            dose_unit="mg",
            route="iv",
            scheduled_at=AT,
            rule_ids=["B-CYC-1"],
        ),
        prescribed=_signature("prescribed", name=HOSTILE),
        verified=None,
        override=_signature("hold_override", name="Zhao Min"),
        voided=[
            _signature("prescribed", void_reason="order edited"),
            _signature("verified", name=HOSTILE, void_reason=HOSTILE),
        ],
    ),
    "rejected": OrderRow(
        order=_order(status="rejected", reject_reason=HOSTILE, cancel_reason="not shown"),
        prescribed=PRESCRIBED,
        verified=None,
        override=None,
    ),
    "cancelled": OrderRow(
        order=_order(status="cancelled", cancel_reason=HOSTILE, reject_reason="not shown"),
        prescribed=None,
        verified=None,
        override=None,
        voided=[_signature("prescribed", void_reason="order cancelled")],
    ),
    "completed-unknown-codes": OrderRow(
        order=_order(
            status="completed",
            drug='drug "x" <y>',
            route="route'z",
            dose_unit="IU",
            dose=Decimal("1200"),
            rule_ids=["X-<1>", "B-FU-2"],
            volume_ml=Decimal("0.50"),
        ),
        prescribed=PRESCRIBED,
        verified=VERIFIED,
        override=None,
    ),
    "implausible-dates-no-rules": OrderRow(
        order=_order(
            scheduled_at=datetime(1850, 6, 1, 8, 0, tzinfo=UTC),
            first_day=date(1850, 6, 1),
            last_day=None,
            rule_ids=None,
        ),
        prescribed=_signature("prescribed", at=datetime(2250, 1, 1, 12, tzinfo=UTC)),
        verified=None,
        override=None,
    ),
}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/London"])
@pytest.mark.parametrize("case", list(ROWS))
def test_the_template_prints_the_cells_the_python_renderer_printed(case, zone, language):
    row = ROWS[case]
    with translation.override(language), timezone.override(zone):
        new, old = str(order_cells(row)), legacy.order_cells(row)
    assert legacy.normalised(new) == legacy.normalised(old)
    assert new.count("<td") == 6


def test_values_are_escaped_as_django_escapes_them_and_translated():
    row = ROWS["cyclophosphamide-hold-override-with-voided"]
    with translation.override("zh-hans"), timezone.override("Asia/Shanghai"):
        html = str(order_cells(row))
    assert "<script>" not in html
    assert "O&#x27;Brien &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in html
    assert "禁用期越过的共同签署人 <strong>Zhao Min</strong> 2026-03-29 08:45" in html
    assert "作废的签名:" in html
