from django.urls import path

from . import dispatch_views, views

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
    # Quarterly dispatch (季调度), bulletins (通报), annual summary (年总结): reports/dispatch_views.py
    path("reports/dispatch/", dispatch_views.dispatch_page, name="dispatch"),
    path("reports/bulletins/", dispatch_views.bulletin_list, name="bulletin_list"),
    path("reports/bulletins/draft/", dispatch_views.bulletin_draft, name="bulletin_draft"),
    path("reports/bulletins/<int:pk>/", dispatch_views.bulletin_detail, name="bulletin_detail"),
    path("reports/bulletins/<int:pk>/issue/", dispatch_views.bulletin_issue, name="bulletin_issue"),
    path("reports/bulletins/<int:pk>/read/", dispatch_views.bulletin_read, name="bulletin_read"),
    path("reports/bulletins/<int:pk>/bulletin.docx", dispatch_views.bulletin_docx, name="bulletin_docx"),
    path("reports/bulletins/<int:pk>/print/", dispatch_views.bulletin_print, name="bulletin_print"),
    path("reports/annual/", dispatch_views.annual_page, name="annual"),
    path("reports/annual/print/", dispatch_views.annual_print, name="annual_print"),
    path("reports/annual/summary.xlsx", dispatch_views.annual_xlsx, name="annual_xlsx"),
]
