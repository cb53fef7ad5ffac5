"""Deep links of reminders: the page where the recipient acts on one (the pharmacy
queue's card, the bedside chart), as a path for the notification centre and as an
absolute URL (settings.REMINDER_SITE_URL) for e-mails and calendar events.

Apps that schedule reminders register one resolver per subject type in their AppConfig's
`ready()` (core does not import them); a reminder without one links to the notification
centre.
"""

from django.conf import settings
from django.urls import reverse

_RESOLVERS = {}


def register(subject_type, resolver):
    """`resolver(reminder)` returns the path of the reminder's page, or None."""
    _RESOLVERS[subject_type] = resolver


def reminder_path(reminder):
    # An escalation keeps its reminder's subject (and its step with a suffix).
    resolver = _RESOLVERS.get(reminder.subject_type)
    path = resolver(reminder) if resolver is not None else None
    return path or reverse("notification_list")


def absolute(path):
    return settings.REMINDER_SITE_URL.rstrip("/") + path


def reminder_url(reminder):
    return absolute(reminder_path(reminder))


def notification_centre_url():
    return absolute(reverse("notification_list"))
