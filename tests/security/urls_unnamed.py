"""A URL conf with one unnamed pattern, for test_url_matrix's own check (not the app's)."""

from django.http import HttpResponse
from django.urls import path


def hidden(request):
    return HttpResponse("hidden")


urlpatterns = [
    path("shown/", hidden, name="shown"),
    path("hidden/", hidden),
]
