from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "plans"
    verbose_name = "帮扶计划"

    def ready(self):
        from households import sections

        from . import indicators
        from .household_page import PLAN, VILLAGE_PLAN

        sections.register_section(PLAN)  # the household's plan card on its page
        sections.register_link("region", VILLAGE_PLAN)
        indicators.register()  # the plan figures of the reports
