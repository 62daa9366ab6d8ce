"""python -m robustness.engine: JSON on stdout, progress on stderr, exit 2 on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from robustness.engine.__main__ import main
from robustness.engine.tiny import TINY_ARCHITECTURE, TINY_MODEL_CONFIG

REPOSITORY_ROOT = Path(__file__).resolve().parents[3]
TINY = ["--model", TINY_ARCHITECTURE, "--model-config", json.dumps(TINY_MODEL_CONFIG), "--device", "cpu"]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def test_evaluate_prints_one_record_with_eps_as_fractions_and_labels(capsys) -> None:
    code, output, _ = _run(
        capsys,
        "evaluate",
        *TINY,
        "--dataset",
        "synthetic",
        "--split",
        "held-out",
        "--n",
        "9",
        "--attacks",
        "pgd:steps=2,cw-linf:steps=2",
        "--eps",
        "1/255,4/255",
        "--batch-size",
        "5",
    )
    assert code == 0
    record = output["record"]
    assert record["n_examples"] == 9 and record["n_classes"] == 9
    assert [(r["attack"], r["eps_label"]) for r in record["results"]] == [
        ("pgd-2", "1/255"),
        ("pgd-2", "4/255"),
        ("cw-linf-2", "1/255"),
        ("cw-linf-2", "4/255"),
    ]
    assert record["results"][1]["eps"] == pytest.approx(4 / 255)
    assert record["anchor_diagnostics"]["n_classes"] == 9
    assert output["partial"]["batches"] == [0, 1]


def test_anchors_fits_on_seen_classes_and_applies_to_held_out_ones(capsys) -> None:
    code, output, _ = _run(capsys, "anchors", *TINY, "--dataset", "synthetic", "--split", "all", "--n", "36")
    assert code == 0
    assert (len(output["train_classes"]), len(output["target_classes"])) == (27, 9)
    expansion = output["expansion"]
    assert expansion["applied"] == (expansion["factor"] > 1)
    assert expansion["target_before"]["n_classes"] == 9


def test_retrain_writes_a_checkpoint_and_card(capsys, tmp_path: Path) -> None:
    code, output, _ = _run(
        capsys,
        "retrain",
        *TINY,
        "--dataset",
        "synthetic",
        "--split",
        "seen",
        "--n",
        "27",
        "--method",
        "tecoa",
        "--steps",
        "2",
        "--batch-size",
        "4",
        "--warmup-steps",
        "0",
        "--attack-steps",
        "1",
        "--out",
        str(tmp_path),
    )
    assert code == 0 and output["steps_done"] == 2
    assert Path(output["checkpoint_path"]).is_file()
    card = json.loads(Path(output["card_path"]).read_text())
    assert card["method"] == "tecoa" and card["checkpoint_sha256"] == output["checkpoint_sha256"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["evaluate", *TINY, "--eps", "4/0"], "cannot read ε '4/0'"),
        (["evaluate", *TINY, "--attacks", "pgd-9000"], "unknown attack 'pgd-9000'"),
        (["evaluate", *TINY, "--dataset", "imagenet"], "unknown --dataset 'imagenet'"),
        (["evaluate", "--dataset", "digits"], "give --model"),
        (["evaluate", "--model", "no-such-architecture", "--n", "3"], "no-such-architecture"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_exits_2_with_a_message_and_a_json_error(capsys, argv: list[str], message: str) -> None:
    code, output, stderr = _run(capsys, *argv)
    assert code == 2
    assert message in output["error"] and message in stderr
    assert output["type"]


def test_module_entry_point_runs_as_a_subprocess() -> None:
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPOSITORY_ROOT)}
    completed = subprocess.run(
        [sys.executable, "-m", "robustness.engine", "evaluate", *TINY, "--eps", "abc"],
        cwd=REPOSITORY_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 2
    assert json.loads(completed.stdout)["type"] == "AttackConfigError"
    assert "error: cannot read ε 'abc'" in completed.stderr
