from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "plans"
    verbose_name = "帮扶计划"

    def ready(self):
        from . import indicators

        indicators.register()  # the plan figures of the reports
