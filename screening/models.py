"""Screenings (one row per version) and API tokens.

A screening holds the facts document exactly as it was evaluated (JSON, the engine's
input shape), the engine's last evaluation (``Evaluation.to_dict()``), and the outcome
columns the screening log filters on. Writes go through ``screening.services``.
A signed version is never edited: an amendment is a new version of the same series.
"""

import hashlib
import json
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from core.choices import Model
from core.querysets import AuditedManager
from core.validators import plausible_date

INDICATION_CHOICES = [
    ("SLE", _("SLE")),
    ("dcSSc", _("dcSSc")),
    ("AAV", _("AAV")),
    ("IIM", _("IIM")),
    ("SS", _("Sjögren's syndrome")),
]
INDICATION_NAMES = {
    "SLE": _("Systemic lupus erythematosus"),
    "dcSSc": _("Diffuse cutaneous systemic sclerosis"),
    "AAV": _("ANCA-associated vasculitis"),
    "IIM": _("Idiopathic inflammatory myopathy"),
    "SS": _("Sjögren's syndrome"),
}

# The meaning shown to the signer and stored with the signature (English, canonical;
# pages show its translation).
SIGNATURE_MEANING = gettext_noop("I confirm this eligibility assessment")


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SIGNED = "signed", _("Signed")
    SUPERSEDED = "superseded", _("Superseded")


class Outcome(models.TextChoices):
    ELIGIBLE = "eligible", _("Eligible")
    INELIGIBLE = "ineligible", _("Ineligible")
    INCOMPLETE = "incomplete", _("Incomplete")


def canonical_json(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class Screening(Model):
    patient = models.ForeignKey("core.Patient", on_delete=models.PROTECT, related_name="screenings")
    # All versions of one screening share a series; version 1, 2, … in order.
    series = models.UUIDField(default=uuid.uuid4, editable=False, db_index=True)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    previous = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="next_version",
        verbose_name=_("amends"),
    )
    indication = models.CharField(_("indication"), max_length=8, choices=INDICATION_CHOICES)
    screening_date = models.DateField(_("screening date"), validators=[plausible_date])
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.DRAFT
    )

    facts = models.JSONField(_("facts"), default=dict)
    # Raw text of inputs that did not validate (input name -> text) and their messages
    # (input name or field path -> [messages]): kept so nothing typed is lost.
    invalid_inputs = models.JSONField(default=dict, blank=True)
    form_errors = models.JSONField(default=dict, blank=True)

    evaluation = models.JSONField(_("evaluation"), null=True, blank=True)
    protocol_version = models.CharField(_("protocol version"), max_length=40, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=Outcome.choices, default=Outcome.INCOMPLETE
    )
    failing_rules = models.JSONField(_("failing rules"), default=list, blank=True)
    evaluated_at = models.DateTimeField(_("evaluated at"), null=True, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    amendment_reason = models.CharField(_("reason for the amendment"), max_length=2000, blank=True)

    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    signer_name = models.CharField(_("signed by"), max_length=150, blank=True)
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    signature_meaning = models.CharField(_("meaning of the signature"), max_length=200, blank=True)
    signature_hash = models.CharField(_("SHA-256 of the signed content"), max_length=64, blank=True)
    # The signer's role and the software that signed, as they were then (printed on the
    # signed checklist, issue 17). Blank on signatures from before they were recorded.
    signer_role = models.CharField(_("signer's role"), max_length=20, blank=True)
    signed_software_version = models.CharField(
        _("software version at signing"), max_length=64, blank=True
    )

    objects = AuditedManager()

    class Meta:
        ordering = ["-screening_date", "-pk"]
        verbose_name = _("screening")
        constraints = [
            models.UniqueConstraint(fields=["series", "version"], name="screening_series_version")
        ]
        indexes = [
            models.Index(fields=["patient", "indication", "status"]),
            models.Index(fields=["status", "screening_date"]),
        ]
        permissions = [
            ("sign_screening", "Can sign an eligibility assessment (investigators only)"),
            ("amend_screening", "Can amend a signed eligibility assessment"),
        ]

    def __str__(self):
        return f"{self.indication} screening v{self.version} ({self.status})"

    @property
    def is_draft(self):
        return self.status == Status.DRAFT

    def signed_content(self):
        """What a signature covers: the facts, the evaluation and the protocol version."""
        return {
            "facts": self.facts,
            "evaluation": self.evaluation,
            "protocol_version": self.protocol_version,
        }

    def content_hash(self):
        return hashlib.sha256(canonical_json(self.signed_content()).encode("utf-8")).hexdigest()

    def signature_valid(self):
        return bool(self.signature_hash) and self.signature_hash == self.content_hash()


class ApiToken(Model):
    """A bearer token for the screening API. Only its SHA-256 is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="screening_api_tokens"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("first characters"), max_length=8, editable=False)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    revoked = models.BooleanField(_("revoked"), default=False)

    class Meta:
        verbose_name = _("API token")

    def __str__(self):
        return f"{self.prefix}… ({self.user})"

    @staticmethod
    def hash(token):
        return hashlib.sha256(token.encode("utf-8")).hexdigest()
