"""The notification centre (list, acknowledge, the polled badge) and the calendar feed."""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.middleware import passive

from . import links, services
from .ics import build_calendar
from .models import CalendarFeedToken
from .selectors import (
    get_notification_for_user,
    notifications_for_user,
    open_notification_count,
    upcoming_for_calendar,
)
from .texts import language_of, render_title

TEMPLATE = "reminders/notifications.html"


def _with_titles(reminders, user):
    language = language_of(user)
    for reminder in reminders:
        reminder.display_title = render_title(reminder, language)
        reminder.display_link = links.reminder_path(reminder)
    return reminders


@login_required
@require_GET
def notification_list(request):
    show = "all" if request.GET.get("show") == "all" else "open"
    reminders = notifications_for_user(request.user, open_only=show == "open")
    page = Paginator(reminders, 25).get_page(request.GET.get("page"))
    _with_titles(page.object_list, request.user)
    context = {"page": page, "show": show, "query": f"show={show}"}
    if request.htmx and request.htmx.target == "notification-table":
        return render(request, f"{TEMPLATE}#notification-table", context)
    return render(request, TEMPLATE, context)


@passive  # polled every 30 s: must not keep an idle tablet's session alive
@require_GET
def notification_badge(request):
    if not request.user.is_authenticated:
        login_url = reverse(settings.LOGIN_URL)
        if request.htmx:
            return HttpResponse(status=204, headers={"HX-Redirect": login_url})
        return redirect(f"{login_url}?next={reverse('notification_list')}")
    if not request.htmx:
        return redirect("notification_list")
    context = {"reminder_badge_count": open_notification_count(request.user)}
    return render(request, "reminders/_badge.html#badge-inner", context)


@login_required
@require_POST
def notification_acknowledge(request, pk):
    reminder = get_notification_for_user(request.user, pk)
    try:
        reminder = services.reminder_acknowledge(reminder=reminder, user=request.user)
    except ValidationError as exc:
        if request.htmx:
            return HttpResponse(" ".join(exc.messages), status=409)
        messages.error(request, " ".join(exc.messages))
        return redirect("notification_list")
    if request.htmx:
        reminder = _with_titles(
            [get_notification_for_user(request.user, reminder.pk)], request.user
        )[0]
        context = {"n": reminder, "reminder_badge_count": open_notification_count(request.user)}
        return render(request, f"{TEMPLATE}#acknowledged", context)
    messages.success(request, _("Reminder acknowledged."))
    return redirect("notification_list")


def _live_token(user):
    return CalendarFeedToken.objects.filter(user=user, revoked_at__isnull=True).first()


@login_required
@require_GET
def calendar_settings(request):
    token = _live_token(request.user)
    feed_url = (
        request.build_absolute_uri(reverse("calendar_feed", args=[token.token])) if token else ""
    )
    return render(request, "reminders/calendar.html", {"token": token, "feed_url": feed_url})


@login_required
@require_POST
def calendar_regenerate(request):
    services.calendar_token_regenerate(user=request.user)
    messages.success(request, _("A new calendar link was made; the old one no longer works."))
    return redirect("calendar_settings")


@login_required
@require_POST
def calendar_revoke(request):
    services.calendar_token_revoke(user=request.user)
    messages.success(request, _("The calendar link was revoked."))
    return redirect("calendar_settings")


@require_GET
def calendar_feed(request, token):
    feed = (
        CalendarFeedToken.objects.select_related("user")
        .filter(token=token, revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if feed is None:
        raise Http404("No such calendar.")
    now = timezone.now()
    if feed.last_used_at is None or now - feed.last_used_at > timedelta(minutes=5):
        CalendarFeedToken.objects.filter(pk=feed.pk).update(last_used_at=now)
    user = feed.user
    language = language_of(user)
    reminders = upcoming_for_calendar(user, now, days=settings.REMINDER_CALENDAR_DAYS)
    with translation.override(language):
        name = _("Ward reminders")
    body = build_calendar(
        reminders,
        language=language,
        name=name,
        link=links.notification_centre_url(),
        stamp=now,
        link_for=links.reminder_url,
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="ward-reminders.ics"'
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
