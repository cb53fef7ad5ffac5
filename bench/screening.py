"""Benchmark the screening rule engine on synthetic facts documents.

    .venv/bin/python bench/screening.py [--count 10000] [--seed 20260301]

Generates ``count`` facts documents across the five indications (deterministic seed:
values scattered around every threshold, some missing or stale, units varied), checks
they all validate, then times on one core, without a database:

  * engine      evaluate(Facts): the rules alone, on documents parsed beforehand;
  * end to end  evaluate(doc): validation, parsing and the rules;
  * + to_dict   evaluate(doc).to_dict(): what the HTTP API will return.

Each figure is the best of ``--repeat`` runs (the machine may be shared).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

# This file is bench/screening.py: make sure "screening" is the package, not this file.
ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from screening.engine import evaluate, parse_facts, validate_facts  # noqa: E402

INDICATIONS = ("SLE", "dcSSc", "AAV", "IIM", "SS")
SLEDAI = [
    "seizure", "psychosis", "vasculitis", "arthritis", "myositis", "urinary_casts",
    "haematuria", "proteinuria", "pyuria", "rash", "alopecia", "mucosal_ulcers",
    "pleurisy", "pericarditis", "low_complement", "increased_dna_binding", "fever",
    "thrombocytopenia", "leukopenia",
]  # fmt: skip
ESSDAI_LEVELS = {
    "constitutional": [0, 1, 2], "lymphadenopathy": [0, 1, 2, 3], "glandular": [0, 1, 2],
    "articular": [0, 1, 2, 3], "cutaneous": [0, 1, 2, 3], "pulmonary": [0, 1, 2, 3],
    "renal": [0, 1, 2, 3], "muscular": [0, 1, 2, 3], "peripheral_nervous_system": [0, 1, 2, 3],
    "central_nervous_system": [0, 2, 3], "haematological": [0, 1, 2, 3], "biological": [0, 1, 2],
}  # fmt: skip
MMT8_BILATERAL = [
    "deltoid", "biceps", "wrist_extensors", "gluteus_maximus", "gluteus_medius",
    "quadriceps", "ankle_dorsiflexors",
]  # fmt: skip


class Generator:
    def __init__(self, seed: int):
        self.r = random.Random(seed)

    def day(self, screening: date, max_days_before: int = 20) -> str:
        # Mostly inside the 28-day window; now and then stale.
        days = self.r.randint(0, max_days_before)
        if self.r.random() < 0.01:
            days = self.r.randint(29, 120)
        return (screening - timedelta(days=days)).isoformat()

    def maybe(self, value, p: float = 0.97):
        return value if self.r.random() < p else None

    def either(self, passing, failing, p_fail: float = 0.03):
        """Mostly a value that passes its criterion, sometimes one that does not."""
        choice = failing if self.r.random() < p_fail else passing
        return choice() if callable(choice) else choice

    def num(self, low: float, high: float, places: int = 1) -> float:
        return round(self.r.uniform(low, high), places)

    def lab(self, screening: date, value: float, unit: str, uln: float | None = None) -> dict:
        lab = {"value": value, "unit": unit, "date": self.day(screening), "lab": "Central"}
        if uln is not None and self.r.random() < 0.97:
            lab["uln"] = uln
        return lab

    def document(self, index: int) -> dict:
        r = self.r
        indication = INDICATIONS[index % len(INDICATIONS)]
        screening = date(2026, 1, 1) + timedelta(days=r.randint(0, 365))
        female = r.random() < 0.6
        age_days = self.either(
            lambda: r.randint(18 * 365 + 5, 65 * 365), lambda: r.randint(16 * 365, 70 * 365)
        )
        doc: dict = {
            "screening_date": screening.isoformat(),
            "indication": indication,
            "patient": {
                "date_of_birth": (screening - timedelta(days=age_days)).isoformat(),
                "sex": "female" if female else "male",
                "weight_kg": self.maybe({"value": self.num(40, 110), "date": self.day(screening)}),
            },
            "general": self.general(screening, female),
            "labs": self.labs(screening),
            "organ_function": self.organ(screening),
            "treatment_history": self.history(screening),
            "refractory": {
                "intolerant_or_inadequate_response": self.maybe(self.either(True, False)),
                "effective_doses": self.maybe(self.either(True, False)),
            },
        }
        block = getattr(self, indication.lower())(screening)
        doc[indication.lower()] = block
        return doc

    def general(self, screening: date, female: bool) -> dict:
        r = self.r
        general = {
            "has_reproductive_partner": self.maybe(r.random() < 0.7),
            "contraception_agreed": self.maybe(self.either(True, False, 0.01)),
            "no_gamete_donation_agreed": self.maybe(self.either(True, False, 0.01)),
            "consent_signed": self.maybe(
                {"value": self.either(True, False, 0.01), "date": self.day(screening)}, 0.99
            ),
        }
        if r.random() < 0.5:
            general["expected_survival_months"] = self.either(
                lambda: r.choice([7, 24, 120]), lambda: r.choice([3, 6])
            )
        else:
            general["survival_gt_6_months"] = self.maybe(self.either(True, False, 0.01))
        if female:
            general["childbearing_potential"] = self.maybe(r.random() < 0.7)
            general["sterilised"] = self.maybe(r.random() < 0.1)
            general["menopausal_months"] = self.maybe(r.choice([0, 0, 6, 11, 12, 40]), 0.6)
            general["pregnancy_test"] = self.maybe(
                {
                    "result": self.either("negative", "positive", 0.01),
                    "kind": r.choice(["urine", "blood"]),
                    "date": self.day(screening),
                },
                0.85,
            )
        return general

    def labs(self, screening: date) -> dict:
        r = self.r
        e, n = self.either, self.num
        labs = {
            "anc": self.lab(screening, e(lambda: n(0.5, 6), lambda: n(0.2, 0.49, 2)), "10^9/L")
            if r.random() < 0.8
            else self.lab(screening, e(lambda: r.randint(500, 6000), 300), "/µL"),
            "platelets": self.lab(screening, e(lambda: n(20, 400, 0), 19.9), "×10⁹/L"),
            "haemoglobin": self.lab(screening, e(lambda: n(60, 160, 0), 59), "g/L")
            if r.random() < 0.7
            else self.lab(screening, e(lambda: n(6, 16), 5.9), "g/dL"),
            "inr": self.lab(screening, e(lambda: n(0.8, 1.8, 2), 1.81), "ratio", 1.2),
            "aptt": self.lab(screening, e(lambda: n(25, 54), 55), "s", 36),
            "ast": self.lab(screening, e(lambda: n(10, 120, 0), 121), "U/L", 40),
            "alt": self.lab(screening, e(lambda: n(10, 120, 0), 121), "U/L", 40),
            "total_bilirubin": self.lab(screening, e(lambda: n(3, 31, 0), 32), "µmol/L", 21),
            "creatinine": self.lab(
                screening, e(lambda: n(40, 145, 0), lambda: n(146, 300, 0), 0.1), "µmol/L", 97
            )
            if r.random() < 0.8
            else self.lab(
                screening, e(lambda: n(0.5, 1.6, 2), lambda: n(1.7, 3, 2), 0.1), "mg/dL", 1.1
            ),
            "ck": self.lab(screening, self.num(50, 5000, 0), "U/L", 170),
            "ldh": self.lab(screening, self.num(100, 600, 0), "U/L", 250),
            "aldolase": self.lab(screening, self.num(2, 20), "U/L", 7.6),
        }
        for name in list(labs):
            if r.random() < 0.01:
                del labs[name]
        return labs

    def organ(self, screening: date) -> dict:
        r = self.r
        on = self.day(screening)
        e = self.either
        return {
            "nyha_class": self.maybe({"value": e(lambda: r.choice([1, 2]), 3), "date": on}),
            "lvef_percent": self.maybe(
                {"value": e(lambda: r.choice([50, 55, 62]), 49), "date": on}
            ),
            "pericardial_effusion": self.maybe({"value": e(False, True), "date": on}),
            "ecg_significant_abnormality": self.maybe({"value": e(False, True), "date": on}),
            "spo2_room_air_percent": self.maybe(
                {"value": e(lambda: r.choice([92, 96]), 91), "date": on}
            ),
            "pleural_effusion_significant": self.maybe({"value": e(False, True), "date": on}),
        }

    def episode(self, screening: date, drug: str, dose: dict | None, months: int) -> dict:
        start = screening - timedelta(days=months * 30 + self.r.randint(0, 40))
        episode = {"drug": drug, "start": start.isoformat()}
        if dose is not None:
            episode["dose"] = dose
        if self.r.random() < 0.2:
            end = start + timedelta(days=self.r.randint(30, max(31, months * 30)))
            episode["end"] = min(end, screening).isoformat()
        return episode

    def history(self, screening: date) -> list | None:
        r = self.r
        if r.random() < 0.01:
            return None
        options = [
            ("prednisone", {"value": r.choice([5, 10, 20, 25]), "unit": "mg/day"}),
            ("prednisone", {"value": r.choice([5, 7.5, 10]), "unit": "mg/day"}),
            ("methylprednisolone", {"value": r.choice([4, 8, 16, 24]), "unit": "mg/day"}),
            ("hydroxychloroquine", {"value": r.choice([200, 400, 600]), "unit": "mg/day"}),
            ("mycophenolate_mofetil", {"value": r.choice([1, 2, 3]), "unit": "g/day"}),
            ("azathioprine", {"value": r.choice([50, 100, 150]), "unit": "mg/day"}),
            ("methotrexate", {"value": r.choice([10, 15, 20, 25]), "unit": "mg/week"}),
            ("cyclophosphamide", {"value": 750, "unit": "mg/m2"}),
            ("rituximab", {"value": 1000, "unit": "mg"}),
            ("tacrolimus", None),
            ("nsaid", None),
        ]
        # A glucocorticoid and two immunosuppressants given for long enough, mostly.
        base = [options[0], options[5], options[6], options[7]]
        chosen = base + r.sample(options[1:], r.randint(0, 3))
        return [self.episode(screening, drug, dose, r.randint(7, 30)) for drug, dose in chosen]

    def series(self, screening: date, low: float, high: float, integer: bool = False) -> list:
        r = self.r
        values = []
        for days in sorted(r.sample(range(0, 200), r.randint(1, 3)), reverse=True):
            value = r.randint(int(low), int(high)) if integer else self.num(low, high)
            values.append({"value": value, "date": (screening - timedelta(days=days)).isoformat()})
        return values

    def serology(self, screening: date, p_positive: float) -> dict | None:
        result = "positive" if self.r.random() < p_positive else "negative"
        return self.maybe({"result": result, "date": self.day(screening)})

    def sle(self, screening: date) -> dict:
        r = self.r
        return {
            "eular_acr_2019_met": self.maybe(r.random() < 0.95),
            "ana": self.maybe({"titre": r.choice(["negative", "1:40", "1:80", "1:320"]), "date": self.day(screening)}),
            "anti_dsdna": self.serology(screening, 0.6),
            "anti_sm": self.serology(screening, 0.3),
            "sledai_2k": self.maybe({"date": self.day(screening), "descriptors": ["arthritis", "rash"] + r.sample(SLEDAI[4:9] + SLEDAI[11:], r.randint(0, 4))}),
            "active_since": self.maybe((screening - timedelta(days=r.randint(10, 400))).isoformat()),
        }  # fmt: skip

    def dcssc(self, screening: date) -> dict:
        r = self.r
        return {
            "eular_acr_2013_met": self.maybe(r.random() < 0.95),
            "leroy_diffuse_cutaneous": self.maybe(r.random() < 0.9),
            "ild_present": self.maybe(r.random() < 0.85),
            "ild_diagnosed_on": self.maybe((screening - timedelta(days=r.randint(30, 1500))).isoformat()),
            "fvc_percent_predicted": self.series(screening, 40, 90),
            "dlco_percent_predicted": self.series(screening, 30, 90),
            "mrss": self.series(screening, 10, 40, integer=True),
            "response_to_conventional_treatment": self.maybe(
                self.either(lambda: r.choice(["ineffective", "relapsed_after_remission"]), "sustained_remission")
            ),
        }  # fmt: skip

    def aav(self, screening: date) -> dict:
        r = self.r
        assessments = []
        for days in sorted(r.sample(range(0, 400), r.randint(1, 5)), reverse=True):
            items = [
                {"item": f"item {n}", "major": r.random() < 0.3, "new": r.random() < 0.6}
                for n in range(r.choice([0, 0, 1, 2, 3, 4]))
            ]
            assessments.append(
                {"date": (screening - timedelta(days=days)).isoformat(), "items": items}
            )
        achieved = r.random() < 0.6
        response: dict = {"achieved": achieved}
        if achieved:
            response.update(
                date=(screening - timedelta(days=r.randint(100, 500))).isoformat(),
                bvas=r.choice([0, 0, 0, 1]),
                glucocorticoid={
                    "drug": "prednisone",
                    "dose": {"value": r.choice([5, 7.5, 10]), "unit": "mg/day"},
                },
            )
        return {
            "chcc_2012_diagnosis": self.maybe(self.either(lambda: r.choice(["GPA", "MPA"]), "EGPA")),
            "anca": {"pr3": self.serology(screening, 0.7), "mpo": self.serology(screening, 0.7)},
            "bvas_assessments": assessments,
            "response": self.maybe(response),
        }  # fmt: skip

    def iim(self, screening: date) -> dict:
        r = self.r
        on = self.day(screening)
        if r.random() < 0.5:
            mmt8 = {"date": on, "total": r.randint(100, 150)}
        else:
            scores: dict = {"neck_flexors": r.randint(5, 10)}
            for group in MMT8_BILATERAL:
                scores[group] = {"left": r.randint(5, 10), "right": r.randint(5, 10)}
            mmt8 = {"date": on, "scores": scores}
        categories = [
            "dressing_grooming",
            "arising",
            "eating",
            "walking",
            "hygiene",
            "reach",
            "grip",
            "activities",
        ]
        haq = (
            {"date": on, "value": r.choice([0, 0.125, 0.25, 1.5])}
            if r.random() < 0.5
            else {"date": on, "categories": {c: r.randint(0, 2) for c in categories}}
        )
        return {
            "classification_probability_percent": self.maybe(self.either(lambda: r.choice([55, 80, 95]), 54.9)),
            "subtype": self.maybe(self.either(lambda: r.choice(["DM", "PM", "IMNM"]), "IBM")),
            "mmt8": self.maybe(mmt8),
            "patient_global_vas": self.maybe({"value": self.num(0, 10), "date": on}),
            "physician_global_vas": self.maybe({"value": self.num(0, 10), "date": on}),
            "extramuscular_vas": self.maybe({"value": self.num(0, 10), "date": on}),
            "haq_di": self.maybe(haq),
        }  # fmt: skip

    def ss(self, screening: date) -> dict:
        r = self.r
        on = self.day(screening)
        domains = {d: r.choice(levels) for d, levels in ESSDAI_LEVELS.items() if r.random() < 0.95}
        return {
            "acr_eular_2016_met": self.maybe(r.random() < 0.95),
            "anti_ro_ssa": self.serology(screening, 0.8),
            "stimulated_whole_saliva_ml_per_min": self.maybe({"value": r.choice([0.03, 0.049, 0.05, 0.2]), "date": on}),
            "unstimulated_whole_saliva_ml_per_min": self.maybe({"value": r.choice([0.005, 0.0099, 0.01, 0.05]), "date": on}),
            "essdai": self.maybe({"date": on, "domains": domains}),
        }  # fmt: skip


def generate(count: int, seed: int) -> list[dict]:
    generator = Generator(seed)
    return [generator.document(i) for i in range(count)]


def best_rate(label: str, work, items: list, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for item in items:
            work(item)
        best = min(best, time.perf_counter() - start)
    rate = len(items) / best
    print(f"{label:<44} {rate:>9,.0f} evaluations/s  ({best * 1e6 / len(items):.0f} µs each)")
    return rate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20260301)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core

    docs = generate(args.count, args.seed)
    invalid = [(i, errors) for i, doc in enumerate(docs) if (errors := validate_facts(doc))]
    if invalid:
        index, errors = invalid[0]
        print(f"{len(invalid)} generated documents are invalid; #{index}: {errors[:3]}")
        return 1
    facts = [parse_facts(doc) for doc in docs]
    outcomes = Counter((e.indication, e.overall.value) for e in map(evaluate, facts))
    print(f"{args.count} documents, seed {args.seed}, all valid; outcomes:")
    for indication in INDICATIONS:
        counts = ", ".join(
            f"{overall} {outcomes[(indication, overall)]}"
            for overall in ("eligible", "ineligible", "incomplete")
        )
        print(f"  {indication:<6} {counts}")

    engine = best_rate("engine: evaluate(Facts)", evaluate, facts, args.repeat)
    best_rate("end to end: evaluate(doc) incl. validation", evaluate, docs, args.repeat)
    best_rate("end to end + to_dict()", lambda doc: evaluate(doc).to_dict(), docs, args.repeat)
    target = 5000
    print(f"target {target:,}/s for the engine: {'met' if engine >= target else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
