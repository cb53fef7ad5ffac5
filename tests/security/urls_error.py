"""The project's URLs plus a view that raises, for the server-error page test."""

from django.urls import path

from config.urls import handler403, handler404, handler500
from config.urls import urlpatterns as project_urls

SECRET_DETAIL = "secret-detail-in-the-exception-message"


def explode(request):
    raise RuntimeError(SECRET_DETAIL)


urlpatterns = [*project_urls, path("__explode__/", explode, name="explode")]

__all__ = ["handler403", "handler404", "handler500", "urlpatterns"]
