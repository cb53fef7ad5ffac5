"""Expected status per role for the reminder URLs (core.reminders)."""

from django.utils import timezone

from core.reminders import services
from tests.security.matrix import Entry, everyone


def _shown_to_ward_a_nurses(world):
    reminder = services.reminder_schedule(
        subject_type="matrix.Subject",
        subject_id=1,
        step="check",
        due_at=timezone.now(),
        patient=world.patient,
        ward=world.ward_a,
        recipient_role="nurse",
        title_template="Check %(patient)s",
        title_params={"patient": world.patient.name},
    )
    services.sweep(enqueue=lambda ids: None)
    services.deliver(reminder.pk)
    return reminder


def _nurse_feed_token(world):
    return services.calendar_token_regenerate(user=world.users["nurse"])


NURSE_REMINDER = {"pk": lambda w: w.get("reminder", _shown_to_ward_a_nurses).pk}
NURSE_TOKEN = {"token": lambda w: w.get("feed", _nurse_feed_token).token}

ENTRIES = {
    "notification_list": Entry("get", expect=everyone(200)),
    # Without htmx the badge is a link to the list.
    "notification_badge": Entry("get", expect=everyone(302)),
    # Only the ward's nurses may acknowledge it; for everyone else it does not exist.
    "notification_acknowledge": Entry(
        "post", kwargs=NURSE_REMINDER, expect=everyone(404, nurse=302)
    ),
    "calendar_settings": Entry("get", expect=everyone(200)),
    "calendar_regenerate": Entry("post", expect=everyone(302)),
    "calendar_revoke": Entry("post", expect=everyone(302)),
    # The secret token is the credential: no session needed.
    "calendar_feed": Entry("get", kwargs=NURSE_TOKEN, expect=everyone(200, anon=200)),
}


# The acknowledgement has no fields: the fuzzer checks that stray fields change nothing and
# that acknowledging twice is refused without a second audit row.
FORMS = {"notification_acknowledge": (NURSE_REMINDER, lambda w: {})}
SUBMITTERS = {"notification_acknowledge": "nurse"}
FORM_EXEMPT = {
    "calendar_regenerate": "no input: a new random token for the signed-in user",
    "calendar_revoke": "no input: revokes the signed-in user's token",
}
