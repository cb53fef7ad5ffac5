"""Users, wards, patients, their dated measurements and lab results, and the audit trail."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import Model
from .labs import ANALYTE_CHOICES
from .querysets import AuditedManager


class Role(models.TextChoices):
    PHYSICIAN = "physician", _("Physician")
    NURSE = "nurse", _("Nurse")
    PHARMACIST = "pharmacist", _("Pharmacist")
    ADMIN = "admin", _("Administrator (auditor)")


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
    language = models.CharField(_("language"), max_length=10, default="en")

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
        return self.role == Role.ADMIN

    def role_label(self):
        return Role(self.role).label if self.role else ""


class Sex(models.TextChoices):
    FEMALE = "F", _("Female")
    MALE = "M", _("Male")


class Patient(Model):
    hospital_number = models.CharField(_("hospital number"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=120)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    date_of_birth = models.DateField(_("date of birth"))
    ward = models.ForeignKey(Ward, verbose_name=_("ward"), on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AuditedManager()

    class Meta:
        ordering = ["hospital_number"]
        verbose_name = _("patient")
        indexes = [models.Index(fields=["ward", "name"])]

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
    measured_at = models.DateTimeField(_("measured at"))
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


class LabResult(Model):
    """A dated laboratory value with its unit and the reporting lab."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="lab_results")
    analyte = models.CharField(_("analyte"), max_length=40, choices=ANALYTE_CHOICES)
    value = models.DecimalField(_("value"), max_digits=12, decimal_places=4)
    unit = models.CharField(_("unit"), max_length=20)
    lab = models.CharField(_("laboratory"), max_length=60, default="Hospital central lab")
    observed_at = models.DateTimeField(_("observed at"))
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

    `entry_hash` = SHA-256(previous entry_hash + canonical JSON of this event). The
    database refuses UPDATE/DELETE/TRUNCATE on PostgreSQL (trigger, migration 0002).
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
    prev_hash = models.CharField(max_length=64, editable=False)
    entry_hash = models.CharField(max_length=64, editable=False)

    class Meta:
        ordering = ["-seq"]
        verbose_name = _("audit event")
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self):
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"


from .reminders.models import *  # noqa: E402, F403
