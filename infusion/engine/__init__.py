"""MSC infusion protocol engine for SLE (pure Python; no Django, no database, no clock).

Implements Part B of ``shared/clinical-rules.md`` — the Chinese Rheumatology Association
expert consensus on allogeneic mesenchymal stem cells for SLE (2021) — as pure functions
over frozen dataclasses. Every verdict is a ``Finding`` carrying its rule ID (``B-…``),
the consensus recommendation and GRADE grade (``"R7, 2C"``), a status, a severity and a
one-line English reason with a translatable template (``gettext_noop``) and its params.

The Django layer calls it through thin wrappers, one call each: the JSON API
``POST /api/infusion/plan`` (``infusion/api.py``, body per
``infusion/schema/plan-input.schema.json``) and ``manage.py infusion_plan input.json
[--json]`` use ``plan_from_json(raw) -> (plan, errors)``, which never raises on bad
input; the ward's episode services build the document from the record
(``infusion/inputs.py``) and call ``plan_from_document``.

From an already-decoded document use ``plan_from_document(doc)`` (same return), or the
parts: ``validate_plan_input(doc) -> list[FieldError]``, ``parse_plan_input(doc) ->
PlanInput`` and ``build_plan(inputs, settings=ProtocolSettings()) -> InfusionPlan``.
Ward settings go in ``ProtocolSettings`` (validated on construction). A worked example
is in ``docs/examples/infusion/``.

The rule functions can also be called one by one: ``assess_candidacy``, ``dose_check``,
``route_plan``, ``release_check``, ``consent_check``, ``site_check``,
``check_infusion_window``, ``check_out_of_fridge``, ``rate_plan``, ``premedication``, ``antiplatelet_course``, ``cyc_allowed_at``,
``follow_up_plan``, ``repeat_infusion_eligibility``. Datetimes must be timezone-aware
(``NaiveDatetimeError`` otherwise); clinical numbers are ``Decimal`` or ``int``.
"""

from .candidacy import CandidacyInput, CandidacyResult, OrganInvolvement, assess_candidacy
from .cold_chain import (
    ColdChainCheck,
    check_infusion_window,
    check_out_of_fridge,
    cold_chain_window,
    end_status,
    room_temperature_window,
)
from .contract import (
    FieldError,
    PlanInputError,
    parse_plan_input,
    plan_from_document,
    plan_from_json,
    plan_input_schema,
    validate_plan_input,
)
from .dose import BodyWeight, DoseResult, RouteResult, dose_check, preconditioning_check, route_plan
from .findings import Finding
from .follow_up import (
    FollowUpItem,
    PriorInfusion,
    RepeatEligibility,
    follow_up_plan,
    repeat_infusion_eligibility,
)
from .i18n import gettext_noop
from .medication import (
    AntiplateletPlan,
    CycDecision,
    PlateletCount,
    antiplatelet_course,
    continuing_medication,
    cyc_allowed_at,
    cyclophosphamide_hold,
    monitoring_instructions,
    premedication,
)
from .plan import (
    InfusionPlan,
    OrderInput,
    PatientInput,
    PlanInput,
    ProductInput,
    TimelineEvent,
    build_plan,
)
from .prerequisites import ConsentInput, consent_check, site_check
from .protocol_settings import DEFAULT_SETTINGS, ProtocolSettings, ProtocolSettingsError
from .rate_plan import MAX_FEASIBLE_VOLUME_ML, RatePhase, RatePlan, rate_plan
from .release import CertificateOfAnalysis, QcItem, ReleaseResult, release_check
from .rules import RECOMMENDATIONS, RULES, Rule, rule_citation
from .text import plan_to_text
from .timeutil import NaiveDatetimeError

__all__ = [
    "DEFAULT_SETTINGS",
    "MAX_FEASIBLE_VOLUME_ML",
    "RECOMMENDATIONS",
    "RULES",
    "AntiplateletPlan",
    "BodyWeight",
    "CandidacyInput",
    "CandidacyResult",
    "CertificateOfAnalysis",
    "ColdChainCheck",
    "ConsentInput",
    "CycDecision",
    "DoseResult",
    "FieldError",
    "Finding",
    "FollowUpItem",
    "InfusionPlan",
    "NaiveDatetimeError",
    "OrderInput",
    "OrganInvolvement",
    "PatientInput",
    "PlanInput",
    "PlanInputError",
    "PlateletCount",
    "PriorInfusion",
    "ProductInput",
    "ProtocolSettings",
    "ProtocolSettingsError",
    "QcItem",
    "RatePhase",
    "RatePlan",
    "ReleaseResult",
    "RepeatEligibility",
    "RouteResult",
    "Rule",
    "TimelineEvent",
    "antiplatelet_course",
    "assess_candidacy",
    "build_plan",
    "check_infusion_window",
    "check_out_of_fridge",
    "cold_chain_window",
    "consent_check",
    "end_status",
    "continuing_medication",
    "cyc_allowed_at",
    "cyclophosphamide_hold",
    "dose_check",
    "follow_up_plan",
    "gettext_noop",
    "monitoring_instructions",
    "parse_plan_input",
    "plan_from_document",
    "plan_from_json",
    "plan_input_schema",
    "plan_to_text",
    "preconditioning_check",
    "premedication",
    "rate_plan",
    "release_check",
    "repeat_infusion_eligibility",
    "room_temperature_window",
    "route_plan",
    "rule_citation",
    "site_check",
    "validate_plan_input",
]
