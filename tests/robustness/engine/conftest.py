"""Engine fixtures: a tiny open_clip model on CPU and the cached demo model.

No database, no GPU, no network: the engine is pure PyTorch, and HF_HUB_OFFLINE=1 makes
any accidental hub access fail instead of downloading.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from robustness.engine.cards import DemoModelCard
from robustness.engine.models import LoadedClip, ModelSpec, load_clip
from robustness.engine.pretrain import ensure_demo_model
from robustness.engine.tiny import TINY_ARCHITECTURE, TINY_MODEL_CONFIG

REPOSITORY_ROOT = Path(__file__).resolve().parents[3]


def pytest_configure(config: pytest.Config) -> None:
    # Registered here too so the engine tests run with `-p no:django` and any ini file.
    config.addinivalue_line("markers", "accuracy: uses the demo checkpoint (built once per run, cached under var/)")


@pytest.fixture(scope="session")
def tiny_clip() -> LoadedClip:
    """A randomly initialised tiny CLIP (seed 0); treat as read-only."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return load_clip(ModelSpec(TINY_ARCHITECTURE, model_config=TINY_MODEL_CONFIG))


@pytest.fixture(scope="session")
def demo_model_card() -> DemoModelCard:
    """The demo model, pretrained once (about 5 minutes on CPU) and reused from var/demo-model/."""
    return ensure_demo_model(REPOSITORY_ROOT / "var")


@pytest.fixture(scope="session")
def demo_model_dir(demo_model_card: DemoModelCard) -> Path:
    from robustness.engine.pretrain import demo_model_path

    return demo_model_path(REPOSITORY_ROOT / "var")
