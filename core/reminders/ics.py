"""The per-user calendar feed (RFC 5545 iCalendar) of upcoming reminders.

Calendar apps poll a secret URL (`/calendar/<token>.ics`) without a session; the token is
the only credential, so it is long and random, revocable, and replaced by regenerating.
The feed is read by services outside the hospital: it names patients by initials only
(see texts.PATIENT_PARAMS) and links back to the notification centre for the rest.

Each reminder is one VEVENT with a stable UID (so clients update instead of duplicating),
DTSTART in UTC (`…Z`), and SEQUENCE bumped on every reschedule.
"""

from datetime import UTC

from django.conf import settings

from .texts import render_title

PRODID = "-//Ward cell therapy//Reminders//EN"
EVENT_MINUTES = 15


def ics_datetime(value):
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def escape_text(value):
    """TEXT value escaping (RFC 5545 §3.3.11)."""
    return (
        str(value)
        .replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line):
    """Fold a content line at 75 octets without splitting a UTF-8 character (§3.1)."""
    encoded = line.encode("utf-8")
    if len(encoded) <= 75:
        return line
    parts, current, limit = [], b"", 75
    for char in line:
        piece = char.encode("utf-8")
        if len(current) + len(piece) > limit:
            parts.append(current.decode("utf-8"))
            current, limit = b"", 74  # continuation lines start with one space
        current += piece
    parts.append(current.decode("utf-8"))
    return "\r\n ".join(parts)


def uid_for(reminder):
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
    return f"reminder-{reminder.pk}@{domain}"


def build_calendar(reminders, *, language, name, link, stamp, link_for=None):
    """The feed as text: one VEVENT per reminder, CRLF line endings. Each event links to
    `link_for(reminder)` (its page) when given, else to `link`."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
        "X-PUBLISHED-TTL:PT15M",
    ]
    for reminder in reminders:
        summary = render_title(reminder, language, late=False, for_calendar=True)
        start = reminder.due_at
        url = link_for(reminder) if link_for is not None else link
        description = f"{reminder.rule_id}\n{url}" if reminder.rule_id else url
        lines += [
            "BEGIN:VEVENT",
            f"UID:{uid_for(reminder)}",
            f"DTSTAMP:{ics_datetime(stamp)}",
            f"LAST-MODIFIED:{ics_datetime(reminder.updated_at)}",
            f"SEQUENCE:{reminder.sequence}",
            f"DTSTART:{ics_datetime(start)}",
            f"DURATION:PT{EVENT_MINUTES}M",
            f"SUMMARY:{escape_text(summary)}",
            f"DESCRIPTION:{escape_text(description)}",
            f"URL:{url}",
            "STATUS:CONFIRMED",
            "TRANSP:TRANSPARENT",
            "BEGIN:VALARM",
            "ACTION:DISPLAY",
            f"DESCRIPTION:{escape_text(summary)}",
            "TRIGGER:PT0M",
            "END:VALARM",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
