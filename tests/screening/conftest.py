"""Fixtures for the screening app's Django tests (not the pure engine's).

Time is frozen (ticking) at 2026-03-02 10:00 in the ward's zone; the default patient
(born 1990-05-17, female) is 35. Reference ranges are per lab and sex, as in the demo.
"""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings

from core.models import ReferenceRange
from tests.factories import add_lab, add_weight

TZ = ZoneInfo(settings.TIME_ZONE)
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=TZ)
TODAY = NOW.date()
LAB = "Hospital central lab"

RANGES = [
    ("inr", "", "ratio", "1.2"),
    ("aptt", "", "s", "35"),
    ("ast", "", "U/L", "35"),
    ("alt", "", "U/L", "40"),
    ("bilirubin", "", "umol/L", "20.5"),
    ("creatinine", "F", "umol/L", "84"),
    ("creatinine", "M", "umol/L", "104"),
    ("ck", "F", "U/L", "200"),
    ("ck", "M", "U/L", "310"),
    ("ldh", "", "U/L", "250"),
    ("aldolase", "", "U/L", "7.6"),
]
NORMAL_LABS = [
    ("anc", "3.2", "10^9/L"),
    ("platelets", "210", "10^9/L"),
    ("haemoglobin", "118", "g/L"),
    ("inr", "1.0", "ratio"),
    ("aptt", "30", "s"),
    ("ast", "24", "U/L"),
    ("alt", "21", "U/L"),
    ("bilirubin", "11", "umol/L"),
    ("creatinine", "66", "umol/L"),
]


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


@pytest.fixture
def ranges(db):
    return [
        ReferenceRange.objects.create(
            lab=LAB, analyte=a, sex=sex, unit=unit, upper=Decimal(upper), lower=Decimal(0)
        )
        for a, sex, unit, upper in RANGES
    ]


@pytest.fixture
def labs(frozen, ranges, patient, nurse):
    """Normal labs and a weight three days before the screening."""
    when = NOW - timedelta(days=3)
    for analyte, value, unit in NORMAL_LABS:
        add_lab(patient, nurse, analyte, value, unit, when=when, lab=LAB)
    add_weight(patient, nurse, "58.5", when=when)
    return patient


def days_ago(n):
    return (TODAY - timedelta(days=n)).isoformat()


def eligible_sle_facts(base):
    """A complete eligible SLE document on top of a prefilled one (labs from the record)."""
    from screening.demo import sle_facts

    return sle_facts(base, TODAY, "F")


def start(user, patient, indication="SLE"):
    from screening import services

    return services.screening_start(actor=user, patient=patient, indication=indication)


def complete(screening, user):
    from screening import services

    screening, _saved = services.screening_save_draft(
        actor=user, screening=screening, facts=eligible_sle_facts(screening.facts)
    )
    return screening


def form_data(screening, **changes):
    """What the browser posts: every input of the rendered form with its value, then
    ``changes`` (input name -> value, a list for checkbox groups, None to clear)."""
    from screening.evaluation import window_days
    from screening.fields import bind

    data = {}
    for _section, groups in bind(
        screening.indication,
        screening.facts,
        invalid_inputs=screening.invalid_inputs,
        window_days=window_days(screening.screening_date),
    ):
        for b in groups:
            for line in b.lines:
                for i in line.inputs:
                    if i.widget == "readonly":
                        continue
                    if i.widget == "checkbox":
                        if i.checked:
                            data.setdefault(i.name, []).append(i.value)
                    else:
                        data[i.name] = i.value
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


HTMX = {"HTTP_HX_REQUEST": "true"}
