"""Settings for the test suite: the same as production's, with defaults that
point at the local PostgreSQL and Redis (bin/services.py sets both when it
starts embedded ones)."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/regimen")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key")
os.environ.setdefault("SITE_URL", "http://127.0.0.1:8000")
# The demo app (load_demo, generate_load) is tested too; production leaves it out.
os.environ.setdefault("REGIMEN_DEMO", "true")
os.environ.setdefault("REGIMEN_VAR_DIR", os.path.join(os.path.dirname(os.path.dirname(__file__)), "var", "test"))

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests

# One cache per test process, emptied before each test (tests/conftest.py), so
# that login throttling and the beat's heartbeat never leak between tests.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# WhiteNoise serves from the finders in tests; an empty STATIC_ROOT keeps it quiet.
os.makedirs(STATIC_ROOT, exist_ok=True)  # noqa: F405

# Page tests log in, then travel days ahead with time-machine; the idle
# timeout would sign them out. tests/security/test_sessions.py checks the
# timeout itself with the production value.
SESSION_COOKIE_AGE = 60 * 60 * 24 * 365
