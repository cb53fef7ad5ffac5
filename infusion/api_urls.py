from django.urls import path

from . import api

app_name = "infusion_api"
urlpatterns = [path("plan", api.plan, name="plan")]
