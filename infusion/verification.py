"""C-VERIFY-1 for an episode from the database: the engine's verification checks, the
overrides that cover them, and their text in the reader's language.

The pharmacist queue and ``order_verify`` read the same checks from here, so what the card
shows is what the service enforces. ``checks_for`` takes an episode with its live orders
(``live_orders``) and its patient's cyclophosphamide orders (``cyc_orders``) already read,
plus what ``with_check_values`` annotates (the consent's day, consenter and form; the
certificate's issuer, third-party flag and measured count; the repeat verdict; long-term
antiplatelet use); ``load_episode`` reads the same for one episode.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db.models import F
from django.db.models.fields.json import KT
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from infusion.engine.verification import (
    CHECK_LABELS,
    CycNearInfusion,
    VerificationCheck,
    VerificationInput,
    blocking,
    verification_checks,
)

from .models import CheckOverride, Episode, EpisodeStatus, Order, OrderKind, OrderStatus
from .protocol import PRECONDITIONING_WINDOW_DAYS, ward_zone

NEAR_EPISODE = timedelta(days=PRECONDITIONING_WINDOW_DAYS)

# What the checks read of the episode's JSON, as annotations (one query for a page).
CHECK_ANNOTATIONS = {
    "long_term": KT("plan_input__patient__long_term_antiplatelet"),
    "cert_issuer": KT("plan_input__product__certificate__issuer"),
    "cert_third_party": KT("plan_input__product__certificate__third_party_retest"),
    "cert_cells": KT("plan_input__product__certificate__cell_count_measured"),
    "repeat_status": KT("plan__repeat_infusion__status"),
    "ap_below_floor": KT("plan__antiplatelet__below_floor"),
}
CHECK_EPISODE_FIELDS = (
    "candidacy_overall",
    "release_status",
    "weight_kg",
    "dose_cells",
    "planned_start",
    "planned_end",
    "started_at",
    "cold_chain_late_from",
    "cold_chain_must_complete_by",
    "cyc_hold_until",
)


def with_check_values(queryset):
    """``queryset`` of episodes annotated with what the checks read of their JSON and of
    their consent (B-CONSENT-1: a LEFT JOIN; None when not recorded)."""
    return queryset.annotate(
        consent_on=F("consent__consented_on"),
        consent_by=F("consent__consenter"),
        consent_form=F("consent__form_version"),
        **CHECK_ANNOTATIONS,
    )


def _true(value):
    # JSON true read as text: "true" on PostgreSQL, 1 on SQLite.
    return str(value).lower() in ("true", "1")


def cyc_near(episode):
    """The patient's cyclophosphamide orders near this infusion: ``(order, in_hold)``."""
    start = episode.started_at or episode.planned_start
    hold = episode.cyc_hold_until
    out = []
    for cyc in episode.cyc_orders:
        at = cyc.scheduled_at
        if at is None or not (start - NEAR_EPISODE <= at <= (hold or start) + NEAR_EPISODE):
            continue
        out.append((cyc, hold is not None and start <= at < hold))
    return out


def verification_input(episode) -> VerificationInput:
    kinds = {o.kind for o in episode.live_orders}
    msc = next((o for o in episode.live_orders if o.kind == OrderKind.MSC_IV), None)
    cells = episode.cert_cells
    return VerificationInput(
        candidacy_overall=episode.candidacy_overall,
        repeat_status=episode.repeat_status or None,
        consent_recorded=episode.consent_on is not None,
        consent_on=episode.consent_on,
        consent_by=episode.consent_by,
        consent_version=episode.consent_form,
        release_status=episode.release_status,
        certificate_issuer=episode.cert_issuer or None,
        third_party_retest=_true(episode.cert_third_party)
        if episode.cert_third_party not in (None, "")
        else None,
        weight_kg=Decimal(episode.weight_kg),
        dose_cells=episode.dose_cells,
        certified_cells=int(Decimal(cells)) if cells not in (None, "") else None,
        planned_end=episode.planned_end,
        cold_chain_late_from=episode.cold_chain_late_from,
        cold_chain_must_complete_by=episode.cold_chain_must_complete_by,
        has_dexamethasone=OrderKind.DEXAMETHASONE in kinds,
        has_antiplatelet=OrderKind.ANTIPLATELET in kinds,
        long_term_antiplatelet=_true(episode.long_term),
        cyclophosphamide=tuple(
            CycNearInfusion(
                order_id=cyc.pk,
                scheduled_at=cyc.scheduled_at,
                in_hold=in_hold,
                hold_override=bool(cyc.hold_override_reason),
            )
            for cyc, in_hold in cyc_near(episode)
        ),
        infusion_volume_ml=msc.volume_ml if msc is not None else None,
        display_zone=ward_zone(),
        antiplatelet_below_floor=_true(episode.ap_below_floor),
    )


def checks_for(episode):
    return verification_checks(verification_input(episode))


def live_overrides(episode_ids):
    """{episode pk: [CheckOverride]} of the live (not voided) overrides, oldest first."""
    out = {pk: [] for pk in episode_ids}
    for o in CheckOverride.objects.filter(
        episode_id__in=list(episode_ids), voided_at__isnull=True
    ).order_by("signed_at", "pk"):
        out[o.episode_id].append(o)
    return out


def covered(overrides, prescriber_ids=()):
    """The ``values_key`` of every override that counts: its second signer is not a
    prescriber of the episode's orders (C-VERIFY-1: a physician other than the prescriber)."""
    return {o.values_hash for o in overrides if o.second_signer_id not in set(prescriber_ids)}


@dataclass
class CheckView:
    """A check as a card or a refusal shows it, in the reader's language."""

    check: VerificationCheck
    label: str
    reason: str
    override: CheckOverride | None
    form: object = None  # the episode page's override form for a failing check

    @property
    def status(self):
        if self.override is not None and self.check.status == "failed":
            return "overridden"
        return self.check.status

    @property
    def blocks(self):
        return self.status in ("failed", "refused")


# Engine parameters that are words, shown in the reader's language.
PARAM_WORDS = {"patient": gettext_lazy("patient"), "relative": gettext_lazy("relative")}


def _translated(template, params):
    params = {k: str(PARAM_WORDS.get(v, v)) for k, v in params.items()}
    try:
        return _(template) % params
    except (KeyError, ValueError, TypeError):  # a translation that lost a placeholder
        return template % params


def check_views(checks, overrides=()):
    by_key = {o.values_hash: o for o in overrides}
    return [
        CheckView(
            check=c,
            label=_(c.label),
            reason=_translated(c.reason_template, c.reason_params),
            override=by_key.get(c.values_key) if c.status == "failed" else None,
        )
        for c in checks
    ]


def load_episode(episode_id):
    """One episode with everything ``checks_for`` reads (for the services)."""
    episode = (
        with_check_values(Episode.objects.select_related("patient"))
        .exclude(status=EpisodeStatus.CANCELLED)
        .get(pk=episode_id)
    )
    orders = list(
        Order.objects.filter(patient_id=episode.patient_id).exclude(
            status__in=(OrderStatus.CANCELLED, OrderStatus.REJECTED)
        )
    )
    episode.live_orders = [o for o in orders if o.episode_id == episode.pk]
    episode.cyc_orders = sorted(
        (o for o in orders if o.kind == OrderKind.CYCLOPHOSPHAMIDE and o.scheduled_at),
        key=lambda o: o.scheduled_at,
    )
    return episode


def prescriber_ids(episode_id):
    from .models import Signature, SignatureMeaning

    return set(
        Signature.objects.filter(
            order__episode_id=episode_id,
            meaning=SignatureMeaning.PRESCRIBED,
            voided_at__isnull=True,
        ).values_list("signer_id", flat=True)
    )


def blocking_for(episode_id):
    """(the checks that stop verification now, every check) for one episode."""
    episode = load_episode(episode_id)
    checks = checks_for(episode)
    overrides = live_overrides([episode.pk])[episode.pk]
    return blocking(checks, covered(overrides, prescriber_ids(episode.pk))), checks


def episode_check_views(episode_id):
    """(CheckView per check, every live override) of one episode, for its page; nothing
    for a cancelled episode."""
    try:
        episode = load_episode(episode_id)
    except Episode.DoesNotExist:
        return [], []
    overrides = live_overrides([episode_id])[episode_id]
    prescribers = prescriber_ids(episode_id)
    counted = [o for o in overrides if o.second_signer_id not in prescribers]
    return check_views(checks_for(episode), counted), overrides


def override_label(override):
    """The check an override lifted, in the reader's language."""
    label = CHECK_LABELS.get(override.check_key)
    return _(label) if label else override.check_key
