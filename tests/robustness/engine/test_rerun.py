"""A manifest re-runs: `evaluate` writes it, `rerun` rebuilds model and data from files, checks
every hash and gets identical figures on the CPU; a different checkpoint or image set is refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from robustness.engine.checkpoints import save_state_dict_file
from robustness.engine.models import QUICK_GELU, build_model
from robustness.engine.tiny import TINY_ARCHITECTURE, TINY_MODEL_CONFIG

ROOT = Path(__file__).resolve().parents[3]


def _engine(*arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "robustness.engine", *arguments], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A tiny QuickGELU model saved to a file, evaluated on 24 digits with two attacks at two ε."""
    folder = tmp_path_factory.mktemp("rerun")
    torch.manual_seed(3)
    checkpoint = folder / "tiny.safetensors"
    save_state_dict_file(build_model(TINY_ARCHITECTURE, TINY_MODEL_CONFIG, quick_gelu=True).state_dict(), checkpoint,
                         activation=QUICK_GELU)
    answer = _engine("evaluate", "--model", TINY_ARCHITECTURE, "--model-config", json.dumps(TINY_MODEL_CONFIG),
                     "--checkpoint", str(checkpoint), "--dataset", "digits", "--n", "24", "--seed", "5",
                     "--attacks", "screen-pgd10,cw-linf", "--eps", "2/255,8/255", "--batch-size", "8",
                     "--device", "cpu", "--templates", json.dumps(["a photo of the number {}."]))
    assert answer.returncode == 0, answer.stderr[-3000:]
    output = folder / "run.json"
    output.write_text(answer.stdout)
    return checkpoint, output, json.loads(answer.stdout)


def test_the_manifest_names_everything_the_figures_depend_on(run) -> None:
    _, _, output = run
    manifest = output["manifest"]
    assert manifest["model"]["architecture"] == TINY_ARCHITECTURE
    assert manifest["model"]["activation"] == QUICK_GELU
    assert len(manifest["model"]["checkpoint_sha256"]) == 64
    assert manifest["data"]["source"] == "builtin:digits" and len(manifest["data"]["digest"]) == 64
    assert manifest["data"]["templates"] == ["a photo of the number {}."]
    assert manifest["data"]["class_names"] == output["record"]["class_names"]
    assert manifest["evaluation"]["attacks"] == ["screen-pgd10", "cw-linf"]
    assert manifest["evaluation"]["seed"] == 5 and manifest["evaluation"]["n_examples"] == 24
    assert manifest["versions"]["torch"] == torch.__version__ and manifest["device"] == "cpu"


def test_a_rerun_on_the_cpu_gets_identical_figures(run) -> None:
    checkpoint, path, output = run
    again = _engine("rerun", str(path), "--checkpoint", str(checkpoint))
    assert again.returncode == 0, again.stderr[-3000:]
    report = json.loads(again.stdout)
    assert report["identical"] is True and report["differences"] == []
    first, second = output["record"], report["record"]
    assert first["clean_accuracy"] == second["clean_accuracy"]
    assert [(r["attack"], r["eps"], r["robust_accuracy"]) for r in first["results"]] == \
        [(r["attack"], r["eps"], r["robust_accuracy"]) for r in second["results"]]
    assert len(first["results"]) == 4


def test_a_rerun_refuses_another_checkpoint_and_other_images(run, tmp_path) -> None:
    checkpoint, path, output = run
    other = tmp_path / "other.safetensors"
    save_state_dict_file(build_model(TINY_ARCHITECTURE, TINY_MODEL_CONFIG, quick_gelu=True).state_dict(), other,
                         activation=QUICK_GELU)
    refused = _engine("rerun", str(path), "--checkpoint", str(other))
    assert refused.returncode == 2 and "the run used" in refused.stderr
    missing = _engine("rerun", str(path))
    assert missing.returncode == 2 and "give it with --checkpoint" in missing.stderr
    tampered = dict(output)
    tampered["manifest"] = {**output["manifest"], "data": {**output["manifest"]["data"], "digest": "0" * 64}}
    changed = tmp_path / "tampered.json"
    changed.write_text(json.dumps(tampered))
    refused = _engine("rerun", str(changed), "--checkpoint", str(checkpoint))
    assert refused.returncode == 2 and "not the ones the run evaluated" in refused.stderr


def test_a_rerun_reports_figures_that_moved(run, tmp_path) -> None:
    """Change the recorded figures: the re-run says which entries differ instead of 'identical'."""
    checkpoint, _, output = run
    edited = json.loads(json.dumps(output))
    edited["record"]["results"][0]["robust_accuracy"]["value"] += 0.5
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(edited))
    again = _engine("rerun", str(path), "--checkpoint", str(checkpoint))
    report = json.loads(again.stdout)
    assert report["identical"] is False
    assert report["differences"] == [f"screen-pgd10 @ {edited['record']['results'][0]['eps_label']}: "
                                      "robust_accuracy differs"]
