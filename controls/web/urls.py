from django.urls import path

from controls.web import views

urlpatterns = [
    path("controls/<int:pk>/runs/new/", views.control_run_create, name="control_run_create"),
]
