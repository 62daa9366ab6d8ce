"""Adversarial retraining of the vision tower, with exact checkpoint/resume.

One step: take batch `step` (a pure function of (seed, step), so no sampler state needs
saving), build the method's loss (losses.py), step the optimiser and the warm-up + cosine
schedule. Every `checkpoint_every` steps the model, optimiser, scheduler and all RNG
states (torch CPU/CUDA, python, numpy) are written atomically; a resumed run continues
bit-for-bit on CPU. The output is a `.safetensors` model plus a card naming its parent.
Under torchrun the same loop runs data-parallel (`distributed.py`): each rank takes its
shard of every global batch and DDP averages the gradients.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
import random
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

from robustness.engine import losses
from robustness.engine.anchors import fit_anchor_expansion
from robustness.engine.checkpoints import sha256_file
from robustness.engine.classifier import ZeroShotClassifier
from robustness.engine.distributed import DistributedRun
from robustness.engine.errors import EngineError
from robustness.engine.progress import EtaClock, ProgressCallback, RetrainingCancelled, ShouldCancel
from robustness.engine.retrain_io import (
    CARD_FILE,
    MODEL_FILE,
    RetrainCard,
    atomic_torch_save,
    load_training_state,
    write_outputs,
)

Method = Literal["alignment-ce", "tecoa", "agft", "fare"]
METHODS: tuple[str, ...] = ("alignment-ce", "tecoa", "agft", "fare")
STATE_FILE = "training-state.pt"


class RetrainConfigError(EngineError):
    """A retraining configuration is not valid; `field` names the setting at fault ("" for several)."""

    def __init__(self, message: str, field_name: str = "") -> None:
        super().__init__(message)
        self.field = field_name


Schedule = Literal["warmup-cosine", "step"]
SCHEDULES: tuple[str, ...] = ("warmup-cosine", "step")
MAX_STEPS = 10_000_000
MAX_BATCH = 4096
MAX_INNER_STEPS = 1000


@dataclass(frozen=True)
class RetrainConfig:
    """Everything that decides a retraining's result (recorded on the output card).

    eps / attack_step_size are fractions of [0, 1]; attack_step_size None means ε/2.
    scale: logit scale of the loss (alignment-ce 100; agft's s, default 180 there).
    ratio: AGFT's teacher ratio r. consistency_weight: alignment-ce's β.
    expand_anchors: alignment-ce uses LAAT-expanded anchors where the factor k > 1.
    schedule: "warmup-cosine" (linear warm-up, then cosine to 0) or "step" (warm-up, then ×0.1 at
    60 % of the steps: what LAAT's code runs, its ×0.01 at 80 % never firing). preset: the named
    paper setting these values started from (`RETRAIN_PRESETS`), "" for none.
    """

    method: Method = "alignment-ce"
    lr: float = 2e-4
    optimizer: Literal["sgd", "adamw"] = "adamw"
    momentum: float = 0.9
    weight_decay: float = 0.0
    steps: int = 100
    warmup_steps: int = 10
    batch_size: int = 64
    eps: float = 4 / 255
    attack_steps: int = 2
    attack_step_size: float | None = None
    seed: int = 0
    checkpoint_every: int = 50
    scale: float | None = None
    ratio: float = 0.4
    consistency_weight: float = 1.0
    expand_anchors: bool = True
    bf16_autocast: bool = False
    schedule: Schedule = "warmup-cosine"
    preset: str = ""

    def __post_init__(self) -> None:
        _check("method", self.method in METHODS,
               f"unknown method {self.method!r}; choose one of {', '.join(METHODS)}")
        _check("optimizer", self.optimizer in ("sgd", "adamw"),
               f"optimizer must be sgd or adamw, got {self.optimizer!r}")
        _check("schedule", self.schedule in SCHEDULES,
               f"schedule must be {' or '.join(SCHEDULES)}, got {self.schedule!r}")
        for name, high in (("steps", MAX_STEPS), ("batch_size", MAX_BATCH), ("checkpoint_every", MAX_STEPS),
                           ("attack_steps", MAX_INNER_STEPS)):
            value = getattr(self, name)
            _check(name, _whole(value) and 1 <= value <= high,
                   f"{name} must be a whole number in 1..{high}, got {value!r}")
        _check("warmup_steps", _whole(self.warmup_steps) and 0 <= self.warmup_steps <= self.steps,
               f"warmup_steps must be in [0, steps], got {self.warmup_steps!r}")
        _check("seed", _whole(self.seed) and 0 <= self.seed < 2**63,
               f"seed must be a whole number >= 0, got {self.seed!r}")
        _check("eps", _real(self.eps) and 0 < self.eps <= 1, f"eps must be in (0, 1], got {self.eps!r}")
        _check("lr", _real(self.lr) and 0 < self.lr <= 10, f"lr must be in (0, 10], got {self.lr!r}")
        _check("momentum", _real(self.momentum) and 0 <= self.momentum < 1,
               f"momentum must be in [0, 1), got {self.momentum!r}")
        _check("weight_decay", _real(self.weight_decay) and 0 <= self.weight_decay <= 1,
               f"weight_decay must be in [0, 1], got {self.weight_decay!r}")
        _check("attack_step_size", self.attack_step_size is None or (_real(self.attack_step_size)
                                                                     and 0 < self.attack_step_size <= 1),
               f"attack_step_size must be in (0, 1] or empty (ε/2), got {self.attack_step_size!r}")
        _check("scale", self.scale is None or (_real(self.scale) and 0 < self.scale <= 1000),
               f"scale must be in (0, 1000] or empty (the method's default), got {self.scale!r}")
        _check("ratio", _real(self.ratio) and 0 < self.ratio <= 1, f"ratio must be in (0, 1], got {self.ratio!r}")
        _check("consistency_weight", _real(self.consistency_weight) and 0 <= self.consistency_weight <= 100,
               f"consistency_weight must be in [0, 100], got {self.consistency_weight!r}")
        _check("preset", self.preset == "" or self.preset in RETRAIN_PRESETS,
               f"unknown preset {self.preset!r}; presets: {', '.join(RETRAIN_PRESETS)}")

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(item.name for item in fields(cls))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> RetrainConfig:
        """A paper's setting (`RETRAIN_PRESETS`), with any field overridden."""
        if name not in RETRAIN_PRESETS:
            raise RetrainConfigError(f"unknown preset {name!r}; presets: {', '.join(RETRAIN_PRESETS)}", "preset")
        return cls.from_dict({**RETRAIN_PRESETS[name].fields, "preset": name, **overrides})

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RetrainConfig:
        """The config from a stored run's settings: its own fields, other keys (the data source, the device,
        the re-evaluation) ignored; missing fields take the defaults."""
        names = set(cls.field_names())
        try:
            return cls(**{key: value for key, value in data.items() if key in names})
        except TypeError as error:
            raise RetrainConfigError(f"unreadable retraining settings: {error}") from None

    @property
    def loss_scale(self) -> float:
        if self.scale is not None:
            return self.scale
        return 180.0 if self.method == "agft" else 100.0

    def inner_attack(self) -> losses.InnerAttack:
        alpha = self.eps / 2 if self.attack_step_size is None else self.attack_step_size
        return losses.InnerAttack(self.eps, alpha, self.attack_steps, True)


@dataclass(frozen=True)
class RetrainResult:
    """Where the output went and how the run went."""

    checkpoint_path: Path
    checkpoint_sha256: str
    card_path: Path
    steps_done: int
    resumed_from_step: int
    final_loss: float
    losses: tuple[float, ...] = field(repr=False)


def warmup_cosine(warmup_steps: int, total_steps: int) -> Callable[[int], float]:
    """LR multiplier: linear warm-up from 1/warmup to 1, then cosine to 0 at total_steps."""

    def multiplier(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return multiplier


def warmup_step(warmup_steps: int, total_steps: int) -> Callable[[int], float]:
    """LR multiplier: linear warm-up, then 1 until 60 % of the steps and 0.1 after (LAAT's schedule)."""

    def multiplier(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        return 0.1 if step >= 0.6 * total_steps else 1.0

    return multiplier


def _check(name: str, ok: bool, message: str) -> None:
    if not ok:
        raise RetrainConfigError(message, name)


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _real(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class RetrainPreset:
    """A method's setting as its paper's code runs it (robustness-methods reference §2.2, §3.2, §4.1, §4.3)."""

    description: str
    fields: dict[str, Any]


# Steps: the papers train for epochs of ImageNet (1.28 M images); at their batch sizes 10 epochs are
# 50,000 steps (TeCoA, AGFT at 256), FARE runs 20,000 steps at 128, LAAT 100 epochs of its (small)
# datasets. A run on other data keeps the rest and sets its own steps.
RETRAIN_PRESETS: dict[str, RetrainPreset] = {
    "tecoa-paper": RetrainPreset(
        "TeCoA (ICLR 2023): SGD lr 1e-5, momentum 0.9, no weight decay, batch 256, 1,000 warm-up steps + cosine, "
        "PGD-2 at ε = 1/255 with α = 1/255, CE at logit scale 100",
        {"method": "tecoa", "optimizer": "sgd", "lr": 1e-5, "momentum": 0.9, "weight_decay": 0.0, "batch_size": 256,
         "steps": 50_000, "warmup_steps": 1000, "schedule": "warmup-cosine", "eps": 1 / 255, "attack_steps": 2,
         "attack_step_size": 1 / 255}),
    "agft-paper": RetrainPreset(
        "AGFT (CVPR 2026): SGD lr 4e-4, momentum 0.9, no weight decay, batch 256, 1,000 warm-up steps + cosine, "
        "PGD-2 at ε = 1/255 with α = 1/255, soft targets at s = 180, teacher ratio r = 0.4",
        {"method": "agft", "optimizer": "sgd", "lr": 4e-4, "momentum": 0.9, "weight_decay": 0.0, "batch_size": 256,
         "steps": 50_000, "warmup_steps": 1000, "schedule": "warmup-cosine", "eps": 1 / 255, "attack_steps": 2,
         "attack_step_size": 1 / 255, "scale": 180.0, "ratio": 0.4}),
    "fare-paper": RetrainPreset(
        "FARE⁴ (ICML 2024): AdamW lr 1e-5, weight decay 1e-4, batch 128, 20,000 steps, 1,400 warm-up + cosine, "
        "PGD-10 at ε = 4/255 with α = 1/255 on the embedding distance",
        {"method": "fare", "optimizer": "adamw", "lr": 1e-5, "weight_decay": 1e-4, "batch_size": 128,
         "steps": 20_000, "warmup_steps": 1400, "schedule": "warmup-cosine", "eps": 4 / 255, "attack_steps": 10,
         "attack_step_size": 1 / 255}),
    "alignment-ce-laat": RetrainPreset(
        "Alignment CE as LAAT's code runs it (CVPR 2024): SGD lr 0.05, momentum 0.9, weight decay 5e-4, batch 128, "
        "×0.1 at 60 % of the steps, PGD-7 at ε = 8/255 with α = 2/255, cosine logits at τ = 1 (scale 1) to the "
        "expanded anchors, consistency β = 1",
        {"method": "alignment-ce", "optimizer": "sgd", "lr": 0.05, "momentum": 0.9, "weight_decay": 5e-4,
         "batch_size": 128, "steps": 10_000, "warmup_steps": 0, "schedule": "step", "eps": 8 / 255,
         "attack_steps": 7, "attack_step_size": 2 / 255, "scale": 1.0, "consistency_weight": 1.0,
         "expand_anchors": True}),
    "demo-fast": RetrainPreset(
        "The demo's fast setting (not a paper's): AdamW lr 2e-4, batch 64, 100 steps with 10 warm-up + cosine, "
        "PGD-2 at ε = 4/255 with α = ε/2: minutes on a CPU",
        {"optimizer": "adamw", "lr": 2e-4, "batch_size": 64, "steps": 100, "warmup_steps": 10,
         "schedule": "warmup-cosine", "eps": 4 / 255, "attack_steps": 2, "attack_step_size": None}),
}


def batch_indices(seed: int, step: int, batch_size: int, n: int) -> list[int]:
    """The dataset indices of training step `step`: epochs of seeded permutations."""
    first = step * batch_size
    indices: list[int] = []
    while len(indices) < batch_size:
        epoch, offset = divmod(first + len(indices), n)
        permutation = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 100_003 + epoch))
        indices.extend(permutation[offset : offset + batch_size - len(indices)].tolist())
    return indices


@dataclass
class _Trainer:
    classifier: ZeroShotClassifier
    frozen: ZeroShotClassifier | None
    config: RetrainConfig
    anchors: Tensor | None
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    device: torch.device
    distributed: DistributedRun | None = None
    attack_context: losses.AutocastFactory = contextlib.nullcontext

    def autocast(self) -> AbstractContextManager[object]:
        if self.config.bf16_autocast and self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def attack_run(self, images: Tensor) -> losses.AttackRun:
        """The random start for these rows, drawn for the whole global batch on every rank.

        One process draws exactly what `pgd_maximise` would draw itself (same shape, same
        generator state); a rank of N draws the global batch's and keeps its own rows, so the
        ranks together start where one process would.
        """
        attack = self.config.inner_attack()
        if not (attack.random_start and attack.eps > 0):
            return losses.AttackRun(context=self.attack_context)
        shards = 1 if self.distributed is None else self.distributed.world_size
        global_shape = (images.shape[0] * shards, *images.shape[1:])
        noise = torch.empty(global_shape, dtype=images.dtype, device=images.device).uniform_(-attack.eps, attack.eps)
        rows = slice(None) if self.distributed is None else self.distributed.rows(global_shape[0])
        return losses.AttackRun(start_noise=noise[rows], context=self.attack_context)

    def loss(self, images: Tensor, labels: Tensor) -> losses.LossOutput:
        config, attack = self.config, self.config.inner_attack()
        run = self.attack_run(images)
        if config.method == "tecoa":
            return losses.tecoa_loss(self.classifier, images, labels, attack, self.autocast, run)
        if config.method == "alignment-ce":
            assert self.anchors is not None
            return losses.alignment_cross_entropy_loss(
                self.classifier,
                images,
                labels,
                attack,
                anchors=self.anchors,
                scale=config.loss_scale,
                consistency_weight=config.consistency_weight,
                autocast=self.autocast,
                run=run,
            )
        assert self.frozen is not None
        if config.method == "agft":
            return losses.agft_loss(
                self.classifier,
                self.frozen,
                images,
                attack,
                scale=config.loss_scale,
                ratio=config.ratio,
                autocast=self.autocast,
                run=run,
            )
        return losses.fare_loss(self.classifier, self.frozen, images, attack, self.autocast, run)

    def step(self, images: Tensor, labels: Tensor) -> float:
        self.classifier.train()
        output = self.loss(images, labels)
        self.optimizer.zero_grad(set_to_none=True)
        torch.autograd.backward(output.loss)
        self.optimizer.step()
        self.scheduler.step()
        value = float(output.loss.detach())
        return value if self.distributed is None else self.distributed.mean(value, self.device)


def retrain(
    classifier: ZeroShotClassifier,
    dataset: Dataset[Any],
    config: RetrainConfig,
    *,
    out_dir: str | Path,
    clip_model: nn.Module | None = None,
    parent_checkpoint: str | Path | None = None,
    data_description: str = "",
    device: str | torch.device = "cpu",
    progress: ProgressCallback | None = None,
    should_cancel: ShouldCancel | None = None,
    stop_after: int | None = None,
    train_class_names: Sequence[str] | None = None,
    distributed: DistributedRun | None = None,
) -> RetrainResult:
    """Fine-tune `classifier.visual` (text anchors stay frozen) with `config.method`.

    classifier: a ZeroShotClassifier over the TRAINING classes, in its original state (its
    copy is the frozen reference for AGFT/FARE). dataset yields (image (3,H,W) in [0,1], label).
    Resumes from out_dir/training-state.pt when present. stop_after: stop (with a
    checkpoint) after that many steps in total, for tests and time-boxed jobs.
    Raises `RetrainingCancelled` between steps when should_cancel() turns true.
    distributed: this process's rank in a torchrun job (`distributed.from_environment`); each
    rank takes its shard of every global batch of `config.batch_size`, and rank 0 writes.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    target = torch.device(device) if distributed is None else distributed.device(torch.device(device))
    if distributed is not None and config.batch_size % distributed.world_size:
        raise RetrainConfigError(f"batch_size {config.batch_size} must be a multiple of the "
                                 f"{distributed.world_size} processes")
    classifier.to(target)
    frozen = _frozen_copy(classifier) if config.method in ("agft", "fare") else None
    expansion = fit_anchor_expansion(classifier.text_anchors) if config.method == "alignment-ce" else None
    anchors = None
    if expansion is not None:
        anchors = expansion.apply(classifier.text_anchors) if config.expand_anchors else classifier.text_anchors
    trainer = _make_trainer(classifier, frozen, config, anchors, target)
    start = _resume(trainer, out / STATE_FILE)
    if start == 0:
        _seed_everything(config.seed)
    tower = classifier.visual
    if distributed is not None:
        trainer = _data_parallel(trainer, distributed)
    began = time.monotonic()
    try:
        last, history = _train(trainer, dataset, out, start, stop_after, progress, should_cancel)
    finally:
        classifier.visual = tower
    card = RetrainCard.build(
        config=asdict(config),
        parent_checkpoint=parent_checkpoint,
        data_description=data_description,
        steps_done=last,
        resumed_from_step=start,
        final_loss=history[-1] if history else float("nan"),
        device=str(target) if distributed is None else f"{target.type} × {distributed.world_size} processes",
        wall_time_s=time.monotonic() - began,
        train_class_names=train_class_names,
        anchor_expansion=None
        if expansion is None
        else {
            "factor": expansion.factor,
            "applied": expansion.applied and config.expand_anchors,
            "reason": expansion.reason,
        },
    )
    if distributed is None or distributed.is_main:
        checkpoint, sha, card_path = write_outputs(classifier, clip_model, card, out)
    if distributed is not None:
        distributed.barrier()
        checkpoint, card_path = out / MODEL_FILE, out / CARD_FILE
        sha = sha256_file(checkpoint)
    return RetrainResult(checkpoint, sha, card_path, last, start, card.final_loss, tuple(history))


def _train(
    trainer: _Trainer,
    dataset: Dataset[Any],
    out: Path,
    start: int,
    stop_after: int | None,
    progress: ProgressCallback | None,
    should_cancel: ShouldCancel | None,
) -> tuple[int, list[float]]:
    """Steps start..last; returns (last, the loss of each step run)."""
    config, distributed = trainer.config, trainer.distributed
    n = len(dataset)  # type: ignore[arg-type]  # Dataset declares no __len__
    last = config.steps if stop_after is None else min(config.steps, stop_after)
    history: list[float] = []
    clock = EtaClock(config.steps)
    clock.start(start)
    for step in range(start, last):
        if should_cancel is not None and _cancelled(should_cancel, distributed, trainer.device):
            _save_state(trainer, out / STATE_FILE, step)
            raise RetrainingCancelled(f"retraining cancelled before step {step}", step)
        indices = batch_indices(config.seed, step, config.batch_size, n)
        if distributed is not None:
            indices = distributed.shard(indices)
        images, labels = _load_batch(dataset, indices, trainer.device)
        history.append(trainer.step(images, labels))
        done = step + 1
        if done % config.checkpoint_every == 0 or done == last:
            _save_state(trainer, out / STATE_FILE, done)
        if progress is not None and (distributed is None or distributed.is_main):
            progress(done, config.steps, f"step {done}/{config.steps} loss {history[-1]:.4f}", clock.eta(done))
    return last, history


def _cancelled(should_cancel: ShouldCancel, distributed: DistributedRun | None, device: torch.device) -> bool:
    asked = bool(should_cancel())
    return asked if distributed is None else distributed.decided_by_main(asked, device)


def _data_parallel(trainer: _Trainer, distributed: DistributedRun) -> _Trainer:
    """Wrap the vision tower in DDP for the loop (the optimiser already holds its parameters)."""
    from torch.nn.parallel import DistributedDataParallel

    device_ids = [trainer.device.index] if trainer.device.type == "cuda" else None
    wrapped = DistributedDataParallel(trainer.classifier.visual, device_ids=device_ids)
    trainer.classifier.visual = wrapped
    return dataclasses.replace(trainer, distributed=distributed, attack_context=wrapped.no_sync)


def _frozen_copy(classifier: ZeroShotClassifier) -> ZeroShotClassifier:
    frozen = copy.deepcopy(classifier).eval()
    frozen.requires_grad_(False)
    return frozen


def _make_trainer(
    classifier: ZeroShotClassifier,
    frozen: ZeroShotClassifier | None,
    config: RetrainConfig,
    anchors: Tensor | None,
    device: torch.device,
) -> _Trainer:
    classifier.requires_grad_(False)
    parameters = list(classifier.visual.parameters())
    for parameter in parameters:
        parameter.requires_grad_(True)
    if config.optimizer == "sgd":
        optimizer: torch.optim.Optimizer = torch.optim.SGD(
            parameters, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
        )
    else:
        optimizer = torch.optim.AdamW(parameters, lr=config.lr, weight_decay=config.weight_decay)
    schedule = warmup_cosine if config.schedule == "warmup-cosine" else warmup_step
    multiplier = schedule(config.warmup_steps, config.steps)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, multiplier)
    return _Trainer(classifier, frozen, config, anchors, optimizer, scheduler, device)


def _load_batch(dataset: Dataset[Any], indices: list[int], device: torch.device) -> tuple[Tensor, Tensor]:
    items = [dataset[i] for i in indices]
    images = torch.stack([torch.as_tensor(item[0], dtype=torch.float32) for item in items]).to(device)
    labels = torch.tensor([int(item[1]) for item in items], dtype=torch.long, device=device)
    return images, labels


def _seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed % (2**32))


def _rng_state() -> dict[str, Any]:
    kind, keys, position, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "python": random.getstate(),
        # numpy's state holds an ndarray, which weights_only loading refuses: store a tensor.
        "numpy": (kind, torch.from_numpy(np.asarray(keys, dtype=np.int64)), position, has_gauss, cached),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():  # type: ignore[no-untyped-call]  # unannotated in torch
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate(_as_tuple(state["python"]))
    kind, keys, position, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), position, has_gauss, cached))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _as_tuple(value: Any) -> Any:
    return tuple(_as_tuple(v) for v in value) if isinstance(value, (list, tuple)) else value


def _tower(classifier: ZeroShotClassifier) -> nn.Module:
    """The vision tower itself, also while DDP wraps it."""
    from torch.nn.parallel import DistributedDataParallel

    visual: nn.Module = classifier.visual
    return visual.module if isinstance(visual, DistributedDataParallel) else visual


def _save_state(trainer: _Trainer, path: Path, step: int) -> None:
    """Rank 0 writes (every rank holds the same weights); the others wait until it has."""
    if trainer.distributed is None or trainer.distributed.is_main:
        atomic_torch_save(
            {
                "step": step,
                "config": asdict(trainer.config),
                "visual": _tower(trainer.classifier).state_dict(),
                "optimizer": trainer.optimizer.state_dict(),
                "scheduler": trainer.scheduler.state_dict(),
                "rng": _rng_state(),
            },
            path,
        )
    if trainer.distributed is not None:
        trainer.distributed.barrier()


def _resume(trainer: _Trainer, path: Path) -> int:
    state = load_training_state(path)
    if state is None:
        return 0
    if state["config"] != asdict(trainer.config):
        raise RetrainConfigError(f"{path} was written with a different configuration; use a new output folder")
    trainer.classifier.visual.load_state_dict(state["visual"])
    trainer.optimizer.load_state_dict(state["optimizer"])
    trainer.scheduler.load_state_dict(state["scheduler"])
    _set_rng_state(state["rng"])
    return int(state["step"])
