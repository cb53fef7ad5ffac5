from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InfusionConfig(AppConfig):
    name = "infusion"
    verbose_name = _("MSC infusion")
    patient_panel_template = "infusion/_patient_panel.html"
    nav_items = [
        {
            "url": "infusion:episode_list",
            "label": _("MSC infusions"),
            "description": _("Planned and recent MSC infusion episodes, orders and charts"),
            "roles": {"physician", "nurse", "admin"},
        },
        {
            "url": "infusion:queue",
            "label": _("Pharmacy queue"),
            "description": _("Orders waiting for pharmacist verification, most urgent first"),
            "roles": {"pharmacist", "admin"},
        },
    ]

    def seed_demo(self, stdout):
        from .demo import seed_demo

        seed_demo(stdout)

    def bench_seed(self, screenings, episodes):
        from .demo import bench_seed

        bench_seed(episodes)
