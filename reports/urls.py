from django.urls import path

from . import views

app_name = "reports"
monthly = "reports/monthly/<str:office>/<int:year>/<int:month>/"
urlpatterns = [
    path("reports/", views.index, name="index"),
    path("reports/board/", views.board, name="board"),
    path("reports/board/xlsx/", views.board_xlsx, name="board_xlsx"),
    path(monthly, views.detail, name="detail"),
    path(f"{monthly}save/", views.save, name="save"),
    path(f"{monthly}submit/", views.submit, name="submit"),
    path(f"{monthly}return/", views.return_, name="return"),
    path(f"{monthly}approve/", views.approve, name="approve"),
    path(f"{monthly}reopen/", views.reopen, name="reopen"),
    path(f"{monthly}print/", views.print_view, name="print"),
    path(f"{monthly}xlsx/", views.xlsx, name="xlsx"),
]
