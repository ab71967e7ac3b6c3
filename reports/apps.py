from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "报告"

    def ready(self):
        # The quarterly ranking's four rates join the indicator catalogue (shuanglian/indicators.py).
        from . import dispatch

        dispatch.register()
