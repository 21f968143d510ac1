from django.urls import path

from positions.web import catalogues, imports, views

urlpatterns = [
    path("positions/<int:pk>/", views.position_detail, name="position_detail"),
    path("org/<slug:code>/powers/", views.power_list, name="power_list"),
    path("org/<slug:code>/powers/new/", views.power_create, name="power_create"),
    path("org/<slug:code>/powers/import/", imports.power_import_upload, name="power_import"),
    path("org/<slug:code>/powers/import/confirm/", imports.power_import_confirm, name="power_import_confirm"),
    path("org/<slug:code>/powers/import/template/", imports.power_import_template, name="power_import_template"),
    path("org/<slug:code>/rotation/", views.rotation, name="rotation"),
    path("powers/<int:pk>/", views.power_detail, name="power_detail"),
    path("powers/<int:pk>/edit/", views.power_edit, name="power_edit"),
    path("powers/<int:pk>/steps/", views.power_steps, name="power_steps"),
    path("powers/<int:pk>/retire/", views.power_retire, name="power_retire"),
    path("org/<slug:code>/rules/", catalogues.rule_list, name="rule_list"),
    path("org/<slug:code>/rules/new/", catalogues.rule_create, name="rule_create"),
    path("rules/<int:pk>/", catalogues.rule_detail, name="rule_detail"),
    path("rules/<int:pk>/edit/", catalogues.rule_edit, name="rule_edit"),
    path("rules/<int:pk>/revise/", catalogues.rule_revise, name="rule_revise"),
    path("rules/<int:pk>/repeal/", catalogues.rule_repeal, name="rule_repeal"),
    path("rules/<int:pk>/attachment/", catalogues.rule_attachment, name="rule_attachment"),
    path("org/<slug:code>/catalogues/", catalogues.catalogue_export, name="catalogue_export"),
    path("public/<slug:code>/", catalogues.public_page, name="public_page"),
    path(
        "public/<slug:code>/rules/<int:pk>/attachment/",
        catalogues.public_rule_attachment,
        name="public_rule_attachment",
    ),
    path("public/<slug:code>/scope/", catalogues.disclosure_scope, name="disclosure_scope"),
]
