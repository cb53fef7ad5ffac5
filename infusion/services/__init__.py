"""Every clinical action on an MSC episode: one function each, keyword-only.

Each function checks who may do it and whether the episode/order is in a state that
allows it, writes, records the audit event(s) with old and new values and the reason,
re-syncs the episode's reminders and enqueues background work after commit — all in one
transaction. Refusals raise `ActionRefused` (a message for the user) or
`PermissionDenied` (a role or ward that may not act at all). Views only translate HTTP to
these calls: ``from infusion import services; services.order_verify(...)``.

One module per family of actions; this package re-exports their public API:

- `episodes`: plan preview, open, change, cancel an episode; the generated orders kept in
  step with the plan; the follow-up (B-REP-1); C-OVR-1 candidacy and B-AP-1 overrides.
- `consent`: the informed consent record (B-CONSENT-1).
- `orders`: sign, verify (C-VERIFY-1), check overrides, the cold-chain deviation
  (B-ADM-1), reject, cancel, edit, administer (C-MAR-1, B-AP-1), complete.
- `cyclophosphamide`: the 48 h hold after an infusion (B-CYC-1, C-CYC-2), the
  pre-conditioning warning (B-PRE-1), the cyclophosphamide order.
- `bedside`: the nurse's chart: received, out of the refrigerator (B-ADM-2), start
  (B-ADM-1), rate steps (B-ADM-4), end, vital signs (B-ADM-5).
- `reactions`: adverse reactions and serious adverse event reports (B-ADM-5).
- `_common`: the refusals, the shared checks (permission, ward, password, C-TIME-1 times,
  required texts and lengths), row locks, signatures and order transitions, the audited
  override and supersede helpers, and `_enqueue` (a Celery task by name, after commit).

Nothing here imports `infusion.views` or `infusion.tasks` at module level: tasks are
enqueued by name once the transaction commits.
"""

from ._common import ORDER_AUDIT_FIELDS, ActionRefused, InvalidPlanInput, _check_time
from .bedside import (
    EARLY_END_TOLERANCE,
    INITIAL_PHASE_MIN,
    INITIAL_RATE_MAX_ML_PER_MIN,
    RATE_MAX_ML_PER_MIN,
    StartResult,
    infusion_end,
    infusion_rate_step,
    infusion_record_out_of_fridge,
    infusion_record_received,
    infusion_start,
    vitals_record,
)
from .consent import CONSENT_AUDIT_FIELDS, SCAN_TYPES, consent_of, consent_record
from .cyclophosphamide import (
    CycCheck,
    CycEarly,
    CycStopped,
    cyclophosphamide_order_check,
    cyclophosphamide_order_create,
)
from .episodes import (
    CANDIDACY_RULES,
    EPISODE_AUDIT_FIELDS,
    FOLLOW_UP_FIELDS,
    REPEAT_OVERRIDE_STATUSES,
    SECOND_SIGNATURE_RULES,
    DuplicateEpisode,
    PlanPreview,
    episode_cancel,
    episode_follow_up_record,
    episode_open,
    episode_preview,
    episode_update,
)
from .orders import (
    COLD_CHAIN_DEVIATION_MAX_HOURS,
    ChecksFailed,
    check_override,
    cold_chain_deviation_record,
    cold_chain_viability_confirm,
    live_cold_chain_deviation,
    order_administer,
    order_cancel,
    order_complete,
    order_edit,
    order_reject,
    order_sign,
    order_verify,
    orders_sign_all,
    orders_verify,
)
from .reactions import adverse_reaction_record, sae_report

__all__ = [
    # _common
    "ORDER_AUDIT_FIELDS",
    "ActionRefused",
    "InvalidPlanInput",
    "_check_time",  # C-TIME-1 for infusion.mar's dose records
    # episodes
    "CANDIDACY_RULES",
    "EPISODE_AUDIT_FIELDS",
    "FOLLOW_UP_FIELDS",
    "REPEAT_OVERRIDE_STATUSES",
    "SECOND_SIGNATURE_RULES",
    "DuplicateEpisode",
    "PlanPreview",
    "episode_cancel",
    "episode_follow_up_record",
    "episode_open",
    "episode_preview",
    "episode_update",
    # consent
    "CONSENT_AUDIT_FIELDS",
    "SCAN_TYPES",
    "consent_of",
    "consent_record",
    # orders
    "COLD_CHAIN_DEVIATION_MAX_HOURS",
    "ChecksFailed",
    "check_override",
    "cold_chain_deviation_record",
    "cold_chain_viability_confirm",
    "live_cold_chain_deviation",
    "order_administer",
    "order_cancel",
    "order_complete",
    "order_edit",
    "order_reject",
    "order_sign",
    "order_verify",
    "orders_sign_all",
    "orders_verify",
    # cyclophosphamide
    "CycCheck",
    "CycEarly",
    "CycStopped",
    "cyclophosphamide_order_check",
    "cyclophosphamide_order_create",
    # bedside
    "EARLY_END_TOLERANCE",
    "INITIAL_PHASE_MIN",
    "INITIAL_RATE_MAX_ML_PER_MIN",
    "RATE_MAX_ML_PER_MIN",
    "StartResult",
    "infusion_end",
    "infusion_rate_step",
    "infusion_record_out_of_fridge",
    "infusion_record_received",
    "infusion_start",
    "vitals_record",
    # reactions
    "adverse_reaction_record",
    "sae_report",
]
