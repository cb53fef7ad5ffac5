"""MSC infusion in a real browser: a physician opens and signs, pharmacists verify, a nurse
charts the infusion, and a cyclophosphamide order inside the 48 h hold is stopped."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD, add_lab, add_weight, make_patient, make_user, make_ward

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ward(db):
    return make_ward("ward-a", "Ward A")


@pytest.fixture
def staff(ward):
    return {
        "doc": make_user("physician", ward, username="doc", investigator=True),
        "nurse": make_user("nurse", ward, username="nurse"),
        "pharm": make_user("pharmacist", ward, username="pharm"),
        "pharm2": make_user("pharmacist", ward, username="pharm2"),
    }


@pytest.fixture
def weighed(ward, staff):
    patient = make_patient(ward, name="Lin Xiaomei")
    now = timezone.now()
    add_weight(patient, staff["nurse"], "60", when=now - timedelta(days=2))
    add_lab(patient, staff["nurse"], "platelets", 180, "10^9/L", when=now - timedelta(days=1))
    return patient


def local(value):
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def episode_through_services(patient, staff, *, start, verify=False):
    from infusion import services
    from infusion.demo import episode_data, record_consent

    episode = services.episode_open(
        patient=patient,
        actor=staff["doc"],
        data=episode_data(start, preparation_time=start - timedelta(hours=2)),
        acknowledged=True,
    )
    record_consent(episode, staff["doc"])  # B-CONSENT-1: before the orders are signed
    services.orders_sign_all(episode=episode, actor=staff["doc"], password=PASSWORD)
    if verify:
        for order in episode.orders.filter(status="signed"):
            services.order_verify(order=order, actor=staff["pharm"], password=PASSWORD)
    return episode


def test_a_physician_opens_an_msc_episode_and_signs_the_orders(page, staff, weighed):
    start = (timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0)
    sign_in(page, "doc")
    page.goto(f"{page.base}/patients/{weighed.pk}/")
    page.click("text=Open an MSC episode")
    expect(page.locator("h1")).to_contain_text("Open an MSC episode")
    selects = {
        "sle_severity": "severe",
        "sle_active": "true",
        "involvement_renal": "true",
        "involvement_haematological": "false",
        "involvement_pulmonary": "false",
        "involvement_skin": "false",
        "involvement_cns": "false",
        "involvement_cardiac": "false",
        "consciousness": "clear",
        "pregnant": "false",
        "lactating": "false",
        "tumour": "false",
        "infection": "false",
        "other_autoimmune_disease": "false",
        "pulmonary_hypertension": "none",
        "severe_cardiopulmonary_insufficiency": "false",
        "long_term_antiplatelet": "false",
        "bleeding_history": "false",
        "antiplatelet_drug": "aspirin",
        "msc_source": "allogeneic_umbilical_cord",
        "coa_adherent_growth": "true",
        "coa_adipogenic": "true",
        "coa_osteogenic": "true",
        "coa_chondrogenic": "true",
        "coa_bacteria": "negative",
        "coa_fungi": "negative",
        "coa_mycoplasma": "negative",
        "coa_virus": "negative",
        "cyclophosphamide_preconditioning": "false",
    }
    for name, value in selects.items():
        page.select_option(f"#id_{name}", value)
    fills = {
        "pap_systolic_mmhg": "28",
        "product_lot": "UC-2031-07",
        "preparation_time": local(start - timedelta(hours=2)),
        "suspension_volume_ml": "100",
        "coa_cd73": "99.5",
        "coa_cd90": "99.1",
        "coa_cd105": "97.8",
        "coa_cd11b": "0.4",
        "coa_cd14": "0.3",
        "coa_cd19": "0.2",
        "coa_cd34": "0.5",
        "coa_cd45": "0.6",
        "coa_cd79a": "0.2",
        "coa_hla_dr": "0.7",
        "coa_purity_pct": "96.5",
        "coa_endotoxin_eu_per_ml": "0.125",
        "coa_cell_count_measured_e6": "101.5",
        "coa_cell_count_labelled_e6": "100",
        "planned_start": local(start),
        "dose_cells_e6": "100",
    }
    for name, value in fills.items():
        page.fill(f"#id_{name}", value)
    page.click("button:has-text('Check the plan')")
    preview = page.locator("#plan-preview")
    expect(preview).to_contain_text("B-IND-1 (R1, 1B)")
    expect(preview).to_contain_text("Candidacy: recommended")
    page.click("#submit-episode")
    expect(page.locator(".messages")).to_contain_text("MSC episode opened")
    expect(page.locator("#orders")).to_contain_text("B-PREMED-1 (R7, 2C)")
    # B-CONSENT-1: the informed consent first (its form is open while none is recorded).
    expect(page.locator("#consent")).to_contain_text("Not recorded")
    page.fill("#consent_consented_on", timezone.localdate().isoformat())
    page.fill("#consent_form_version", "MSC-SLE-ICF v3.0")
    page.click("#consent-form button[type=submit]")
    expect(page.locator("#consent-record")).to_contain_text("MSC-SLE-ICF v3.0")
    page.fill("#sign-all-username", "doc")  # the first signature of the session (§11.200)
    page.fill("#sign-all-password", PASSWORD)
    page.click("text=Sign all draft orders")
    expect(page.locator(".messages")).to_contain_text("Orders signed")
    expect(page.locator("#orders .chip.ost-signed")).to_have_count(3)
    expect(page.locator("#orders")).to_contain_text(f"Prescribed by {staff['doc'].get_full_name()}")


def test_pharmacists_verify_a_stale_second_attempt_is_told_and_a_physician_cannot(
    page, browser, live_server, staff, weighed
):
    episode = episode_through_services(weighed, staff, start=timezone.now() + timedelta(days=1))
    msc = episode.orders.get(kind="msc_iv")
    other = browser.new_context(viewport={"width": 1024, "height": 768})
    page2 = other.new_page()
    page2.base = live_server.url
    try:
        sign_in(page2, "pharm2")
        page2.goto(f"{page2.base}/infusion/queue/")  # open before the first pharmacist acts
        sign_in(page, "pharm")
        page.click("nav >> text=Pharmacy queue")
        card = page.locator(f"#queue-item-{episode.pk}")
        expect(card).to_contain_text("Product release (certificate of analysis): Released.")
        expect(card).to_contain_text("1.67 × 10⁶/kg for 60.00 kg")
        # Tick the MSC order only, then one password verifies it.
        card.locator(f"#queue-order-{msc.pk} input[name=reviewed]").check()
        card.locator("input[name=username]").fill("pharm")  # first signature (§11.200)
        card.locator("input[name=password]").fill(PASSWORD)
        card.locator("text=Verify the ticked orders").click()
        expect(page.locator(f"#queue-item-{episode.pk}")).to_contain_text("1 order verified.")
        expect(page.locator("#queue-count").first).to_contain_text("1 episode waiting")
        # The second pharmacist's page still offers the order: the server says who verified it.
        card2 = page2.locator(f"#queue-item-{episode.pk}")
        card2.locator(f"#queue-order-{msc.pk} input[name=reviewed]").check()
        card2.locator("input[name=username]").fill("pharm2")
        card2.locator("input[name=password]").fill(PASSWORD)
        card2.locator("text=Verify the ticked orders").click()
        expect(page2.locator(f"#queue-item-{episode.pk}")).to_contain_text(
            f"{staff['pharm'].get_full_name()} already verified this order"
        )
        rows = page.locator(f"#queue-item-{episode.pk} tbody tr")
        expect(rows).to_have_count(2)
        card = page.locator(f"#queue-item-{episode.pk}")
        for box in card.locator("input[name=reviewed]").all():
            box.check()
        expect(card.locator("input[name=username]")).to_have_count(0)  # the password only now
        card.locator("input[name=password]").fill(PASSWORD)
        card.locator("text=Verify the ticked orders").click()
        expect(page.locator(f"#queue-item-{episode.pk}")).to_contain_text("2 orders verified.")
        expect(page.locator(f"#queue-item-{episode.pk}")).to_contain_text(
            "No more orders of this episode wait for verification."
        )
        expect(page.locator("#queue-count").first).to_contain_text("0 episodes waiting")
    finally:
        other.close()
    page.click("text=Log out")
    sign_in(page, "doc")
    response = page.goto(f"{page.base}/infusion/queue/")
    assert response.status == 403
    page.goto(f"{page.base}/infusion/episodes/{episode.pk}/")
    expect(page.locator("#orders")).to_contain_text(f"Verified by {staff['pharm'].get_full_name()}")
    expect(page.locator("button:has-text('Verify')")).to_have_count(0)


def test_a_nurse_charts_the_infusion_with_a_step_up_vitals_and_a_severe_reaction(
    page, staff, weighed
):
    now = timezone.now().replace(second=0, microsecond=0)
    start = now - timedelta(minutes=12)
    episode = episode_through_services(weighed, staff, start=start, verify=True)
    sign_in(page, "nurse")
    page.goto(f"{page.base}/infusion/episodes/{episode.pk}/chart/")
    page.fill("#form-received input[name=at]", local(now - timedelta(minutes=40)))
    page.click("#form-received button")
    expect(page.locator("#chart-alert")).to_have_text("Product received.")
    page.fill("#form-out-of-fridge input[name=at]", local(now - timedelta(minutes=28)))
    page.click("#form-out-of-fridge button")
    expect(page.locator("#chart-alert")).to_contain_text("Out of the refrigerator")
    page.fill("#form-start input[name=at]", local(start))
    page.click("#form-start button")
    expect(page.locator("#chart-alert")).to_contain_text("Infusion started.")
    expect(page.locator(".chip.st-in_progress")).to_be_visible()
    # 12 minutes in: the chart prompts the step-up (B-ADM-4); the form offers 3 mL/min.
    expect(page.locator("#step-up-prompt")).to_contain_text("Step up now to 3 mL/min")
    expect(page.locator("#rate_rate_ml_per_min")).to_have_value("3.00")
    page.click("#rate-form button")
    expect(page.locator("#chart-alert")).to_have_text("Rate recorded.")
    expect(page.locator("#chart-status")).to_contain_text("3 mL/min")
    page.fill("#vitals_pulse_per_min", "128")
    page.fill("#vitals_spo2_pct", "97")
    page.fill("#vitals_systolic_mmhg", "118")
    page.click("#vitals-form button")
    expect(page.locator("#chart-alert")).to_contain_text("Outside the ward's range: Pulse")
    expect(page.locator("#vitals td.out")).to_contain_text("128")
    page.select_option("#reaction_reaction_type", "chest_tightness")
    page.select_option("#reaction_severity", "severe")
    page.fill("#reaction_action", "Oxygen 2 L/min; physician called")
    page.click("#reaction-form button")
    prompt = page.locator("#severe-prompt")
    expect(prompt).to_contain_text("Stop the infusion, investigate and treat")
    page.fill("#stop-volume", "24")  # issue 15: an early stop gives the volume given
    page.click("#stop-infusion")
    expect(page.locator("#chart-status")).to_contain_text("stopped early")
    page.fill("#sae_informed_whom", "Dr Doc, physician on duty")
    page.fill("#sae_description", "Chest tightness 12 min into the infusion; stopped.")
    page.click("#sae-form button")
    expect(page.locator(".messages")).to_contain_text("Serious adverse event reported.")
    expect(page.locator("#reactions")).to_contain_text("SAE reported")
    episode.refresh_from_db()
    assert episode.stopped_early and episode.rate_steps.count() == 2


def test_a_cyclophosphamide_order_inside_48_h_is_stopped_with_the_hold_end(page, staff, weighed):
    from infusion import services

    start = (timezone.now() - timedelta(hours=3)).replace(second=0, microsecond=0)
    episode = episode_through_services(weighed, staff, start=start, verify=True)
    nurse = staff["nurse"]
    services.infusion_record_received(
        episode=episode, actor=nurse, at=start - timedelta(minutes=40)
    )
    services.infusion_record_out_of_fridge(
        episode=episode, actor=nurse, at=start - timedelta(minutes=15)
    )
    services.infusion_start(episode=episode, actor=nurse, at=start)
    services.infusion_rate_step(  # 100 mL can run in by the end (issue 15)
        episode=episode, actor=nurse, at=start + timedelta(minutes=10), rate_ml_per_min=4
    )
    end = start + timedelta(minutes=35)
    services.infusion_end(episode=episode, actor=nurse, at=end)
    sign_in(page, "doc")
    page.goto(f"{page.base}/infusion/episodes/{episode.pk}/")
    page.click("text=Order cyclophosphamide")
    page.fill("#id_scheduled_at", local(timezone.now() + timedelta(hours=3)))
    page.fill("#id_dose_mg", str(Decimal("500")))
    page.click("text=Draft the order")
    check = page.locator("#cyc-check")
    expect(check).to_contain_text("Stopped: no cyclophosphamide within 48 h after the MSC infusion")
    hold_end = timezone.localtime(end + timedelta(hours=48)).strftime("%Y-%m-%d %H:%M")
    expect(check).to_contain_text(f"Hold ends: {hold_end}")
    expect(check).to_contain_text(re.compile(r"B-CYC-1"))
    assert not episode.orders.filter(kind="cyclophosphamide").exists()


def test_the_prescriber_cannot_verify_their_own_order(page, staff, weighed):
    episode = episode_through_services(weighed, staff, start=timezone.now() + timedelta(days=1))
    msc = episode.orders.get(kind="msc_iv")
    sign_in(page, "doc")
    page.goto(f"{page.base}/infusion/episodes/{episode.pk}/")
    expect(page.locator("#orders")).to_contain_text(f"Prescribed by {staff['doc'].get_full_name()}")
    # The page offers the prescriber no verify action...
    expect(page.locator("button:has-text('Verify')")).to_have_count(0)
    expect(page.locator("form[action$='/verify/']")).to_have_count(0)
    # ...and a hand-made POST from the page (session cookie and CSRF token) is refused.
    status = page.evaluate(
        """async ([url, password]) => {
            const headers = JSON.parse(document.body.getAttribute("hx-headers"));
            const body = new URLSearchParams({password});
            const response = await fetch(url, {method: "POST", headers, body});
            return response.status;
        }""",
        [f"/infusion/orders/{msc.pk}/verify/", PASSWORD],
    )
    assert status == 403
    msc.refresh_from_db()
    assert msc.status == "signed"
    assert not msc.signatures.filter(meaning="verified").exists()


def test_the_overdose_is_refused_and_an_out_of_range_dose_is_stopped_on_the_queue(
    page, browser, live_server, staff, ward
):
    """Issue 14's scenario: 1,500 × 10⁶ cells for 45.8 kg (32.8 × 10⁶/kg, 14× the product's
    certified 110 × 10⁶ cells) is refused outright (C-DOSE-1); a dose of 2.18 × 10⁶/kg is
    signed but the pharmacist's verification is refused on the queue (C-VERIFY-1) until a
    physician records an override that a second physician co-signs."""
    from infusion import services
    from infusion.demo import certificate_data, episode_data, record_consent

    doc2 = make_user("physician", ward, username="doc2")
    patient = make_patient(ward, name="Zhou Min")
    now = timezone.now()
    add_weight(patient, staff["nurse"], "45.8", when=now - timedelta(days=1))
    add_lab(patient, staff["nurse"], "platelets", 180, "10^9/L", when=now - timedelta(days=1))
    start = (now + timedelta(days=1)).replace(second=0, microsecond=0)
    cert = certificate_data(
        coa_cell_count_measured=110_000_000, coa_cell_count_labelled=110_000_000
    )
    episode = services.episode_open(
        patient=patient,
        actor=staff["doc"],
        data=episode_data(start, dose_cells=100_000_000, **cert),
        acknowledged=True,
    )
    record_consent(episode, staff["doc"])
    services.orders_sign_all(episode=episode, actor=staff["doc"], password=PASSWORD)

    # 1. The physician tries 1,500 × 10⁶ cells: refused outright, nothing changes.
    sign_in(page, "doc")
    page.goto(f"{page.base}/infusion/episodes/{episode.pk}/edit/")
    page.fill("#id_dose_cells_e6", "1500")
    page.fill("#id_reason", "dose")
    page.check("#id_acknowledge")
    page.click("#submit-episode")
    alert = page.locator("#plan-preview")
    expect(alert).to_contain_text("above the absolute maximum of 5 × 10⁶/kg")
    expect(alert).to_contain_text("more than the product holds")
    episode.refresh_from_db()
    assert episode.dose_cells == 100_000_000
    page.click("text=Log out")

    # 2. The pharmacist sees the failing check and the verification is refused.
    sign_in(page, "pharm")
    page.goto(f"{page.base}/infusion/queue/")
    card = page.locator(f"#queue-item-{episode.pk}")
    dose = card.locator("li.check.failed", has_text="Dose per kg")
    expect(dose).to_contain_text("2.19 × 10⁶/kg for 45.80 kg")
    expect(card).to_contain_text("Verification is stopped by 1 check (C-VERIFY-1).")
    for box in card.locator("input[name=reviewed]").all():
        box.check()
    card.locator("input[name=username]").fill("pharm")  # a new session's first signature
    card.locator("input[name=password]").fill(PASSWORD)
    card.locator("text=Verify the ticked orders").click()
    card = page.locator(f"#queue-item-{episode.pk}")
    expect(card.locator("[role=alert]")).to_contain_text("Not verified: 1 check(s)")
    expect(card.locator("[role=alert]")).to_contain_text("C-DOSE-1")
    assert not episode.orders.filter(status="verified").exists()
    page.click("text=Log out")

    # 3. The physician records the override; a second physician co-signs.
    sign_in(page, "doc")
    page.goto(f"{page.base}/infusion/episodes/{episode.pk}/")
    check = page.locator("#check-dose")
    check.locator("summary").click()
    check.locator("textarea[name=reason]").fill("Low weight after nephrotic oedema resolved; MDT")
    check.locator("select[name=second_physician]").select_option(str(doc2.pk))
    check.locator("input[name=second_password]").fill(PASSWORD)
    check.locator("text=Record the override").click()
    expect(page.locator(".messages")).to_contain_text("Override recorded")
    expect(page.locator("#check-dose")).to_contain_text(f"co-signed by {doc2.get_full_name()}")
    page.click("text=Log out")

    # 4. Now the pharmacist verifies, and the card shows the override.
    sign_in(page, "pharm")
    page.goto(f"{page.base}/infusion/queue/")
    card = page.locator(f"#queue-item-{episode.pk}")
    expect(card).to_contain_text("Low weight after nephrotic oedema resolved; MDT")
    for box in card.locator("input[name=reviewed]").all():
        box.check()
    card.locator("input[name=username]").fill("pharm")  # a new session's first signature
    card.locator("input[name=password]").fill(PASSWORD)
    card.locator("text=Verify the ticked orders").click()
    expect(page.locator(f"#queue-item-{episode.pk}")).to_contain_text("3 orders verified.")
    assert episode.orders.filter(status="verified").count() == 3
