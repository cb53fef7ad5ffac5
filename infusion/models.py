"""MSC infusion episodes, their orders and signatures, and the bedside record.

Every write goes through `infusion.services` (one function per clinical action, audited
in its transaction); the models hold no logic beyond reading their own fields. All
clinical models use the audited manager, so QuerySet.update/delete/bulk_* are refused.

An episode keeps the engine's input document (`plan_input`, the JSON contract of
`infusion/schema/plan-input.schema.json`) and the plan it produced (`plan`, from
`InfusionPlan.to_dict()`), plus the few plan values that lists and the pharmacist queue
read as columns, so those pages never rebuild a plan per row.
"""

import hashlib
import json

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.choices import Model
from core.models import Patient
from core.querysets import AuditedManager
from core.validators import plausible_date


class EpisodeStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("Infusing")
    INFUSED = "infused", _("Infused")
    CANCELLED = "cancelled", _("Cancelled")


class Episode(Model):
    patient = models.ForeignKey(
        Patient,
        verbose_name=_("patient"),
        on_delete=models.PROTECT,
        related_name="infusion_episodes",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=EpisodeStatus.choices, default=EpisodeStatus.PLANNED
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(_("opened at"))
    updated_at = models.DateTimeField(_("updated at"))

    # The engine's input (values from the patient record plus the episode form) and plan.
    plan_input = models.JSONField(_("plan input"))
    plan = models.JSONField(_("plan"))
    # Why a "not recommended" (or incomplete) candidacy proceeds; blank otherwise.
    override_reason = models.CharField(_("override reason"), max_length=2000, blank=True)
    # Cautions the physician acknowledged when opening (rule id + reason), e.g. B-AP-1.
    acknowledged = models.JSONField(_("acknowledged cautions"), default=list, blank=True)

    # Plan values read by lists and the pharmacist queue (refreshed at every write).
    plan_status = models.CharField(_("plan status"), max_length=30)
    candidacy_overall = models.CharField(_("candidacy"), max_length=30)
    release_status = models.CharField(_("product release"), max_length=20)
    product_lot = models.CharField(_("product lot"), max_length=60, blank=True)
    preparation_time = models.DateTimeField(
        _("suspension prepared at"), validators=[plausible_date]
    )
    cold_chain_late_from = models.DateTimeField(_("cold chain: late from"))
    cold_chain_must_complete_by = models.DateTimeField(_("cold chain: hard limit"))
    planned_start = models.DateTimeField(
        _("planned start"), db_index=True, validators=[plausible_date]
    )
    planned_end = models.DateTimeField(_("planned end"), null=True, blank=True)
    weight_kg = models.DecimalField(_("weight (kg)"), max_digits=6, decimal_places=2)
    dose_cells = models.BigIntegerField(_("ordered dose (cells)"), null=True, blank=True)
    dose_per_kg_e6 = models.DecimalField(
        _("dose (×10⁶/kg)"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    dose_flag = models.CharField(_("dose check"), max_length=10, blank=True)
    suspension_volume_ml = models.DecimalField(_("volume (mL)"), max_digits=8, decimal_places=2)
    # B-CYC-1: no cyclophosphamide before this instant (planned end + 48 h until the
    # actual end is recorded, then actual end + 48 h).
    cyc_hold_until = models.DateTimeField(_("cyclophosphamide hold until"), null=True, blank=True)

    # Bedside chart (nurse).
    received_at = models.DateTimeField(
        _("product received"), null=True, blank=True, validators=[plausible_date]
    )
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    out_of_fridge_at = models.DateTimeField(
        _("out of the refrigerator"), null=True, blank=True, validators=[plausible_date]
    )
    out_of_fridge_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(
        _("infusion started"), null=True, blank=True, validators=[plausible_date]
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ended_at = models.DateTimeField(
        _("infusion ended"), null=True, blank=True, validators=[plausible_date]
    )
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    stopped_early = models.BooleanField(_("stopped early"), default=False)
    stop_reason = models.CharField(_("reason for stopping"), max_length=2000, blank=True)
    # The volume actually given, when the end came earlier than the charted rates allow
    # (issue 15: early end; B-ADM-4). None when the whole suspension ran in.
    volume_given_ml = models.DecimalField(
        _("volume actually given (mL)"), max_digits=7, decimal_places=1, null=True, blank=True
    )

    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=2000, blank=True)

    # Follow-up (B-REP-1, B-FU-1): the response to this infusion and a later relapse, as
    # documented by a physician; a repeat infusion reads them from the latest infused
    # episode. None = not documented yet.
    response = models.BooleanField(_("responded to the infusion"), null=True, blank=True)
    response_date = models.DateField(
        _("response documented on"), null=True, blank=True, validators=[plausible_date]
    )
    relapse = models.BooleanField(_("relapsed after the response"), null=True, blank=True)
    relapse_date = models.DateField(
        _("relapse on"), null=True, blank=True, validators=[plausible_date]
    )

    objects = AuditedManager()

    class Meta:
        ordering = ["planned_start", "pk"]
        verbose_name = _("MSC infusion episode")
        permissions = [("chart_infusion", "Can chart the infusion at the bedside")]
        indexes = [
            models.Index(fields=["patient", "status"]),
            # The pharmacist queue's order: its first page without sorting the queue.
            models.Index(fields=["planned_start", "id"]),
        ]

    def __str__(self):
        return f"MSC episode {self.pk} ({self.patient})"

    @property
    def is_open(self):
        return self.status in (EpisodeStatus.PLANNED, EpisodeStatus.IN_PROGRESS)

    @property
    def infusion_start(self):
        """The actual start when recorded, else the planned one."""
        return self.started_at or self.planned_start

    @property
    def infusion_end(self):
        return self.ended_at or self.planned_end

    @property
    def end_is_planned(self):
        return self.ended_at is None


class OrderKind(models.TextChoices):
    MSC_IV = "msc_iv", _("MSC intravenous infusion")
    MSC_INTRATHECAL = "msc_intrathecal", _("MSC intrathecal injection")
    DEXAMETHASONE = "dexamethasone", _("Dexamethasone premedication")
    ANTIPLATELET = "antiplatelet", _("Antiplatelet prophylaxis")
    CYCLOPHOSPHAMIDE = "cyclophosphamide", _("Cyclophosphamide")


class OrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SIGNED = "signed", _("Signed, awaiting verification")
    VERIFIED = "verified", _("Verified")
    ADMINISTERED = "administered", _("Administered")
    COMPLETED = "completed", _("Completed")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


ACTIVE_ORDER_STATUSES = (
    OrderStatus.DRAFT,
    OrderStatus.SIGNED,
    OrderStatus.VERIFIED,
    OrderStatus.ADMINISTERED,
    OrderStatus.COMPLETED,
)
FINAL_ORDER_STATUSES = (OrderStatus.COMPLETED, OrderStatus.REJECTED, OrderStatus.CANCELLED)

# The fields that make up what was prescribed: a signature covers exactly these, and a
# change to any of them voids the order's signatures.
CONTENT_FIELDS = (
    "kind",
    "drug",
    "dose",
    "dose_unit",
    "route",
    "scheduled_at",
    "first_day",
    "last_day",
    "volume_ml",
    "rate_plan",
    "instructions",
    "rule_ids",
    "note",
)


class Order(Model):
    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="orders")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="infusion_orders")
    kind = models.CharField(_("order"), max_length=20, choices=OrderKind.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.DRAFT
    )
    drug = models.CharField(_("drug"), max_length=100)
    dose = models.DecimalField(_("dose"), max_digits=20, decimal_places=3)
    dose_unit = models.CharField(_("unit"), max_length=20)  # "cells" | "mg"
    route = models.CharField(_("route"), max_length=30)
    scheduled_at = models.DateTimeField(
        _("scheduled at"), null=True, blank=True, validators=[plausible_date]
    )
    first_day = models.DateField(_("first day"), null=True, blank=True)
    last_day = models.DateField(_("last day"), null=True, blank=True)
    volume_ml = models.DecimalField(
        _("volume (mL)"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    rate_plan = models.JSONField(_("rate plan"), default=list, blank=True)
    # Structured so it is shown in the reader's language: [{"rule_id", "template", "params"}].
    instructions = models.JSONField(_("instructions"), default=list, blank=True)
    rule_ids = models.JSONField(_("rules"), default=list, blank=True)
    note = models.CharField(_("note"), max_length=2000, blank=True)

    # Cyclophosphamide only: the B-CYC-1 decision at ordering, and the override reason.
    preconditioning = models.BooleanField(
        _("before the infusion (pre-conditioning)"), default=False
    )
    hold_override_reason = models.CharField(
        _("reason to give it within the hold"), max_length=2000, blank=True
    )

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))
    # Bumped by every transition; the compare-and-set that keeps two pharmacists from
    # both verifying (with the row lock) and lets a form detect a stale page.
    version = models.PositiveIntegerField(default=1)

    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rejected_at = models.DateTimeField(null=True, blank=True)
    reject_reason = models.CharField(_("reason for rejecting"), max_length=2000, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=2000, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = AuditedManager()

    class Meta:
        ordering = ["episode", "pk"]
        verbose_name = _("order")
        permissions = [
            ("sign_order", "Can sign (prescribe) orders"),
            ("verify_order", "Can verify or reject orders (pharmacist)"),
            ("administer_order", "Can record the administration of orders"),
            ("override_cyclophosphamide_hold", "Can co-sign a cyclophosphamide hold override"),
        ]
        indexes = [
            models.Index(fields=["status", "episode"]),
            models.Index(fields=["patient", "kind"]),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"

    def content(self):
        """What was prescribed, as JSON-ready values (the signed content)."""
        data = {}
        for name in CONTENT_FIELDS:
            value = getattr(self, name)
            if hasattr(value, "isoformat"):
                value = value.isoformat()
            elif value is not None and name in ("dose", "volume_ml"):
                value = format(value.normalize(), "f")
            data[name] = value
        data["episode"] = self.episode_id
        data["patient"] = self.patient_id
        return data

    def content_hash(self):
        canonical = json.dumps(self.content(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    @property
    def is_msc(self):
        return self.kind in (OrderKind.MSC_IV, OrderKind.MSC_INTRATHECAL)


class SignatureMeaning(models.TextChoices):
    PRESCRIBED = "prescribed", _("Prescribed by")
    VERIFIED = "verified", _("Verified by (pharmacist)")
    HOLD_OVERRIDE = "hold_override", _("Second physician: cyclophosphamide within the 48 h hold")


class Signature(Model):
    """An electronic signature: who, when, what it means, and the content it covers.

    The signer re-entered their password. Editing the order voids its signatures
    (`voided_at`); they stay on record.
    """

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="signatures")
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signer_name = models.CharField(_("name"), max_length=150)
    meaning = models.CharField(_("meaning"), max_length=20, choices=SignatureMeaning.choices)
    signed_at = models.DateTimeField(_("signed at"))
    content_hash = models.CharField(_("content hash"), max_length=64)
    # The signer's role and the software that signed, as they were then (printed on the
    # signed order sheet, issue 17). Blank on signatures from before they were recorded.
    signer_role = models.CharField(_("signer's role"), max_length=20, blank=True)
    software_version = models.CharField(_("software version"), max_length=64, blank=True)
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    void_reason = models.CharField(_("why voided"), max_length=2000, blank=True)

    objects = AuditedManager()

    class Meta:
        ordering = ["signed_at", "pk"]
        verbose_name = _("signature")

    def __str__(self):
        return f"{self.meaning} by {self.signer_name} @ {self.signed_at:%Y-%m-%d %H:%M}"

    def signer_role_label(self):
        """The signer's role at signing, as signed PDFs print it ("not recorded" if blank)."""
        from core.signed_records import role_label

        return role_label(self.signer_role)


class Administration(Model):
    """One dose given (the medication administration record)."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="administrations")
    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="administrations")
    given_at = models.DateTimeField(_("given at"), validators=[plausible_date])
    given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    dose = models.DecimalField(_("dose"), max_digits=20, decimal_places=3)
    dose_unit = models.CharField(_("unit"), max_length=20)
    note = models.CharField(_("note"), max_length=2000, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"))

    objects = AuditedManager()

    class Meta:
        ordering = ["given_at", "pk"]
        verbose_name = _("administration")

    def __str__(self):
        return f"{self.dose} {self.dose_unit} @ {self.given_at:%Y-%m-%d %H:%M}"


class RateStep(Model):
    """The infusion rate set at a moment (the first one at the start)."""

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="rate_steps")
    at = models.DateTimeField(_("time"), validators=[plausible_date])
    rate_ml_per_min = models.DecimalField(_("rate (mL/min)"), max_digits=5, decimal_places=2)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"))

    objects = AuditedManager()

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("rate step")

    def __str__(self):
        return f"{self.rate_ml_per_min} mL/min @ {self.at:%H:%M}"


class VitalSigns(Model):
    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="vitals")
    at = models.DateTimeField(_("time"), validators=[plausible_date])
    respiration_per_min = models.PositiveSmallIntegerField(_("respiration (/min)"), null=True)
    pulse_per_min = models.PositiveSmallIntegerField(_("pulse (/min)"), null=True)
    systolic_mmhg = models.PositiveSmallIntegerField(_("systolic (mmHg)"), null=True)
    diastolic_mmhg = models.PositiveSmallIntegerField(_("diastolic (mmHg)"), null=True)
    spo2_pct = models.PositiveSmallIntegerField(_("SpO₂ (%)"), null=True)
    temperature_c = models.DecimalField(
        _("temperature (°C)"), max_digits=3, decimal_places=1, null=True
    )
    # The fields outside the ward's ranges at the time of recording.
    out_of_range = models.JSONField(_("out of range"), default=list, blank=True)
    on_demand = models.BooleanField(_("on demand (not a planned check)"), default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"))

    objects = AuditedManager()

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("vital signs")
        verbose_name_plural = _("vital signs")

    def __str__(self):
        return f"vital signs @ {self.at:%Y-%m-%d %H:%M}"


class ReactionType(models.TextChoices):
    DIZZINESS = "dizziness", _("Dizziness")
    CHEST_TIGHTNESS = "chest_tightness", _("Chest tightness")
    PALPITATIONS = "palpitations", _("Palpitations")
    FEVER = "fever", _("Fever")
    RASH = "rash", _("Rash or flushing")
    DYSPNOEA = "dyspnoea", _("Shortness of breath")
    HYPOTENSION = "hypotension", _("Low blood pressure")
    OTHER = "other", _("Other")


class Severity(models.TextChoices):
    MILD = "mild", _("Mild")
    MODERATE = "moderate", _("Moderate")
    SEVERE = "severe", _("Severe")


class AdverseReaction(Model):
    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="reactions")
    at = models.DateTimeField(_("time"), validators=[plausible_date])
    reaction_type = models.CharField(_("reaction"), max_length=20, choices=ReactionType.choices)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    description = models.CharField(_("description"), max_length=2000, blank=True)
    action = models.CharField(_("action taken"), max_length=2000)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"))

    objects = AuditedManager()

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("adverse reaction")

    def __str__(self):
        return f"{self.reaction_type} ({self.severity}) @ {self.at:%Y-%m-%d %H:%M}"


class SeriousAdverseEventReport(Model):
    """B-ADM-5 (§4.1): a serious adverse event is reported to the hospital."""

    reaction = models.OneToOneField(
        AdverseReaction, on_delete=models.PROTECT, related_name="sae_report"
    )
    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="sae_reports")
    informed_whom = models.CharField(_("who was informed"), max_length=200)
    informed_at = models.DateTimeField(_("informed at"), validators=[plausible_date])
    description = models.CharField(_("what happened and what was done"), max_length=2000)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reported_at = models.DateTimeField(_("reported at"))

    objects = AuditedManager()

    class Meta:
        ordering = ["reported_at", "pk"]
        verbose_name = _("serious adverse event report")

    def __str__(self):
        return f"SAE report {self.pk} (reaction {self.reaction_id})"


class Consenter(models.TextChoices):
    PATIENT = "patient", _("The patient")
    RELATIVE = "relative", _("A relative (legal representative)")


class Consent(Model):
    """B-CONSENT-1: informed consent to this MSC episode, on the ethics-approved form.

    Recorded before any order of the episode can be signed; corrected (audited, with a
    reason) but never deleted.
    """

    episode = models.OneToOneField(Episode, on_delete=models.PROTECT, related_name="consent")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="msc_consents")
    consenter = models.CharField(_("who consented"), max_length=10, choices=Consenter.choices)
    consenter_name = models.CharField(_("name of the person who consented"), max_length=150)
    relationship = models.CharField(_("relationship to the patient"), max_length=60, blank=True)
    consented_on = models.DateField(_("consent date"), validators=[plausible_date])
    form_version = models.CharField(_("consent form version (ethics-approved)"), max_length=60)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("physician who took the consent"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    scan = models.FileField(_("scanned consent form"), upload_to="consent/%Y/%m/", blank=True)
    scan_sha256 = models.CharField(max_length=64, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"))

    objects = AuditedManager()

    class Meta:
        verbose_name = _("MSC informed consent")

    def __str__(self):
        return f"consent for episode {self.episode_id} ({self.consented_on})"


class CheckOverride(Model):
    """C-VERIFY-1 / C-OVR-1: a failing check allowed to proceed, with a written reason and
    a second physician's password signature (not the prescriber).

    An override covers the check's values as they were (``values`` and its hash): when
    the values change (a new dose, a new certificate), it no longer applies. Voided, never
    deleted.
    """

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="overrides")
    check_key = models.CharField(_("check"), max_length=30)
    rule_ids = models.JSONField(_("rules"), default=list)
    values = models.JSONField(_("values overridden"), default=dict)
    values_hash = models.CharField(max_length=64)
    reason = models.CharField(_("reason"), max_length=2000)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_by_name = models.CharField(_("requested by"), max_length=150)
    second_signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    second_signer_name = models.CharField(_("second physician"), max_length=150)
    signed_at = models.DateTimeField(_("signed at"))
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    void_reason = models.CharField(_("why voided"), max_length=2000, blank=True)

    objects = AuditedManager()

    class Meta:
        ordering = ["signed_at", "pk"]
        verbose_name = _("check override")
        indexes = [models.Index(fields=["episode", "check_key"])]

    def __str__(self):
        return f"override of {self.check_key} on episode {self.episode_id}"


class ColdChainDeviation(Model):
    """B-ADM-1 (issue 19): the consensus says the infusion is "generally" (一般) complete
    within 8–12 h of preparation. Past the hard limit the start is refused, unless a
    pharmacist has confirmed the product's viability up to ``until`` and then a physician
    has recorded a reasoned deviation co-signed by a second physician (C-OVR-1). It covers
    the limit it was made for (``must_complete_by``) and ends no later than ``until``.
    Voided, never deleted.
    """

    episode = models.ForeignKey(
        Episode, on_delete=models.PROTECT, related_name="cold_chain_deviations"
    )
    must_complete_by = models.DateTimeField(_("cold-chain hard limit"))
    until = models.DateTimeField(_("viable until"))
    viability_note = models.CharField(_("viability confirmation"), max_length=2000)
    viability_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    viability_by_name = models.CharField(_("confirmed by (pharmacist)"), max_length=150)
    viability_at = models.DateTimeField(_("viability confirmed at"))
    reason = models.CharField(_("reason for the deviation"), max_length=2000, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by_name = models.CharField(_("recorded by (physician)"), max_length=150, blank=True)
    second_signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    second_signer_name = models.CharField(_("second physician"), max_length=150, blank=True)
    recorded_at = models.DateTimeField(_("deviation recorded at"), null=True, blank=True)
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    void_reason = models.CharField(_("why voided"), max_length=2000, blank=True)

    objects = AuditedManager()

    class Meta:
        ordering = ["viability_at", "pk"]
        verbose_name = _("cold-chain deviation")

    def __str__(self):
        return f"cold-chain deviation for episode {self.episode_id}"

    @property
    def complete(self):
        return self.recorded_at is not None and self.voided_at is None


class DoseState(models.TextChoices):
    DUE = "due", _("Due")
    GIVEN = "given", _("Given")
    HELD = "held", _("Held")
    REFUSED = "refused", _("Refused by the patient")
    MISSED = "missed", _("Missed (nothing recorded)")
    CANCELLED = "cancelled", _("No longer due")


class DoseDue(Model):
    """C-MAR-1: one dose due on the medication administration record.

    One row per due dose of an order: each antiplatelet day from day −1 (B-AP-1), the
    dexamethasone premedication (B-PREMED-1), the MSC infusion, a cyclophosphamide dose.
    A dose is due, then given, held or refused (someone recorded it: who, when, why, the
    dose actually given) or missed (nobody recorded it by ``due_until``: set by the
    sweeper, ``infusion.mar.doses_sweep_missed``). A dose is never shown as given unless
    someone recorded it. Rows follow their order (``infusion.doses.doses_sync``); a due
    dose the plan no longer has becomes "cancelled", a recorded one never changes.

    ``objects`` is the audited manager; ``claims`` is the sweeper's, for the conditional
    ``UPDATE … WHERE state = 'due'`` that lets exactly one worker mark a dose missed (each
    claimed row is then audited one by one).
    """

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="doses")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="doses")
    seq = models.PositiveSmallIntegerField(_("dose number"))  # 0-based within the order
    day = models.DateField(_("course day"), null=True, blank=True)  # antiplatelet only
    due_from = models.DateTimeField(_("due from"))
    due_until = models.DateTimeField(_("due until"))
    planned_dose = models.DecimalField(_("dose ordered"), max_digits=20, decimal_places=3)
    dose_unit = models.CharField(_("unit"), max_length=20)
    state = models.CharField(
        _("state"), max_length=10, choices=DoseState.choices, default=DoseState.DUE
    )
    at = models.DateTimeField(_("time given, held or refused"), null=True, blank=True)
    dose_given = models.DecimalField(
        _("dose given"), max_digits=20, decimal_places=3, null=True, blank=True
    )
    reason = models.CharField(_("why"), max_length=2000, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), null=True, blank=True)
    administration = models.OneToOneField(
        Administration, null=True, blank=True, on_delete=models.PROTECT, related_name="dose_due"
    )
    missed_at = models.DateTimeField(_("marked missed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))

    objects = AuditedManager()
    claims = models.Manager()

    class Meta:
        ordering = ["due_from", "order", "seq"]
        verbose_name = _("dose due")
        verbose_name_plural = _("doses due")
        constraints = [
            models.UniqueConstraint(fields=["order", "seq"], name="dose_due_unique_per_order")
        ]
        indexes = [
            models.Index(fields=["episode", "due_from"], name="dose_due_episode"),
            # The sweeper's question: which due doses are past their window.
            models.Index(
                fields=["due_until"], name="dose_due_open", condition=models.Q(state="due")
            ),
        ]

    def __str__(self):
        return f"dose {self.seq} of order {self.order_id}: {self.state}"
