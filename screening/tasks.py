"""Celery tasks of the screening app. Thin: take an id, call the function that does it."""

from celery import shared_task

from . import records


@shared_task(ignore_result=True)
def archive_signed_checklist(screening_id):
    """Store the signed checklist as PDF/A-3b in every language (screening.records)."""
    records.store_every_language(screening_id)
