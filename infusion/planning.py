"""What the plan means for the episode row and its orders (pure: no database writes).

`planned_orders(plan, data)` turns an `InfusionPlan` into the content of the orders it
generates: the MSC product (dose, route, volume, rate plan, no-filter set), the
intrathecal dose where indicated (B-ROUTE-2), dexamethasone 5 mg IV before the start
(B-PREMED-1) and the antiplatelet course unless the patient is a long-term user (B-AP-1).
Instruction lines are stored as (rule id, English template, params) so that each reader
sees them in their own language.
"""

from datetime import datetime
from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from .models import OrderKind
from .protocol import ward_zone

DRUG_LABELS = {
    "msc_allogeneic_umbilical_cord": _("Allogeneic umbilical-cord MSC"),
    "msc_allogeneic_bone_marrow": _("Allogeneic bone-marrow MSC"),
    "msc_allogeneic_other": _("Allogeneic MSC (other tissue)"),
    "msc_autologous": _("Autologous MSC"),
    "msc": _("Allogeneic MSC"),
    "dexamethasone": _("Dexamethasone"),
    "aspirin": _("Aspirin"),
    "clopidogrel": _("Clopidogrel"),
    "cyclophosphamide": _("Cyclophosphamide"),
}
ROUTE_LABELS = {
    "iv_infusion": _("Peripheral IV infusion"),
    "intrathecal": _("Intrathecal"),
    "iv_push": _("IV push"),
    "oral": _("Oral, once daily"),
    "iv": _("Intravenous"),
}
UNIT_LABELS = {"cells": _("cells"), "mg": "mg"}

# Rule IDs each generated order rests on (shown on the order sheet beside the order).
ORDER_RULES = {
    OrderKind.MSC_IV: [
        "B-IND-2",
        "B-DOSE-1",
        "B-ROUTE-1",
        "B-ADM-1",
        "B-ADM-2",
        "B-ADM-3",
        "B-ADM-4",
        "B-ADM-5",
    ],
    OrderKind.MSC_INTRATHECAL: ["B-ROUTE-2"],
    OrderKind.DEXAMETHASONE: ["B-PREMED-1"],
    OrderKind.ANTIPLATELET: ["B-AP-1"],
    OrderKind.CYCLOPHOSPHAMIDE: ["B-CYC-1"],
}


def local_text(value: datetime) -> str:
    """A ward-time stamp for instruction params (stored, so fixed at planning time)."""
    return value.astimezone(ward_zone()).strftime("%Y-%m-%d %H:%M")


def line(rule_id, template, **params):
    return {
        "rule_id": rule_id,
        "template": template,
        "params": {k: str(v) for k, v in params.items()},
    }


def episode_columns(plan) -> dict:
    """The plan values an episode keeps as columns."""
    cyc = plan.cyclophosphamide
    return {
        "plan_status": plan.status,
        "candidacy_overall": plan.candidacy.overall,
        "release_status": plan.product_release.status,
        "preparation_time": plan.cold_chain.preparation_time,
        "cold_chain_late_from": plan.cold_chain.late_from,
        "cold_chain_must_complete_by": plan.cold_chain.must_complete_by,
        "planned_start": plan.planned_start,
        "planned_end": plan.planned_end,
        "weight_kg": plan.dose.weight_kg,
        "dose_cells": plan.dose.ordered_cells,
        "dose_per_kg_e6": plan.dose.per_kg_e6,
        "dose_flag": plan.dose.flag or "",
        "suspension_volume_ml": Decimal(plan.rate_plan.to_dict()["volume_ml"]),
        "cyc_hold_until": cyc.hold_until,
    }


def planned_orders(plan, data) -> dict:
    """{kind: content fields} of the orders the plan generates."""
    orders = {}
    source = data.get("msc_source") or ""
    msc_drug = f"msc_{source}" if f"msc_{source}" in DRUG_LABELS else "msc"
    rates = plan.rate_plan.to_dict()
    cold = plan.cold_chain
    hard_hours = (cold.must_complete_by - cold.preparation_time).total_seconds() / 3600
    if plan.dose.ordered_cells:
        orders[OrderKind.MSC_IV] = {
            "drug": msc_drug,
            "dose": Decimal(plan.dose.ordered_cells),
            "dose_unit": "cells",
            "route": "iv_infusion",
            "scheduled_at": plan.planned_start,
            "first_day": None,
            "last_day": None,
            "volume_ml": Decimal(rates["volume_ml"]),
            "rate_plan": [
                {
                    key: phase[key]
                    for key in (
                        "number",
                        "start_offset_min",
                        "duration_min",
                        "rate_ml_per_min",
                        "rate_ml_per_h",
                        "drops_per_min",
                        "volume_ml",
                    )
                }
                for phase in rates["phases"]
            ],
            "instructions": [
                line(
                    "B-DOSE-1",
                    gettext_noop("%(per_kg)s × 10⁶ cells/kg for %(kg)s kg (range 1–2 × 10⁶/kg)."),
                    per_kg=plan.dose.per_kg_e6,
                    kg=plan.dose.weight_kg,
                ),
                line("B-ADM-3", gettext_noop("Use an infusion set WITHOUT a filter membrane.")),
                line(
                    "B-ADM-2",
                    gettext_noop(
                        "Do not shake or warm; take out of the refrigerator 10–20 min before the "
                        "start (between %(earliest)s and %(latest)s)."
                    ),
                    earliest=local_text(cold.out_of_fridge_earliest),
                    latest=local_text(cold.out_of_fridge_latest),
                ),
                line(
                    "B-ADM-4",
                    gettext_noop(
                        "≤ 2 mL/min for the first 5–10 min, then step up gradually to at most "
                        "4 mL/min; complete in 30–60 min."
                    ),
                ),
                line(
                    "B-ADM-1",
                    gettext_noop(
                        "Stored at 2–8 °C, protected from light; the infusion must be complete "
                        "by %(limit)s (%(hours)s h after preparation)."
                    ),
                    limit=local_text(cold.must_complete_by),
                    hours=f"{hard_hours:g}",
                ),
                line(
                    "B-ADM-5",
                    gettext_noop(
                        "Monitor respiration, pulse, blood pressure and SpO₂ throughout; have "
                        "emergency measures ready."
                    ),
                ),
            ],
            "rule_ids": ORDER_RULES[OrderKind.MSC_IV],
        }
    if plan.route.intrathecal == "indicated":
        orders[OrderKind.MSC_INTRATHECAL] = {
            "drug": msc_drug,
            "dose": Decimal(plan.route.intrathecal_cells),
            "dose_unit": "cells",
            "route": "intrathecal",
            "scheduled_at": plan.planned_start,
            "first_day": None,
            "last_day": None,
            "volume_ml": None,
            "rate_plan": [],
            "instructions": [
                line(
                    "B-ROUTE-2",
                    gettext_noop(
                        "With the intravenous infusion (CNS involvement); not if consciousness "
                        "is impaired."
                    ),
                )
            ],
            "rule_ids": ORDER_RULES[OrderKind.MSC_INTRATHECAL],
        }
    premed = plan.premedication
    orders[OrderKind.DEXAMETHASONE] = {
        "drug": "dexamethasone",
        "dose": premed.dose_mg,
        "dose_unit": "mg",
        "route": "iv_push",
        "scheduled_at": premed.due_at,
        "first_day": None,
        "last_day": None,
        "volume_ml": None,
        "rate_plan": [],
        "instructions": [
            line(
                "B-PREMED-1",
                gettext_noop("Before the MSC infusion (%(lead)s min before the planned start)."),
                lead=plan.settings.premedication_lead_minutes,
            )
        ],
        "rule_ids": ORDER_RULES[OrderKind.DEXAMETHASONE],
    }
    ap = plan.antiplatelet
    if ap.status == "course":
        instructions = [
            line(
                "B-AP-1",
                gettext_noop(
                    "Once daily from %(first)s (the day before the infusion) to %(last)s "
                    "inclusive (%(days)s days)."
                ),
                first=ap.first_day,
                last=ap.last_day,
                days=ap.days,
            )
        ]
        if any(f.status == "caution" for f in ap.findings):
            instructions.append(
                line("B-AP-1", gettext_noop("Bleeding tendency possible: use with caution."))
            )
        orders[OrderKind.ANTIPLATELET] = {
            "drug": ap.drug,
            "dose": ap.dose_mg,
            "dose_unit": "mg",
            "route": "oral",
            "scheduled_at": None,
            "first_day": ap.first_day,
            "last_day": ap.last_day,
            "volume_ml": None,
            "rate_plan": [],
            "instructions": instructions,
            "rule_ids": ORDER_RULES[OrderKind.ANTIPLATELET],
        }
    return orders


def same_content(order, content) -> bool:
    """Would writing `content` change what the order prescribes?"""
    for name, value in content.items():
        current = getattr(order, name)
        if isinstance(value, Decimal) and current is not None:
            if Decimal(current) != value:
                return False
        elif current != value:
            return False
    return True
