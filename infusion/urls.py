from django.urls import path

from . import views

app_name = "infusion"
urlpatterns = [
    path("", views.episode_list, name="episode_list"),
    path("queue/", views.queue, name="queue"),
    path("patients/<int:patient_pk>/open/", views.episode_open, name="episode_open"),
    path("episodes/<int:pk>/", views.episode_detail, name="episode_detail"),
    path("episodes/<int:pk>/edit/", views.episode_edit, name="episode_edit"),
    path("episodes/<int:pk>/cancel/", views.episode_cancel, name="episode_cancel"),
    path("episodes/<int:pk>/sign/", views.episode_sign_all, name="episode_sign_all"),
    path("episodes/<int:pk>/consent/", views.consent_record, name="consent_record"),
    path("episodes/<int:pk>/consent/scan/", views.consent_scan, name="consent_scan"),
    path("episodes/<int:pk>/follow-up/", views.episode_follow_up, name="episode_follow_up"),
    path(
        "episodes/<int:pk>/cyclophosphamide/",
        views.cyclophosphamide_new,
        name="cyclophosphamide_new",
    ),
    path("episodes/<int:pk>/chart/", views.chart, name="chart"),
    path("episodes/<int:pk>/chart/<slug:event>/", views.chart_record, name="chart_record"),
    path("episodes/<int:pk>/vitals/", views.vitals_add, name="vitals_add"),
    path("episodes/<int:pk>/reactions/", views.reaction_add, name="reaction_add"),
    path("episodes/<int:pk>/order-sheet.pdf", views.order_sheet_pdf, name="order_sheet_pdf"),
    path("episodes/<int:pk>/infusion-record.pdf", views.record_pdf, name="record_pdf"),
    path("episodes/<int:pk>/timeline.svg", views.timeline_svg, name="timeline_svg"),
    path("orders/<int:pk>/sign/", views.order_sign, name="order_sign"),
    path("orders/<int:pk>/verify/", views.order_verify, name="order_verify"),
    path("episodes/<int:pk>/verify/", views.episode_verify, name="episode_verify"),
    path("episodes/<int:pk>/override/", views.check_override, name="check_override"),
    path(
        "episodes/<int:pk>/cold-chain/viability/",
        views.cold_chain_viability,
        name="cold_chain_viability",
    ),
    path(
        "episodes/<int:pk>/cold-chain/deviation/",
        views.cold_chain_deviation,
        name="cold_chain_deviation",
    ),
    path("orders/<int:pk>/reject/", views.order_reject, name="order_reject"),
    path("orders/<int:pk>/cancel/", views.order_cancel, name="order_cancel"),
    path("orders/<int:pk>/edit/", views.order_edit, name="order_edit"),
    path("orders/<int:pk>/administer/", views.order_administer, name="order_administer"),
    path("orders/<int:pk>/complete/", views.order_complete, name="order_complete"),
    path("reactions/<int:pk>/sae/", views.sae_report, name="sae_report"),
]
