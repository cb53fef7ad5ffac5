"""Background work behind infusion.tasks: PDF pre-rendering and the SAE report e-mail."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.pdf import render_pdf
from core.reminders.texts import language_of
from core.text import header_safe

from .models import Episode, SeriousAdverseEventReport

logger = logging.getLogger(__name__)


def prerender_order_sheet(episode_id, languages=None):
    """After a signature (or another change to the sheet): the order sheet in every
    language, stored once as PDF/A-3b when anything on it is signed (infusion.records,
    written here when the record is signed), else rendered into the PDF cache (core.pdf)
    so the download is a cache hit."""
    from . import records
    from .records import pdf_context

    episode = (
        Episode.objects.select_related("patient", "patient__ward").filter(pk=episode_id).first()
    )
    if episode is None:  # a message for a row that no longer exists (e.g. a test database)
        return
    for language in languages or [code for code, _name in settings.LANGUAGES]:
        if records.store(episode, language, build_context=lambda: pdf_context(episode)):
            continue
        render_pdf(
            "infusion/pdf/order_sheet.html",
            {**pdf_context(episode), "ward_time_zone": settings.TIME_ZONE},
            language=language,
        )


def sae_recipients(report):
    """(address, language): the ward's physician on duty, and the hospital's SAE mailbox
    (setting INFUSION_SAE_EMAIL) in the site language."""
    out = []
    doctor = report.episode.patient.ward.physician_on_duty
    if doctor is not None and doctor.email:
        out.append((doctor.email, language_of(doctor)))
    mailbox = getattr(settings, "INFUSION_SAE_EMAIL", "")
    if mailbox:
        out.append((mailbox, settings.LANGUAGE_CODE))
    return out


def _local(value):
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def sae_email(report, language):
    """(subject, body) of the SAE report e-mail in `language` (hospital number, no name)."""
    reaction = report.reaction
    patient = report.episode.patient
    with translation.override(language):
        subject = _("Serious adverse event: MSC infusion, patient %(number)s") % {
            "number": patient.hospital_number
        }
        lines = [
            _("Patient: %(number)s, %(ward)s")
            % {"number": patient.hospital_number, "ward": patient.ward},
            _("Reaction: %(what)s (%(severity)s) at %(time)s")
            % {
                "what": reaction.get_reaction_type_display(),
                "severity": reaction.get_severity_display(),
                "time": _local(reaction.at),
            },
            _("Action taken: %(action)s") % {"action": reaction.action},
            _("Informed: %(whom)s at %(time)s")
            % {"whom": report.informed_whom, "time": _local(report.informed_at)},
            _("Report: %(text)s") % {"text": report.description},
            _("Reported by: %(user)s") % {"user": report.reported_by.get_username()},
            _("Rule: B-ADM-5 (R6, 1A), consensus §4.1. Times in %(zone)s.")
            % {"zone": settings.TIME_ZONE},
        ]
    return subject, "\n".join(lines) + "\n"


def notify_sae_report(report_id):
    report = (
        SeriousAdverseEventReport.objects.select_related(
            "episode__patient__ward__physician_on_duty", "reaction", "reported_by"
        )
        .filter(pk=report_id)
        .first()
    )
    if report is None:
        return
    recipients = sae_recipients(report)
    if not recipients:
        logger.warning("SAE report %s: no recipient configured", report_id)
        return
    for address, language in recipients:
        subject, body = sae_email(report, language)
        send_mail(header_safe(subject), body, settings.DEFAULT_FROM_EMAIL, [address])
