"""Reminder texts, rendered in the reader's language.

A reminder stores an English gettext msgid (`title_template`, e.g. marked with
`gettext_noop("Give dexamethasone 5 mg IV to %(patient)s (B-PREMED-1)")`) and its
parameters; the text is rendered per recipient under `translation.override(language)`.
The calling app's catalogue holds the translation of its own templates.

The calendar feed leaves the building (phones, Google/Outlook calendars): there the
`patient` parameter is reduced to initials.
"""

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from .times import local_hhmm, ward_zone

PATIENT_PARAMS = ("patient", "patient_name")


def language_of(user):
    lang = getattr(user, "language", "") or settings.LANGUAGE_CODE
    return lang if lang in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def initials(name):
    parts = str(name).replace("·", " ").split()
    if len(parts) == 1 and len(parts[0]) > 1 and not parts[0].isascii():
        return parts[0][0] + "*"  # a Chinese name without spaces: surname only
    return " ".join(f"{p[0]}." for p in parts if p) or "?"


def _title(reminder, *, for_calendar):
    params = dict(reminder.title_params or {})
    if for_calendar:
        for key in PATIENT_PARAMS:
            if key in params:
                params[key] = initials(params[key])
    try:
        return _(reminder.title_template) % params
    except (KeyError, ValueError, TypeError):
        # A translation that lost a placeholder must not lose the reminder.
        return reminder.title_template % params


def render_title(reminder, language, *, late=None, for_calendar=False):
    """The one-line text of a reminder in `language` (with late and escalation marks)."""
    late = reminder.late if late is None else late
    with translation.override(language):
        text = _title(reminder, for_calendar=for_calendar)
        if reminder.escalation_of_id:
            text = _("Escalated, not acknowledged within %(minutes)s min: %(title)s") % {
                "minutes": settings.REMINDER_ESCALATE_MINUTES,
                "title": text,
            }
        if late:
            text = _("%(title)s (late: due %(time)s)") % {
                "title": text,
                "time": local_hhmm(reminder.due_at),
            }
        return text


def render_email(reminder, user, *, late, link, page_link=None):
    """(subject, body) of the reminder e-mail for `user`, in the user's language: `link` is
    the notification centre, `page_link` the page where the reminder is acted on."""
    language = language_of(user)
    title = render_title(reminder, language, late=late)
    with translation.override(language):
        subject = _("Ward reminder: %(title)s") % {"title": title}
        lines = [
            title,
            "",
            _("Due: %(time)s (%(zone)s)")
            % {
                "time": reminder.due_at.astimezone(ward_zone()).strftime("%Y-%m-%d %H:%M"),
                "zone": settings.TIME_ZONE,
            },
        ]
        if reminder.rule_id:
            lines.append(_("Rule: %(rule)s") % {"rule": reminder.rule_id})
        lines.append("")
        if page_link and page_link != link:
            lines.append(_("Open: %(link)s") % {"link": page_link})
        lines.append(_("Acknowledge it in the notification centre: %(link)s") % {"link": link})
        return subject, "\n".join(lines) + "\n"
