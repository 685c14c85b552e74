from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from core import health
from messaging.health import check_outbox

readyz = health.readiness_view(
    {
        "database": health.check_database,
        "broker": health.check_broker,
        "beat": health.check_beat,
        "outbox": check_outbox,
    }
)

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),
    # Browsers and bookmark tools ask for /favicon.ico whatever the page links.
    path("favicon.ico", RedirectView.as_view(url=static("regimen/favicon.svg"), permanent=True)),
    path("", include("web.urls")),
]
