"""The audit browser's rows are a Jinja2 fragment (core/jinja2/core/audit_rows.jinja) that
prints what the Python renderer it replaced printed (tests/infusion/legacy_markup.py): a
user's event, a system event, hostile values, a role no longer defined, both languages."""

from datetime import UTC, datetime

import pytest
from django.utils import timezone, translation

from core.models import AuditEvent
from core.templatetags.audit_rows import audit_rows
from tests.infusion import legacy_markup as legacy

HOSTILE = 'O\'Brien <b>"x"</b> & co'

EVENTS = [
    AuditEvent(
        seq=1234567,
        at=datetime(2026, 3, 29, 0, 45, 9, tzinfo=UTC),
        actor_username="dr.li",
        actor_role="physician",
        action="order_sign",
        object_type="infusion.Order",
        object_id="42",
        old_values={"status": "draft", "dose": "1.5"},
        new_values={"status": "signed", "note": HOSTILE},
        reason=HOSTILE,
        request_id="0123456789abcdef",
        client_ip="192.0.2.7",
        app_version="1.4.0+g1234abc",
    ),
    AuditEvent(  # a system event: no actor, no values, no object id, no request
        seq=7,
        at=datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        actor_username="",
        actor_role="",
        action="reminder_sent",
        object_type="core.Reminder",
        object_id="",
        old_values=None,
        new_values=None,
        reason="",
        request_id="",
        client_ip=None,
        app_version="",
    ),
    AuditEvent(  # a role since renamed prints as recorded; values that are not dicts
        seq=8,
        at=datetime(2026, 1, 1, 12, tzinfo=UTC),
        actor_username=HOSTILE,
        actor_role="ward'clerk",
        action="note",
        object_type="test.<Thing>",
        object_id="a&b",
        old_values=[1, "<x>"],
        new_values="it's",
        reason="why",
        request_id="short",
        client_ip="2001:db8::1",
        app_version="dev",
    ),
]


@pytest.mark.parametrize("thousands", [False, True])
@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/London"])
def test_the_template_prints_the_rows_the_python_renderer_printed(
    zone, language, thousands, settings
):
    settings.USE_THOUSAND_SEPARATOR = thousands  # numbers as {{ value }} prints them
    with translation.override(language), timezone.override(zone):
        new, old = str(audit_rows(EVENTS)), legacy.audit_rows(EVENTS)
    assert legacy.normalised(new) == legacy.normalised(old)
    assert new.count("<tr>") == len(EVENTS)


def test_values_are_escaped_as_django_escapes_them_and_the_role_translated(settings):
    settings.USE_THOUSAND_SEPARATOR = True
    with translation.override("en"), timezone.override("Europe/London"):
        html = str(audit_rows(EVENTS[:1]))
    assert "<td>1,234,567</td><td>2026-03-29 00:45:09</td><td>dr.li</td><td>Physician</td>" in html
    assert "<td>O&#x27;Brien &lt;b&gt;&quot;x&quot;&lt;/b&gt; &amp; co</td>" in html
    assert "<small>012345678… 192.0.2.7</small>" in html
    with translation.override("zh-hans"), timezone.override("Asia/Shanghai"):
        html = str(audit_rows(EVENTS[:1]))
    assert "<td>2026-03-29 08:45:09</td><td>dr.li</td><td>医师</td>" in html
