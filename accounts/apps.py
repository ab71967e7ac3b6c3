from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "账号与权限"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from .middleware import mark_seen

        user_logged_in.connect(mark_seen, dispatch_uid="accounts.mark_seen")
