"""Robustness-run fixtures: an AI system in Acme with a tiny model version (random weights, seconds on CPU)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from governance.models.registry import AISystem, ModelVersion, ValidationStatus
from robustness.engine import synthetic
from robustness.engine.checkpoints import save_state_dict_file
from robustness.engine.tiny import TINY_ARCHITECTURE, tiny_model, tiny_model_config

# Workers share two CPU cores with other work: one torch thread each is many times faster.
os.environ.setdefault("ROBUSTNESS_TORCH_THREADS", "1")

QUICK_EVALUATION: dict[str, Any] = {"attacks": ["screen-pgd10"], "epsilons": [1 / 255, 4 / 255], "n_examples": 24,
                                    "batch_size": 8, "seed": 3, "builtin_dataset": "synthetic-held-out",
                                    "examples_to_show": 2, "device": "cpu"}


def tiny_checkpoint(organisation_id: int, name: str = "tiny.safetensors", seed: int = 0) -> tuple[str, str]:
    """A tiny open_clip checkpoint in the organisation's storage prefix; returns (storage name, sha256)."""
    relative = f"checkpoints/{organisation_id}/{seed}-{name}"
    path = Path(settings.MEDIA_ROOT) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    sha = save_state_dict_file(tiny_model(seed).state_dict(), path)
    return relative, sha


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path) -> Path:
    """Each test its own media folder (run ids restart per test; folders must not collide)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def system(acme) -> AISystem:
    return AISystem.objects.create(organisation=acme, name="Shape sorter", intended_purpose="Sort shapes",
                                   robustness_thresholds=[{"attack": "screen-pgd10", "epsilon": 4 / 255,
                                                           "min_robust_accuracy": 0.9}])


def make_version(system: AISystem, label: str = "v1", **overrides: Any) -> ModelVersion:
    relative, sha = tiny_checkpoint(system.organisation_id)
    fields = {"organisation": system.organisation, "ai_system": system, "version": label,
              "architecture": TINY_ARCHITECTURE, "model_config": tiny_model_config(), "checkpoint": relative,
              "checkpoint_sha256": sha, "class_names": list(synthetic.class_names()),
              "prompt_templates": ["a photo of a {c}."], "status": ValidationStatus.VALID}
    fields.update(overrides)
    return ModelVersion.objects.create(**fields)


@pytest.fixture
def version(system) -> ModelVersion:
    return make_version(system)
