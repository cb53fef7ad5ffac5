"""Celery tasks of the infusion app. Thin: take an id, call the function that does it."""

from celery import shared_task

from . import notifications


@shared_task(ignore_result=True)
def prerender_order_sheet(episode_id):
    """Render the order sheet after a signature so the download is instant (PDF cache)."""
    notifications.prerender_order_sheet(episode_id)


@shared_task(ignore_result=True, acks_late=True)
def notify_sae_report(report_id):
    """E-mail a serious adverse event report to the physician on duty and the safety office."""
    notifications.notify_sae_report(report_id)


@shared_task(ignore_result=True)
def sweep_missed_doses():
    """Beat, every DOSE_SWEEP_SECONDS: due doses past their window become missed (C-MAR-1)."""
    from . import mar

    mar.doses_sweep_missed()
