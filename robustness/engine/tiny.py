"""Tiny open_clip configurations: one for tests (builds in well under a second on CPU)
and one for the demo model that `pretrain.py` trains on the synthetic benchmark.

Both are plain open_clip model configs (``embed_dim``, ``vision_cfg``, ``text_cfg``), so
they go through the same `models.load_clip` path as any user-supplied architecture.
"""

from __future__ import annotations

import copy
from typing import Any

import torch

from robustness.engine.models import ClipModel

TINY_ARCHITECTURE = "anchorage-tiny"
DEMO_ARCHITECTURE = "anchorage-demo"

TINY_MODEL_CONFIG: dict[str, Any] = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "patch_size": 8, "width": 32, "layers": 1, "head_width": 16},
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}

# Reference §11: embed 128, ViT patch 8, width 128, 4 layers at 32x32; text width 128,
# 2 layers, context 16. The text tower is deliberately small: with long shared prompt
# templates its class embeddings stay close together, as real CLIP's do (see synthetic.py).
DEMO_MODEL_CONFIG: dict[str, Any] = {
    "embed_dim": 128,
    "vision_cfg": {"image_size": 32, "patch_size": 8, "width": 128, "layers": 4, "head_width": 32},
    "text_cfg": {"context_length": 24, "vocab_size": 49408, "width": 128, "heads": 4, "layers": 2},
}


def tiny_model_config() -> dict[str, Any]:
    """A fresh copy of `TINY_MODEL_CONFIG` (callers may mutate it safely)."""
    return copy.deepcopy(TINY_MODEL_CONFIG)


def tiny_model(seed: int = 0) -> ClipModel:
    """A randomly initialised tiny open_clip CLIP model in fp32 on CPU, eval mode.

    Same seed → identical weights. Registered under `TINY_ARCHITECTURE`.
    """
    from robustness.engine.models import build_model

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build_model(TINY_ARCHITECTURE, tiny_model_config())
    return model.eval()
