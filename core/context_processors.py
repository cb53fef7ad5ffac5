from django.apps import apps
from django.conf import settings


def shell(request):
    user = getattr(request, "user", None)
    role = user.role if user is not None and user.is_authenticated else None
    return {
        "role": role,
        "ward": getattr(user, "ward", None) if role else None,
        "ward_time_zone": settings.TIME_ZONE,
        "patient_panels": [
            cfg.patient_panel_template
            for cfg in apps.get_app_configs()
            if getattr(cfg, "patient_panel_template", None)
        ],
        "nav_items": [
            item
            for cfg in apps.get_app_configs()
            for item in getattr(cfg, "nav_items", ())
            if role in item["roles"]
        ],
    }
