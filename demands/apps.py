from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemandsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "demands"
    verbose_name = _("诉求台账")
