"""Follow-up after the infusion (B-FU-1..4, §4.2) and repeat infusion (B-REP-1, §3.9).

The consensus names what to follow and when effects appear, not a calendar. Our schedule
(D = the infusion day in the ward time zone; "n months" = same day of the month, clamped):

- B-FU-2 blood count at D + 7 (window D + 5 … D + 9): cytopenia responds within ~1 week;
- B-FU-2 blood count, liver and renal function, 24 h urine protein at 1 and 3 months
  (window ± 7 days): proteinuria and renal function respond within 1–3 months;
- B-FU-2 ultrasound of the involved organs, and blood count, liver and renal function and
  24 h urine protein again, at 6 months (± 14 days) with haematological, renal or hepatic
  involvement (issue 19: hepatic involvement is recorded; liver function is in the 1- and
  3-month labs of every patient);
- B-FU-1 SLEDAI, BILAG, physician global assessment, organ function, autoantibody
  titres, complement and Treg cells at ``settings.assessment_months`` (default 1, 3, 6,
  12 months; window ± 7 days up to 3 months, ± 14 days after);
- B-FU-3 echocardiogram and chest CT at 6 months (window 6 … 7 months) with cardiac or
  pulmonary involvement or pulmonary hypertension (a grade, or a PASP above normal);
- B-FU-3 repeat renal biopsy between 6 and 12 months with renal involvement (lupus
  nephritis);
- B-FU-4 maintenance review at the 3-month visit: low-dose glucocorticoid plus a tapering
  immunosuppressant; if the response is poor, choose another therapy;
- B-REP-1 from 6 months: watch for relapse (repeat infusion possible after a response).
"""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from .candidacy import OrganInvolvement
from .findings import Finding, Serializable, make_finding
from .i18n import gettext_noop
from .protocol_settings import DEFAULT_SETTINGS, ProtocolSettings
from .rules import RULES
from .timeutil import add_months


@dataclass(frozen=True)
class FollowUpItem(Serializable):
    kind: str
    rule_id: str
    title: str
    title_template: str
    title_params: dict[str, str]
    due_date: date
    window_start: date
    window_end: date

    @property
    def recommendation(self) -> str | None:
        return RULES[self.rule_id].recommendation

    @property
    def grade(self) -> str | None:
        return RULES[self.rule_id].grade

    def _extra_dict(self) -> dict[str, Any]:
        return {"recommendation": self.recommendation, "grade": self.grade}


def _item(
    kind: str,
    rule_id: str,
    template: str,
    due: date,
    start: date,
    end: date,
    params: dict[str, str] | None = None,
) -> FollowUpItem:
    params = params or {}
    return FollowUpItem(
        kind=kind,
        rule_id=rule_id,
        title=template % params,
        title_template=template,
        title_params=params,
        due_date=due,
        window_start=start,
        window_end=end,
    )


def follow_up_plan(
    infusion_date: date,
    involvement: OrganInvolvement,
    *,
    pulmonary_hypertension: str | None = None,
    pasp_elevated: bool = False,
    settings: ProtocolSettings = DEFAULT_SETTINGS,
) -> tuple[FollowUpItem, ...]:
    d = infusion_date
    week = timedelta(days=7)
    items = [
        _item(
            "blood_count_week_1",
            "B-FU-2",
            gettext_noop("Blood count (cytopenia responds within about 1 week)"),
            d + week,
            d + timedelta(days=5),
            d + timedelta(days=9),
        )
    ]
    for months in (1, 3):
        due = add_months(d, months)
        items.append(
            _item(
                f"labs_month_{months}",
                "B-FU-2",
                gettext_noop(
                    "Month %(months)s: blood count, liver and renal function, 24 h urine protein "
                    "(proteinuria and renal function respond within 1–3 months)"
                ),
                due,
                due - week,
                due + week,
                {"months": str(months)},
            )
        )
    for months in settings.assessment_months:
        due = add_months(d, months)
        margin = week if months <= 3 else timedelta(days=14)
        items.append(
            _item(
                f"assessment_month_{months}",
                "B-FU-1",
                gettext_noop(
                    "Month %(months)s: SLEDAI, BILAG and physician global assessment; organ "
                    "function, autoantibody titres, complement, Treg cells"
                ),
                due,
                max(due - margin, d + timedelta(days=1)),
                due + margin,
                {"months": str(months)},
            )
        )
    three = add_months(d, 3)
    items.append(
        _item(
            "maintenance_review",
            "B-FU-4",
            gettext_noop(
                "Maintenance: low-dose glucocorticoid plus a tapering immunosuppressant; if the "
                "response is poor, choose another therapy"
            ),
            three,
            three - week,
            three + week,
        )
    )
    six = add_months(d, 6)
    organs = involvement.involved("haematological", "renal", "hepatic")
    if organs:
        items.append(
            _item(
                "organ_ultrasound_month_6",
                "B-FU-2",
                gettext_noop("Ultrasound of the involved organs (%(organs)s)"),
                six,
                six - timedelta(days=14),
                six + timedelta(days=14),
                {"organs": ", ".join(organs)},
            )
        )
        # §4.2 "定期复查": regularly, not only in the first 3 months; the 6-month labs go
        # with the 6-month ultrasound (our schedule; the source gives no calendar).
        items.append(
            _item(
                "labs_month_6",
                "B-FU-2",
                gettext_noop(
                    "Month 6: blood count, liver and renal function, 24 h urine protein "
                    "(%(organs)s involvement)"
                ),
                six,
                six - timedelta(days=14),
                six + timedelta(days=14),
                {"organs": ", ".join(organs)},
            )
        )
    cardiopulmonary = (
        involvement.cardiac is True
        or involvement.pulmonary is True
        or pulmonary_hypertension in ("mild", "moderate", "severe")
        or pasp_elevated
    )
    if cardiopulmonary:
        items.append(
            _item(
                "echo_chest_ct_month_6",
                "B-FU-3",
                gettext_noop("Echocardiogram and chest CT (cardiac or pulmonary involvement)"),
                six,
                six,
                add_months(d, 7),
            )
        )
    if involvement.renal is True:
        items.append(
            _item(
                "renal_biopsy",
                "B-FU-3",
                gettext_noop(
                    "Repeat renal biopsy (lupus nephritis), 6–12 months after the infusion"
                ),
                six,
                six,
                add_months(d, 12),
            )
        )
    items.append(
        _item(
            "relapse_watch",
            "B-REP-1",
            gettext_noop(
                "Watch for relapse (often after about 6 months): if the infusion was effective, a "
                "repeat infusion may be considered"
            ),
            six,
            six,
            add_months(d, 12),
        )
    )
    return tuple(sorted(items, key=lambda i: (i.due_date, i.kind)))


# --- Repeat infusion -------------------------------------------------------------------


@dataclass(frozen=True)
class PriorInfusion(Serializable):
    infusion_date: date | None = None
    response: bool | None = None  # documented response to the previous infusion
    response_date: date | None = None
    relapse: bool | None = None
    relapse_date: date | None = None


@dataclass(frozen=True)
class RepeatEligibility(Serializable):
    status: str  # eligible | not_eligible | unknown
    finding: Finding


def repeat_infusion_eligibility(prior: PriorInfusion) -> RepeatEligibility:
    """B-REP-1 (R10, 2B): a repeat infusion needs a documented response, then a relapse."""

    def result(
        status: str, severity: str, template: str, params=None, missing=()
    ) -> RepeatEligibility:
        return RepeatEligibility(
            status, make_finding("B-REP-1", status, severity, template, params, missing=missing)
        )

    if prior.response is False:
        return result(
            "not_eligible",
            "block",
            gettext_noop(
                "No response to the previous infusion: a repeat infusion is not indicated; choose "
                "another therapy."
            ),
        )
    if prior.response is None or prior.response_date is None:
        return result(
            "unknown",
            "unknown",
            gettext_noop("Response to the previous infusion not documented with a date."),
            missing=("patient.prior_infusion.response_date",),
        )
    if prior.relapse is False:
        return result(
            "not_eligible",
            "block",
            gettext_noop(
                "Response on %(response)s and no relapse recorded: a repeat infusion is for relapse."
            ),
            {"response": prior.response_date},
        )
    if prior.relapse is None or prior.relapse_date is None:
        return result(
            "unknown",
            "unknown",
            gettext_noop("Relapse after the response on %(response)s not documented with a date."),
            {"response": prior.response_date},
            missing=("patient.prior_infusion.relapse_date",),
        )
    params = {
        "response": prior.response_date,
        "relapse": prior.relapse_date,
        "infusion": prior.infusion_date,
    }
    if prior.infusion_date is not None and prior.response_date < prior.infusion_date:
        return result(
            "not_eligible",
            "block",
            gettext_noop(
                "Response dated %(response)s is before the previous infusion on %(infusion)s."
            ),
            params,
        )
    if prior.relapse_date <= prior.response_date:
        return result(
            "not_eligible",
            "block",
            gettext_noop(
                "Relapse dated %(relapse)s is not after the response on %(response)s: a repeat "
                "infusion needs a relapse after a response."
            ),
            params,
        )
    return result(
        "eligible",
        "info",
        gettext_noop(
            "Response on %(response)s, relapse on %(relapse)s: a repeat infusion may be given."
        ),
        params,
    )
