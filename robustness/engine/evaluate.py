"""Clean and adversarial evaluation of a zero-shot classifier, in mergeable shards.

Batch b holds examples [b·batch_size, min((b+1)·batch_size, n)) of the dataset in order,
and its attack randomness is seeded by (seed, b) alone, so evaluating batches [0, k) and
[k, n) separately and merging gives exactly the counts of one full run.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

from robustness.engine.attacks import AttackSpec, batch_seed, parse_attack, parse_epsilon, run_attack
from robustness.engine.errors import DatasetError, EngineError
from robustness.engine.metrics import AttackCounts, EvaluationPartial
from robustness.engine.progress import EtaClock, EvaluationCancelled, ProgressCallback, ShouldCancel
from robustness.engine.records import AttackInfo, RobustnessRecord, build_record


class EvaluationConfigError(EngineError):
    """An evaluation configuration is not valid; `field` names the setting at fault."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


MAX_EXAMPLES = 100_000
MAX_EPSILONS = 32
MAX_BATCH_SIZE = 4096
MAX_SEED = 2**31 - 1
MAX_EXAMPLES_TO_SHOW = 16
DEVICES = re.compile(r"^(auto|cpu|cuda(:\d{1,2})?)$")


@dataclass(frozen=True)
class EvaluationConfig:
    """Everything that decides an evaluation's result, frozen on the run row as `to_dict()`.

    attacks: preset names or free attacks (`parse_attack`); epsilons: L-infinity radii in (0, 1], at most
    32; n_examples in [1, 100000] or None for the whole dataset; batch_size in [1, 4096]; seed in
    [0, 2^31 - 1]; examples_to_show (adversarial examples kept as PNGs) in [0, 16]; device auto, cpu,
    cuda or cuda:N; split_attacks: shards split by attack × ε as well as by examples. builtin_dataset
    names a built-in dataset ("" for an uploaded one).
    """

    attacks: tuple[str, ...] = ("screen-pgd10",)
    epsilons: tuple[float, ...] = (1 / 255, 4 / 255)
    n_examples: int | None = 200
    batch_size: int = 32
    seed: int = 0
    builtin_dataset: str = ""
    examples_to_show: int = 4
    device: str = "auto"
    split_attacks: bool = False
    attack_specs: tuple[AttackSpec, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.attacks:
            raise EvaluationConfigError("attacks", "give at least one attack")
        try:
            specs = tuple(parse_attack(name) for name in self.attacks)
        except EngineError as error:
            raise EvaluationConfigError("attacks", str(error)) from None
        object.__setattr__(self, "attack_specs", specs)
        if not 1 <= len(self.epsilons) <= MAX_EPSILONS:
            raise EvaluationConfigError("epsilons", f"give 1 to {MAX_EPSILONS} ε values")
        try:
            for eps in self.epsilons:
                parse_epsilon(eps)  # the one range, (0, 1]
        except EngineError as error:
            raise EvaluationConfigError("epsilons", str(error)) from None
        _check_range("n_examples", self.n_examples, 1, MAX_EXAMPLES, optional=True)
        _check_range("batch_size", self.batch_size, 1, MAX_BATCH_SIZE)
        _check_range("seed", self.seed, 0, MAX_SEED)
        _check_range("examples_to_show", self.examples_to_show, 0, MAX_EXAMPLES_TO_SHOW)
        if not DEVICES.match(self.device):
            raise EvaluationConfigError("device", f"device must be auto, cpu, cuda or cuda:N, got {self.device!r}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvaluationConfig:
        """A config from a request or a stored row (missing or empty settings take the defaults; keys that
        are not settings, such as a re-evaluation's `dataset_id`, are ignored). ε may be "4/255" text;
        the values are sorted and repeats dropped."""
        if not isinstance(data, Mapping):
            raise EvaluationConfigError("config", "settings must be a JSON object")
        attacks = data.get("attacks") or list(cls.attacks)
        if not isinstance(attacks, list | tuple) or not all(isinstance(name, str) for name in attacks):
            raise EvaluationConfigError("attacks", "give the attacks as a list of names")
        epsilons = data.get("epsilons") or list(cls.epsilons)
        if not isinstance(epsilons, list | tuple) or len(epsilons) > MAX_EPSILONS:
            raise EvaluationConfigError("epsilons", f"give a list of at most {MAX_EPSILONS} ε values")
        try:
            radii = tuple(sorted({parse_epsilon(eps) for eps in epsilons}))
        except EngineError as error:
            raise EvaluationConfigError("epsilons", str(error)) from None
        return cls(attacks=tuple(name.strip() for name in attacks if name.strip())[:1000], epsilons=radii,
                   n_examples=_whole(data, "n_examples", 200), batch_size=_whole(data, "batch_size", 32),
                   seed=_whole(data, "seed", 0), builtin_dataset=str(data.get("builtin_dataset") or ""),
                   examples_to_show=_whole(data, "examples_to_show", 4, keep_zero=True),
                   device=str(data.get("device") or "auto"), split_attacks=data.get("split_attacks") is True)

    def to_dict(self) -> dict[str, Any]:
        """The JSON stored on the run row (lists, not tuples)."""
        return {"attacks": list(self.attacks), "epsilons": list(self.epsilons), "n_examples": self.n_examples,
                "batch_size": self.batch_size, "seed": self.seed, "builtin_dataset": self.builtin_dataset,
                "examples_to_show": self.examples_to_show, "device": self.device,
                "split_attacks": self.split_attacks}


def _check_range(name: str, value: int | None, low: int, high: int, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise EvaluationConfigError(name, f"{name} must be a whole number in {low}..{high}, got {value!r}")


def _whole(data: Mapping[str, Any], name: str, default: int, *, keep_zero: bool = False) -> int:
    value = data.get(name, default) if keep_zero else (data.get(name) or default)
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise EvaluationConfigError(name, f"{name} must be a whole number, got {value!r}") from None
    return number


@dataclass(frozen=True)
class EvaluationResult:
    """The counts (mergeable with other shards) and the record built from them."""

    partial: EvaluationPartial
    record: RobustnessRecord


def resolve_device(device: str | torch.device | None) -> torch.device:
    """ "auto"/None → cuda where available, else cpu."""
    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def number_of_batches(n_examples: int, batch_size: int) -> int:
    return math.ceil(n_examples / batch_size)


def evaluate(
    classifier: nn.Module,
    dataset: Dataset[Any],
    config: EvaluationConfig,
    *,
    progress: ProgressCallback | None = None,
    should_cancel: ShouldCancel | None = None,
    start_batch: int = 0,
    end_batch: int | None = None,
    class_names: Sequence[str] | None = None,
    dataset_name: str = "dataset",
    anchor_diagnostics: dict[str, Any] | None = None,
) -> EvaluationResult:
    """Evaluate batches [start_batch, end_batch) of `config` and return their counts plus a record.

    classifier: x (N,3,H,W) in [0,1] → logits (N,C). dataset yields (image (3,H,W) in [0,1],
    int label). The record of a shard describes that shard only; merge partials and call
    `record_from_partial` for the whole run.
    """
    target = resolve_device(config.device)
    partial = evaluate_partial(
        classifier,
        dataset,
        config,
        device=target,
        progress=progress,
        should_cancel=should_cancel,
        start_batch=start_batch,
        end_batch=end_batch,
    )
    names = tuple(class_names) if class_names is not None else _class_names(classifier, dataset, partial.n_classes)
    record = record_from_partial(
        partial,
        attacks=config.attack_specs,
        class_names=names,
        dataset_name=dataset_name,
        seed=config.seed,
        batch_size=config.batch_size,
        device=target,
        anchor_diagnostics=anchor_diagnostics,
    )
    return EvaluationResult(partial, record)


def record_from_partial(
    partial: EvaluationPartial,
    *,
    attacks: Sequence[AttackSpec],
    class_names: Sequence[str],
    dataset_name: str,
    seed: int,
    batch_size: int,
    device: str | torch.device,
    anchor_diagnostics: dict[str, Any] | None = None,
) -> RobustnessRecord:
    """The record for (merged) counts."""
    info = {spec.name: AttackInfo(spec.describe(partial.n_classes), spec.library(), spec.norm) for spec in attacks}
    return build_record(
        partial,
        attacks=info,
        dataset=dataset_name,
        class_names=tuple(class_names),
        seed=seed,
        batch_size=batch_size,
        device=_device_label(torch.device(device)),
        anchor_diagnostics=anchor_diagnostics,
    )


def evaluate_partial(
    classifier: nn.Module,
    dataset: Dataset[Any],
    config: EvaluationConfig,
    *,
    device: torch.device,
    progress: ProgressCallback | None = None,
    should_cancel: ShouldCancel | None = None,
    start_batch: int = 0,
    end_batch: int | None = None,
) -> EvaluationPartial:
    """Counts of `config`'s attacks × ε for batches [start_batch, end_batch) on `device` (already resolved);
    raises `EvaluationCancelled` (with the counts so far in `.partial`) when `should_cancel()` turns true
    between batches."""
    attacks, epsilons, batch_size, seed = config.attack_specs, config.epsilons, config.batch_size, config.seed
    n_examples = config.n_examples
    n = _checked_size(dataset, n_examples, batch_size, attacks, epsilons)
    total_batches = number_of_batches(n, batch_size)
    end = total_batches if end_batch is None else min(end_batch, total_batches)
    if not 0 <= start_batch <= end:
        raise DatasetError(f"batch range [{start_batch}, {end}) is not inside [0, {total_batches}]")
    n_classes = _n_classes(classifier)
    keys = [(spec.name, float(eps)) for spec in attacks for eps in epsilons]
    if len(set(keys)) != len(keys):
        raise DatasetError("each (attack, ε) may appear only once")
    partial = EvaluationPartial.empty(n_classes, keys)
    clock = EtaClock(end - start_batch)
    clock.start(0)
    with _evaluation_mode(classifier, device):
        for index, batch in enumerate(range(start_batch, end)):
            if should_cancel is not None and should_cancel():
                raise EvaluationCancelled(f"evaluation cancelled before batch {batch}", partial)
            images, labels = _load_batch(dataset, batch, batch_size, n, device, n_classes)
            partial = partial.merge(
                _evaluate_batch(classifier, images, labels, batch, attacks, epsilons, n_classes, seed)
            )
            if progress is not None:
                progress(index + 1, end - start_batch, f"batch {batch + 1}/{total_batches}", clock.eta(index + 1))
    return partial


def _evaluate_batch(
    classifier: nn.Module,
    images: Tensor,
    labels: Tensor,
    batch: int,
    attacks: Sequence[AttackSpec],
    epsilons: Sequence[float],
    n_classes: int,
    seed: int,
) -> EvaluationPartial:
    with torch.no_grad():
        clean_hit = classifier(images).argmax(1) == labels
    counts = []
    for spec in attacks:
        for eps in epsilons:
            adversarial = run_attack(
                classifier, images, labels, spec, float(eps), n_classes=n_classes, seed=batch_seed(seed, batch)
            )
            with torch.no_grad():
                adversarial_hit = classifier(adversarial).argmax(1) == labels
            robust = clean_hit & adversarial_hit
            counts.append(
                AttackCounts(
                    spec.name,
                    float(eps),
                    _per_class(robust, labels, n_classes),
                    int((clean_hit & ~adversarial_hit).sum()),
                )
            )
    ones = torch.ones_like(clean_hit)
    return EvaluationPartial(
        n_classes,
        (batch,),
        _per_class(ones, labels, n_classes),
        _per_class(clean_hit, labels, n_classes),
        tuple(counts),
    )


@dataclass(frozen=True)
class AdversarialExample:
    """One image beside its adversarial version: tensors (3, H, W) in [0, 1]; `perturbation` is the
    difference magnified to the full range (±ε → [0, 1]); predictions and label are class indices."""

    index: int
    label: int
    image: Tensor
    adversarial: Tensor
    perturbation: Tensor
    clean_prediction: int
    adversarial_prediction: int
    attack: str
    eps: float


def adversarial_examples(classifier: nn.Module, dataset: Dataset[Any], config: EvaluationConfig
                         ) -> list[AdversarialExample]:
    """The first `config.examples_to_show` images under the first attack at the largest ε (the most visible
    perturbation of the run), seeded by `config.seed`; the classifier is left as it was found."""
    count = min(config.examples_to_show, len(dataset))  # type: ignore[arg-type]  # Dataset declares no __len__
    if count <= 0:
        return []
    device = resolve_device(config.device)
    spec, eps = config.attack_specs[0], max(config.epsilons)
    images = torch.stack([torch.as_tensor(dataset[i][0], dtype=torch.float32) for i in range(count)]).to(device)
    labels = torch.tensor([int(dataset[i][1]) for i in range(count)], dtype=torch.long, device=device)
    with _evaluation_mode(classifier, device):
        adversarial = run_attack(classifier, images, labels, spec, eps, n_classes=_n_classes(classifier),
                                 seed=config.seed)
        with torch.no_grad():
            clean_prediction = classifier(images).argmax(1).tolist()
            adversarial_prediction = classifier(adversarial).argmax(1).tolist()
    return [AdversarialExample(index=i, label=int(labels[i]), image=images[i], adversarial=adversarial[i],
                               perturbation=(adversarial[i] - images[i]) / (2 * eps) + 0.5,
                               clean_prediction=int(clean_prediction[i]),
                               adversarial_prediction=int(adversarial_prediction[i]), attack=spec.name, eps=eps)
            for i in range(count)]


def _per_class(hits: Tensor, labels: Tensor, n_classes: int) -> tuple[int, ...]:
    counts = torch.bincount(labels[hits].cpu(), minlength=n_classes)
    return tuple(int(v) for v in counts.tolist())


def _load_batch(
    dataset: Dataset[Any], batch: int, batch_size: int, n: int, device: torch.device, n_classes: int
) -> tuple[Tensor, Tensor]:
    indices = range(batch * batch_size, min((batch + 1) * batch_size, n))
    items = [dataset[i] for i in indices]
    images = torch.stack([torch.as_tensor(item[0], dtype=torch.float32) for item in items]).to(device)
    labels = torch.tensor([int(item[1]) for item in items], dtype=torch.long, device=device)
    if images.ndim != 4 or images.shape[1] != 3:
        raise DatasetError(f"expected images of shape (3, H, W), got {tuple(images.shape[1:])}")
    if float(images.min()) < 0.0 or float(images.max()) > 1.0:
        raise DatasetError("images must lie in [0, 1] (normalisation happens inside the model)")
    if int(labels.min()) < 0 or int(labels.max()) >= n_classes:
        raise DatasetError(f"labels must lie in [0, {n_classes}), got {int(labels.min())}..{int(labels.max())}")
    return images, labels


@contextlib.contextmanager
def _evaluation_mode(classifier: nn.Module, device: torch.device) -> Iterator[None]:
    """eval() and parameters frozen for the duration: attacks need input gradients only,
    and frozen weights skip the weight-gradient half of every backward. Restored after."""
    was_training = classifier.training
    flags = [(p, p.requires_grad) for p in classifier.parameters()]
    classifier.to(device).eval()
    for parameter, _ in flags:
        parameter.requires_grad_(False)
    try:
        yield
    finally:
        for parameter, flag in flags:
            parameter.requires_grad_(flag)
        classifier.train(was_training)


def _checked_size(
    dataset: Dataset[Any],
    n_examples: int | None,
    batch_size: int,
    attacks: Sequence[AttackSpec],
    epsilons: Sequence[float],
) -> int:
    available = len(dataset)  # type: ignore[arg-type]  # Dataset declares no __len__
    n = available if n_examples is None else n_examples
    if n < 1 or n > available:
        raise DatasetError(f"n_examples must be in [1, {available}] for this dataset, got {n}")
    if batch_size < 1:
        raise DatasetError(f"batch_size must be >= 1, got {batch_size}")
    if not epsilons and attacks:
        raise DatasetError("give at least one ε for the attacks")
    return n


def _n_classes(classifier: nn.Module) -> int:
    anchors = getattr(classifier, "text_anchors", None)
    if anchors is None:
        raise DatasetError("the classifier has no text_anchors buffer; cannot tell the number of classes")
    return int(anchors.shape[0])


def _class_names(classifier: nn.Module, dataset: Dataset[Any], n_classes: int) -> tuple[str, ...]:
    for source in (classifier, dataset):
        names = getattr(source, "class_names", None)
        if names is not None and len(names) == n_classes:
            return tuple(str(name) for name in names)
    return tuple(f"class {index}" for index in range(n_classes))


def _device_label(device: torch.device) -> str:
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"cuda ({torch.cuda.get_device_name(index)})"
    return "cpu"
