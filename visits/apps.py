from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "visits"
    verbose_name = "走访与诉求"

    def ready(self):
        from . import indicators

        indicators.register()
