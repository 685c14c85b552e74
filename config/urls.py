from django.contrib import admin
from django.urls import include, path

from core import health
from sessions.health import check_outbox

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
    path("api/v1/", include("config.api")),
    path("", include("config.pages")),
]
