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
            "roles": {"physician", "nurse", "auditor"},
        },
        {
            "url": "infusion:queue",
            "label": _("Pharmacy queue"),
            "description": _("Orders waiting for pharmacist verification, most urgent first"),
            "roles": {"pharmacist", "auditor"},
        },
    ]

    def ready(self):
        from core.reminders import links

        from . import reminders

        links.register(reminders.EPISODE_SUBJECT, reminders.reminder_path)
        links.register(reminders.ORDER_SUBJECT, reminders.reminder_path)

    def seed_demo(self, stdout):
        from .demo import seed_demo

        seed_demo(stdout)

    def bench_seed(self, screenings, episodes):
        from .demo import bench_seed

        bench_seed(episodes)
