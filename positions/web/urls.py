from django.urls import path

from positions.web import views

urlpatterns = [
    path("positions/<int:pk>/", views.position_detail, name="position_detail"),
]
