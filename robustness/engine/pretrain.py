"""Pretraining the demo model: a tiny open_clip CLIP trained on the synthetic benchmark.

Contrastive training on the *seen* compositions only, with captions generated from each
image's attributes, so zero-shot accuracy on the *held-out* compositions measures real
compositional generalisation. The loss is CLIP's symmetric InfoNCE with multiple
positives: a caption is a positive for every image in the batch it describes correctly
("a red circle" fits all red circles; "a small red circle" only the small ones).

Deterministic for a seed on a given machine: seeded generators, a fixed thread count and
deterministic algorithms during training (global torch settings are restored afterwards).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import math
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import open_clip
import torch
from torch import Tensor, nn

from robustness.engine import synthetic
from robustness.engine.cards import AccuracyRecord, DemoModelCard, read_demo_model_card, write_card
from robustness.engine.checkpoints import save_state_dict_file, sha256_file
from robustness.engine.classifier import ZeroShotClassifier
from robustness.engine.models import ClipModel, ModelSpec, build_model
from robustness.engine.progress import EtaClock, ProgressCallback
from robustness.engine.tiny import DEMO_ARCHITECTURE, DEMO_MODEL_CONFIG, TINY_ARCHITECTURE, TINY_MODEL_CONFIG

# Bump when the training code changes in a way that changes the weights: the cache key
# of `ensure_demo_model` includes it, so a stale cached model is rebuilt.
RECIPE_VERSION = 1
CHECKPOINT_FILE = "model.safetensors"
CARD_FILE = "card.json"
DEMO_MODEL_DIR = "demo-model"
MAX_LOGIT_SCALE = math.log(100.0)
PROGRESS_EVERY = 10


@dataclass(frozen=True)
class PretrainRecipe:
    """Everything that determines the pretrained weights (and so the cache key)."""

    architecture: str = DEMO_ARCHITECTURE
    model_config: dict[str, Any] = dataclasses.field(default_factory=lambda: json.loads(json.dumps(DEMO_MODEL_CONFIG)))
    seed: int = 0
    steps: int = 1200
    batch_size: int = 128
    learning_rate: float = 1e-3
    # A slowly trained text tower keeps the shared component its class embeddings start
    # with, so the seen anchors stay within 90° of their mean (LAAT's k > 1), as in real
    # CLIP. Measured with seed 0: ×1.0 → k 0.91, ×0.1 → k 1.003, ×0.03 → k 1.06.
    text_learning_rate_scale: float = 0.03
    weight_decay: float = 0.1
    warmup_steps: int = 60
    train_images_per_class: int = 600
    eval_images_per_class: int = 60
    # One thread: reproducible on any core count, and faster than two on a busy machine.
    num_threads: int = 1
    recipe_version: int = RECIPE_VERSION

    def digest(self) -> str:
        """SHA-256 of the recipe's canonical JSON."""
        canonical = json.dumps(dataclasses.asdict(self), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


DEMO_RECIPE = PretrainRecipe()
QUICK_RECIPE = PretrainRecipe(
    architecture=TINY_ARCHITECTURE,
    model_config=json.loads(json.dumps(TINY_MODEL_CONFIG)),
    steps=12,
    batch_size=48,
    warmup_steps=2,
    train_images_per_class=8,
    eval_images_per_class=4,
    num_threads=1,
)


def pretrain_demo(
    out_dir: str | Path,
    *,
    seed: int = 0,
    steps: int = DEMO_RECIPE.steps,
    progress: ProgressCallback | None = None,
    device: str = "cpu",
) -> DemoModelCard:
    """Pretrain the demo model (about 5 minutes on 2 CPU cores) into `out_dir`.

    Writes `model.safetensors` and `card.json`; returns the card.
    """
    recipe = dataclasses.replace(DEMO_RECIPE, seed=seed, steps=steps)
    return pretrain(recipe, out_dir, progress=progress, device=device)


def pretrain_quick(
    out_dir: str | Path, *, seed: int = 0, progress: ProgressCallback | None = None
) -> DemoModelCard:
    """The same pipeline on the test-sized model for a few steps (seconds; for tests)."""
    return pretrain(dataclasses.replace(QUICK_RECIPE, seed=seed), out_dir, progress=progress)


def demo_model_path(var_dir: str | Path, recipe: PretrainRecipe = DEMO_RECIPE) -> Path:
    """Where `ensure_demo_model` keeps the model of `recipe`: var/demo-model/<recipe hash>."""
    return Path(var_dir) / DEMO_MODEL_DIR / recipe.digest()[:16]


def ensure_demo_model(
    var_dir: str | Path,
    *,
    recipe: PretrainRecipe = DEMO_RECIPE,
    progress: ProgressCallback | None = None,
    device: str = "cpu",
) -> DemoModelCard:
    """The demo model's card, pretraining it first unless a verified copy is cached.

    A file lock makes concurrent callers (a test run and a worker) build it only once.
    """
    target = demo_model_path(var_dir, recipe)
    target.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive_lock(target.parent / f"{target.name}.lock"):
        card = _verified_card(target)
        if card is None:
            card = _build_atomically(recipe, target, progress, device)
    return card


def demo_model_spec(model_dir: str | Path) -> ModelSpec:
    """The `ModelSpec` that loads a pretrained demo model from its folder."""
    card = read_demo_model_card(Path(model_dir) / CARD_FILE)
    return ModelSpec(card.architecture, checkpoint_path=str(Path(model_dir) / card.checkpoint_file),
                     model_config=card.model_config)


def pretrain(
    recipe: PretrainRecipe,
    out_dir: str | Path,
    *,
    progress: ProgressCallback | None = None,
    device: str = "cpu",
) -> DemoModelCard:
    """Train `recipe`, evaluate zero-shot on fresh test images, write weights and card."""
    out_dir = Path(out_dir)
    started = time.monotonic()
    with _deterministic_torch(recipe.num_threads):
        torch.manual_seed(recipe.seed)
        model = build_model(recipe.architecture, recipe.model_config).to(device)
        _train(model, recipe, progress, device)
        model = model.cpu().eval()
        accuracies, anchor_stats = evaluate_demo_model(model, recipe)
    wall_time = time.monotonic() - started
    sha = save_state_dict_file(model.state_dict(), out_dir / CHECKPOINT_FILE)
    card = DemoModelCard(
        architecture=recipe.architecture,
        model_config=recipe.model_config,
        recipe=dataclasses.asdict(recipe),
        recipe_hash=recipe.digest(),
        seed=recipe.seed,
        steps=recipe.steps,
        wall_time_s=round(wall_time, 1),
        checkpoint_file=CHECKPOINT_FILE,
        checkpoint_sha256=sha,
        accuracies=accuracies,
        class_names=synthetic.class_names(),
        held_out_class_names=synthetic.class_names(synthetic.held_out_compositions()),
        templates=synthetic.TEMPLATES,
        versions={"torch": torch.__version__, "open_clip": open_clip.__version__},
        device=str(device),
        num_threads=recipe.num_threads,
        anchor_diagnostics=anchor_stats,
    )
    write_card(card, out_dir / CARD_FILE)
    return card


def _train(model: ClipModel, recipe: PretrainRecipe, progress: ProgressCallback | None, device: str) -> None:
    spec = synthetic.SyntheticSpec(seed=recipe.seed)
    pool = synthetic.generate_split(spec, "train", synthetic.seen_compositions(spec), recipe.train_images_per_class)
    images, _ = pool.dataset.tensors()
    mean = torch.tensor(open_clip.OPENAI_DATASET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(open_clip.OPENAI_DATASET_STD).view(1, 3, 1, 1)
    tokenizer = open_clip.get_tokenizer(recipe.architecture)
    optimizer = _optimizer(model, recipe)
    sampler = torch.Generator().manual_seed(recipe.seed)
    clock = EtaClock(total=recipe.steps)
    clock.start(0)
    model.train()
    for step in range(recipe.steps):
        _set_learning_rate(optimizer, recipe, step)
        batch = torch.randint(len(images), (recipe.batch_size,), generator=sampler)
        x = images[batch]
        x = torch.where(torch.rand(len(x), 1, 1, 1, generator=sampler) < 0.5, x.flip(-1), x)
        captions, positives = _batch_captions(pool.attributes[batch], np.random.default_rng([recipe.seed, step]))
        loss = multi_positive_clip_loss(
            model.encode_image(((x - mean) / std).to(device), normalize=True),
            model.encode_text(tokenizer(captions).to(device), normalize=True),
            positives.to(device),
            model.logit_scale.exp(),
        )
        optimizer.zero_grad(set_to_none=True)
        torch.autograd.backward(loss)
        optimizer.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, MAX_LOGIT_SCALE)
        if progress is not None and ((step + 1) % PROGRESS_EVERY == 0 or step + 1 == recipe.steps):
            progress(step + 1, recipe.steps, f"pretraining step {step + 1}/{recipe.steps}, loss {loss.item():.3f}",
                     clock.eta(step + 1))


def multi_positive_clip_loss(image_features: Tensor, text_features: Tensor, positives: Tensor, scale: Tensor) -> Tensor:
    """Symmetric InfoNCE where each row/column may have several positives.

    image_features (N, D) and text_features (M, D) unit rows; positives bool (N, M) with
    at least one True in every row and column. Per anchor: −log Σ_positives softmax.
    """
    assert positives.any(dim=1).all() and positives.any(dim=0).all(), "every image and caption needs a positive"
    logits = scale * image_features @ text_features.t()
    negative_infinity = torch.finfo(logits.dtype).min
    positive_logits = logits.masked_fill(~positives, negative_infinity)
    image_to_text = logits.logsumexp(dim=1) - positive_logits.logsumexp(dim=1)
    text_to_image = logits.logsumexp(dim=0) - positive_logits.logsumexp(dim=0)
    return (image_to_text.mean() + text_to_image.mean()) / 2


def _batch_captions(attributes: Tensor, rng: np.random.Generator) -> tuple[list[str], Tensor]:
    """Unique captions for a batch (N, 4) of attributes and the positives mask (N, M)."""
    claims: dict[str, tuple[int, int, int, int]] = {}
    for row in attributes.tolist():
        text, claim = synthetic.caption(row, rng)
        claims.setdefault(text, claim)
    claim_tensor = torch.tensor(list(claims.values()), dtype=torch.int64)  # (M, 4), -1 = not said
    said = claim_tensor >= 0
    matches = (attributes[:, None, :] == claim_tensor[None, :, :]) | ~said[None, :, :]
    return list(claims), matches.all(dim=-1)


def _optimizer(model: nn.Module, recipe: PretrainRecipe) -> torch.optim.Optimizer:
    """AdamW; no decay on gains, biases, embeddings and the logit scale (as open_clip)."""
    groups: dict[tuple[bool, bool], list[nn.Parameter]] = {}
    for name, parameter in model.named_parameters():
        is_text = not name.startswith("visual.") and name != "logit_scale"
        decays = parameter.ndim >= 2 and "embedding" not in name and "token" not in name
        groups.setdefault((is_text, decays), []).append(parameter)
    param_groups = [
        {"params": params, "weight_decay": recipe.weight_decay if decays else 0.0,
         "lr_scale": recipe.text_learning_rate_scale if is_text else 1.0}
        for (is_text, decays), params in sorted(groups.items())
    ]
    return torch.optim.AdamW(param_groups, lr=recipe.learning_rate, betas=(0.9, 0.98), eps=1e-6)


def _set_learning_rate(optimizer: torch.optim.Optimizer, recipe: PretrainRecipe, step: int) -> None:
    """Linear warm-up, then cosine decay to zero."""
    if step < recipe.warmup_steps:
        factor = (step + 1) / recipe.warmup_steps
    else:
        progress = (step - recipe.warmup_steps) / max(1, recipe.steps - recipe.warmup_steps)
        factor = 0.5 * (1 + math.cos(math.pi * progress))
    for group in optimizer.param_groups:
        group["lr"] = recipe.learning_rate * factor * group["lr_scale"]


@torch.no_grad()
def evaluate_demo_model(
    model: ClipModel, recipe: PretrainRecipe
) -> tuple[tuple[AccuracyRecord, ...], dict[str, float]]:
    """Zero-shot top-1 on fresh test images, and the seen anchors' spread (k of §3.1)."""
    spec = synthetic.SyntheticSpec(seed=recipe.seed)
    tokenizer = open_clip.get_tokenizer(recipe.architecture)
    classifier = ZeroShotClassifier(
        model, tokenizer, synthetic.class_names(), synthetic.TEMPLATES,
        image_size=int(recipe.model_config["vision_cfg"]["image_size"]),
        mean=open_clip.OPENAI_DATASET_MEAN, std=open_clip.OPENAI_DATASET_STD,
    ).eval()
    names = synthetic.class_names()
    held_out = [names.index(n) for n in synthetic.class_names(synthetic.held_out_compositions(spec))]
    seen = [names.index(n) for n in synthetic.class_names(synthetic.seen_compositions(spec))]
    held_out_logits, held_out_labels = _test_logits(classifier, spec, synthetic.held_out_compositions(spec), recipe)
    seen_logits, seen_labels = _test_logits(classifier, spec, synthetic.seen_compositions(spec), recipe)
    records = (
        _accuracy("held_out_among_held_out", held_out_logits, held_out_labels, held_out),
        _accuracy("held_out_among_all", held_out_logits, held_out_labels, list(range(len(names)))),
        _accuracy("seen_among_seen", seen_logits, seen_labels, seen),
        _accuracy("seen_among_all", seen_logits, seen_labels, list(range(len(names)))),
    )
    return records, anchor_spread(classifier.text_anchors[seen])


def anchor_spread(anchors: Tensor) -> dict[str, float]:
    """Mean pairwise cosine of unit anchors (C, D), the farthest anchor's angle from the
    mean direction (degrees) and LAAT's stretch factor k = 90° / that angle (§3.1)."""
    unit = torch.nn.functional.normalize(anchors.double(), dim=1)
    mean_direction = torch.nn.functional.normalize(unit.mean(dim=0), dim=0)
    theta_max = float(torch.arccos((unit @ mean_direction).min().clamp(-1, 1)))
    similarity = unit @ unit.t()
    off_diagonal = similarity[~torch.eye(len(unit), dtype=torch.bool)]
    return {
        "mean_pairwise_cosine": round(float(off_diagonal.mean()), 4),
        "max_pairwise_cosine": round(float(off_diagonal.max()), 4),
        "max_angle_from_mean_deg": round(math.degrees(theta_max), 2),
        "stretch_factor_k": round((math.pi / 2) / theta_max, 4),
    }


def _test_logits(
    classifier: ZeroShotClassifier, spec: synthetic.SyntheticSpec, compositions: Any, recipe: PretrainRecipe
) -> tuple[Tensor, Tensor]:
    split = synthetic.generate_split(spec, "test", compositions, recipe.eval_images_per_class)
    images, labels = split.dataset.tensors()
    logits = torch.cat([classifier(chunk) for chunk in torch.split(images, 256)])
    return logits, labels


def _accuracy(split: str, logits: Tensor, labels: Tensor, allowed: list[int]) -> AccuracyRecord:
    """Top-1 restricted to the `allowed` classes (labels are full-space indices)."""
    allowed_tensor = torch.tensor(allowed)
    predictions = allowed_tensor[logits[:, allowed_tensor].argmax(dim=1)]
    top1 = float((predictions == labels).float().mean())
    return AccuracyRecord(split=split, n_classes=len(allowed), n_images=len(labels), top1=round(top1, 4))


def _verified_card(target: Path) -> DemoModelCard | None:
    """The cached card if its checkpoint exists and matches the recorded SHA-256."""
    if not (target / CARD_FILE).is_file():
        return None
    card = read_demo_model_card(target / CARD_FILE)
    checkpoint = target / card.checkpoint_file
    if checkpoint.is_file() and sha256_file(checkpoint) == card.checkpoint_sha256:
        return card
    return None


def _build_atomically(
    recipe: PretrainRecipe, target: Path, progress: ProgressCallback | None, device: str
) -> DemoModelCard:
    """Train into a scratch folder beside `target`, then rename it into place."""
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        card = pretrain(recipe, scratch, progress=progress, device=device)
        if target.exists():
            shutil.rmtree(target)
        scratch.rename(target)
        return card
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@contextlib.contextmanager
def _exclusive_lock(path: Path) -> Iterator[None]:
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def _deterministic_torch(num_threads: int) -> Iterator[None]:
    """Fixed threads, deterministic kernels and an isolated RNG; restores all three."""
    previous_threads = torch.get_num_threads()
    previous_deterministic = torch.are_deterministic_algorithms_enabled()
    previous_warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.set_num_threads(num_threads)
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        with torch.random.fork_rng(devices=[]):
            yield
    finally:
        torch.set_num_threads(previous_threads)
        torch.use_deterministic_algorithms(previous_deterministic, warn_only=previous_warn_only)
