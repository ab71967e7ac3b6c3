from django.urls import path

from . import history, views

urlpatterns = [
    path("", views.home, name="home"),
    path("inbox/", views.inbox, name="inbox"),
    path("history/", history.search, name="history"),
]
