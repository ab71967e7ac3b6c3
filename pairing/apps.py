from django.apps import AppConfig


class PairingConfig(AppConfig):
    name = "pairing"
    verbose_name = "联村联户"

    def ready(self):
        from households import moves, sections

        from . import indicators
        from .household_page import CADRES, COVERAGE
        from .tallies import recount_households

        indicators.register_all()

        moves.register(recount_households)  # a household moved: its cadres' loads per county, recounted
        sections.register_section(CADRES)  # 帮扶干部 on the household page
        sections.register_link("region", COVERAGE)
