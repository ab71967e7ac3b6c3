from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "visits"
    verbose_name = "走访与诉求"

    def ready(self):
        from households import sections

        from . import indicators
        from .household_page import HOUSEHOLD_VISITS, NEW_VISIT, TIMELINE

        indicators.register()
        sections.register_section(TIMELINE)  # the latest visits on the household page
        sections.register_link("household", HOUSEHOLD_VISITS)
        sections.register_link("household", NEW_VISIT)
