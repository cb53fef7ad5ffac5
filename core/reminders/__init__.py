"""Reminders and notifications (issue 7): database rows swept by one beat, delivered by
short idempotent Celery tasks through pluggable channels. Public API: `services`."""
