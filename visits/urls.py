from django.urls import path

from . import views

app_name = "visits"
urlpatterns = [
    path("visits/", views.visit_list, name="list"),
    path("visits/new/", views.visit_new, name="new"),
    path("households/<int:household_pk>/visits/", views.household_visits, name="household"),
]
