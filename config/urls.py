from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api")),
    # Browsers and bookmark tools ask for /favicon.ico whatever the page links.
    path("favicon.ico", RedirectView.as_view(url=static("regimen/favicon.svg"), permanent=True)),
    path("", include("config.pages")),
]
