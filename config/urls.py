"""URL map: each app owns its URLs; admin, auth and language switching live here."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("", include("risk_registry.web.urls")),
    path("", include("positions.web.urls")),
    path("", include("assessments.web.urls")),
    path("", include("controls.web.urls")),
    path("", include("integrity_warnings.web.urls")),
    path("documents/", include("risk_registry.web.urls_documents")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(template_name="registration/change_password.html"),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="registration/change_password_done.html"),
        name="password_change_done",
    ),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
