"""The project's URLs plus a view that fails, for the 500-page test."""

from django.urls import path

from config.urls import handler403, handler404, handler500
from config.urls import urlpatterns as project_urlpatterns


def boom(request):
    raise RuntimeError("kaboom: secret detail from the stack")


urlpatterns = [path("test-boom/", boom), *project_urlpatterns]

__all__ = ["handler403", "handler404", "handler500", "urlpatterns"]
