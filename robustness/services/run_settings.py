"""A run row's frozen settings as typed values: the one reader of `run.config` for workers.

Evaluations store `robustness.engine.evaluate.EvaluationConfig.to_dict()`; a retraining stores the
engine's `RetrainConfig` fields beside its data source, device and re-evaluation settings; an anchor
analysis stores its class lists. Each is rebuilt here (`*.from_dict`), so no worker reads the dict by key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from robustness.engine.errors import EngineError
from robustness.engine.evaluate import EvaluationConfig
from robustness.engine.finetune import RetrainConfig


@dataclass(frozen=True)
class RetrainingSettings:
    """engine: what decides the fine-tuned weights; builtin_dataset: the training data when no upload
    is chosen; evaluation: the re-evaluation's settings (an `EvaluationConfig` dict plus `dataset_id`)."""

    engine: RetrainConfig
    builtin_dataset: str
    device: str
    evaluation: Mapping[str, Any]

    @classmethod
    def from_dict(cls, stored: Mapping[str, Any]) -> RetrainingSettings:
        evaluation = stored.get("evaluation")
        return cls(engine=RetrainConfig.from_dict(stored), builtin_dataset=str(stored.get("builtin_dataset") or ""),
                   device=str(stored.get("device") or "auto"),
                   evaluation=dict(evaluation) if isinstance(evaluation, Mapping) else {})

    @property
    def evaluation_dataset_id(self) -> int | None:
        """The uploaded dataset the re-evaluation uses (None: the built-in one in its settings)."""
        value = self.evaluation.get("dataset_id")
        return int(value) if isinstance(value, int) else None

    def evaluation_matches(self, stored: Mapping[str, Any]) -> bool:
        """Whether an evaluation row's settings are the re-evaluation's (attacks, ε, n, data, seed)."""
        return bool(self.evaluation) and evaluation_comparable(stored) == evaluation_comparable(self.evaluation)


@dataclass(frozen=True)
class AnchorAnalysisSettings:
    train_class_names: tuple[str, ...]
    target_class_names: tuple[str, ...]
    top_k: int = 5

    @classmethod
    def from_dict(cls, stored: Mapping[str, Any]) -> AnchorAnalysisSettings:
        return cls(train_class_names=tuple(stored.get("train_class_names") or ()),
                   target_class_names=tuple(stored.get("target_class_names") or ()),
                   top_k=int(stored.get("top_k") or 5))


def evaluation_comparable(stored: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """The settings that make two evaluations comparable; None where the settings do not read."""
    try:
        config = EvaluationConfig.from_dict(stored)
    except EngineError:
        return None
    return config.attacks, config.epsilons, config.n_examples, config.builtin_dataset, config.seed
