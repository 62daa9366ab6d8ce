"""`make demo`'s supervisor: web, two Celery workers and beat in the foreground; Ctrl-C stops all.

Demo work (building the demo model, its runs) is enqueued only after /healthz answers 200,
so the site is up at once and the workers do the slow part while you watch.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST, PORT = os.environ.get("ANCHORAGE_HOST", "127.0.0.1"), int(os.environ.get("ANCHORAGE_PORT", "8000"))


@dataclass(frozen=True)
class Part:
    name: str
    command: list[str]


def parts() -> list[Part]:
    celery = [str(BIN / "celery"), "-A", "config"]
    return [
        Part("web", [str(BIN / "gunicorn"), "config.wsgi", "--bind", f"{HOST}:{PORT}", "--workers", "2",
                     "--threads", "4", "--timeout", "120", "--access-logfile", "-"]),
        Part("worker-default", [*celery, "worker", "-Q", "default", "-c", "2", "-n", "default@%h", "-l", "info"]),
        Part("worker-robustness", [*celery, "worker", "-Q", "robustness", "-c", "1", "-n", "robustness@%h",
                                   "-l", "info"]),
        Part("beat", [*celery, "beat", "-l", "info"]),
    ]


def wait_healthy(deadline_s: float) -> bool:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://{HOST}:{PORT}/healthz", timeout=10) as answer:
                if answer.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(1)
    return False


def stop(children: dict[str, subprocess.Popen[bytes]]) -> None:
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children.values():
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    children = {part.name: subprocess.Popen(part.command, cwd=ROOT) for part in parts()}
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        started = time.monotonic()
        if not wait_healthy(180):
            print("error: /healthz did not become healthy within 180 s", file=sys.stderr)
            return 1
        print(f"\nAnchorage is up at http://{HOST}:{PORT}/ (healthy after {time.monotonic() - started:.1f} s)."
              " Ctrl-C stops everything.\n", flush=True)
        if os.environ.get("DEMO_WORK", "1") != "0":
            subprocess.run([sys.executable, "manage.py", "demo_enqueue"], cwd=ROOT, check=False)
        while True:
            for name, child in children.items():
                if child.poll() is not None:
                    print(f"error: {name} exited with status {child.returncode}; stopping", file=sys.stderr)
                    return 1
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nstopping Anchorage…", flush=True)
        return 0
    finally:
        stop(children)


if __name__ == "__main__":
    sys.exit(main())
