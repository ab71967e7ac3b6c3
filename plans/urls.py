from django.urls import path

from . import views

app_name = "plans"
urlpatterns = [
    path("plans/", views.plan_list, name="list"),
    path("plans/villages/<str:code>/", views.village_plan, name="village"),
    path("plans/villages/<str:code>/edit/", views.village_plan_edit, name="village_edit"),
    path("plans/households/<int:pk>/", views.household_plan, name="household"),
    path("plans/households/<int:pk>/edit/", views.household_plan_edit, name="household_edit"),
]
