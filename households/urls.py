from django.urls import path

from . import views

app_name = "households"
urlpatterns = [
    path("households/", views.household_list, name="list"),
    path("households/lookup/", views.household_lookup, name="lookup"),
    path("households/villages/lookup/", views.village_lookup, name="village_lookup"),
    path("households/<int:pk>/", views.household_detail, name="detail"),
    path("households/<int:pk>/edit/", views.household_edit, name="edit"),
    path("households/<int:pk>/reveal/", views.household_reveal, name="reveal"),
    path("regions/", views.region_browse, name="regions"),
    path("regions/<str:code>/", views.region_browse, name="region"),
]
