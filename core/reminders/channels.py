"""Delivery channels: where a due reminder goes.

A channel says who it reaches (`targets`) and how it sends to one of them (`send`). The
delivery service wraps every (reminder, channel, target) in the idempotency guard of a
`ReminderDelivery` row, so a channel only has to send once when asked once.

`transactional = True` channels write only to the database (the notification centre):
their send runs inside the transaction that inserts the delivery row, so they are
exactly-once by construction. Other channels talk to the outside world (e-mail; later
SMS or WeCom); for them the guard is "insert a pending row, commit, send, mark sent",
the mark committed per message before the next send starts.

Enabled channels are listed, in order, in settings.REMINDER_CHANNELS (dotted paths). A
later SMS/WeCom channel subclasses `Channel`, implements `targets` and `send`, and is added
to that setting.
"""

import time
from contextlib import nullcontext
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils.module_loading import import_string

from core.text import header_safe

from . import links
from .models import Reminder
from .texts import render_email


@dataclass(frozen=True)
class Target:
    key: str  # unique per channel within one reminder: the idempotency key
    user: object = None


class Channel:
    name = ""
    transactional = False

    def targets(self, reminder, recipients):
        """The targets of this reminder on this channel (recipients: resolved users)."""
        raise NotImplementedError

    def session(self):
        """A context manager around a batch of sends (e.g. one SMTP connection)."""
        return nullcontext()

    def send(self, reminder, target, *, late, now, session):
        """Send once; raise on failure (the delivery is then marked failed and retried)."""
        raise NotImplementedError

    def send_batch(self, items, *, now, session):
        """Send several (reminder, target, late) items; a channel may do it in one go."""
        for reminder, target, late in items:
            self.send(reminder, target, late=late, now=now, session=session)


class InAppChannel(Channel):
    """The notification centre: the reminder row itself is shown to its recipients."""

    name = "in_app"
    transactional = True

    def targets(self, reminder, recipients):
        # One publication however many recipients: the centre shows the row to the role.
        return [Target("*")]

    def send(self, reminder, target, *, late, now, session):
        self.send_batch([(reminder, target, late)], now=now, session=session)

    def send_batch(self, items, *, now, session):
        for late in (False, True):
            pks = [reminder.pk for reminder, _target, is_late in items if is_late is late]
            if pks:
                Reminder.objects.filter(pk__in=pks, notified_at__isnull=True).update(
                    notified_at=now, late=late, updated_at=now
                )


class EmailChannel(Channel):
    """One e-mail per recipient with an address, in the recipient's language."""

    name = "email"

    def targets(self, reminder, recipients):
        return [Target(f"user:{u.pk}", u) for u in recipients if u.email]

    def session(self):
        return get_connection()

    def send(self, reminder, target, *, late, now, session):
        delay = settings.REMINDER_TEST_DELIVERY_DELAY_SECONDS
        if delay:  # test-only: widen the window in which a worker can be killed mid-send
            time.sleep(delay)
        subject, body = render_email(
            reminder,
            target.user,
            late=late,
            link=links.notification_centre_url(),
            page_link=links.reminder_url(reminder),
        )
        domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
        message = EmailMessage(
            # One header line whatever a name in it holds (a \r or \x0b stored before
            # names were checked at entry): Django encodes it, nothing can split it.
            subject=header_safe(subject),
            body=body,
            to=[target.user.email],
            # A stable Message-ID: if the process dies between the SMTP server's "250 OK"
            # and our "sent" mark, the retry's copy carries the same id and mail systems
            # can fold the two.
            headers={"Message-ID": f"<reminder-{reminder.pk}-{target.user.pk}@{domain}>"},
            connection=session,
        )
        if message.send(fail_silently=False) != 1:
            raise RuntimeError("the e-mail backend did not accept the message")


@cache
def _load(paths):
    channels = []
    for path in paths:
        channel = import_string(path)()
        if not channel.name:
            raise ValueError(f"{path} has no name")
        channels.append(channel)
    return tuple(channels)


def enabled_channels():
    return _load(tuple(settings.REMINDER_CHANNELS))
