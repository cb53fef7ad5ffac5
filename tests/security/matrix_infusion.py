"""Expected status per role for the infusion URLs (and the plan API).

Physicians open episodes, sign, cancel and order cyclophosphamide; nurses chart and give;
pharmacists verify or reject and see the queue; the auditor reads everything and
writes nothing; the system administrator reads nothing; a nurse of ward B gets 404 for ward A's episodes wherever her role would
otherwise be allowed. POSTs carry an empty body: the status is then the form's (400), the
service's refusal (409) or the redirect after a handled refusal (302).
"""

from datetime import timedelta

from django.utils import timezone

from tests.factories import PASSWORD, add_lab, add_weight
from tests.security.matrix import Entry, everyone, readers


def _episode(world):
    from infusion import services
    from infusion.demo import episode_data

    now = timezone.now()
    add_weight(world.patient, world.users["nurse"], "60", when=now - timedelta(days=1))
    add_lab(
        world.patient,
        world.users["nurse"],
        "platelets",
        200,
        "10^9/L",
        when=now - timedelta(days=1),
    )
    episode = services.episode_open(
        patient=world.patient,
        actor=world.users["physician"],
        data=episode_data(now + timedelta(hours=3), preparation_time=now - timedelta(hours=1)),
        acknowledged=True,
    )
    _consent(world, episode)
    return episode


def _consent(world, episode):
    """B-CONSENT-1: the patient's consent, with its scanned form, so the orders may be
    signed and the scan downloaded."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from infusion import services

    physician = world.users["physician"]
    return services.consent_record(
        episode=episode,
        actor=physician,
        consenter="patient",
        consenter_name="",
        relationship="",
        consented_on=timezone.localdate(),
        form_version="MSC-SLE-ICF v3.0",
        taken_by=physician,
        scan=SimpleUploadedFile("consent.pdf", b"%PDF-1.4\n% matrix scan\n", "application/pdf"),
    )


def _order(world):
    return world.get("episode", _episode).orders.get(kind="dexamethasone")


def _reaction(world):
    from infusion import services

    return services.adverse_reaction_record(
        episode=world.get("episode", _episode),
        actor=world.users["nurse"],
        reaction_type="fever",
        severity="severe",
        action="Paracetamol",
    )


EP = {"pk": lambda w: w.get("episode", _episode).pk}
ORDER = {"pk": lambda w: w.get("order", _order).pk}
REACTION = {"pk": lambda w: w.get("reaction", _reaction).pk}
PATIENT = {"patient_pk": lambda w: w.patient.pk}


def only(role_status, *, other_ward=403):
    """The listed roles get their status; every other role 403; anon to the login page."""
    expect = {r: 403 for r in ("physician", "nurse", "pharmacist", "auditor", "sysadmin")}
    expect.update(role_status)
    expect["other_ward"] = other_ward
    expect["anon"] = 302
    return expect


READERS = readers(200, other_ward=404)

ENTRIES = {
    "infusion:episode_list": Entry("get", expect=readers(200)),
    "infusion:queue": Entry("get", expect=only({"pharmacist": 200, "auditor": 200})),
    # Form pages: the page (GET) and an empty submission (POST): 400 with the errors.
    "infusion:episode_open": (
        Entry("get", kwargs=PATIENT, expect=only({"physician": 200})),
        Entry("post", kwargs=PATIENT, expect=only({"physician": 400})),
    ),
    "infusion:episode_detail": Entry("get", kwargs=EP, expect=READERS),
    "infusion:episode_edit": (
        Entry("get", kwargs=EP, expect=only({"physician": 200})),
        Entry("post", kwargs=EP, expect=only({"physician": 400})),
    ),
    "infusion:episode_cancel": Entry("post", kwargs=EP, expect=only({"physician": 302})),
    "infusion:episode_sign_all": Entry("post", kwargs=EP, expect=only({"physician": 302})),
    # B-CONSENT-1: physicians record (or correct) the consent; an empty body is the form's
    # 400. The scan downloads for every reader of the ward, another ward's staff get 404.
    "infusion:consent_record": Entry("post", kwargs=EP, expect=only({"physician": 400})),
    "infusion:consent_scan": Entry("get", kwargs=EP, expect=READERS),
    # B-REP-1 follow-up: physicians only; an empty body is the form's 400.
    "infusion:episode_follow_up": Entry("post", kwargs=EP, expect=only({"physician": 400})),
    "infusion:cyclophosphamide_new": (
        Entry("get", kwargs=EP, expect=only({"physician": 200})),
        Entry("post", kwargs=EP, expect=only({"physician": 400})),
    ),
    "infusion:chart": Entry("get", kwargs=EP, expect=READERS),
    "infusion:chart_record": Entry(
        "post",
        kwargs={**EP, "event": lambda w: "received"},
        expect=only({"nurse": 302}, other_ward=404),
    ),
    "infusion:vitals_add": Entry("post", kwargs=EP, expect=only({"nurse": 409}, other_ward=404)),
    "infusion:reaction_add": Entry(
        "post", kwargs=EP, expect=only({"physician": 400, "nurse": 400}, other_ward=404)
    ),
    "infusion:order_sheet_pdf": Entry("get", kwargs=EP, expect=READERS),
    "infusion:record_pdf": Entry("get", kwargs=EP, expect=READERS),
    "infusion:timeline_svg": Entry("get", kwargs=EP, expect=READERS),
    "infusion:order_sign": Entry("post", kwargs=ORDER, expect=only({"physician": 302})),
    "infusion:order_verify": Entry("post", kwargs=ORDER, expect=only({"pharmacist": 302})),
    # C-VERIFY-1: the ticked orders of an episode with one password (the refusal of an empty
    # body is a message after a redirect); an override is a physician's form (400 empty).
    "infusion:episode_verify": Entry("post", kwargs=EP, expect=only({"pharmacist": 302})),
    "infusion:check_override": Entry("post", kwargs=EP, expect=only({"physician": 400})),
    # B-ADM-1 (issue 19): the pharmacist confirms viability, the physician records the
    # deviation; anyone else is refused (a nurse too).
    "infusion:cold_chain_viability": Entry("post", kwargs=EP, expect=only({"pharmacist": 400})),
    "infusion:cold_chain_deviation": Entry("post", kwargs=EP, expect=only({"physician": 400})),
    "infusion:order_reject": Entry("post", kwargs=ORDER, expect=only({"pharmacist": 302})),
    "infusion:order_cancel": Entry("post", kwargs=ORDER, expect=only({"physician": 302})),
    "infusion:order_edit": (
        Entry("get", kwargs=ORDER, expect=only({"physician": 200})),
        Entry("post", kwargs=ORDER, expect=only({"physician": 400})),
    ),
    "infusion:order_administer": Entry(
        "post", kwargs=ORDER, expect=only({"nurse": 409}, other_ward=404)
    ),
    "infusion:order_complete": Entry(
        "post", kwargs=ORDER, expect=only({"nurse": 409}, other_ward=404)
    ),
    "infusion:sae_report": (
        Entry(
            "get", kwargs=REACTION, expect=only({"physician": 200, "nurse": 200}, other_ward=404)
        ),
        Entry(
            "post", kwargs=REACTION, expect=only({"physician": 400, "nurse": 400}, other_ward=404)
        ),
    ),
    # The plan API: JSON errors, never the login page; an empty body is not a document.
    "infusion_api:plan": Entry("post", expect=everyone(400, anon=401)),
}


# Forms to fuzz (tests/security/test_fuzz_forms.py): url name -> (url kwargs, valid body).
def _open_example(world):
    from infusion.demo import episode_data
    from tests.infusion.conftest import form_post

    world.get("episode", _episode)  # the patient now has a weight and a platelet count
    start = (timezone.now() + timedelta(days=2)).replace(second=0, microsecond=0)
    return form_post(episode_data(start), acknowledge="on")


def _local(value):
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


FORMS = {
    # Another patient: the matrix patient's episode is active, so a second one is refused.
    "infusion:episode_open": (
        {"patient_pk": lambda w: w.get("new_patient", _new_patient).pk},
        _open_example,
    ),
    "infusion:cyclophosphamide_new": (
        EP,
        lambda w: {
            "scheduled_at": _local(timezone.now() + timedelta(days=20)),
            "dose_mg": "500",
            "note": "fuzz",
        },
    ),
    "infusion:order_edit": (ORDER, lambda w: {"note": "fuzz", "reason": "fuzz"}),
    "infusion:episode_cancel": (EP, lambda w: {"reason": "fuzz"}),
    "infusion:chart_record": (
        {"pk": lambda w: w.get("started_episode", _started_episode).pk, "event": lambda w: "rate"},
        lambda w: {"rate_ml_per_min": "3", "at": ""},
    ),
    "infusion:vitals_add": (
        EP,
        lambda w: {
            "respiration_per_min": "16",
            "pulse_per_min": "80",
            "systolic_mmhg": "120",
            "diastolic_mmhg": "75",
            "spo2_pct": "98",
            "temperature_c": "36.8",
            "at": "",
        },
    ),
    "infusion:reaction_add": (
        EP,
        lambda w: {"reaction_type": "fever", "severity": "mild", "action": "observed", "at": ""},
    ),
    "infusion:sae_report": (
        REACTION,
        lambda w: {
            "informed_whom": "Dr Fuzz",
            "informed_at": _local(timezone.now()),
            "description": "fuzz",
        },
    ),
}
SUBMITTERS = {
    "infusion:chart_record": "nurse",
    "infusion:vitals_add": "nurse",
    "infusion:reaction_add": "nurse",
    "infusion:sae_report": "nurse",
}


def _started_episode(world):
    """The verified episode's infusion, running for 12 min (past the first slow phase)."""
    from infusion import services

    episode = world.get("verified_episode", _verified_episode)
    nurse, now = world.users["nurse"], timezone.now()
    services.infusion_record_received(episode=episode, actor=nurse, at=now - timedelta(minutes=40))
    services.infusion_record_out_of_fridge(
        episode=episode, actor=nurse, at=now - timedelta(minutes=28)
    )
    services.infusion_start(episode=episode, actor=nurse, at=now - timedelta(minutes=12))
    return episode


def _signed_episode(world):
    from infusion import services

    episode = world.get("episode", _episode)
    services.orders_sign_all(episode=episode, actor=world.users["physician"], password=PASSWORD)
    return episode


def _signed_order(world):
    return world.get("signed_episode", _signed_episode).orders.get(kind="dexamethasone")


def _verified_episode(world):
    from infusion import services
    from infusion.models import OrderStatus

    episode = world.get("signed_episode", _signed_episode)
    for order in episode.orders.filter(status=OrderStatus.SIGNED).order_by("pk"):
        services.order_verify(order=order, actor=world.users["pharmacist"], password=PASSWORD)
    return episode


def _verified_order(world):
    return world.get("verified_episode", _verified_episode).orders.get(kind="dexamethasone")


def _given_antiplatelet(world):
    from infusion import services

    order = world.get("verified_episode", _verified_episode).orders.get(kind="antiplatelet")
    services.order_administer(order=order, actor=world.users["nurse"], given_at=None, note="")
    return order


def _new_patient(world):
    """A weighed patient of ward A with no MSC episode (B-REP-1: a first infusion)."""
    from tests.factories import make_patient

    patient = make_patient(world.ward_a, name="Matrix Patient Two")
    now = timezone.now()
    add_weight(patient, world.users["nurse"], "60", when=now - timedelta(days=1))
    add_lab(patient, world.users["nurse"], "platelets", 200, "10^9/L", when=now - timedelta(days=1))
    return patient


def _infused_episode(world):
    from infusion import services

    episode = world.get("started_episode", _started_episode)
    services.infusion_end(  # 12 min at 2 mL/min: an early end gives volume and reason
        episode=episode,
        actor=world.users["nurse"],
        at=timezone.now(),
        volume_given_ml=24,
        reason="Completed early (matrix)",
    )
    episode.refresh_from_db()
    return episode


SIGNED_ORDER = {"pk": lambda w: w.get("signed_order", _signed_order).pk}
VERIFIED_ORDER = {"pk": lambda w: w.get("verified_order", _verified_order).pk}
GIVEN_ANTIPLATELET = {"pk": lambda w: w.get("given_antiplatelet", _given_antiplatelet).pk}
# Each example is the first signature of its session: username and password (§11.200).
SIGNATURE = {"password": PASSWORD, "username": "doc"}
VERIFIER_SIGNATURE = {"password": PASSWORD, "username": "pharm"}

FORMS |= {
    "infusion:episode_edit": (EP, lambda w: {**_open_example(w), "reason": "fuzz"}),
    "infusion:episode_sign_all": (EP, lambda w: dict(SIGNATURE)),
    "infusion:order_sign": (ORDER, lambda w: dict(SIGNATURE)),
    "infusion:order_cancel": (ORDER, lambda w: {"reason": "fuzz"}),
    "infusion:order_verify": (SIGNED_ORDER, lambda w: dict(VERIFIER_SIGNATURE)),
    "infusion:order_reject": (SIGNED_ORDER, lambda w: {"reason": "fuzz"}),
    "infusion:order_administer": (VERIFIED_ORDER, lambda w: {"at": "", "note": "fuzz"}),
    "infusion:order_complete": (GIVEN_ANTIPLATELET, lambda w: {"note": "fuzz"}),
    # The matrix episode has its consent: a valid submission is a correction, with a reason.
    "infusion:consent_record": (
        EP,
        lambda w: {
            "consenter": "relative",
            "consenter_name": "Fuzz Relative",
            "relationship": "sibling",
            "consented_on": timezone.localdate().isoformat(),
            "form_version": "MSC-SLE-ICF v3.1",
            "taken_by": str(w.users["physician"].pk),
            "reason": "fuzz",
        },
    ),
    "infusion:episode_follow_up": (
        {"pk": lambda w: w.get("infused_episode", _infused_episode).pk},
        lambda w: {
            "response": "true",
            "response_date": timezone.localdate().isoformat(),
            "relapse": "",
            "relapse_date": "",
            "reason": "fuzz",
        },
    ),
}
SIGNED_EPISODE = {"pk": lambda w: w.get("signed_episode", _signed_episode).pk}


def _second_physician(world):
    from tests.factories import make_user

    return make_user("physician", world.ward_a, username="doc2")


def _site_episode(world):
    from infusion import services
    from infusion.demo import episode_data

    now = timezone.now()
    return services.episode_open(
        patient=world.get("new_patient", _new_patient),
        actor=world.users["physician"],
        data=episode_data(
            now + timedelta(days=2),
            preparation_time=now + timedelta(days=2, hours=-1),
            coa_third_party_retest=False,
        ),
        acknowledged=True,
    )


def _reviewed(world):
    from infusion.models import OrderStatus

    episode = world.get("signed_episode", _signed_episode)
    ticks = [f"{o.pk}:{o.version}" for o in episode.orders.filter(status=OrderStatus.SIGNED)]
    return {**VERIFIER_SIGNATURE, "reviewed": ticks}


FORMS |= {
    "infusion:episode_verify": (SIGNED_EPISODE, _reviewed),
    # C-VERIFY-1: an episode whose product was not re-tested by a third party (B-SITE-1)
    # is overridden with a second physician's signature.
    "infusion:check_override": (
        {"pk": lambda w: w.get("site_episode", _site_episode).pk},
        lambda w: {
            "check_key": "site",
            "reason": "fuzz",
            "second_physician": str(w.get("doc2", _second_physician).pk),
            "second_password": PASSWORD,
        },
    ),
}


def _viability_episode(world):
    """B-ADM-1: the matrix episode with the pharmacist's viability confirmation."""
    from infusion import services

    episode = world.get("episode", _episode)
    services.cold_chain_viability_confirm(
        episode=episode,
        actor=world.users["pharmacist"],
        until=episode.cold_chain_must_complete_by + timedelta(hours=1),
        note="re-tested viability",
        password=PASSWORD,
    )
    return episode


FORMS |= {
    "infusion:cold_chain_viability": (
        EP,
        lambda w: {
            "until": _local(
                w.get("episode", _episode).cold_chain_must_complete_by + timedelta(hours=1)
            ),
            "note": "fuzz",
            **VERIFIER_SIGNATURE,
        },
    ),
    "infusion:cold_chain_deviation": (
        {"pk": lambda w: w.get("viability_episode", _viability_episode).pk},
        lambda w: {
            "reason": "fuzz",
            "second_physician": str(w.get("doc2", _second_physician).pk),
            "second_password": PASSWORD,
        },
    ),
}
SUBMITTERS |= {
    "infusion:cold_chain_viability": "pharmacist",
    "infusion:episode_verify": "pharmacist",
    "infusion:order_verify": "pharmacist",
    "infusion:order_reject": "pharmacist",
    "infusion:order_administer": "nurse",
    "infusion:order_complete": "nurse",
}
# A wrong password is refused *and audited* (who tried to sign what): that one audit row
# is what an invalid signature leaves behind, nothing else; after REAUTH_FAILURE_LIMIT of
# them, the lockout and the sign-out it causes (core.reauth).
AUDITED_REFUSALS = {
    name: {"signature_refused", "verify_refused", "reauth_lockout", "logout"}
    for name in (
        "infusion:episode_sign_all",
        "infusion:order_sign",
        "infusion:order_verify",
        "infusion:episode_verify",
        "infusion:check_override",
        "infusion:cold_chain_viability",
        "infusion:cold_chain_deviation",
    )
}
FORM_EXEMPT = {
    "infusion_api:plan": "a JSON API, stateless; fuzzed in tests/infusion/test_api_and_command.py",
}
