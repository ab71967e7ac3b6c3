from django.apps import AppConfig


class HouseholdsConfig(AppConfig):
    name = "households"
    verbose_name = "区划与农户"

    def ready(self):
        from . import indicators

        indicators.register_all()
