from django.apps import AppConfig


class ShuanglianConfig(AppConfig):
    name = "shuanglian"
    verbose_name = "双联系统"
