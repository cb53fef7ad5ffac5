"""Reference ranges supply the ULNs behind screening verdicts (issue 17).

A system administrator's change in the Django admin is a proposal: audited with its
reason, and of no effect on screening until a second system administrator approves it.
The auditor reads ranges and changes but cannot propose, approve or edit anything.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from core import administration
from core.administration import AdminRefused
from core.models import AuditEvent, ReferenceRange, ReferenceRangeChange
from screening.reference import ReferenceRanges
from tests.factories import add_lab, make_patient, make_user

pytestmark = pytest.mark.django_db

LAB = "Hospital central lab"


@pytest.fixture
def creatinine(db):
    return ReferenceRange.objects.create(
        lab="Central", analyte="creatinine", sex="F", unit="umol/L", lower=45, upper=84
    )


@pytest.fixture
def alt(db):
    return ReferenceRange.objects.create(
        lab=LAB, analyte="alt", sex="", unit="U/L", lower=7, upper=40
    )


def _form(rr, **changes):
    data = {
        "lab": rr.lab,
        "analyte": rr.analyte,
        "sex": rr.sex,
        "unit": rr.unit,
        "lower": str(rr.lower),
        "upper": str(rr.upper),
        "reason": "",
        "_save": "Save",
    }
    data.update(changes)
    return data


def _change_url(rr):
    return f"/django-admin/core/referencerange/{rr.pk}/change/"


def _decide_url(change):
    return f"/django-admin/core/referencerangechange/{change.pk}/decide/"


def _propose_alt_4000(client, alt):
    return client.post(_change_url(alt), _form(alt, upper="4000", reason="new lab method"))


def _alt_uln_for_screening():
    uln, _used = ReferenceRanges().uln(LAB, "alt", "female", "U/L")
    return uln


# --- The finding: ALT ULN 40 -> 4,000 ------------------------------------------------------


def test_an_auditor_cannot_change_alt_uln_in_the_admin(login, auditor, alt):
    client = login(auditor)
    assert client.get(_change_url(alt)).status_code == 200  # read-only view
    response = _propose_alt_4000(client, alt)
    assert response.status_code == 403
    alt.refresh_from_db()
    assert alt.upper == Decimal("40")
    assert not ReferenceRangeChange.objects.exists()
    assert (
        client.post(
            "/django-admin/core/referencerange/add/",
            _form(alt, analyte="ast", reason="x"),
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/django-admin/core/referencerange/{alt.pk}/delete/", {"post": "yes", "reason": "x"}
        ).status_code
        == 403
    )
    assert ReferenceRange.objects.count() == 1


def test_an_auditor_cannot_change_a_range_through_the_service(auditor, alt):
    alt.upper = Decimal("4000")
    with pytest.raises(AdminRefused):
        administration.reference_range_propose(actor=auditor, reference_range=alt, reason="x")
    assert ReferenceRange.objects.get().upper == Decimal("40")


def test_a_sysadmins_change_waits_for_a_second_sysadmin(login, sysadmin, sysadmin2, alt):
    response = _propose_alt_4000(login(sysadmin), alt)

    change = ReferenceRangeChange.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/django-admin/core/referencerangechange/{change.pk}/change/"
    assert change.status == "pending"
    assert change.upper == Decimal("4000")
    # Nothing screening reads has changed.
    alt.refresh_from_db()
    assert alt.upper == Decimal("40")
    assert _alt_uln_for_screening() == Decimal("40")
    proposed = AuditEvent.objects.get(action="reference_range_propose")
    assert proposed.actor == sysadmin
    assert proposed.object_id == str(change.pk)
    assert proposed.old_values == {"upper": "40.0000"}
    assert proposed.new_values == {
        "action": "update",
        "reference_range": alt.pk,
        "upper": "4000.0000",
    }
    assert proposed.reason == "new lab method"

    response = login(sysadmin2).post(
        _decide_url(change), {"decision": "approve", "comment": "checked the lab's letter"}
    )

    assert response.status_code == 302
    change.refresh_from_db()
    assert change.status == "approved"
    assert change.decided_by == sysadmin2
    alt.refresh_from_db()
    assert alt.upper == Decimal("4000")
    assert _alt_uln_for_screening() == Decimal("4000")
    applied = AuditEvent.objects.get(action="update", object_type="core.ReferenceRange")
    assert applied.actor == sysadmin2
    assert applied.old_values == {"upper": "40.0000"}
    assert applied.new_values == {
        "upper": "4000.0000",
        "proposed_by": "sysadmin",
        "change": change.pk,
    }
    assert applied.reason == "new lab method"
    approved = AuditEvent.objects.get(action="reference_range_approve")
    assert approved.actor == sysadmin2
    assert approved.reason == "checked the lab's letter"
    assert approved.new_values["proposed_by"] == "sysadmin"


def test_screening_uses_the_approved_uln_until_the_approval(
    login, sysadmin, sysadmin2, physician, nurse, alt
):
    """A screening fills the ALT's ULN from the approved range only: 40 U/L while the
    change to 4,000 waits; once a second administrator approved it, 4,000 U/L is still no
    plausible ALT ULN (C-UNIT-1), so screening does not use it and says why."""
    from screening import services

    patient = make_patient(physician.ward)
    add_lab(patient, nurse, "alt", 100, "U/L", when=timezone.now() - timedelta(days=1), lab=LAB)
    _propose_alt_4000(login(sysadmin), alt)

    pending = services.screening_start(actor=physician, patient=patient, indication="SLE")
    assert pending.facts["labs"]["alt"]["uln"] == 40

    change = ReferenceRangeChange.objects.get()
    login(sysadmin2).post(_decide_url(change), {"decision": "approve"})
    approved = services.screening_start(actor=physician, patient=patient, indication="IIM")
    assert "uln" not in approved.facts["labs"]["alt"]
    reason = next(c for c in approved.evaluation["criteria"] if c["rule_id"] == "A-ORG-3")["reason"]
    assert "gives 4000 U/L, which is not a plausible upper limit of normal (C-UNIT-1)" in reason


def test_the_proposer_cannot_approve_their_own_change(login, sysadmin, alt):
    client = login(sysadmin)
    _propose_alt_4000(client, alt)
    change = ReferenceRangeChange.objects.get()

    page = client.get(f"/django-admin/core/referencerangechange/{change.pk}/change/")
    assert b"another system administrator must approve" in page.content
    response = client.post(_decide_url(change), {"decision": "approve"}, follow=True)

    assert b"another system administrator must approve" in response.content
    change.refresh_from_db()
    assert change.status == "pending"
    alt.refresh_from_db()
    assert alt.upper == Decimal("40")
    assert not AuditEvent.objects.filter(action="reference_range_approve").exists()
    with pytest.raises(AdminRefused, match="another system administrator"):
        administration.reference_range_change_approve(actor=sysadmin, change=change)


def test_an_auditor_cannot_approve_a_change(login, sysadmin, auditor, alt):
    _propose_alt_4000(login(sysadmin), alt)
    change = ReferenceRangeChange.objects.get()

    client = login(auditor)
    assert (
        client.get(f"/django-admin/core/referencerangechange/{change.pk}/change/").status_code
        == 200
    )
    assert client.post(_decide_url(change), {"decision": "approve"}).status_code == 403
    change.refresh_from_db()
    assert change.status == "pending"
    assert ReferenceRange.objects.get().upper == Decimal("40")


@pytest.mark.parametrize("role", ["nurse", "physician", "pharmacist"])
def test_ward_staff_cannot_propose_or_approve(login, ward_a, sysadmin, alt, role):
    _propose_alt_4000(login(sysadmin), alt)
    change = ReferenceRangeChange.objects.get()
    client = login(make_user(role, ward_a, is_staff=True))
    assert client.get(_change_url(alt)).status_code == 403
    assert _propose_alt_4000(client, alt).status_code == 403
    assert client.post(_decide_url(change), {"decision": "approve"}).status_code == 403
    assert ReferenceRangeChange.objects.get().status == "pending"
    assert ReferenceRange.objects.get().upper == Decimal("40")


def test_a_rejection_needs_a_reason_and_changes_nothing(login, sysadmin, sysadmin2, alt):
    _propose_alt_4000(login(sysadmin), alt)
    change = ReferenceRangeChange.objects.get()
    client = login(sysadmin2)

    response = client.post(_decide_url(change), {"decision": "reject", "comment": " "}, follow=True)
    assert b"Give a reason" in response.content
    assert ReferenceRangeChange.objects.get().status == "pending"

    client.post(_decide_url(change), {"decision": "reject", "comment": "typo: 400, not 4000"})
    change.refresh_from_db()
    assert change.status == "rejected"
    assert ReferenceRange.objects.get().upper == Decimal("40")
    event = AuditEvent.objects.get(action="reference_range_reject")
    assert event.actor == sysadmin2
    assert event.reason == "typo: 400, not 4000"
    # Decided once: a later approval is refused.
    with pytest.raises(AdminRefused, match="already decided"):
        administration.reference_range_change_approve(actor=sysadmin2, change=change)


def test_a_second_proposal_for_the_same_range_waits_for_the_first(login, sysadmin, alt):
    client = login(sysadmin)
    _propose_alt_4000(client, alt)
    response = client.post(_change_url(alt), _form(alt, upper="45", reason="another"))
    assert response.status_code == 200
    assert b"already waiting for approval" in response.content
    assert ReferenceRangeChange.objects.count() == 1


def test_an_approval_is_refused_when_the_range_changed_since(sysadmin, sysadmin2, alt):
    alt.upper = Decimal("4000")
    first = administration.reference_range_propose(
        actor=sysadmin, reference_range=alt, reason="first"
    )
    # Approved behind the first's back: a change made directly to the table.
    ReferenceRange.objects.filter(pk=alt.pk).update(upper=Decimal("41"))
    with pytest.raises(AdminRefused, match="changed after this change was proposed"):
        administration.reference_range_change_approve(actor=sysadmin2, change=first)
    assert ReferenceRange.objects.get().upper == Decimal("41")


def test_a_refused_change_without_a_reason(login, sysadmin, creatinine):
    response = login(sysadmin).post(_change_url(creatinine), _form(creatinine, upper="90"))
    assert response.status_code == 200
    assert b"This field is required" in response.content
    assert not ReferenceRangeChange.objects.exists()
    assert not AuditEvent.objects.filter(action="reference_range_propose").exists()


def test_a_new_range_is_proposed_then_created_on_approval(login, sysadmin, sysadmin2):
    response = login(sysadmin).post(
        "/django-admin/core/referencerange/add/",
        {
            "lab": "Central",
            "analyte": "alt",
            "sex": "",
            "unit": "U/L",
            "lower": "7",
            "upper": "40",
            "reason": "lab added ALT",
            "_save": "Save",
        },
    )
    assert response.status_code == 302
    assert not ReferenceRange.objects.exists()
    change = ReferenceRangeChange.objects.get(action="create")
    proposed = AuditEvent.objects.get(action="reference_range_propose")
    assert proposed.old_values is None
    assert proposed.new_values["upper"] == "40.0000"

    administration.reference_range_change_approve(actor=sysadmin2, change=change)

    rr = ReferenceRange.objects.get(analyte="alt")
    event = AuditEvent.objects.get(action="create", object_type="core.ReferenceRange")
    assert event.object_id == str(rr.pk)
    assert event.new_values["upper"] == "40.0000"
    assert event.old_values is None
    assert event.reason == "lab added ALT"


def test_a_save_without_changes_proposes_nothing(login, sysadmin, creatinine):
    response = login(sysadmin).post(_change_url(creatinine), _form(creatinine, reason="looked"))
    assert response.status_code == 302
    assert not ReferenceRangeChange.objects.exists()
    assert not AuditEvent.objects.filter(object_type__startswith="core.ReferenceRange").exists()


def test_a_removal_is_proposed_with_a_reason_and_done_on_approval(
    login, sysadmin, sysadmin2, creatinine
):
    client = login(sysadmin)
    url = f"/django-admin/core/referencerange/{creatinine.pk}/delete/"
    assert b'name="reason"' in client.get(url).content

    refused = client.post(url, {"post": "yes", "reason": " "})
    assert refused.status_code == 302
    assert not ReferenceRangeChange.objects.exists()

    response = client.post(url, {"post": "yes", "reason": "duplicate of the unisex range"})
    assert response.status_code == 302
    assert ReferenceRange.objects.filter(pk=creatinine.pk).exists()  # still in effect
    change = ReferenceRangeChange.objects.get(action="delete")

    administration.reference_range_change_approve(actor=sysadmin2, change=change)

    assert not ReferenceRange.objects.filter(pk=creatinine.pk).exists()
    event = AuditEvent.objects.get(action="delete", object_type="core.ReferenceRange")
    assert event.object_id == str(creatinine.pk)
    assert event.old_values["upper"] == "84.0000"
    assert event.reason == "duplicate of the unisex range"
    assert event.actor == sysadmin2


def test_the_bulk_delete_action_is_not_offered(login, sysadmin, creatinine):
    response = login(sysadmin).get("/django-admin/core/referencerange/")
    assert response.status_code == 200
    assert b"delete_selected" not in response.content


def test_the_service_refuses_a_blank_reason(sysadmin, creatinine):
    creatinine.upper = Decimal("99")
    with pytest.raises(AdminRefused, match="Give a reason"):
        administration.reference_range_propose(
            actor=sysadmin, reference_range=creatinine, reason="  "
        )
    with pytest.raises(AdminRefused, match="Give a reason"):
        administration.reference_range_propose(
            actor=sysadmin, reference_range=creatinine, reason="", delete=True
        )
    assert not ReferenceRangeChange.objects.exists()
