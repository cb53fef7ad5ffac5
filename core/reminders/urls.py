from django.urls import path

from . import views

urlpatterns = [
    path("notifications/", views.notification_list, name="notification_list"),
    path("notifications/badge/", views.notification_badge, name="notification_badge"),
    path(
        "notifications/<int:pk>/acknowledge/",
        views.notification_acknowledge,
        name="notification_acknowledge",
    ),
    path("notifications/calendar/", views.calendar_settings, name="calendar_settings"),
    path("notifications/calendar/new/", views.calendar_regenerate, name="calendar_regenerate"),
    path("notifications/calendar/revoke/", views.calendar_revoke, name="calendar_revoke"),
    # No session: the secret token in the URL is the credential (calendar apps poll it).
    path("calendar/<slug:token>.ics", views.calendar_feed, name="calendar_feed"),
]
