from django.urls import path

from positions.web import views

urlpatterns = [
    path("positions/<int:pk>/", views.position_detail, name="position_detail"),
    path("org/<slug:code>/powers/", views.power_list, name="power_list"),
    path("org/<slug:code>/powers/new/", views.power_create, name="power_create"),
    path("org/<slug:code>/rotation/", views.rotation, name="rotation"),
    path("powers/<int:pk>/", views.power_detail, name="power_detail"),
    path("powers/<int:pk>/edit/", views.power_edit, name="power_edit"),
    path("powers/<int:pk>/steps/", views.power_steps, name="power_steps"),
    path("powers/<int:pk>/retire/", views.power_retire, name="power_retire"),
]
