"""The engine is pure PyTorch: importing all of it loads no Django and touches no CUDA."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parents[3]

PROBE = """
import importlib, pkgutil, sys
import robustness.engine as engine
modules = pkgutil.walk_packages(engine.__path__, "robustness.engine.")
names = [m.name for m in modules if not m.name.endswith("__main__")]
for name in names:
    importlib.import_module(name)
import torch
ours = ("django", "celery", "rest_framework", "governance", "assessments", "config")
forbidden = sorted(m for m in sys.modules if m.split(".")[0] in ours)
print("MODULES", len(names))
print("FORBIDDEN", forbidden)
print("CUDA_INITIALISED", torch.cuda.is_initialized())
"""


def test_importing_every_engine_module_loads_no_django_and_no_cuda() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPOSITORY_ROOT, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPOSITORY_ROOT)},
    )

    assert result.returncode == 0, result.stderr
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)
    assert int(lines["MODULES"]) >= 8
    assert lines["FORBIDDEN"] == "[]"
    assert lines["CUDA_INITIALISED"] == "False"
