from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from accounts.forms import LoginForm

admin.site.site_header = "联村联户、为民富民 管理后台"
admin.site.site_title = "双联系统"
admin.site.index_title = "数据管理"


def favicon(request):
    """Browsers ask for /favicon.ico by themselves: send them to the static file (whose name carries a
    hash in production, hence a temporary redirect)."""
    return redirect(static("favicon.ico"))


urlpatterns = [
    path("favicon.ico", favicon, name="favicon"),
    path("", include("dashboard.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(authentication_form=LoginForm), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("accounts.urls")),
    path("", include("households.urls")),
    path("", include("pairing.urls")),
    path("", include("visits.urls")),
    path("", include("demands.urls")),
    path("", include("imports.urls")),
    path("", include("plans.urls")),
    path("", include("evaluation.urls")),
    path("", include("reports.urls")),
    # One login page for the app and the admin, so the admin cannot skip the second factor.
    path("admin/login/", RedirectView.as_view(pattern_name="login", query_string=True)),
    path("admin/", admin.site.urls),
]
