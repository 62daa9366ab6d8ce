"""Engine throughput: our evaluation and retraining step against plain loops, one run.

Prints three figures per model on the same synthetic images (random weights: speed does not
depend on the weights): the demo architecture at 32 px, and ViT-B-32 (QuickGELU, as OpenAI's)
at 224 px with the synthetic images upsampled:

(a) our PGD-10 evaluation (`evaluate`, preset screen-pgd10) vs a plain loop that calls
    torchattacks.PGD directly as in reference §8.2: throughput ratio (>1: ours faster);
(b) our evaluation time ÷ the bare model's time for the same work (10 × (forward +
    input-gradient backward) + the clean and the final forward per batch): overhead, target ≤ 1.10;
(c) one TeCoA retraining step ÷ the bare cost of its forwards and backwards (2 attack
    steps + the training forward/backward + optimiser step).

Each figure uses the fastest of the rounds (the least disturbed by other processes; on a
shared machine the median mostly measures the neighbours), measured interleaved so
background load hits both sides alike; the medians are printed too.
Usage: python benchmarks/engine_throughput.py [--models demo,ViT-B-32] [--n 256] [--batch-size 64] [--rounds 3]
  (ViT-B-32 uses --vit-n / --vit-batch-size, default 32 / 16, so that a CPU run takes minutes.)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
import torchattacks

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from robustness.engine import synthetic
from robustness.engine.classifier import ZeroShotClassifier
from robustness.engine.data import ImageDataset, restrict_to_classes
from robustness.engine.evaluate import EvaluationConfig, evaluate, resolve_device
from robustness.engine.finetune import RetrainConfig, _make_trainer
from robustness.engine.models import QUICK_GELU, ModelSpec, load_clip
from robustness.engine.tiny import DEMO_ARCHITECTURE, DEMO_MODEL_CONFIG

EPS = 4 / 255


def timed(work: Callable[[], object], device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    work()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def batches(images: torch.Tensor, labels: torch.Tensor, size: int):
    for start in range(0, images.shape[0], size):
        yield images[start : start + size], labels[start : start + size]


def plain_torchattacks_loop(classifier, images, labels, batch_size: int) -> None:
    """Reference §8.2: clean forward, torchattacks.PGD, adversarial forward (weights left trainable)."""
    attack = torchattacks.PGD(classifier, eps=EPS, alpha=EPS / 4, steps=10, random_start=True)
    for x, y in batches(images, labels, batch_size):
        with torch.no_grad():
            classifier(x).argmax(1)
        adversarial = attack(x, y)
        with torch.no_grad():
            classifier(adversarial).argmax(1)


def bare_model_loop(classifier, images, labels, batch_size: int) -> None:
    """The irreducible work: 10 × (forward + input-gradient backward) + clean and final forwards."""
    for x, y in batches(images, labels, batch_size):
        with torch.no_grad():
            classifier(x)
        adversarial = x.clone()
        for _ in range(10):
            adversarial.requires_grad_(True)
            (gradient,) = torch.autograd.grad(F.cross_entropy(classifier(adversarial), y), adversarial)
            adversarial = (x + (adversarial.detach() + EPS / 4 * gradient.sign() - x).clamp(-EPS, EPS)).clamp(0, 1)
        with torch.no_grad():
            classifier(adversarial)


def bare_training_step(classifier, optimizer, x, y, alpha: float) -> None:
    adversarial = x.clone()
    for _ in range(2):
        adversarial.requires_grad_(True)
        (gradient,) = torch.autograd.grad(F.cross_entropy(classifier(adversarial), y), adversarial)
        adversarial = (x + (adversarial.detach() + alpha * gradient.sign() - x).clamp(-EPS, EPS)).clamp(0, 1)
    loss = F.cross_entropy(classifier(adversarial), y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="demo,ViT-B-32", help="comma-separated: demo, ViT-B-32")
    parser.add_argument("--n", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--vit-n", type=int, default=32)
    parser.add_argument("--vit-batch-size", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--train-steps", type=int, default=5)
    parser.add_argument("--device", default="auto")
    arguments = parser.parse_args()
    device = resolve_device(arguments.device)
    for model in arguments.models.split(","):
        if model == "demo":
            measure(arguments, device, ModelSpec(DEMO_ARCHITECTURE, model_config=DEMO_MODEL_CONFIG),
                    "demo (embed 128, ViT 4×128, 32 px)", arguments.n, arguments.batch_size)
        elif model == "ViT-B-32":
            measure(arguments, device, ModelSpec("ViT-B-32", activation=QUICK_GELU),
                    "ViT-B-32 (QuickGELU, 224 px, random weights)", arguments.vit_n, arguments.vit_batch_size)
        else:
            parser.error(f"unknown model {model!r}")


def measure(arguments: argparse.Namespace, device: torch.device, spec: ModelSpec, label: str, n: int,
            batch_size: int) -> None:
    torch.manual_seed(0)
    loaded = load_clip(spec, device)
    names = synthetic.class_names(synthetic.held_out_compositions())
    classifier = ZeroShotClassifier.from_loaded(loaded, names, synthetic.TEMPLATES).to(device).eval()
    per_class = -(-n // len(names))
    split = synthetic.generate_split(synthetic.SyntheticSpec(), "test", synthetic.held_out_compositions(), per_class)
    dataset = restrict_to_classes(split.dataset, names)
    if dataset.image_size[0] != loaded.image_size:
        pixels = F.interpolate(dataset.pixels.float(), size=loaded.image_size, mode="bilinear", align_corners=False)
        dataset = ImageDataset(pixels.round().clamp(0, 255).to(torch.uint8), dataset.labels, dataset.class_names)
    images, labels = (t[:n].to(device) for t in dataset.tensors())
    print(
        f"\n== {label}: device {device}, torch threads {torch.get_num_threads()}, n {images.shape[0]}, "
        f"batch {batch_size}, {len(names)} classes"
    )

    config = EvaluationConfig(epsilons=(EPS,), n_examples=images.shape[0], batch_size=batch_size,
                              device=str(device))
    ours, plain, bare = [], [], []
    for _ in range(arguments.rounds):
        ours.append(
            timed(
                lambda: evaluate(classifier, dataset, config),
                device,
            )
        )
        plain.append(timed(lambda: plain_torchattacks_loop(classifier, images, labels, batch_size), device))
        classifier.requires_grad_(False)
        bare.append(timed(lambda: bare_model_loop(classifier, images, labels, batch_size), device))
        classifier.requires_grad_(True)
    ours_s, plain_s, bare_s = (min(v) for v in (ours, plain, bare))
    medians = ", ".join(
        f"{name} {statistics.median(v):.2f} s" for name, v in (("ours", ours), ("plain", plain), ("bare", bare))
    )
    print(
        f"(a) PGD-10 evaluation: ours {images.shape[0] / ours_s:.1f} img/s, plain torchattacks loop "
        f"{images.shape[0] / plain_s:.1f} img/s → throughput ratio {plain_s / ours_s:.3f} (ours ÷ plain speed)"
    )
    print(f"(b) overhead: ours {ours_s:.2f} s ÷ bare model {bare_s:.2f} s = {ours_s / bare_s:.3f} (target ≤ 1.10)")
    print(f"    medians over {arguments.rounds} rounds: {medians}")

    config = RetrainConfig(
        method="tecoa", lr=1e-5, steps=1000, warmup_steps=0, batch_size=batch_size, eps=EPS, attack_steps=2
    )
    trainer = _make_trainer(classifier, None, config, None, device)
    bare_optimizer = torch.optim.AdamW(classifier.visual.parameters(), lr=1e-5)
    x, y = images[: batch_size], labels[: batch_size]
    step_times, bare_times = [], []
    for _ in range(arguments.train_steps):
        step_times.append(timed(lambda: trainer.step(x, y), device))
        classifier.train()
        bare_times.append(timed(lambda: bare_training_step(classifier, bare_optimizer, x, y, EPS / 2), device))
    step_s, bare_step_s = min(step_times), min(bare_times)
    print(
        f"(c) TeCoA step (PGD-2): ours {step_s * 1000:.0f} ms ÷ bare forwards/backwards {bare_step_s * 1000:.0f} ms "
        f"= {step_s / bare_step_s:.3f}"
    )


if __name__ == "__main__":
    main()
