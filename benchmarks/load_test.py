"""Load test: N logged-in users against gunicorn + PostgreSQL on loopback, for a fixed time.

    .venv/bin/python benchmarks/load_test.py --users 50 --duration 60     # `make load`
    .venv/bin/python benchmarks/load_test.py --base-url http://127.0.0.1:8000   # an instance already up

Without --base-url it prepares its own world: creates the PostgreSQL database `anchorage_load`
(psql -h 127.0.0.1 -U postgres) if missing, migrates, loads the catalogs, runs `demo_setup`, seeds
AI systems, controls, evidence and pending robustness runs, and starts gunicorn on a free loopback
port (stopped at the end). Each simulated user is a thread with its own cookie session, logged in
as one of the demo roles, hitting the dashboard, list pages, run pages and the API at random,
pausing --think seconds on average between two requests (0: back to back).

A torch job runs beside the load unless --no-torch-job: a plain torch matmul loop (512 × 512
float32, one thread) in a subprocess, standing in for a robustness worker's CPU evaluation (the
product's own job needs a model and data prepared first); the output says how many matmuls it did.

Prints throughput, p50/p95/p99 latency and the errors: 5xx and unexpected 4xx (which must be
zero: the exit status is 1 otherwise); rate-limit answers (429) are counted apart. It stops by
itself after --duration seconds or --max-requests requests, whichever comes first.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.web import WebSession  # noqa: E402 - after the path is set

PYTHON = sys.executable  # the interpreter of the environment this runs in (`make load`: .venv)
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/anchorage_load"
PASSWORD_SUFFIX = "-demo-2026"
USERS = ("officer", "auditor", "consultant", "admin")
WEB_PAGES = (
    "/",
    "/ai-systems/",
    "/controls/",
    "/risks/",
    "/datasets/",
    "/evidence/",
    "/findings/",
    "/assessments/",
    "/engagements/",
    "/reports/",
    "/robustness/",
    "/audit-trail/",
    "/frameworks/",
)
API_PAGES = (
    "/api/v1/ai-systems/",
    "/api/v1/dashboard/",
    "/api/v1/controls/",
    "/api/v1/risks/",
    "/api/v1/robustness/evaluations/",
    "/api/v1/findings/",
    "/api/v1/audit-events/",
)
SEED = """
from django.contrib.auth import get_user_model
from governance.models import AISystem, Organisation, ModelVersion
from governance import services
from robustness.services.run_requests import evaluation_run_request
demo = Organisation.objects.get(slug="demo")
officer = get_user_model().objects.get(username="officer")
for index in range(20):
    name = f"Load system {index}"
    if AISystem.objects.filter(organisation=demo, name=name).exists():
        continue
    system = services.ai_system_create(organisation=demo, actor=officer, data={
        "name": name, "intended_purpose": "Load-test system.", "operator_roles": ["provider"],
        "lifecycle_stage": "deployment", "human_oversight": "human_on_the_loop", "review_frequency_days": 90})
    services.control_create(organisation=demo, actor=officer, data={
        "ref_id": f"L-{index}", "name": f"Load control {index}", "control_type": "technical",
        "status": "planned", "review_frequency_days": 90})
    version = services.model_version_create(ai_system=system, actor=officer, data={
        "version": "v1", "architecture": "ViT-B-32", "pretrained_tag": "openai",
        "class_names": ["cat", "dog"], "prompt_templates": ["a photo of a {}."]})
    ModelVersion.objects.filter(pk=version.pk).update(status="valid")
    version.refresh_from_db()
    for _ in range(3):
        evaluation_run_request(ai_system=system, model_version=version, actor=officer,
                               config={"builtin_dataset": "synthetic-held-out"})
print("seeded")
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(command: list[str], env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    if check and done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return done


def server_environment(database_url: str) -> dict[str, str]:
    broker = Path(tempfile.gettempdir()) / "anchorage-load-broker.sqlite3"
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.development",
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        "SECRET_KEY": "load-test-" + "k" * 50,
        "HF_HUB_OFFLINE": "1",
        "CELERY_BROKER_URL": f"sqla+sqlite:///{broker}",
        "LOG_LEVEL": "WARNING",
    }


def prepare_database(database_url: str, env: dict[str, str]) -> None:
    name = database_url.rsplit("/", 1)[1]
    exists = run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
        env,
    )
    if exists.stdout.strip() != "1":
        run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-c", f'CREATE DATABASE "{name}"'], env)
    for command in (["migrate", "--no-input", "-v", "0"], ["load_catalogs"], ["demo_setup"], ["shell", "-c", SEED]):
        run([PYTHON, "manage.py", *command], env)


@contextlib.contextmanager
def gunicorn(env: dict[str, str], workers: int, threads: int) -> Iterator[str]:
    port = free_port()
    log = ROOT / "var" / "test-output" / "load-test-gunicorn.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                GUNICORN,
                "config.wsgi:application",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                str(workers),
                "--threads",
                str(threads),
                "--timeout",
                "60",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
            if process.poll() is not None:
                raise SystemExit(f"gunicorn exited:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


TORCH_LOOP = """
import signal, sys, torch
torch.set_num_threads(1)
done = 0
def stop(*_):
    print(done, flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
a = torch.rand(512, 512)
print("started", flush=True)
while True:
    a = torch.nn.functional.normalize(a @ a, dim=1)
    done += 1
"""


@contextlib.contextmanager
def torch_job(enabled: bool) -> Iterator[list[str]]:
    """A CPU torch loop in a subprocess for the length of the load; yields the lines it printed at the end."""
    printed: list[str] = []
    if not enabled:
        yield printed
        return
    process = subprocess.Popen([PYTHON, "-c", TORCH_LOOP], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    if process.stdout.readline().strip() != "started":
        raise SystemExit("the torch job did not start")
    try:
        yield printed
    finally:
        still_running = process.poll() is None
        process.terminate()
        output, _ = process.communicate(timeout=30)
        printed.extend([*output.split(), "running to the end" if still_running else "stopped early"])


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    by_path: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter[int] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, path: str, status: int, seconds: float, failure: str = "") -> None:
        with self.lock:
            self.latencies.append(seconds)
            self.by_path.setdefault(re.sub(r"/\d+/", "/<id>/", path), []).append(seconds)
            self.statuses[status] += 1
            if failure or status >= 500 or (400 <= status < 500 and status != 429):
                self.unexpected.append(f"{failure or status} {path}")


def run_pages(session: WebSession) -> list[str]:
    """Links to run pages the user can see, read from the run list."""
    body = session.get("/robustness/").body.decode(errors="replace")
    return sorted(set(re.findall(r'href="(/robustness/(?:evaluations|anchor-analyses|retraining)/\d+/)"', body)))[:20]


@dataclass
class User:
    session: WebSession
    pages: list[str]


def user_prepare(base: str, username: str) -> User:
    """Log in and read the run list: done before the clock starts (each login hashes a password)."""
    session = WebSession(base)
    session.login(username, username + PASSWORD_SUFFIX)
    runs = run_pages(session)
    return User(session, [*WEB_PAGES, *runs, *[page + "status/" for page in runs[:5]]])


def simulated_user(
    user: User, stop: threading.Event, budget: Counter[str], limit: int, results: Results, seed: int,
    think: float = 0.0,
) -> None:
    chooser = random.Random(seed)
    while not stop.is_set():
        with results.lock:
            if budget["requests"] >= limit:
                stop.set()
                break
            budget["requests"] += 1
        api = chooser.random() < 0.3
        path = chooser.choice(API_PAGES if api else user.pages)
        started = time.perf_counter()
        try:
            answer = user.session.request("GET", path, headers={"X-Organisation": "demo"} if api else None)
            results.add(path, answer.status, time.perf_counter() - started)
        except OSError as error:  # a timeout or a refused connection is an error too, not a silent end
            results.add(path, 0, time.perf_counter() - started, failure=type(error).__name__)
        if think:
            stop.wait(chooser.expovariate(1 / think))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def report(results: Results, elapsed: float, users: int) -> int:
    total = len(results.latencies)
    throttled = results.statuses.get(429, 0)
    print(f"users {users}, {elapsed:.1f} s, {total} requests, {total / elapsed:.1f} requests/s")
    if total:
        print(
            f"latency ms: p50 {percentile(results.latencies, 0.50) * 1000:.1f}  "
            f"p95 {percentile(results.latencies, 0.95) * 1000:.1f}  "
            f"p99 {percentile(results.latencies, 0.99) * 1000:.1f}  "
            f"mean {statistics.fmean(results.latencies) * 1000:.1f}  max {max(results.latencies) * 1000:.1f}"
        )
        slowest = sorted(results.by_path.items(), key=lambda item: -percentile(item[1], 0.95))[:5]
        print("slowest pages by p95 (ms): " + ", ".join(
            f"{path} {percentile(times, 0.95) * 1000:.0f} (n={len(times)})" for path, times in slowest))
        dashboard = results.by_path.get("/", [])
        if dashboard:
            print(f"dashboard /: p50 {percentile(dashboard, 0.50) * 1000:.1f} ms, "
                  f"p95 {percentile(dashboard, 0.95) * 1000:.1f} ms over {len(dashboard)} requests")
    print(f"statuses: {dict(sorted(results.statuses.items()))}")
    print(f"errors (5xx and unexpected 4xx): {len(results.unexpected)}; rate-limited (429, counted apart): {throttled}")
    for line in Counter(results.unexpected).most_common(10):
        print("  ", line)
    return 1 if results.unexpected else 0


def load(base: str, users: int, duration: float, limit: int, think: float = 0.0) -> int:
    results, stop, budget = Results(), threading.Event(), Counter[str]()
    prepared = time.monotonic()
    with ThreadPoolExecutor(max_workers=4) as pool:
        sessions = list(pool.map(lambda index: user_prepare(base, USERS[index % len(USERS)]), range(users)))
    print(f"{users} users logged in, {time.monotonic() - prepared:.1f} s (before the clock starts)")
    threads = [
        threading.Thread(
            target=simulated_user,
            daemon=True,
            args=(user, stop, budget, limit, results, index, think),
        )
        for index, user in enumerate(sessions)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    stop.wait(timeout=duration)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    return report(results, time.monotonic() - started, users)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds")
    parser.add_argument("--think", type=float, default=0.0, help="mean pause between a user's requests, seconds")
    parser.add_argument("--no-torch-job", dest="torch_job", action="store_false",
                        help="no torch loop beside the load")
    parser.add_argument("--max-requests", type=int, default=100_000)
    parser.add_argument("--base-url", default="", help="target a running instance (loopback only)")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    options = parser.parse_args()
    if options.base_url:
        if not re.match(r"^https?://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?/?$", options.base_url):
            raise SystemExit("--base-url must be a loopback address")
        return loaded_beside_torch(options, options.base_url)
    env = server_environment(options.database_url)
    prepare_database(options.database_url, env)
    with gunicorn(env, options.workers, options.threads) as base:
        return loaded_beside_torch(options, base)


def loaded_beside_torch(options: argparse.Namespace, base: str) -> int:
    with torch_job(options.torch_job) as torch_printed:
        status = load(base, options.users, options.duration, options.max_requests, options.think)
    if options.torch_job:
        print(f"beside a torch job: a plain torch matmul loop (512 × 512 float32, 1 thread) in a subprocess, "
              f"{torch_printed[0] if torch_printed[:-1] else '?'} matmuls, {torch_printed[-1]}")
        status = status or (0 if torch_printed[-1] == "running to the end" else 1)
    else:
        print("no torch job beside the load (--no-torch-job)")
    return status


if __name__ == "__main__":
    sys.exit(main())
