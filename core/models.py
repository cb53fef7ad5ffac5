"""Users, wards, patients, their dated measurements and lab results, and the audit trail."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from .choices import Model
from .labs import ANALYTE_CHOICES
from .querysets import AuditedManager
from .validators import plausible_date


class Role(models.TextChoices):
    PHYSICIAN = "physician", _("Physician")
    NURSE = "nurse", _("Nurse")
    PHARMACIST = "pharmacist", _("Pharmacist")
    # The former "admin" role, split in two (issue 17): the auditor reads every ward and
    # the audit trail and writes nothing; the system administrator keeps users, wards and
    # reference ranges in the Django admin and reads no clinical record.
    AUDITOR = "auditor", _("Auditor (read-only)")
    SYSADMIN = "sysadmin", _("System administrator")


class Ward(Model):
    code = models.SlugField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    physician_on_duty = models.ForeignKey(
        "core.User",
        verbose_name=_("physician on duty"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("ward")

    def __str__(self):
        return self.name


class User(AbstractUser):
    """A member of staff. The role is the user's group (created by migration)."""

    ward = models.ForeignKey(
        Ward, verbose_name=_("ward"), null=True, blank=True, on_delete=models.PROTECT
    )
    is_investigator = models.BooleanField(_("trial investigator"), default=False)
    # The user's own language for pages, PDFs, e-mails and reminders (never a cookie's).
    # Blank until the first sign-in, which sets it to the language the sign-in page was
    # read in; the switch in the top bar changes it.
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, blank=True, default=""
    )
    # Re-authentication (core.reauth): wrong passwords typed to sign or to change the
    # password since the last success, the last of them, and the last lockout they caused.
    reauth_failures = models.PositiveSmallIntegerField(default=0, editable=False)
    reauth_failed_at = models.DateTimeField(null=True, blank=True, editable=False)
    reauth_locked_at = models.DateTimeField(null=True, blank=True, editable=False)

    @property
    def role(self):
        # Roles are groups, read with the permissions in one query (a page checks both)
        # and kept for the request, so pages don't ask the database per check.
        if not hasattr(self, "_role_cache"):
            if not hasattr(self, "_group_names"):
                from .backends import load_access

                load_access(self)
            self._role_cache = next((r for r in Role.values if r in self._group_names), None)
        return self._role_cache

    @property
    def is_auditor(self):
        return self.role == Role.AUDITOR

    @property
    def is_sysadmin(self):
        return self.role == Role.SYSADMIN

    def role_label(self):
        return Role(self.role).label if self.role else ""


class Sex(models.TextChoices):
    FEMALE = "F", _("Female")
    MALE = "M", _("Male")


class Patient(Model):
    hospital_number = models.CharField(_("hospital number"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=120)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    date_of_birth = models.DateField(_("date of birth"), validators=[plausible_date])
    ward = models.ForeignKey(Ward, verbose_name=_("ward"), on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AuditedManager()

    class Meta:
        ordering = ["hospital_number"]
        verbose_name = _("patient")
        indexes = [
            models.Index(fields=["ward", "name"]),
            # The patient list: a ward's page in hospital-number order (issue 23).
            models.Index(fields=["ward", "hospital_number"]),
        ]

    def __str__(self):
        return f"{self.hospital_number} {self.name}"


class MeasurementKind(models.TextChoices):
    WEIGHT_KG = "weight_kg", _("Weight (kg)")
    HEIGHT_CM = "height_cm", _("Height (cm)")


class Measurement(Model):
    """A dated body measurement. Weight drives the MSC dose, so its date matters."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="measurements")
    kind = models.CharField(_("kind"), max_length=20, choices=MeasurementKind.choices)
    value = models.DecimalField(_("value"), max_digits=6, decimal_places=2)
    measured_at = models.DateTimeField(_("measured at"), validators=[plausible_date])
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = AuditedManager()

    class Meta:
        ordering = ["-measured_at"]
        indexes = [models.Index(fields=["patient", "kind", "-measured_at"])]

    def __str__(self):
        return f"{self.kind}={self.value} @ {self.measured_at:%Y-%m-%d %H:%M}"


class ReferenceRange(Model):
    """Per-lab, per-sex reference ranges: ULNs are data, never constants in code."""

    lab = models.CharField(_("laboratory"), max_length=60)
    analyte = models.CharField(_("analyte"), max_length=40)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, blank=True)
    unit = models.CharField(_("unit"), max_length=20)
    lower = models.DecimalField(_("lower limit"), max_digits=10, decimal_places=4, null=True)
    upper = models.DecimalField(_("upper limit of normal"), max_digits=10, decimal_places=4)

    class Meta:
        unique_together = [("lab", "analyte", "sex")]
        ordering = ["lab", "analyte", "sex"]
        verbose_name = _("reference range")

    def __str__(self):
        return f"{self.lab} {self.analyte} {self.sex or '*'} ≤ {self.upper} {self.unit}"


class ReferenceRangeChange(Model):
    """A proposed reference-range change (new range, new limits or removal).

    ``ReferenceRange`` holds only approved ranges, and screening reads only that table: a
    change takes effect when a second system administrator approves it
    (``core.services.reference_range_change_approve``). Proposal, approval and rejection
    are audited with their reasons.
    """

    class Action(models.TextChoices):
        CREATE = "create", _("New range")
        UPDATE = "update", _("Change")
        DELETE = "delete", _("Removal")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for a second administrator")
        APPROVED = "approved", _("Approved, in effect")
        REJECTED = "rejected", _("Rejected")

    action = models.CharField(_("change"), max_length=10, choices=Action.choices)
    reference_range = models.ForeignKey(
        ReferenceRange,
        verbose_name=_("reference range"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="changes",
    )
    # The values proposed (for a removal: the range being removed).
    lab = models.CharField(_("laboratory"), max_length=60)
    analyte = models.CharField(_("analyte"), max_length=40)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, blank=True)
    unit = models.CharField(_("unit"), max_length=20)
    lower = models.DecimalField(
        _("lower limit"), max_digits=10, decimal_places=4, null=True, blank=True
    )
    upper = models.DecimalField(_("upper limit of normal"), max_digits=10, decimal_places=4)
    # The approved values when proposed (blank for a new range): an approval is refused
    # if the range changed since, so nobody approves a change against values they never saw.
    before = models.JSONField(_("values when proposed"), null=True, blank=True)
    reason = models.CharField(_("reason for the change"), max_length=2000)
    proposed_by = models.ForeignKey(
        User, verbose_name=_("proposed by"), on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(_("proposed at"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    decided_by = models.ForeignKey(
        User,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_comment = models.CharField(_("comment on the decision"), max_length=2000, blank=True)

    objects = AuditedManager()

    class Meta:
        ordering = ["-proposed_at", "-pk"]
        verbose_name = _("reference-range change")
        permissions = [
            (
                "approve_referencerangechange",
                "Can approve or reject another administrator's reference-range change",
            )
        ]
        constraints = [
            # One change at a time per range: a second proposal would be approved against
            # values that the first one is about to replace.
            models.UniqueConstraint(
                fields=["lab", "analyte", "sex"],
                condition=models.Q(status="pending"),
                name="one_pending_change_per_reference_range",
            )
        ]

    def __str__(self):
        return f"{self.get_action_display()}: {self.lab} {self.analyte} {self.sex or '*'}"


class SignedRecord(Model):
    """A signed record as an archival PDF (PDF/A-3b), rendered once and never again.

    ``signed_json`` is the signed document, embedded in the PDF as an attachment; its
    SHA-256 (``signed_sha256``) is printed on the page. One row per record, language and
    page as printed (``html_sha256``): the same page is never rendered twice, and a record
    whose page changes after the signature (an amendment supersedes it, an episode is
    cancelled) gets a row of its own beside the first. The database refuses UPDATE and
    DELETE on this table (migration 0005). See core/signed_records.py.
    """

    kind = models.CharField(_("record"), max_length=40)
    object_id = models.BigIntegerField(_("object id"))
    patient = models.ForeignKey(
        Patient, verbose_name=_("patient"), on_delete=models.PROTECT, related_name="+"
    )
    language = models.CharField(_("language"), max_length=10)
    signed_json = models.TextField(_("signed document (JSON)"))
    signed_sha256 = models.CharField(_("SHA-256 of the signed document"), max_length=64)
    html_sha256 = models.CharField(_("SHA-256 of the page rendered"), max_length=64)
    pdf = models.BinaryField(_("PDF/A-3b"))
    pdf_sha256 = models.CharField(_("SHA-256 of the PDF"), max_length=64)
    software_version = models.CharField(_("software version"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("stored at"))

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("signed record (PDF/A)")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "object_id", "language", "html_sha256"],
                name="signed_record_once",
            )
        ]
        indexes = [models.Index(fields=["kind", "object_id"])]

    def __str__(self):
        return f"{self.kind} #{self.object_id} {self.language} {self.pdf_sha256[:12]}"


class LabResult(Model):
    """A dated laboratory value with its unit and the reporting lab."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="lab_results")
    analyte = models.CharField(_("analyte"), max_length=40, choices=ANALYTE_CHOICES)
    value = models.DecimalField(_("value"), max_digits=12, decimal_places=4)
    unit = models.CharField(_("unit"), max_length=20)
    lab = models.CharField(_("laboratory"), max_length=60, default="Hospital central lab")
    observed_at = models.DateTimeField(_("observed at"), validators=[plausible_date])
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = AuditedManager()

    class Meta:
        ordering = ["-observed_at"]
        indexes = [models.Index(fields=["patient", "analyte", "-observed_at"])]

    def __str__(self):
        return f"{self.analyte}={self.value} {self.unit} @ {self.observed_at:%Y-%m-%d %H:%M}"


class AuditEvent(Model):
    """Append-only, hash-chained audit trail (21 CFR Part 11 style).

    `entry_hash` = HMAC-SHA256 under the key `key_id` (settings.AUDIT_HMAC_KEYS, outside
    the database) of the previous entry_hash + canonical JSON of this event; events written
    before the key (empty `key_id`) keep the plain SHA-256 rule (core/audit.py). The
    database refuses UPDATE/DELETE (migration 0002) and TRUNCATE (0004) on PostgreSQL.
    """

    seq = models.BigIntegerField(unique=True, editable=False)
    at = models.DateTimeField(_("time (UTC)"), editable=False, db_index=True)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    actor_username = models.CharField(max_length=150, blank=True, editable=False)
    action = models.CharField(_("action"), max_length=40, db_index=True, editable=False)
    object_type = models.CharField(_("object type"), max_length=60, blank=True, editable=False)
    object_id = models.CharField(_("object id"), max_length=64, blank=True, editable=False)
    patient_id = models.BigIntegerField(null=True, blank=True, db_index=True, editable=False)
    old_values = models.JSONField(null=True, blank=True, editable=False)
    new_values = models.JSONField(null=True, blank=True, editable=False)
    reason = models.TextField(blank=True, editable=False)
    request_id = models.CharField(max_length=64, blank=True, editable=False)
    client_ip = models.GenericIPAddressField(null=True, blank=True, editable=False)
    # The actor's role when acting and the software that wrote the event (both hashed).
    actor_role = models.CharField(_("role"), max_length=32, blank=True, editable=False)
    app_version = models.CharField(_("software version"), max_length=64, blank=True, editable=False)
    key_id = models.CharField(max_length=32, blank=True, editable=False)
    prev_hash = models.CharField(max_length=64, editable=False)
    entry_hash = models.CharField(max_length=64, editable=False)

    class Meta:
        ordering = ["-seq"]
        verbose_name = _("audit event")
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            # The audit browser's filters, each read newest first (issue 23: 1M events).
            models.Index(fields=["patient_id", "seq"], name="core_audit_patient_seq"),
            models.Index(Upper("action"), "seq", name="core_audit_action_seq"),
            models.Index(fields=["object_id", "seq"], name="core_audit_object_id_seq"),
        ]

    def __str__(self):
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"


class AuditChainState(models.Model):
    """How far the audit chain has been verified: one row (pk 1), MAC'd under the audit
    key (core/audit.py). The audit browser checks only the events after ``head_seq``;
    the last full verification (`audit_verify`: every event and checkpoint) is kept
    beside it, with what it found."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    head_seq = models.BigIntegerField(default=0)
    head_hash = models.CharField(max_length=64)
    head_checked_at = models.DateTimeField(null=True)
    full_at = models.DateTimeField(null=True)
    full_seq = models.BigIntegerField(default=0)
    full_ok = models.BooleanField(default=True)
    full_broken_seq = models.BigIntegerField(null=True)
    full_problem = models.TextField(blank=True)
    key_id = models.CharField(max_length=32)
    mac = models.CharField(max_length=64)

    def __str__(self):
        return f"audit chain verified to #{self.head_seq}"


class SecurityEvent(Model):
    """Anonymous and pre-authentication events: CSRF failures without a signed-in user,
    failed sign-ins, lockouts (core/security_log.py). Not clinical records, not in the
    hash chain: rate-limited per client address and pruned after
    SECURITY_LOG_RETENTION_DAYS. A `suppressed` row counts, per address and minute, the
    events beyond the limit that were not written one by one (`count`)."""

    SUPPRESSED = "suppressed"

    at = models.DateTimeField(_("time (UTC)"), db_index=True)
    kind = models.CharField(_("event"), max_length=40)
    username = models.CharField(_("user name given"), max_length=150, blank=True)
    client_ip = models.GenericIPAddressField(_("client IP"), null=True, blank=True)
    path = models.CharField(_("path"), max_length=300, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    # Suppressed rows: which limit ("ip:<address>" or "all"), the minute they cover and
    # how many events they stand for.
    rate_key = models.CharField(max_length=64, blank=True)
    window_start = models.DateTimeField(null=True, blank=True)
    count = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("security event")
        indexes = [models.Index(fields=["client_ip", "at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["rate_key", "window_start"],
                condition=models.Q(kind="suppressed"),
                name="core_securityevent_one_summary_per_minute",
            )
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.kind} {self.username} {self.client_ip or ''}"


class TextOverflow(Model):
    """Issue 16: free text has a length (notes and reasons 2,000 characters, in forms, APIs
    and the database). Rows written before the limit with a longer text were shortened
    by the migrations that set it (core 0008, infusion 0007, screening 0004): the row
    keeps the first characters and a marker, and the whole original text is kept here,
    with its length. Written once by those migrations; never changed (the audit trail is
    append-only and was not rewritten: its events still hold the text as written then).
    """

    model = models.CharField(_("model"), max_length=100)
    object_id = models.CharField(_("object id"), max_length=64)
    field = models.CharField(_("field"), max_length=100)
    original_length = models.PositiveIntegerField(_("original length (characters)"))
    original_text = models.TextField(_("original text"))
    shortened_at = models.DateTimeField(_("shortened at"))

    class Meta:
        ordering = ["model", "object_id", "field"]
        verbose_name = _("shortened text (original kept)")

    def __str__(self):
        return f"{self.model}:{self.object_id}.{self.field} ({self.original_length} characters)"


from .reminders.models import *  # noqa: E402, F403
