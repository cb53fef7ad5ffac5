"""Demo episodes (`manage.py seed_demo`) and the load benchmark's episodes (bench/load.py).

Everything goes through the services, so the demo has orders, signatures, audit events
and reminders exactly as real use would make them.
"""

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from core.models import Patient, User, Ward

from . import notifications, services
from .models import Episode, OrderKind, OrderStatus

WARD_A = "rheum-a"
CONSENT_FORM_VERSION = "MSC-SLE-ICF v3.0"  # the demo's ethics-approved consent form


def certificate_data(**overrides):
    """A certificate of analysis that passes every B-QC item, issued by a third-party
    testing laboratory as a quality re-test (B-SITE-1) (the form's field names)."""
    data = {
        "coa_issuer": "Provincial Center for Drug Inspection (cell therapy laboratory)",
        "coa_third_party_retest": True,
        "coa_adherent_growth": True,
        "coa_adipogenic": True,
        "coa_osteogenic": True,
        "coa_chondrogenic": True,
        "coa_cd73": Decimal("99.5"),
        "coa_cd90": Decimal("99.1"),
        "coa_cd105": Decimal("97.8"),
        "coa_cd11b": Decimal("0.4"),
        "coa_cd14": Decimal("0.3"),
        "coa_cd19": Decimal("0.2"),
        "coa_cd34": Decimal("0.5"),
        "coa_cd45": Decimal("0.6"),
        "coa_cd79a": Decimal("0.2"),
        "coa_hla_dr": Decimal("0.7"),
        "coa_purity_pct": Decimal("96.5"),
        "coa_endotoxin_eu_per_ml": Decimal("0.125"),
        "coa_cell_count_measured": 101_500_000,
        "coa_cell_count_labelled": 100_000_000,
        "coa_bacteria": "negative",
        "coa_fungi": "negative",
        "coa_mycoplasma": "negative",
        "coa_virus": "negative",
    }
    data.update(overrides)
    return data


def episode_data(planned_start, *, preparation_time=None, **overrides):
    """A complete episode form for active severe lupus nephritis (the worked example)."""
    data = {
        "sle_severity": "severe",
        "sle_active": True,
        "involvement_renal": True,
        "involvement_haematological": True,
        "involvement_pulmonary": False,
        "involvement_skin": False,
        "involvement_cns": False,
        "involvement_cardiac": False,
        "consciousness": "clear",
        "pregnant": False,
        "lactating": False,
        "tumour": False,
        "infection": False,
        "other_autoimmune_disease": False,
        "other_autoimmune_names": "",
        "pap_systolic_mmhg": Decimal("28"),
        "pulmonary_hypertension": "none",
        "severe_cardiopulmonary_insufficiency": False,
        "long_term_antiplatelet": False,
        "bleeding_history": False,
        "antiplatelet_drug": "aspirin",
        "antiplatelet_dose_mg": Decimal("100"),
        "msc_source": "allogeneic_umbilical_cord",
        "product_lot": "UC-MSC-2026-0412",
        "preparation_time": preparation_time or planned_start - timedelta(hours=2),
        "suspension_volume_ml": Decimal("100"),
        "planned_start": planned_start,
        "dose_cells": 100_000_000,
        "drop_factor_gtt_per_ml": 20,
        "cyclophosphamide_preconditioning": False,
        **certificate_data(),
    }
    data.update(overrides)
    return data


def _user(username):
    return User.objects.get(username=username)


def _password(username):
    from core.management.commands.seed_demo import DEMO_USERS

    return next(p for u, *_rest, p in DEMO_USERS if u == username)


def _local_today_at(days, hour, minute=0):
    local = timezone.localtime()
    day = local.date() + timedelta(days=days)
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def record_consent(episode, physician, **overrides):
    """B-CONSENT-1: the patient's own informed consent to the episode, taken by
    `physician` today on the ward's current form, as a physician records it."""
    values = {
        "consenter": "patient",
        "consenter_name": "",
        "relationship": "",
        "consented_on": timezone.localdate(),
        "form_version": CONSENT_FORM_VERSION,
        "taken_by": physician,
    }
    values.update(overrides)
    return services.consent_record(episode=episode, actor=physician, **values)


def _dose_for(patient):
    """1.5 × 10⁶/kg (B-DOSE-1) and a product certified for it: labelled with the dose,
    101.5 % measured (B-QC-4; never less than the dose, C-DOSE-1)."""
    weight = patient.measurements.filter(kind="weight_kg").order_by("-measured_at").first()
    kg = weight.value if weight else Decimal(60)
    cells = int(kg * Decimal("1.5") * 1_000_000)
    return {
        "dose_cells": cells,
        "coa_cell_count_labelled": cells,
        "coa_cell_count_measured": cells * 1015 // 1000,
    }


def seed_demo(stdout):
    ward = Ward.objects.filter(code=WARD_A).first()
    if ward is None or Episode.objects.filter(patient__ward=ward).exists():
        return
    dr_li, dr_zhao = _user("dr.li"), _user("dr.zhao")
    nurse, pharm = _user("nurse.wang"), _user("pharm.chen")
    patients = list(Patient.objects.filter(ward=ward).order_by("hospital_number")[:3])
    if len(patients) < 3:
        return

    # 1. Tomorrow 09:30: orders signed, waiting for the pharmacist.
    start = _local_today_at(1, 9, 30)
    ep1 = services.episode_open(
        patient=patients[0],
        actor=dr_li,
        data=episode_data(start, **_dose_for(patients[0])),
        acknowledged=True,
    )
    record_consent(ep1, dr_li)
    services.orders_sign_all(episode=ep1, actor=dr_li, password=_password("dr.li"))

    # 2. Infused yesterday: the 48 h cyclophosphamide hold is running.
    start = _local_today_at(-1, 9, 30)
    ep2 = services.episode_open(
        patient=patients[1],
        actor=dr_zhao,
        data=episode_data(start, **_dose_for(patients[1])),
        acknowledged=True,
    )
    record_consent(ep2, dr_zhao, consented_on=timezone.localdate() - timedelta(days=3))
    services.orders_sign_all(episode=ep2, actor=dr_zhao, password=_password("dr.zhao"))
    for order in ep2.orders.filter(status=OrderStatus.SIGNED):
        services.order_verify(order=order, actor=pharm, password=_password("pharm.chen"))
    orders = {o.kind: o for o in ep2.orders.all()}
    services.order_administer(
        order=orders[OrderKind.ANTIPLATELET], actor=nurse, given_at=_local_today_at(-2, 8, 5)
    )
    services.order_administer(
        order=orders[OrderKind.ANTIPLATELET], actor=nurse, given_at=_local_today_at(-1, 8, 2)
    )
    services.order_administer(
        order=orders[OrderKind.DEXAMETHASONE], actor=nurse, given_at=_local_today_at(-1, 9, 0)
    )
    services.infusion_record_received(episode=ep2, actor=nurse, at=_local_today_at(-1, 8, 40))
    services.infusion_record_out_of_fridge(episode=ep2, actor=nurse, at=_local_today_at(-1, 9, 14))
    services.infusion_start(episode=ep2, actor=nurse, at=start)
    vitals = {
        "respiration_per_min": 16,
        "pulse_per_min": 78,
        "systolic_mmhg": 118,
        "diastolic_mmhg": 74,
        "spo2_pct": 98,
        "temperature_c": Decimal("36.6"),
    }
    services.vitals_record(episode=ep2, actor=nurse, at=start, values=vitals)
    services.infusion_rate_step(
        episode=ep2, actor=nurse, at=start + timedelta(minutes=10), rate_ml_per_min=3
    )
    services.vitals_record(
        episode=ep2,
        actor=nurse,
        at=start + timedelta(minutes=15),
        values={**vitals, "pulse_per_min": 104},
    )
    services.infusion_rate_step(
        episode=ep2, actor=nurse, at=start + timedelta(minutes=20), rate_ml_per_min=4
    )
    services.adverse_reaction_record(
        episode=ep2,
        actor=nurse,
        at=start + timedelta(minutes=18),
        reaction_type="palpitations",
        severity="mild",
        action="Observed; settled without treatment.",
    )
    services.vitals_record(
        episode=ep2, actor=nurse, at=start + timedelta(minutes=30), values=vitals
    )
    services.infusion_end(episode=ep2, actor=nurse, at=start + timedelta(minutes=33))
    services.order_complete(order=orders[OrderKind.DEXAMETHASONE], actor=nurse)

    # 3. Today, in about two hours: verified, ready for the bedside chart.
    now = timezone.localtime()
    start = (now + timedelta(hours=2)).replace(second=0, microsecond=0)
    start -= timedelta(minutes=start.minute % 5)
    ep3 = services.episode_open(
        patient=patients[2],
        actor=dr_li,
        data=episode_data(
            start,
            preparation_time=now - timedelta(minutes=30),
            **_dose_for(patients[2]),
        ),
        acknowledged=True,
    )
    record_consent(
        ep3,
        dr_li,
        consenter="relative",
        consenter_name="Demo relative",
        relationship="spouse",
    )
    services.orders_sign_all(episode=ep3, actor=dr_li, password=_password("dr.li"))
    for order in ep3.orders.filter(status=OrderStatus.SIGNED):
        services.order_verify(order=order, actor=pharm, password=_password("pharm.chen"))
    stdout.write(
        f"MSC episodes: #{ep1.pk} tomorrow (awaiting verification), #{ep2.pk} infused "
        f"yesterday (cyclophosphamide hold), #{ep3.pk} today (ready to chart)."
    )


def bench_seed(episodes):
    """`episodes` MSC episodes on ward A for the load benchmark, through the services:
    about half signed and waiting in the pharmacist queue, a quarter verified, the rest
    drafts. Skipped when the ward already has that many."""
    ward = Ward.objects.filter(code=WARD_A).first()
    if ward is None:
        return
    have = Episode.objects.filter(patient__ward=ward).count()
    if have >= episodes:
        return
    rng = random.Random(11)
    dr_li, pharm = _user("dr.li"), _user("pharm.chen")
    password, pharm_password = _password("dr.li"), _password("pharm.chen")
    busy = set(Episode.objects.values_list("patient_id", flat=True))
    patients = [
        p
        for p in Patient.objects.filter(ward=ward).order_by("pk")
        if p.pk not in busy and p.measurements.filter(kind="weight_kg").exists()
    ]
    for n, patient in enumerate(patients[: episodes - have]):
        start = _local_today_at(1 + n % 30, 8 + rng.randint(0, 6), rng.choice((0, 15, 30, 45)))
        episode = services.episode_open(
            patient=patient,
            actor=dr_li,
            data=episode_data(start, **_dose_for(patient)),
            acknowledged=True,
        )
        roll = rng.random()
        if roll < 0.75:
            record_consent(episode, dr_li)
            services.orders_sign_all(episode=episode, actor=dr_li, password=password)
        if roll < 0.25:
            for order in episode.orders.filter(status=OrderStatus.SIGNED):
                services.order_verify(order=order, actor=pharm, password=pharm_password)
        if roll < 0.75:
            # What the worker does after each signature (the bench runs no worker): the
            # order-sheet download is then a cache hit, as in production.
            notifications.prerender_order_sheet(episode.pk, languages=[settings.LANGUAGE_CODE])
