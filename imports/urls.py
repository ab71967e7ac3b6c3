from django.urls import path

from . import views

app_name = "imports"
urlpatterns = [
    path("imports/", views.batch_list, name="list"),
    path("imports/<int:pk>/", views.batch_detail, name="detail"),
    path("imports/<int:pk>/status/", views.batch_status, name="status"),
    path("imports/<int:pk>/confirm/", views.batch_confirm, name="confirm"),
    path("imports/<int:pk>/retry/", views.batch_retry, name="retry"),
    path("imports/<int:pk>/errors.xlsx", views.batch_errors, name="errors"),
    path("imports/template/<str:kind>.xlsx", views.template, name="template"),
    path("imports/export/households.xlsx", views.export_households, name="export_households"),
    path("exports/<int:pk>/", views.export_detail, name="export_detail"),
    path("exports/<int:pk>/status/", views.export_status, name="export_status"),
    path("exports/<int:pk>/download/", views.export_download, name="export_download"),
]
