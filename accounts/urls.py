from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("accounts/locked/", views.locked_list, name="locked"),
    path("accounts/otp/", views.otp_setup, name="otp_setup"),
]
