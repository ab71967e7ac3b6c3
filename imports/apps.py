from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    name = "imports"
    verbose_name = _("名册导入")

    def ready(self):
        from households import sections

        from .household_page import EXPORT

        sections.register_link("household_list", EXPORT)  # 导出 Excel under the household list
