"""URLs of the documents (exports, jobs, archive, import), included under /documents/."""

from django.urls import path

from risk_registry.web.views import documents as views
from risk_registry.web.views import import_wizard

urlpatterns = [
    path("", views.home, name="documents_home"),
    path("export/", views.export, name="documents_export"),
    path("versions/<int:pk>/export/", views.version_export, name="documents_version_export"),
    path("archive/", views.archive, name="documents_archive"),
    path("jobs/<uuid:token>/", views.job, name="documents_job"),
    path("jobs/<uuid:token>/download/", views.job_download, name="documents_job_download"),
    path("import/<slug:code>/", views.import_upload, name="documents_import"),
    path("import/<slug:code>/confirm/", views.import_confirm, name="documents_import_confirm"),
    path("import/<slug:code>/jobs/<uuid:token>/", views.import_job, name="documents_import_job"),
    path("import/<slug:code>/wizard/", import_wizard.wizard_page, name="documents_wizard"),
    path("import/<slug:code>/wizard/upload/", import_wizard.wizard_upload, name="documents_wizard_upload"),
    path("import/<slug:code>/wizard/step/", import_wizard.wizard_step, name="documents_wizard_step"),
    path("import/<slug:code>/wizard/confirm/", import_wizard.wizard_confirm, name="documents_wizard_confirm"),
    path("import/<slug:code>/wizard/restart/", import_wizard.wizard_restart, name="documents_wizard_restart"),
    path("import/<slug:code>/template.xlsx", views.import_template, name="documents_import_template"),
]
