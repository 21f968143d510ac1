"""The site's URLs plus a page that fails, for the 500 page's test."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path

from config.urls import urlpatterns as site_urlpatterns


@login_not_required
def fail(request):
    raise RuntimeError("secret detail of the failure")


urlpatterns = [*site_urlpatterns, path("fail/", fail)]
