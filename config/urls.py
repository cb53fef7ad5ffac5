from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("core.urls")),
    path("screening/", include("screening.urls")),
    path("api/screening/", include("screening.api_urls")),
    path("infusion/", include("infusion.urls")),
    path("api/infusion/", include("infusion.api_urls")),
    path("django-admin/", admin.site.urls),
]

handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "django.views.defaults.server_error"
