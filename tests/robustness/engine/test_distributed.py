"""Data-parallel retraining through torchrun: 2 CPU processes on gloo give one process's weights.

The command line is the real one (`torchrun -m robustness.engine retrain`), on a tiny model saved
to a file and scikit-learn's digits. Both runs see the same global batches; DDP averages the two
shards' gradients, so the weights agree up to the order of floating-point sums. Stated tolerance:
every weight within 1e-5 (absolute) of the single-process run, while training moved them by more
than 1e-3 from the parent. The runs use SGD, whose update is linear in the gradient: Adam divides
by √v, so a parameter whose gradient is ~0 steps ±lr on the sign of float rounding noise, and
one and two processes then differ by up to 2·lr per step on such parameters (seen: 1.6e-3 at
lr 1e-3), which says nothing about the data-parallel arithmetic.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from robustness.engine.checkpoints import load_state_dict_file, save_state_dict_file
from robustness.engine.models import build_model
from robustness.engine.tiny import TINY_ARCHITECTURE, TINY_MODEL_CONFIG

TOLERANCE = 1e-5
ROOT = Path(__file__).resolve().parents[3]


def _retrain(parent: Path, out: Path, *, processes: int, method: str,
             batch_size: int = 8) -> subprocess.CompletedProcess[str]:
    command = ["-m", "robustness.engine", "retrain", "--model", TINY_ARCHITECTURE,
               "--model-config", json.dumps(TINY_MODEL_CONFIG), "--checkpoint", str(parent), "--dataset", "digits",
               "--method", method, "--steps", "3", "--warmup-steps", "1", "--batch-size", str(batch_size),
               "--optimizer", "sgd", "--lr", "0.05", "--eps", "4/255", "--device", "cpu", "--out", str(out)]
    if processes > 1:
        command = ["-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={processes}", *command]
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, *command], cwd=ROOT, env=environment, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def parent(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("parent") / "tiny.safetensors"
    save_state_dict_file(build_model(TINY_ARCHITECTURE, TINY_MODEL_CONFIG).state_dict(), path)
    return path


@pytest.mark.parametrize("method", ["alignment-ce", "agft"])
def test_two_gloo_processes_give_the_weights_of_one(parent, tmp_path, method) -> None:
    alone = _retrain(parent, tmp_path / "one", processes=1, method=method)
    assert alone.returncode == 0, alone.stderr[-3000:]
    together = _retrain(parent, tmp_path / "two", processes=2, method=method)
    assert together.returncode == 0, together.stderr[-3000:]

    one = load_state_dict_file(tmp_path / "one" / "model.safetensors")
    two = load_state_dict_file(tmp_path / "two" / "model.safetensors")
    before = load_state_dict_file(parent)
    assert one.keys() == two.keys()
    worst = max(float((one[name] - two[name]).abs().max()) for name in one)
    moved = max(float((one[name] - before[name]).abs().max()) for name in one if name.startswith("visual."))
    print(f"{method}: worst difference {worst:.2e}, largest update {moved:.2e}")
    assert worst <= TOLERANCE, f"weights differ by {worst:.2e}"
    assert moved > 1e-3, "training must have moved the vision tower for the comparison to mean anything"
    card = json.loads((tmp_path / "two" / "card.json").read_text())
    assert card["device"] == "cpu × 2 processes" and card["steps_done"] == 3


def test_a_global_batch_that_does_not_split_over_the_processes_is_refused(parent, tmp_path) -> None:
    refused = _retrain(parent, tmp_path / "odd", processes=2, method="tecoa", batch_size=7)
    assert refused.returncode != 0
    assert "batch_size 7 must be a multiple of the 2 processes" in refused.stderr
    assert not (tmp_path / "odd" / "model.safetensors").exists()
