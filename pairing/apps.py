from django.apps import AppConfig


class PairingConfig(AppConfig):
    name = "pairing"
    verbose_name = "联村联户"

    def ready(self):
        from households import moves

        from . import indicators
        from .tallies import recount_households

        indicators.register_all()

        moves.register(recount_households)  # a household moved: its cadres' loads per county, recounted
