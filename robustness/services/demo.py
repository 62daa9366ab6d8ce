"""The demo's robustness work: the engine's demo model as a registered version, and its runs.

Runs on a `robustness` worker (building the model takes minutes on a CPU; it is cached under
var/ and reused). Idempotent: on a second `make demo` the existing version and runs are reused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import transaction

from governance.models.registry import AISystem, ModelVersion
from governance.models.tenancy import Organisation
from governance.services.model_versions import model_version_create
from governance.services.registry import ai_system_create
from robustness.engine import synthetic
from robustness.engine.pretrain import CHECKPOINT_FILE, demo_model_path, ensure_demo_model
from robustness.models import AnchorAnalysis, EvaluationRun, RetrainingRun, RunTrigger
from robustness.services.run_requests import anchor_analysis_request, evaluation_run_request, retraining_run_request

DEMO_SYSTEM = "Shape recogniser (demo)"
DEMO_VERSION = "demo-1"
DEMO_EVALUATION: dict[str, Any] = {"attacks": ["screen-pgd10"], "epsilons": [1 / 255, 2 / 255, 4 / 255],
                                   "n_examples": 108, "batch_size": 36, "seed": 0,
                                   "builtin_dataset": "synthetic-held-out", "examples_to_show": 4}
DEMO_RETRAINING: dict[str, Any] = {"method": "alignment-ce", "builtin_dataset": "synthetic-train", "steps": 60,
                                   "eps": 4 / 255, "lr": 2e-4, "batch_size": 32, "checkpoint_every": 10, "seed": 0,
                                   "evaluation": {**DEMO_EVALUATION, "dataset_id": None}}


def demo_system_ensure(organisation: Organisation) -> AISystem:
    system = AISystem.objects.filter(organisation=organisation, name=DEMO_SYSTEM).first()
    return system or ai_system_create(organisation=organisation, actor=None, data={
        "name": DEMO_SYSTEM, "review_frequency_days": 90, "operator_roles": ["provider", "deployer"],
        "intended_purpose": "Zero-shot recognition of coloured shapes, including colour-shape compositions "
                            "never seen in training (a stand-in for an open-vocabulary vision model).",
        "robustness_thresholds": [{"attack": "screen-pgd10", "epsilon": 4 / 255, "min_robust_accuracy": 0.3}]})


def _demo_version(system: AISystem) -> ModelVersion:
    existing = ModelVersion.objects.filter(ai_system=system, version=DEMO_VERSION).first()
    if existing is not None:
        return existing
    card = ensure_demo_model(settings.VAR_DIR)
    path = Path(demo_model_path(settings.VAR_DIR)) / CHECKPOINT_FILE
    with path.open("rb") as handle:
        return model_version_create(ai_system=system, actor=None, checkpoint=File(handle, name=CHECKPOINT_FILE),
                                    data={"version": DEMO_VERSION, "architecture": card.architecture,
                                          "model_config": card.model_config, "pretrained_tag": "",
                                          "class_names": list(synthetic.class_names()),
                                          "prompt_templates": list(card.templates)})


def demo_prepare(*, organisation_id: int) -> str:
    # Minutes of pretraining happen before the transaction, never inside it.
    ensure_demo_model(settings.VAR_DIR)
    return _demo_rows(Organisation.objects.get(pk=organisation_id))


@transaction.atomic
def _demo_rows(organisation: Organisation) -> str:
    system = demo_system_ensure(organisation)
    version = _demo_version(system)
    common: dict[str, Any] = {"ai_system": system, "model_version": version, "actor": None, "trigger": RunTrigger.DEMO}
    requested = []
    if not EvaluationRun.objects.filter(ai_system=system, model_version=version).exists():
        evaluation_run_request(config=DEMO_EVALUATION, **common)
        requested.append("evaluation")
    if not AnchorAnalysis.objects.filter(ai_system=system).exists():
        anchor_analysis_request(config={
            "train_class_names": list(synthetic.class_names(synthetic.seen_compositions())),
            "target_class_names": list(synthetic.class_names(synthetic.held_out_compositions()))}, **common)
        requested.append("anchor analysis")
    if not RetrainingRun.objects.filter(ai_system=system).exists():
        retraining_run_request(config=DEMO_RETRAINING, **common)
        requested.append("retraining")
    return "requested " + ", ".join(requested) if requested else "reused"
