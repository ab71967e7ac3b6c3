from django.urls import path

from . import views

app_name = "evaluation"
urlpatterns = [
    path("evaluation/", views.round_list, name="round_list"),
    path("evaluation/new/", views.round_create, name="round_create"),
    path("evaluation/<int:pk>/", views.round_detail, name="round_detail"),
    path("evaluation/<int:pk>/assign/", views.assign, name="assign"),
    path("evaluation/<int:pk>/close/", views.round_close, name="round_close"),
    path("evaluation/<int:pk>/cadres/<int:cadre_pk>/", views.cadre_score, name="cadre_score"),
    path("evaluation/collectors/", views.collectors, name="collectors"),
    path("evaluation/collect/", views.collect, name="collect"),
    path("evaluation/collect/<int:pk>/", views.ballot, name="ballot"),
    path("evaluation/collect/<int:pk>/unreachable/", views.unreachable, name="unreachable"),
    path("evaluation/<int:pk>/units/<int:unit_pk>/", views.unit_score, name="unit_score"),
    path("evaluation/<int:pk>/score/", views.round_score, name="round_score"),
    path("evaluation/<int:pk>/results/", views.results_export, name="results_export"),
    path("evaluation/<int:pk>/print/", views.results_print, name="results_print"),
    path("evaluation/<int:pk>/questions/", views.questionnaire, name="questionnaire"),
    path("evaluation/questions/<int:pk>/", views.question_edit, name="question_edit"),
    path("evaluation/<int:pk>/paper/", views.paper_import, name="paper_import"),
    path("evaluation/<int:pk>/paper/<str:village>/", views.paper_sheet, name="paper_sheet"),
    path("evaluation/<int:pk>/flags/", views.flag_list, name="flag_list"),
    path("evaluation/flags/<int:pk>/check/", views.flag_check, name="flag_check"),
    path("evaluation/<int:pk>/cases/", views.case_list, name="case_list"),
    path("evaluation/cases/<int:pk>/", views.case_detail, name="case_detail"),
]
