from django.urls import path

from . import views

app_name = "screening"
urlpatterns = [
    path("", views.log, name="log"),
    path("export.csv", views.log_csv, name="log_csv"),
    path("patient/<int:patient_pk>/start/", views.start, name="start"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/evaluate/", views.evaluate, name="evaluate"),
    path("<int:pk>/rows/", views.add_row, name="add_row"),
    path("<int:pk>/sign/", views.sign, name="sign"),
    path("<int:pk>/amend/", views.amend, name="amend"),
    path("<int:pk>/checklist.pdf", views.pdf, name="pdf"),
]
