"""DEBUG is off unless the environment says DEBUG=true (security review M-4), in every profile.

Each check runs in a fresh interpreter with DEBUG, SECRET_KEY and DJANGO_SETTINGS_MODULE removed
from the environment, so what is seen is the profile's own default, not pytest-django's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent

_PAGES = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client, RequestFactory
from django.views.defaults import server_error
client = Client()
missing = client.get("/no-such-page/")
broken = server_error(RequestFactory().get("/"))
static = client.get("/static/css/anchorage.css")
print(json.dumps({"debug": settings.DEBUG, "missing_status": missing.status_code,
                  "missing": missing.content.decode(), "broken_status": broken.status_code,
                  "broken": broken.content.decode(), "static_status": static.status_code}))
"""


def _run(code: str, *args: str, var_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items()
             if key not in {"DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    command = [sys.executable, "-c", code] if code else [sys.executable, *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=180,
                          env={**clean, "VAR_DIR": str(var_dir), **env})


@pytest.mark.parametrize("module", ["config.settings.base", "config.settings.development", "config.settings.test"])
def test_debug_is_off_without_a_debug_variable(module, tmp_path):
    done = _run(f"import {module} as s; print(s.DEBUG, bool(s.SECRET_KEY))", var_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    expected_key = module != "config.settings.base"  # base leaves the key to the profile
    assert done.stdout.split() == ["False", str(expected_key)]


@pytest.mark.parametrize(("value", "expected"), [("true", "True"), ("1", "True"), ("false", "False")])
def test_only_an_explicit_debug_variable_turns_it_on(value, expected, tmp_path):
    done = _run("import config.settings.development as s; print(s.DEBUG)", var_dir=tmp_path, DEBUG=value)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [expected]


def test_make_demo_starts_without_debug():
    makefile = (ROOT / "Makefile").read_text()
    launcher = (ROOT / "config" / "launcher.py").read_text()
    assert "DEBUG" not in makefile and "DEBUG" not in launcher, "make demo runs on the profile's default"


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> Path:
    var_dir = tmp_path_factory.mktemp("var")
    done = _run("", "manage.py", "collectstatic", "--no-input", "-v", "0", var_dir=var_dir)
    assert done.returncode == 0, done.stderr
    return var_dir


@pytest.mark.parametrize("profile", ["development", "production"])
def test_error_pages_are_the_products_own_and_static_files_are_served(profile, collected):
    extra = {"SECRET_KEY": "k" * 64, "SECURE_SSL_REDIRECT": "false"} if profile == "production" else {}
    done = _run(_PAGES, var_dir=collected, DJANGO_SETTINGS_MODULE=f"config.settings.{profile}", **extra)
    assert done.returncode == 0, done.stderr
    pages = json.loads(done.stdout.strip().splitlines()[-1])
    assert pages["debug"] is False
    assert pages["missing_status"] == 404
    assert "There is nothing here, or nothing you may see." in pages["missing"]
    for internal in ("URLconf", "config.urls", "accounts/login/", "api/v1/", "Django tried these URL patterns"):
        assert internal not in pages["missing"]
    assert pages["broken_status"] == 500
    assert "Something went wrong on our side" in pages["broken"]
    for internal in ("Traceback", "DATABASES", "CELERY_BROKER_URL", str(ROOT)):
        assert internal not in pages["broken"]
    assert pages["static_status"] == 200, "WhiteNoise serves the collected files with DEBUG off"
