from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import time_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("language/", views.set_language, name="set_language"),
    path("patients/", views.patient_list, name="patient_list"),
    path("patients/new/", views.patient_create, name="patient_create"),
    path("patients/<int:pk>/", views.patient_detail, name="patient_detail"),
    path("patients/<int:pk>/edit/", views.patient_edit, name="patient_edit"),
    path("patients/<int:pk>/measurements/", views.measurement_add, name="measurement_add"),
    path("patients/<int:pk>/labs/", views.lab_add, name="lab_add"),
    path("audit/", views.audit_browser, name="audit_browser"),
    path("system/implausible-times/", time_views.implausible_times, name="implausible_times"),
    path("audit/chain/", views.audit_chain_status, name="audit_chain_status"),
    path("audit/export.csv", views.audit_export, name="audit_export"),
    path("", include("core.reminders.urls")),
]
