"""Test profile (pytest's DJANGO_SETTINGS_MODULE): the defaults, with private broker and media.

The test run gets its own SQLite broker file and media folder (unless CELERY_BROKER_URL or
MEDIA_ROOT name others, as in CI), so a running `make demo` never steals the tests' tasks.
"""

import os

from .base import *  # noqa: F403
from .base import VAR_DIR, _generated_secret_key

SECRET_KEY = SECRET_KEY or _generated_secret_key()  # noqa: F405

_RUN = f"{os.getpid()}"
if "CELERY_BROKER_URL" not in os.environ:
    CELERY_BROKER_URL = "sqla+sqlite:///" + str(VAR_DIR / f"test-broker-{_RUN}.sqlite3")
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
if "MEDIA_ROOT" not in os.environ:
    MEDIA_ROOT = VAR_DIR / "test-media" / _RUN
CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                        "LOCATION": str(VAR_DIR / "test-cache" / _RUN)}}
# One torch thread per test process: the suite runs beside real worker processes on 2 cores.
ROBUSTNESS_TORCH_THREADS = int(os.environ.get("ROBUSTNESS_TORCH_THREADS", "1"))
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
HEALTHZ_WORKER_TIMEOUT = 3.0
# No audit anchor file in the shared var/ (every test database starts afresh): the anchor's own
# tests point AUDIT_ANCHOR_PATH at a temporary file.
AUDIT_ANCHOR_PATH = os.environ.get("AUDIT_ANCHOR_PATH", "")
TEST_OUTPUT_DIR = VAR_DIR / "test-output"
