from django.urls import path

from . import views

app_name = "visits"
urlpatterns = [
    path("visits/", views.visit_list, name="list"),
    path("visits/new/", views.visit_new, name="new"),
    path("visits/new/responsible/<int:household_pk>/", views.responsible_cadre, name="responsible"),
    path("visits/unit-visits/", views.unit_visit_list, name="unit_visit_list"),
    path("visits/unit-visits/new/", views.unit_visit_new, name="unit_visit_new"),
    path("visits/worklists/", views.worklist_summary, name="worklists"),
    path("visits/worklists/<slug:kind>/", views.worklist, name="worklist"),
    path("households/<int:household_pk>/visits/", views.household_visits, name="household"),
]
