"""Expected status per role for the screening URLs.

Pharmacists and system administrators read nothing in screening (403 everywhere, the
API included); the auditor reads every ward and writes nothing; only investigators sign; physicians
amend. POSTs carry no data, so they are refused as invalid (400) by whoever may send them.
"""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from core.models import ReferenceRange
from tests.factories import PASSWORD, add_lab, add_weight, make_patient
from tests.security.matrix import Entry

LAB = "Hospital central lab"
RANGES = [
    ("inr", "ratio", "1.2"),
    ("aptt", "s", "35"),
    ("ast", "U/L", "35"),
    ("alt", "U/L", "40"),
    ("bilirubin", "umol/L", "20.5"),
    ("creatinine", "umol/L", "84"),
]


def _draft(world):
    from screening import services

    return services.screening_start(
        actor=world.users["nurse"], patient=world.patient, indication="SLE"
    )


def _complete_draft(world):
    """An eligible SLE screening, complete and ready to sign, on a second patient."""
    from screening import services
    from screening.demo import NORMAL_LABS, sle_facts

    nurse, doctor = world.users["nurse"], world.users["physician"]
    patient = make_patient(world.ward_a, name="Matrix Signed")
    when = timezone.now() - timedelta(days=2)
    for analyte, unit, upper in RANGES:
        ReferenceRange.objects.get_or_create(
            lab=LAB, analyte=analyte, sex="", defaults={"unit": unit, "upper": Decimal(upper)}
        )
    for analyte, value, unit in NORMAL_LABS:
        add_lab(patient, nurse, analyte, value, unit, when=when, lab=LAB)
    add_weight(patient, nurse, "58.5", when=when)
    screening = services.screening_start(actor=doctor, patient=patient, indication="SLE")
    screening, _saved = services.screening_save_draft(
        actor=doctor,
        screening=screening,
        facts=sle_facts(screening.facts, timezone.localdate(), patient.sex),
    )
    return screening


def _signed(world):
    """The complete draft, signed by the investigator."""
    from screening import services

    screening = world.get("complete_draft", _complete_draft)
    return services.screening_sign(
        actor=world.users["physician"], screening=screening, password=PASSWORD
    )


DRAFT = {"pk": lambda w: w.get("screening", _draft).pk}
SIGNED = {"pk": lambda w: w.get("signed_screening", _signed).pk}
COMPLETE = {"pk": lambda w: w.get("complete_draft", _complete_draft).pk}
PATIENT = {"patient_pk": lambda w: w.patient.pk}


def roles(*, anon=302, physician, nurse, pharmacist=403, auditor, sysadmin=403, other_ward):
    return {
        "anon": anon,
        "physician": physician,
        "nurse": nurse,
        "pharmacist": pharmacist,
        "auditor": auditor,
        "sysadmin": sysadmin,
        "other_ward": other_ward,
    }


ENTRIES = {
    "screening:log": Entry(
        "get", expect=roles(physician=200, nurse=200, auditor=200, other_ward=200)
    ),
    "screening:log_csv": Entry(
        "get", expect=roles(physician=200, nurse=200, auditor=200, other_ward=200)
    ),
    # Without an indication the start is refused back to the patient page.
    "screening:start": Entry(
        "post", kwargs=PATIENT, expect=roles(physician=302, nurse=302, auditor=403, other_ward=404)
    ),
    "screening:detail": Entry(
        "get", kwargs=DRAFT, expect=roles(physician=200, nurse=200, auditor=200, other_ward=404)
    ),
    "screening:evaluate": Entry(
        "post", kwargs=DRAFT, expect=roles(physician=400, nurse=400, auditor=403, other_ward=404)
    ),
    # Issue 18: "+ add a row" (an htmx fragment, nothing saved); no list named: 400.
    "screening:add_row": Entry(
        "get", kwargs=DRAFT, expect=roles(physician=400, nurse=400, auditor=403, other_ward=404)
    ),
    "screening:sign": (
        Entry(
            "get", kwargs=DRAFT, expect=roles(physician=200, nurse=403, auditor=403, other_ward=404)
        ),
        Entry(
            "post",
            kwargs=DRAFT,
            expect=roles(physician=400, nurse=403, auditor=403, other_ward=404),
        ),
    ),
    "screening:amend": (
        Entry(
            "get",
            kwargs=SIGNED,
            expect=roles(physician=200, nurse=403, auditor=403, other_ward=403),
        ),
        Entry(
            "post",
            kwargs=SIGNED,
            expect=roles(physician=400, nurse=403, auditor=403, other_ward=403),
        ),
    ),
    "screening:pdf": Entry(
        "get", kwargs=DRAFT, expect=roles(physician=200, nurse=200, auditor=200, other_ward=404)
    ),
    # The API answers anonymous callers 401 (JSON), not a login redirect.
    "screening_api:evaluate": Entry(
        "post", expect=roles(anon=401, physician=400, nurse=400, auditor=400, other_ward=400)
    ),
}

# Forms the fuzzer (test_fuzz_forms.py) posts to: url name -> (url kwargs, a valid example).
# Not here, by design (FORM_EXEMPT): screening:evaluate is the draft's autosave, which
# keeps the values that read and the raw text of those that do not (a partial save,
# audited); it has its own never-a-500 property test in tests/screening/test_workflow.py.
# screening:sign audits every refused signature (wrong password), as infusion's order
# signatures do, so its fuzzing allows that one audit row (AUDITED_REFUSALS), nothing else.
FORMS = {
    "screening:start": (PATIENT, lambda w: {"indication": "SLE"}),
    "screening:amend": (SIGNED, lambda w: {"reason": "ANC repeated"}),
    "screening:sign": (
        COMPLETE,
        lambda w: {
            "password": PASSWORD,
            "username": "doc",  # the first signature of the session (§11.200)
            "content_hash": w.get("complete_draft", _complete_draft).content_hash(),
        },
    ),
}
AUDITED_REFUSALS = {"screening:sign": {"signature_refused", "reauth_lockout", "logout"}}
FORM_EXEMPT = {
    "screening:evaluate": "the draft's autosave: a partial save is its job (tests/screening)",
    "screening_api:evaluate": "a JSON API, stateless; fuzzed in tests/screening/test_contract.py",
}
