from django.urls import path

from . import views

app_name = "inspections"
urlpatterns = [
    path("flags/", views.flag_list, name="flag_list"),
    path("flags/<int:pk>/", views.flag_detail, name="flag_detail"),
    path("flags/<int:pk>/review/", views.flag_review, name="flag_review"),
    path("inspections/", views.inspection_list, name="inspection_list"),
    path("inspections/new/", views.inspection_create, name="inspection_create"),
    path("inspections/<int:pk>/", views.inspection_detail, name="inspection_detail"),
    path("inspections/<int:pk>/close/", views.inspection_close, name="inspection_close"),
    path("inspections/<int:pk>/findings/", views.finding_add, name="finding_add"),
    path("inspections/<int:pk>/checks/", views.checks, name="checks"),
    path("inspections/<int:pk>/report/", views.inspection_report, name="report"),
    path("inspections/<int:pk>/report.docx", views.inspection_report_docx, name="report_docx"),
    path("inspections/checks/<int:pk>/", views.check, name="check"),
    path("rectifications/", views.rectification_list, name="rectification_list"),
    path("rectifications/<int:pk>/", views.rectification, name="rectification"),
    path("rectifications/<int:pk>/files/<int:file_pk>/", views.rectification_file, name="rectification_file"),
    path("notices/", views.notice_list, name="notice_list"),
    path("notices/<str:code>/", views.notice, name="notice"),
    path("notices/<str:code>/posted/", views.notice_post, name="notice_post"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/new/", views.case_nominate, name="case_nominate"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/review/", views.case_review, name="case_review"),
]
