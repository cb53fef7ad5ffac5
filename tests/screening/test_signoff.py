"""Who may do what, the investigator's signature, read-only signed versions, amendments."""

import hashlib
import json
from datetime import timedelta

import pytest

from core.models import AuditEvent
from screening import services
from screening.models import Screening
from tests.factories import PASSWORD, add_lab
from tests.screening.conftest import HTMX, complete, form_data, start

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


@pytest.fixture
def eligible(labs, physician):
    screening = complete(start(physician, labs), physician)
    assert screening.outcome == "eligible"
    return screening


def sign(client, screening, password=PASSWORD, username="doc"):
    # The username too: each test's first signature in its session (§11.200, core.reauth).
    return client.post(
        f"/screening/{screening.pk}/sign/",
        {"password": password, "username": username, "content_hash": screening.content_hash()},
    )


# --- Roles ------------------------------------------------------------------------------


def test_a_nurse_enters_data_but_cannot_sign(login, nurse, eligible):
    client = login(nurse)
    page = client.get(f"/screening/{eligible.pk}/").content.decode()
    assert "Sign eligibility assessment" not in page
    edit = client.post(
        f"/screening/{eligible.pk}/evaluate/",
        form_data(eligible, **{"labs.anc.value": "3"}),
        **HTMX,
    )
    assert edit.status_code == 200
    assert client.get(f"/screening/{eligible.pk}/sign/").status_code == 403
    assert sign(client, eligible).status_code == 403
    eligible.refresh_from_db()
    assert eligible.status == "draft" and not eligible.signature_hash


def test_a_physician_who_is_not_an_investigator_cannot_sign(login, physician2, eligible):
    client = login(physician2)
    assert (
        "Sign eligibility assessment"
        not in client.get(f"/screening/{eligible.pk}/").content.decode()
    )
    assert sign(client, eligible).status_code == 403
    with pytest.raises(services.PermissionDenied):
        services.screening_sign(actor=physician2, screening=eligible, password=PASSWORD)


def test_a_pharmacist_reads_nothing_in_screening(login, pharmacist, eligible):
    client = login(pharmacist)
    for url in (
        "/screening/",
        "/screening/export.csv",
        f"/screening/{eligible.pk}/",
        f"/screening/{eligible.pk}/checklist.pdf",
    ):
        assert client.get(url).status_code == 403, url
    assert (
        client.post(
            f"/screening/patient/{eligible.patient_id}/start/", {"indication": "SLE"}
        ).status_code
        == 403
    )
    # The panel on the patient page is not shown to them either.
    assert "Trial screening" not in client.get(f"/patients/{eligible.patient_id}/").content.decode()


def test_another_wards_staff_get_404(login, nurse_b, physician_b, eligible):
    for user in (nurse_b, physician_b):
        client = login(user)
        assert client.get(f"/screening/{eligible.pk}/").status_code == 404
        assert client.get(f"/screening/{eligible.pk}/checklist.pdf").status_code == 404
        assert (
            client.post(f"/screening/{eligible.pk}/evaluate/", form_data(eligible)).status_code
            == 404
        )
        assert (
            client.post(
                f"/screening/patient/{eligible.patient_id}/start/", {"indication": "SLE"}
            ).status_code
            == 404
        )
    assert AuditEvent.objects.filter(
        action="access_denied", object_type="screening.Screening"
    ).exists()
    assert (
        login(physician_b)
        .post(f"/screening/{eligible.pk}/sign/", {"password": PASSWORD})
        .status_code
        == 404
    )


def test_the_administrator_reads_everything_and_writes_nothing(login, auditor, eligible):
    client = login(auditor)
    page = client.get(f"/screening/{eligible.pk}/")
    assert (
        page.status_code == 200 and b"disabled" in page.content and b"hx-post" not in page.content
    )
    assert client.get("/screening/").status_code == 200
    assert (
        client.post(f"/screening/{eligible.pk}/evaluate/", form_data(eligible)).status_code == 403
    )
    assert (
        client.post(
            f"/screening/patient/{eligible.patient_id}/start/", {"indication": "SLE"}
        ).status_code
        == 403
    )
    assert sign(client, eligible).status_code == 403


# --- Signing --------------------------------------------------------------------------


def test_the_investigator_signs_with_password_and_meaning(login, physician, eligible):
    client = login(physician)
    page = client.get(f"/screening/{eligible.pk}/sign/").content.decode()
    assert "I confirm this eligibility assessment" in page and 'type="password"' in page
    response = sign(client, eligible)
    assert response.status_code == 302
    eligible.refresh_from_db()
    assert eligible.status == "signed"
    assert eligible.signed_by == physician and eligible.signer_name == physician.get_full_name()
    assert eligible.signature_meaning == "I confirm this eligibility assessment"
    assert eligible.signed_at is not None
    event = AuditEvent.objects.get(action="sign")
    assert event.new_values["signature_hash"] == eligible.signature_hash
    assert event.reason == "I confirm this eligibility assessment"


def test_the_signature_hash_is_verifiable_from_the_stored_content(login, physician, eligible):
    sign(login(physician), eligible)
    row = Screening.objects.get(pk=eligible.pk)
    content = {
        "facts": row.facts,
        "evaluation": row.evaluation,
        "protocol_version": row.protocol_version,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert row.signature_hash == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    assert row.signature_valid()
    row.facts["labs"]["anc"]["value"] = 9  # tampering (in memory) breaks the check
    assert not row.signature_valid()


def test_a_wrong_password_signs_nothing_and_is_audited(login, physician, eligible):
    response = sign(login(physician), eligible, password="wrong-password")
    assert response.status_code == 400
    assert "The password is not correct" in response.content.decode()
    eligible.refresh_from_db()
    assert eligible.status == "draft"
    assert AuditEvent.objects.filter(
        action="signature_refused", object_id=str(eligible.pk)
    ).exists()


def test_an_incomplete_screening_cannot_be_signed(login, physician, labs):
    screening = start(physician, labs)
    response = sign(login(physician), screening)
    assert response.status_code == 400
    assert "incomplete" in response.content.decode()
    assert Screening.objects.get(pk=screening.pk).status == "draft"


def test_a_change_after_the_sign_page_was_opened_is_refused(login, physician, nurse, eligible):
    stale_hash = eligible.content_hash()
    services.screening_save_draft(
        actor=nurse,
        screening=eligible,
        facts={**eligible.facts, "sle": {**eligible.facts["sle"], "active_since": "2025-09-01"}},
    )
    response = login(physician).post(
        f"/screening/{eligible.pk}/sign/",
        {"password": PASSWORD, "username": "doc", "content_hash": stale_hash},
    )
    assert response.status_code == 400 and "changed after you opened" in response.content.decode()


def test_new_patient_data_must_be_reviewed_before_signing(physician, nurse, eligible, frozen):
    frozen.shift(timedelta(minutes=5))
    add_lab(eligible.patient, nurse, "platelets", 15, "10^9/L")
    with pytest.raises(services.ActionRefused) as refused:
        services.screening_sign(actor=physician, screening=eligible, password=PASSWORD)
    assert refused.value.code == "outdated"


# --- Read-only once signed, amendments ---------------------------------------------------


def test_a_signed_screening_is_read_only(login, physician, nurse, eligible):
    sign(login(physician), eligible)
    eligible.refresh_from_db()
    facts = eligible.facts
    for user in (physician, nurse):
        client = login(user)
        page = client.get(f"/screening/{eligible.pk}/").content.decode()
        assert "hx-post" not in page and "disabled" in page
        refused = client.post(
            f"/screening/{eligible.pk}/evaluate/",
            form_data(eligible, **{"labs.anc.value": "0.1"}),
            **HTMX,
        )
        assert refused.status_code == 409 and "read-only" in refused.content.decode()
        plain = client.post(f"/screening/{eligible.pk}/evaluate/", form_data(eligible))
        assert plain.status_code == 303
    with pytest.raises(services.ActionRefused):
        services.screening_save_draft(actor=nurse, screening=eligible, facts=facts)
    eligible.refresh_from_db()
    assert eligible.facts == facts and eligible.signature_valid()


def test_an_amendment_needs_a_reason_and_makes_version_2(login, physician, nurse, eligible):
    client = login(physician)
    sign(client, eligible)
    assert client.post(f"/screening/{eligible.pk}/amend/", {"reason": "  "}).status_code == 400
    assert Screening.objects.count() == 1
    assert login(nurse).post(f"/screening/{eligible.pk}/amend/", {"reason": "x"}).status_code == 403
    response = client.post(
        f"/screening/{eligible.pk}/amend/", {"reason": "ANC repeated after infection"}
    )
    v2 = Screening.objects.get(version=2)
    assert response["Location"] == f"/screening/{v2.pk}/"
    assert v2.status == "draft" and v2.series == eligible.series and v2.previous_id == eligible.pk
    assert v2.amendment_reason == "ANC repeated after infection"
    assert v2.facts["sle"] == eligible.facts["sle"]
    v1 = Screening.objects.get(pk=eligible.pk)
    assert v1.status == "superseded" and v1.signature_valid()  # still verifiable
    old_page = client.get(f"/screening/{v1.pk}/").content.decode()
    assert "superseded" in old_page and v1.signer_name in old_page
    new_page = client.get(f"/screening/{v2.pk}/").content.decode()
    assert f'href="/screening/{v1.pk}/"' in new_page and "ANC repeated after infection" in new_page
    amend_event = AuditEvent.objects.get(action="amend")
    assert amend_event.reason == "ANC repeated after infection"
    # The new version is edited and signed like any draft.
    assert sign(client, v2).status_code == 302
    assert Screening.objects.get(pk=v2.pk).status == "signed"


def test_only_a_signed_screening_can_be_amended(physician, eligible):
    with pytest.raises(services.ActionRefused):
        services.screening_amend(actor=physician, screening=eligible, reason="typo")


def test_the_version_list_costs_the_same_queries_however_many_versions(login, physician, eligible):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(physician)
    latest = eligible
    counts = []
    for n in range(3):
        client.get(f"/screening/{latest.pk}/")  # settle (re-evaluation on open, caches)
        with CaptureQueriesContext(connection) as ctx:
            page = client.get(f"/screening/{latest.pk}/").content.decode()
        counts.append(len(ctx.captured_queries))
        assert page.count('class="versions"') == (1 if n else 0)
        sign(client, latest)
        latest = services.screening_amend(
            actor=physician, screening=Screening.objects.get(pk=latest.pk), reason=f"amend {n}"
        )
    # Versions 2 and 3 list their predecessors from one query, without the facts.
    assert counts[1] == counts[2]
