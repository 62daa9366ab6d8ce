"""Anchorage settings, read from the environment (see README's configuration table)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from config.env import database_from_url, env_bool, env_float, env_int, env_list, env_str

# Nothing downloads at run time: open_clip and huggingface_hub resolve only from local caches.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

# Off unless the environment says DEBUG=true: a forgotten variable must not ship technical error pages.
DEBUG = env_bool("DEBUG", False)


def _generated_secret_key() -> str:
    """A key generated once into var/secret_key, so sessions survive restarts (development profiles only)."""
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


# The profile decides what happens without one: development and test generate one
# (`_generated_secret_key`), production refuses to start.
SECRET_KEY = env_str("SECRET_KEY", "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_results",
    "django_celery_beat",
    "governance",
    "assessments",
    "robustness",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.security.SecurityHeadersMiddleware",
    "config.errors.DiskFullMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "governance.context_processors.current_organisation",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(
        env_str("DATABASE_URL", "sqlite:///" + str(VAR_DIR / "anchorage.sqlite3")),
        base_dir=BASE_DIR,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Real worker processes in the tests share the test database, so it must be a file, not
    # memory; one per test process, so that parallel runs never share one.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-anchorage-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "config.storages.WholeFileSystemStorage"},  # a full disk leaves no half file
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media"))).resolve()
MEDIA_URL = "/media/"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
MAX_UPLOAD_BYTES = env_int("MAX_UPLOAD_BYTES", 512 * 1024 * 1024, minimum=1024)

def _cache(url: str) -> dict[str, object]:
    if url.startswith(("redis://", "rediss://")):
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    if url.startswith("file://"):
        return {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": url[len("file://"):]}
    raise ImproperlyConfigured(f"CACHE_URL={url!r}: use file:///path or redis://host:port/db")


# Shared by every process on the machine (login throttling must count across gunicorn workers);
# redis:// where there are several web hosts.
CACHES = {"default": _cache(env_str("CACHE_URL", "file://" + str(VAR_DIR / "cache")))}
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5, minimum=1)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 900, minimum=1)
# The login throttle (config/auth.py, docs/reliability.md): a hard budget per client address, and a
# soft limit per user name from all addresses (past it, one attempt per address, never a lock-out).
LOGIN_ADDRESS_MAX_FAILURES = env_int("LOGIN_ADDRESS_MAX_FAILURES", 50, minimum=1)
LOGIN_ADDRESS_WINDOW_SECONDS = env_int("LOGIN_ADDRESS_WINDOW_SECONDS", 900, minimum=1)
LOGIN_USER_SOFT_LIMIT = env_int("LOGIN_USER_SOFT_LIMIT", 20, minimum=1)
# Behind proxies: how many append to CLIENT_ADDRESS_HEADER (0: the client is REMOTE_ADDR).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
CLIENT_ADDRESS_HEADER = "HTTP_" + env_str("CLIENT_ADDRESS_HEADER", "X-Forwarded-For").upper().replace("-", "_")

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=300)
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_METADATA_CLASS": "config.metadata.AnchorageMetadata",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "60/minute"),
        "user": env_str("API_THROTTLE_USER", "1200/minute"),
        # POST /api/v1/diagnostics/worker-ping/ (config.api.WorkerPingView), per user.
        "diagnostics": env_str("API_THROTTLE_DIAGNOSTICS", "10/minute"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Anchorage API",
    "DESCRIPTION": "AI risk governance and robustness audits.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a `status` or `result` field with its own choices: name each set.
    "ENUM_NAME_OVERRIDES": {
        "RiskStatusEnum": "governance.models.risks.RiskStatus",
        "ClassificationResultEnum": "governance.models.registry.ClassificationResult",
        "ValidationStatusEnum": "governance.models.registry.ValidationStatus",
        "TextStatusEnum": "governance.models.catalog.TextStatus",
        "ControlStatusEnum": "governance.models.controls.ControlStatus",
        "EvidenceStatusEnum": "assessments.models.evidence.EvidenceStatus",
        "FindingStatusEnum": "assessments.models.findings.FindingStatus",
        "EngagementStatusEnum": "assessments.models.engagements.EngagementStatus",
        "ActionStatusEnum": "assessments.models.engagements.ActionStatus",
        "AssessmentStatusEnum": "assessments.models.assessments.AssessmentStatus",
        "ResultStatusEnum": "assessments.models.assessments.ResultStatus",
        "JobStatusEnum": "governance.models.jobs.JobStatus",
    },
}

# --- Celery -----------------------------------------------------------------------------------
_DEFAULT_BROKER = "sqla+sqlite:///" + str(VAR_DIR / "celery-broker.sqlite3")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", _DEFAULT_BROKER)
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_CACHE_BACKEND = "django-cache"
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {"robustness.tasks.*": {"queue": "robustness"}}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 6 * 3600, minimum=60)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
# Redis redelivers an unacknowledged message after the visibility timeout: keep it above the
# longest time limit, or a long run would be handed to a second worker while the first still works.
# (The SQLAlchemy transport hands its options to create_engine, which rejects this one.)
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {} if CELERY_BROKER_URL.startswith("sqla+") else {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 3600}
)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = False
# Robustness runs: how long a claim lasts without a heartbeat (a dead worker's run is picked up
# again after it), torch threads per worker (0 = torch's default; on a shared CPU more threads
# than free cores make every step many times slower), and the absolute accuracy drop against
# the previous comparable run that counts as a regression.
ROBUSTNESS_LEASE_SECONDS = env_int("ROBUSTNESS_LEASE_SECONDS", 120, minimum=2)
ROBUSTNESS_TORCH_THREADS = env_int("ROBUSTNESS_TORCH_THREADS", 0)
ROBUSTNESS_REGRESSION_TOLERANCE = env_float("ROBUSTNESS_REGRESSION_TOLERANCE", 0.05, minimum=0.0, maximum=1.0)
HEALTHZ_WORKER_TIMEOUT = float(env_int("HEALTHZ_WORKER_TIMEOUT_MS", 5000, minimum=100)) / 1000
# /healthz answers the worker check from the last ping, refreshed at most every this many
# seconds (one ping in flight at a time, whoever asks): a burst of callers sends no tasks.
HEALTHZ_WORKER_CACHE_SECONDS = env_int("HEALTHZ_WORKER_CACHE_SECONDS", 30, minimum=1)
# The audit trail's heads, HMAC-signed and appended to a file outside the database
# (governance.audit; checked by `manage.py audit_verify`). Empty path: no anchoring.
# The key defaults to one derived from SECRET_KEY (development); set it apart in production.
AUDIT_ANCHOR_PATH = env_str("AUDIT_ANCHOR_PATH", str(VAR_DIR / "audit-anchor.jsonl"))
AUDIT_ANCHOR_KEY = env_str("AUDIT_ANCHOR_KEY", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
