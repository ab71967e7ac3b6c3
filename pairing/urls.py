from django.urls import path

from . import views

app_name = "pairing"
urlpatterns = [
    path("cadres/", views.cadre_list, name="cadre_list"),
    path("cadres/lookup/", views.cadre_lookup, name="cadre_lookup"),
    path("cadres/<int:pk>/", views.cadre_detail, name="cadre_detail"),
    path("cadres/<int:pk>/reveal/", views.cadre_reveal, name="cadre_reveal"),
    path("cadres/<int:cadre_pk>/handover/", views.handover_start, name="handover_start"),
    path("cadres/<int:cadre_pk>/pair/", views.pair_cadre, name="pair_cadre"),
    path("households/<int:household_pk>/pair/", views.pair_household, name="pair_household"),
    path("pairings/bulk/", views.bulk_pair, name="bulk_pair"),
    path("proposals/", views.proposal_list, name="proposal_list"),
    path("proposals/new/", views.proposal_create, name="proposal_create"),
    path("proposals/<int:pk>/", views.proposal_detail, name="proposal_detail"),
    path("proposals/<int:pk>/apply/", views.proposal_apply, name="proposal_apply"),
    path("proposals/<int:pk>/discard/", views.proposal_discard, name="proposal_discard"),
    path("handovers/<int:pk>/", views.handover_detail, name="handover_detail"),
    path("handovers/<int:pk>/apply/", views.handover_apply, name="handover_apply"),
    path("coverage/", views.coverage, name="coverage"),
    path("coverage/<str:code>/", views.coverage, name="coverage_region"),
    path("coverage/<str:code>/<str:kind>/", views.coverage_list, name="coverage_list"),
]
