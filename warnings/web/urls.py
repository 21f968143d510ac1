from django.urls import path

from integrity_warnings.web import grade_views, views

urlpatterns = [
    path("warnings/", views.ledger, name="warning_ledger"),
    path("warnings/export.xlsx", views.ledger_export, {"fmt": "xlsx"}, name="warning_ledger_xlsx"),
    path("warnings/export.pdf", views.ledger_export, {"fmt": "pdf"}, name="warning_ledger_pdf"),
    path("warnings/statistics/", views.ledger_statistics, name="warning_statistics"),
    path("warnings/new/", views.item_new, name="warning_new"),
    path("warnings/mine/", views.my_notices, name="my_notices"),
    path("warnings/grades/<slug:code>/", grade_views.warning_grades_edit, name="warning_grades"),
    path("warnings/<int:pk>/", views.item_detail, name="warning_detail"),
    path("warnings/<int:pk>/verify/", views.item_verify, name="warning_verify"),
    path("warnings/<int:pk>/handlers/", views.item_grant, name="warning_grant"),
    path("warnings/<int:pk>/risk-point/", views.warning_point_new, name="warning_point_new"),
    path("warnings/<int:pk>/issue/", views.disposition_issue, name="disposition_issue"),
    path("warnings/notices/<int:pk>/", views.disposition_detail, name="disposition_detail"),
    path("warnings/notices/<int:pk>/pdf/", views.disposition_pdf, name="disposition_pdf"),
    path("warnings/notices/<int:pk>/files/", views.attachment_add, name="disposition_attachment_add"),
    path("warnings/files/<int:pk>/", views.attachment_download, name="disposition_attachment"),
    path("warnings/notices/<int:pk>/<slug:step>/", views.disposition_step, name="disposition_step"),
]
