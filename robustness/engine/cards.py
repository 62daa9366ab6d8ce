"""Cards: small frozen, JSON-serialisable records of how an artefact was made.

A card travels with its artefact (``card.json`` next to ``model.safetensors``) so the
Django side can store it as evidence and an auditor can re-check the SHA-256.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from robustness.engine.errors import EngineError

CardT = TypeVar("CardT")


@dataclass(frozen=True)
class AccuracyRecord:
    """Zero-shot top-1 accuracy on one split, as a fraction in [0, 1] over n images."""

    split: str
    n_classes: int
    n_images: int
    top1: float


@dataclass(frozen=True)
class DemoModelCard:
    """How the demo model was pretrained and how well it classifies zero-shot."""

    architecture: str
    model_config: dict[str, Any]
    recipe: dict[str, Any]
    recipe_hash: str
    seed: int
    steps: int
    wall_time_s: float
    checkpoint_file: str
    checkpoint_sha256: str
    accuracies: tuple[AccuracyRecord, ...]
    class_names: tuple[str, ...]
    held_out_class_names: tuple[str, ...]
    templates: tuple[str, ...]
    versions: dict[str, str] = field(default_factory=dict)
    device: str = "cpu"
    num_threads: int = 1
    anchor_diagnostics: dict[str, float] = field(default_factory=dict)

    def accuracy(self, split: str) -> float:
        """Top-1 fraction for a split name such as "held_out_among_held_out"."""
        for record in self.accuracies:
            if record.split == split:
                return record.top1
        raise KeyError(f"no accuracy recorded for split {split!r}")


def card_to_dict(card: object) -> dict[str, Any]:
    """A plain JSON-ready dict (tuples become lists)."""
    if not dataclasses.is_dataclass(card) or isinstance(card, type):
        raise TypeError(f"expected a dataclass instance, got {type(card).__name__}")
    plain: dict[str, Any] = json.loads(json.dumps(dataclasses.asdict(card)))
    return plain


def write_card(card: object, path: str | Path) -> Path:
    """Write `card` as pretty, key-sorted JSON (stable bytes for the same card)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(card_to_dict(card), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def read_demo_model_card(path: str | Path) -> DemoModelCard:
    """Read a `DemoModelCard` written by `write_card`; `EngineError` if malformed."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        raw["accuracies"] = tuple(AccuracyRecord(**record) for record in raw["accuracies"])
        for key in ("class_names", "held_out_class_names", "templates"):
            raw[key] = tuple(raw[key])
        return DemoModelCard(**raw)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise EngineError(f"unreadable model card {path}: {error}") from error
