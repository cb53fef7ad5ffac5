from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScreeningConfig(AppConfig):
    name = "screening"
    verbose_name = _("Trial screening")
    patient_panel_template = "screening/_patient_panel.html"
    nav_items = [
        {
            "url": "screening:log",
            "label": _("Screening log"),
            "description": _(
                "Trial eligibility screenings: outcomes, failing criteria, sign-off and the flow diagram"
            ),
            "roles": {"physician", "nurse", "auditor"},
        }
    ]

    def seed_demo(self, stdout):
        from .demo import seed_demo

        seed_demo(stdout)

    def bench_seed(self, screenings, episodes):
        from .demo import bench_seed

        bench_seed(screenings)
