"""The checks a pharmacist's verification must pass (C-VERIFY-1), as one pure function.

``verification_checks(VerificationInput) -> tuple[VerificationCheck, ...]`` gives one
check per concern of the episode — candidacy, consent, product release and its issuer,
dose per kg, cold chain, premedication, antiplatelet course, cyclophosphamide near the
infusion — each ``passed``, ``attention`` (shown, never blocking), ``failed`` (blocks
until overridden: a reason and a second physician's signature) or ``refused`` (blocks; no
override can lift it, the order or the record must be corrected).

``blocking(checks, overridden)`` is what stops ``order_verify``: the refused checks, and
the failed ones whose current values no override covers. An override covers a check's
``values`` exactly (``values_key``), so a changed dose or certificate needs a new one.

Which failures are overridable (the product's reading of Part C, written down in
docs/notes/infusion.md):

- refused, never overridable: a product not released (B-QC-1…5: a pending certificate
  is completed, a rejected product is never infused), a dose above 5 × 10⁶/kg or above
  the certificate's measured count (C-DOSE-1), a planned end after the cold-chain hard
  limit or unknown (B-ADM-1), no consent record (B-CONSENT-1), no certificate issuer
  (B-SITE-1), cyclophosphamide inside the 48 h hold without its own two-physician
  override (B-CYC-1, C-CYC-2);
- failed, overridable: a dose outside (1–2) × 10⁶/kg (C-DOSE-1), no dexamethasone order
  (B-PREMED-1), no antiplatelet course for a patient not on long-term antiplatelets
  (B-AP-1), an antiplatelet course ordered although the platelets are below the ward's
  floor (B-AP-1, C-OVR-1), a product not re-tested by a third party (B-SITE-1), a candidacy that is not
  recommended or incomplete, or a repeat infusion the engine does not find eligible
  (C-OVR-1: the override recorded when the episode was opened).
"""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from decimal import Decimal
from fractions import Fraction
from typing import Any

from .cold_chain import end_status
from .dose import CELLS_PER_KG_HARD_MAX, CELLS_PER_KG_MAX, CELLS_PER_KG_MIN, per_kg_rounded
from .findings import Serializable, format_param
from .i18n import gettext_noop

PASSED, ATTENTION, FAILED, REFUSED = "passed", "attention", "failed", "refused"


# Each check's label (English, for gettext), by its key.
CHECK_LABELS = {
    "candidacy": gettext_noop("Candidacy"),
    "consent": gettext_noop("Informed consent"),
    "release": gettext_noop("Product release (certificate of analysis)"),
    "site": gettext_noop("Certificate issuer and third-party re-test"),
    "dose": gettext_noop("Dose per kg"),
    "cold_chain": gettext_noop("Cold chain"),
    "premedication": gettext_noop("Dexamethasone premedication"),
    "antiplatelet": gettext_noop("Antiplatelet course"),
    "infusion_set": gettext_noop("Infusion set"),
    "cyc_window": gettext_noop("Cyclophosphamide near the infusion"),
}


@dataclass(frozen=True)
class CycNearInfusion(Serializable):
    """A cyclophosphamide order of the patient near this infusion."""

    order_id: int
    scheduled_at: datetime
    in_hold: bool  # inside the B-CYC-1 48 h after this infusion
    hold_override: bool  # co-signed by a second physician (B-CYC-1, C-CYC-2)


@dataclass(frozen=True)
class VerificationInput(Serializable):
    candidacy_overall: str  # recommended | allowed_with_notice | not_recommended | incomplete
    repeat_status: str | None  # B-REP-1: eligible | not_eligible | unknown | None (first)
    consent_recorded: bool
    release_status: str  # released | pending | rejected
    certificate_issuer: str | None
    third_party_retest: bool | None
    weight_kg: Decimal
    dose_cells: int | None
    certified_cells: int | None  # the certificate's measured count
    planned_end: datetime | None
    cold_chain_late_from: datetime
    cold_chain_must_complete_by: datetime
    has_dexamethasone: bool
    has_antiplatelet: bool
    long_term_antiplatelet: bool
    cyclophosphamide: tuple[CycNearInfusion, ...] = ()
    infusion_volume_ml: Decimal | None = None  # the MSC order's volume (B-ADM-3 reminder)
    consent_on: date | None = None  # B-CONSENT-1: the day, who gave it, the form version
    consent_by: str | None = None  # "patient" | "relative"
    consent_version: str | None = None
    display_zone: tzinfo | None = None  # times in reasons are shown in this zone
    # B-AP-1 (issue 19): the plan found the platelets below the ward's hard floor.
    antiplatelet_below_floor: bool = False


def _when(value: datetime, zone: tzinfo | None) -> str:
    return (value.astimezone(zone) if zone else value).strftime("%m-%d %H:%M")


@dataclass(frozen=True)
class VerificationCheck(Serializable):
    key: str
    rule_ids: tuple[str, ...]
    status: str  # passed | attention | failed | refused
    label: str  # English template, gettext_noop
    reason_template: str  # English template, gettext_noop, %-formatted with reason_params
    reason_params: dict[str, str]
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        return self.reason_template % self.reason_params

    @property
    def blocks(self) -> bool:
        return self.status in (FAILED, REFUSED)

    @property
    def overridable(self) -> bool:
        return self.status == FAILED

    @property
    def values_key(self) -> str:
        return values_key(self.key, self.values)

    @property
    def rules(self) -> str:
        return ", ".join(self.rule_ids)


def values_key(check_key: str, values: dict[str, Any]) -> str:
    """The hash an override binds to: the check and the values it was overridden for."""
    canonical = json.dumps(
        {"check": check_key, "values": values}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _check(key, rule_ids, status, label, template, params=None, values=None):
    str_params = {k: format_param(v) for k, v in (params or {}).items()}
    # None stays null in the values an override binds to ("unknown" is a value of its own).
    values = {
        k: None if v is None else format_param(v) for k, v in (values or params or {}).items()
    }
    return VerificationCheck(key, tuple(rule_ids), status, label, template, str_params, values)


def _e6(cells: int | Fraction) -> str:
    value = Fraction(cells) / 1_000_000
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return format(exact.quantize(Decimal("0.01")).normalize(), "f")


def candidacy_check(candidacy_overall: str, repeat_status: str | None) -> VerificationCheck:
    """C-OVR-1: a candidacy that is not recommended or incomplete, or a repeat infusion the
    engine does not find eligible (B-REP-1), proceeds only with a reason and a second
    physician's signature (recorded when the episode is opened or changed)."""
    label = CHECK_LABELS["candidacy"]
    values = {"candidacy": candidacy_overall, "repeat": repeat_status}
    params = {"candidacy": candidacy_overall, "repeat": repeat_status or "n/a"}
    if candidacy_overall in ("not_recommended", "incomplete") or repeat_status in (
        "not_eligible",
        "unknown",
    ):
        rules = (
            ("C-OVR-1", "B-REP-1") if repeat_status in ("not_eligible", "unknown") else ("C-OVR-1",)
        )
        return _check(
            "candidacy",
            rules,
            FAILED,
            label,
            gettext_noop(
                "Candidacy %(candidacy)s, repeat infusion %(repeat)s: proceeds only with a "
                "reason and a second physician's signature (C-OVR-1)."
            ),
            params,
            values,
        )
    return _check(
        "candidacy",
        ("B-IND-1",),
        PASSED,
        label,
        gettext_noop("Candidacy %(candidacy)s, repeat infusion %(repeat)s."),
        params,
        values,
    )


def _consent(data: VerificationInput) -> VerificationCheck:
    label = CHECK_LABELS["consent"]
    if data.consent_recorded:
        if data.consent_on is None:
            return _check(
                "consent", ("B-CONSENT-1",), PASSED, label, gettext_noop("Consent recorded.")
            )
        return _check(
            "consent",
            ("B-CONSENT-1",),
            PASSED,
            label,
            gettext_noop("Recorded %(date)s (%(who)s), form %(version)s."),
            {"date": data.consent_on, "who": data.consent_by, "version": data.consent_version},
        )
    return _check(
        "consent",
        ("B-CONSENT-1",),
        REFUSED,
        label,
        gettext_noop("No consent recorded: record the informed consent first (B-CONSENT-1)."),
    )


def _release(data: VerificationInput) -> VerificationCheck:
    label = CHECK_LABELS["release"]
    params = {"status": data.release_status}
    if data.release_status == "released":
        return _check(
            "release", ("B-QC-1", "B-QC-4"), PASSED, label, gettext_noop("Released."), params
        )
    if data.release_status == "rejected":
        template = gettext_noop(
            "Rejected: a quality test failed; this product must not be infused (B-QC-1…5)."
        )
    else:
        template = gettext_noop(
            "Pending: the certificate is incomplete; complete it before verification (B-QC-1…5)."
        )
    return _check("release", ("B-QC-1", "B-QC-5"), REFUSED, label, template, params)


def _site(data: VerificationInput) -> VerificationCheck:
    label = CHECK_LABELS["site"]
    issuer = (data.certificate_issuer or "").strip()
    params = {"issuer": issuer or None, "third_party": data.third_party_retest}
    if not issuer:
        return _check(
            "site",
            ("B-SITE-1",),
            REFUSED,
            label,
            gettext_noop("The certificate's issuer is not recorded (B-SITE-1)."),
            params,
        )
    if data.third_party_retest is not True:
        return _check(
            "site",
            ("B-SITE-1",),
            FAILED,
            label,
            gettext_noop(
                "Certificate by %(issuer)s is not a third-party re-test (B-SITE-1): proceeds "
                "only with an override."
            ),
            params,
        )
    return _check(
        "site",
        ("B-SITE-1",),
        PASSED,
        label,
        gettext_noop("Third-party re-test by %(issuer)s."),
        params,
    )


def _dose(data: VerificationInput) -> VerificationCheck:
    label = CHECK_LABELS["dose"]
    rules = ("B-DOSE-1", "C-DOSE-1")
    if not data.dose_cells:
        return _check("dose", rules, REFUSED, label, gettext_noop("No dose ordered (B-DOSE-1)."))
    kg = Fraction(data.weight_kg)
    cells = data.dose_cells
    per_kg = Fraction(cells) / kg / 1_000_000
    flag = (
        "above"
        if cells > kg * CELLS_PER_KG_MAX
        else "below"
        if cells < kg * CELLS_PER_KG_MIN
        else "within"
    )
    params = {
        "cells_e6": _e6(cells),
        "per_kg": per_kg_rounded(per_kg, flag),
        "kg": data.weight_kg,
        "certified_e6": _e6(data.certified_cells) if data.certified_cells else None,
    }
    values = {"cells": cells, "kg": data.weight_kg, "certified": data.certified_cells}
    if cells > kg * CELLS_PER_KG_HARD_MAX:
        return _check(
            "dose",
            rules,
            REFUSED,
            label,
            gettext_noop(
                "%(cells_e6)s × 10⁶ cells = %(per_kg)s × 10⁶/kg for %(kg)s kg: above the "
                "absolute maximum of 5 × 10⁶/kg; refused (C-DOSE-1)."
            ),
            params,
            values,
        )
    if data.certified_cells is not None and cells > data.certified_cells:
        return _check(
            "dose",
            (*rules, "B-QC-4"),
            REFUSED,
            label,
            gettext_noop(
                "%(cells_e6)s × 10⁶ cells is more than the certificate's measured "
                "%(certified_e6)s × 10⁶ cells; refused (C-DOSE-1, B-QC-4)."
            ),
            params,
            values,
        )
    if data.certified_cells is None:
        return _check(
            "dose",
            (*rules, "B-QC-4"),
            REFUSED,
            label,
            gettext_noop(
                "The certificate's measured cell count is not recorded; the dose cannot be "
                "checked against the product (C-DOSE-1, B-QC-4)."
            ),
            params,
            values,
        )
    if flag != "within":
        return _check(
            "dose",
            rules,
            FAILED,
            label,
            gettext_noop(
                "%(cells_e6)s × 10⁶ cells = %(per_kg)s × 10⁶/kg for %(kg)s kg: outside "
                "1–2 × 10⁶/kg; proceeds only with an override (C-DOSE-1)."
            ),
            params,
            values,
        )
    return _check(
        "dose",
        rules,
        PASSED,
        label,
        gettext_noop(
            "%(cells_e6)s × 10⁶ cells = %(per_kg)s × 10⁶/kg for %(kg)s kg (1–2 × 10⁶/kg), "
            "within the certificate's %(certified_e6)s × 10⁶ cells."
        ),
        params,
        values,
    )


def _cold_chain(data: VerificationInput) -> VerificationCheck:
    label = CHECK_LABELS["cold_chain"]
    if data.planned_end is None:
        return _check(
            "cold_chain",
            ("B-ADM-1",),
            REFUSED,
            label,
            gettext_noop("The planned end is unknown (B-ADM-1)."),
        )
    zone = data.display_zone
    params = {
        "end": _when(data.planned_end, zone),
        "limit": _when(data.cold_chain_must_complete_by, zone),
    }
    status = end_status(
        data.planned_end, data.cold_chain_late_from, data.cold_chain_must_complete_by
    )
    if status == "refused":
        return _check(
            "cold_chain",
            ("B-ADM-1",),
            REFUSED,
            label,
            gettext_noop(
                "Planned end %(end)s is after the hard limit %(limit)s; move the start or use "
                "a new product (B-ADM-1)."
            ),
            params,
        )
    if status == "late":
        return _check(
            "cold_chain",
            ("B-ADM-1",),
            ATTENTION,
            label,
            gettext_noop("Planned end %(end)s is late in the window (limit %(limit)s, B-ADM-1)."),
            params,
        )
    return _check(
        "cold_chain",
        ("B-ADM-1",),
        PASSED,
        label,
        gettext_noop("Ends %(end)s; must be complete by %(limit)s."),
        params,
    )


def _premedication(data: VerificationInput) -> VerificationCheck:
    label = CHECK_LABELS["premedication"]
    if data.has_dexamethasone:
        return _check("premedication", ("B-PREMED-1",), PASSED, label, gettext_noop("Ordered."))
    return _check(
        "premedication",
        ("B-PREMED-1",),
        FAILED,
        label,
        gettext_noop("No dexamethasone order (B-PREMED-1, R7 2C): proceeds only with an override."),
    )


def antiplatelet_check(
    *, long_term: bool, has_antiplatelet: bool, below_floor: bool = False
) -> VerificationCheck:
    """B-AP-1 for C-VERIFY-1. Below the ward's platelet floor no course is the plan (passed);
    a course ordered anyway proceeds only with a reason and a second physician's signature
    (C-OVR-1), recorded when the episode is opened or changed, or on the episode page."""
    label = CHECK_LABELS["antiplatelet"]
    if long_term:
        return _check(
            "antiplatelet",
            ("B-AP-1",),
            PASSED,
            label,
            gettext_noop("Long-term antiplatelet user."),
        )
    if below_floor:
        values = {"below_floor": True, "ordered": has_antiplatelet}
        if has_antiplatelet:
            return _check(
                "antiplatelet",
                ("B-AP-1", "C-OVR-1"),
                FAILED,
                label,
                gettext_noop(
                    "Antiplatelet course ordered although the platelets are below the ward "
                    "floor (B-AP-1): proceeds only with a reason and a second physician's "
                    "signature (C-OVR-1)."
                ),
                values=values,
            )
        return _check(
            "antiplatelet",
            ("B-AP-1",),
            PASSED,
            label,
            gettext_noop("Not planned: platelets below the ward floor (B-AP-1)."),
            values=values,
        )
    if has_antiplatelet:
        return _check("antiplatelet", ("B-AP-1",), PASSED, label, gettext_noop("Ordered."))
    return _check(
        "antiplatelet",
        ("B-AP-1",),
        FAILED,
        label,
        gettext_noop("No antiplatelet course (B-AP-1, R7 2C): proceeds only with an override."),
    )


def _antiplatelet(data: VerificationInput) -> VerificationCheck:
    return antiplatelet_check(
        long_term=data.long_term_antiplatelet,
        has_antiplatelet=data.has_antiplatelet,
        below_floor=data.antiplatelet_below_floor,
    )


def _cyclophosphamide(data: VerificationInput) -> VerificationCheck:
    label = CHECK_LABELS["cyc_window"]
    if not data.cyclophosphamide:
        return _check("cyc_window", ("B-CYC-1",), PASSED, label, gettext_noop("None."))
    unguarded = [c for c in data.cyclophosphamide if c.in_hold and not c.hold_override]
    zone = data.display_zone
    times = ", ".join(_when(c.scheduled_at, zone) for c in data.cyclophosphamide)
    if unguarded:
        return _check(
            "cyc_window",
            ("B-CYC-1", "C-CYC-2"),
            REFUSED,
            label,
            gettext_noop(
                "Cyclophosphamide at %(times)s is inside the 48 h hold without a "
                "two-physician override (B-CYC-1): reschedule or cancel it."
            ),
            {"times": ", ".join(_when(c.scheduled_at, zone) for c in unguarded)},
        )
    return _check(
        "cyc_window",
        ("B-CYC-1",),
        ATTENTION,
        label,
        gettext_noop("Cyclophosphamide at %(times)s (outside the hold, or overridden)."),
        {"times": times},
    )


def _infusion_set(data: VerificationInput) -> VerificationCheck:
    label = CHECK_LABELS["infusion_set"]
    if data.infusion_volume_ml is None:
        return _check(
            "infusion_set", ("B-ADM-3",), ATTENTION, label, gettext_noop("No MSC order to check.")
        )
    return _check(
        "infusion_set",
        ("B-ADM-3",),
        PASSED,
        label,
        gettext_noop("Without filter membrane; %(volume)s mL."),
        {"volume": data.infusion_volume_ml},
    )


def verification_checks(data: VerificationInput) -> tuple[VerificationCheck, ...]:
    """Every check of C-VERIFY-1 for one episode, in the order a pharmacist reads them."""
    return (
        candidacy_check(data.candidacy_overall, data.repeat_status),
        _consent(data),
        _release(data),
        _site(data),
        _dose(data),
        _cold_chain(data),
        _premedication(data),
        _antiplatelet(data),
        _infusion_set(data),
        _cyclophosphamide(data),
    )


def blocking(
    checks: tuple[VerificationCheck, ...], overridden: set[str] | frozenset[str] = frozenset()
) -> list[VerificationCheck]:
    """The checks that stop verification: refused ones, and failed ones not covered by an
    override (``overridden``: the ``values_key`` of every live override)."""
    return [
        c
        for c in checks
        if c.status == REFUSED or (c.status == FAILED and c.values_key not in overridden)
    ]
