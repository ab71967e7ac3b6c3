from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemandsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "demands"
    verbose_name = _("诉求台账")

    def ready(self):
        from households import sections
        from visits import entry, timeline

        from . import indicators
        from .household_page import DEMANDS
        from .visit_entry import DEMAND_ROWS
        from .visit_timeline import RAISED_DEMANDS

        entry.register(DEMAND_ROWS)  # the demand rows on the visit entry page
        timeline.register(RAISED_DEMANDS)  # the demands raised in each visit, on the household's timeline
        sections.register_section(DEMANDS)  # the household's demands, and the form to raise one
        indicators.register()  # the demand figures of the reports
