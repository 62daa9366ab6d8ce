"""Smoke test of the embedded default: what `make demo` runs, with nothing but files under var/.

SQLite database, kombu's server-less SQLAlchemy broker on a SQLite file, two Celery workers,
beat and gunicorn, started by the same launcher `make demo` uses, in a fresh VAR_DIR.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.processes import LOG_DIR, ROOT, free_port, stop_process, wait_for_log
from tests.web import WebSession

pytestmark = pytest.mark.e2e

EMBEDDED_ONLY = ("DATABASE_URL", "CELERY_BROKER_URL", "MEDIA_ROOT", "DJANGO_SETTINGS_MODULE")


def embedded_environment(var_dir: Path, port: int) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in EMBEDDED_ONLY}
    env.update({"VAR_DIR": str(var_dir), "ANCHORAGE_PORT": str(port), "DEMO_WORK": "0", "HF_HUB_OFFLINE": "1",
                "PYTHONUNBUFFERED": "1"})
    return env


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_embedded_default_runs_web_workers_and_beat_from_files_alone(tmp_path):
    port = free_port()
    env = embedded_environment(tmp_path / "var", port)
    manage(env, "migrate", "--no-input", "-v", "0")
    logins = manage(env, "demo_setup")
    assert "officer-demo-2026" in logins

    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log = LOG_DIR / "embedded-launcher.log"
    with log.open("wb") as output:
        launcher = subprocess.Popen([sys.executable, "-m", "config.launcher"], cwd=ROOT, env=env, stdout=output,
                                    stderr=subprocess.STDOUT)
    try:
        wait_for_log(log, "Anchorage is up", launcher, timeout=180)
        session = WebSession(f"http://127.0.0.1:{port}")
        assert session.get("/healthz").status == 200
        session.login("admin", "admin-demo-2026")  # the worker-ping diagnostic is for organisation admins
        task_id = session.post("/api/v1/diagnostics/worker-ping/").json()["task_id"]
        deadline = time.monotonic() + 60
        while (answer := session.get(f"/api/v1/diagnostics/worker-ping/{task_id}/").json())["status"] == "PENDING":
            assert time.monotonic() < deadline, "the ping never ran"
            time.sleep(0.3)
        assert answer["status"] == "SUCCESS"

        launcher.send_signal(signal.SIGTERM)  # what Ctrl-C does to `make demo`
        assert launcher.wait(timeout=60) == 0
    finally:
        stop_process(launcher)

    database = tmp_path / "var" / "anchorage.sqlite3"
    broker = tmp_path / "var" / "celery-broker.sqlite3"
    assert database.exists() and broker.exists(), "everything lives in files under VAR_DIR"
    with sqlite3.connect(database) as db:
        status, = db.execute("SELECT status FROM django_celery_results_taskresult WHERE task_id = ?",
                             (task_id,)).fetchone()
    assert status == "SUCCESS"
    leftovers = subprocess.run(["pgrep", "-f", f"127.0.0.1:{port}"], capture_output=True, text=True).stdout
    assert leftovers.strip() == "", "Ctrl-C stops every part"
