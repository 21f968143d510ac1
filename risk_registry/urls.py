from django.urls import path

from risk_registry import views

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
    path("org/", views.institution_tree, name="institution_tree"),
    path("org/<slug:code>/", views.institution_detail, name="institution_detail"),
    path("departments/<int:pk>/", views.department_detail, name="department_detail"),
    path(
        "departments/<int:pk>/risks/new/", views.risk_point_create_for_department, name="department_risk_point_create"
    ),
    path("positions/<int:pk>/risks/new/", views.risk_point_create_for_position, name="position_risk_point_create"),
    path("risks/", views.risk_point_list, name="risk_point_list"),
    path("risks/<int:pk>/", views.risk_point_detail, name="risk_point_detail"),
    path("risks/<int:pk>/edit/", views.risk_point_edit, name="risk_point_edit"),
]
