from django.urls import path

from . import api

app_name = "screening_api"
urlpatterns = [path("evaluate", api.evaluate, name="evaluate")]
