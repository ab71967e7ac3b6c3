from django.urls import path

from . import views

app_name = "demands"
urlpatterns = [
    path("demands/", views.demand_list, name="list"),
    path("demands/export.xlsx", views.demand_export, name="export"),
    path("demands/new/<int:household_pk>/", views.demand_raise, name="raise"),
    path("demands/<int:pk>/", views.demand_detail, name="detail"),
    path("demands/<int:pk>/act/", views.demand_act, name="act"),
]
