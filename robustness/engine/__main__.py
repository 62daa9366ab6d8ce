"""Command line: python -m robustness.engine {pretrain-demo,evaluate,anchors,retrain,rerun}.

JSON on stdout (one object), a progress bar on stderr. Bad input (any `EngineError`)
exits with status 2, the message on stderr and {"error": ..., "type": ...} on stdout.

Examples:
  python -m robustness.engine pretrain-demo --var var
  python -m robustness.engine evaluate --demo-model var --dataset synthetic --split held-out \
      --attacks screen-pgd10,cw-linf --eps 1/255,2/255,4/255 --n 90
  python -m robustness.engine evaluate --model ViT-B-32 --checkpoint /models/clip.pt \
      --dataset folder:/data/eval --attacks aa-apgd --eps 4/255 --n 1000 --device auto
  python -m robustness.engine anchors --demo-model var --dataset synthetic --split all
  python -m robustness.engine retrain --demo-model var --dataset synthetic --split seen \
      --method alignment-ce --steps 200 --eps 4/255 --out var/retrained/alignment
  torchrun --nproc-per-node 4 -m robustness.engine retrain ...   (data-parallel: one process per GPU)
  python -m robustness.engine evaluate ... > run.json    (the output holds the record and its manifest)
  python -m robustness.engine rerun run.json --checkpoint /models/clip.pt [--dataset PATH]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from robustness.engine.errors import EngineError

SPLITS = ("held-out", "seen", "all")


class CommandLineError(EngineError):
    """The command line itself is wrong (unknown option, missing value)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse would exit(2) with usage only: keep one error path
        raise CommandLineError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m robustness.engine", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    pretrain = commands.add_parser("pretrain-demo", help="pretrain (or reuse) the demo model under --var")
    pretrain.add_argument("--var", default="var", help="folder holding demo-model/ (default: var)")
    pretrain.add_argument("--device", default="cpu")
    for name, help_text in (
        ("evaluate", "clean and adversarial accuracy → a RobustBench-shaped record"),
        ("anchors", "anchor similarity diagnostics and LAAT expansion"),
        ("retrain", "adversarial fine-tuning of the vision tower"),
    ):
        sub = commands.add_parser(name, help=help_text)
        _model_and_data_arguments(sub)
    evaluate = commands.choices["evaluate"]
    evaluate.add_argument("--attacks", default="screen-pgd10", help="presets or free attacks, comma-separated")
    evaluate.add_argument("--eps", default="1/255,2/255,4/255", help="ε list, e.g. 1/255,2/255,4/255")
    evaluate.add_argument("--batch-size", type=int, default=64)
    evaluate.add_argument("--start-batch", type=int, default=0)
    evaluate.add_argument("--end-batch", type=int, default=None)
    commands.choices["anchors"].add_argument("--top-k", type=int, default=5)
    rerun = commands.add_parser("rerun", help="re-run an evaluation from its manifest and compare the figures")
    rerun.add_argument("manifest", help="a JSON file: the output of evaluate, or a platform record with its manifest")
    rerun.add_argument("--checkpoint", default=None, help="the checkpoint the run used (its SHA-256 is checked)")
    rerun.add_argument("--dataset", default=None, help="the zip or folder the run used (its hashes are checked)")
    rerun.add_argument("--device", default=None, help="override the recorded device (figures may then differ)")
    retrain = commands.choices["retrain"]
    retrain.add_argument("--out", required=True, help="output folder (resumes if it holds a training state)")
    retrain.add_argument("--preset", default=None, help="a paper's setting: tecoa-paper, agft-paper, fare-paper, "
                         "alignment-ce-laat, demo-fast (flags given override its values)")
    retrain.add_argument("--method", default=None, choices=("alignment-ce", "tecoa", "agft", "fare"))
    retrain.add_argument("--config", default=None, help="RetrainConfig fields as JSON (overrides the flags)")
    for flag, kind in (
        ("--steps", int), ("--lr", float), ("--batch-size", int), ("--warmup-steps", int),
        ("--checkpoint-every", int), ("--attack-steps", int), ("--momentum", float), ("--weight-decay", float),
        ("--scale", float), ("--ratio", float), ("--consistency-weight", float),
    ):
        retrain.add_argument(flag, type=kind, default=None)
    retrain.add_argument("--eps", default=None, help="training ε, k/255 or a fraction (default 4/255)")
    retrain.add_argument("--attack-step-size", default=None, help="inner PGD α, k/255 or a fraction (default ε/2)")
    retrain.add_argument("--optimizer", default=None, choices=("sgd", "adamw"))
    retrain.add_argument("--schedule", default=None, choices=("warmup-cosine", "step"))
    retrain.add_argument("--no-expand-anchors", action="store_true", help="alignment CE against the plain anchors")
    return parser


def _model_and_data_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--model", help="open_clip architecture name")
    sub.add_argument("--checkpoint", default=None, help="local checkpoint file")
    sub.add_argument("--pretrained", default=None, help="open_clip pretrained tag (already in the local cache)")
    sub.add_argument("--model-config", default=None, help="open_clip model config as JSON text or a .json path")
    sub.add_argument("--demo-model", default=None, metavar="VAR", help="use the demo model cached under VAR")
    sub.add_argument("--dataset", default="synthetic", help="synthetic | digits | folder:PATH | zip:PATH")
    sub.add_argument("--split", default="held-out", choices=SPLITS, help="synthetic classes to use")
    sub.add_argument("--templates", default=None, help="prompt templates as a JSON list ('{c}' placeholder)")
    sub.add_argument("--n", type=int, default=None, help="number of examples (default: all)")
    sub.add_argument("--seed", type=int, default=0)
    sub.add_argument("--device", default="auto", help="auto (cuda if available), cpu, cuda, cuda:1")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        arguments = build_parser().parse_args(argv)
        result = _run(arguments)
    except EngineError as error:
        print(f"error: {error}", file=sys.stderr)
        print(json.dumps({"error": str(error), "type": type(error).__name__}))
        return 2
    print(json.dumps(result, sort_keys=True, ensure_ascii=False, default=str))
    return 0


def _run(arguments: argparse.Namespace) -> dict[str, Any]:
    if arguments.command == "pretrain-demo":
        from robustness.engine.cards import card_to_dict
        from robustness.engine.pretrain import ensure_demo_model

        with _ProgressBar("pretraining") as bar:
            return card_to_dict(ensure_demo_model(arguments.var, progress=bar, device=arguments.device))
    if arguments.command == "evaluate":
        return _evaluate(arguments)
    if arguments.command == "anchors":
        return _anchors(arguments)
    if arguments.command == "rerun":
        return _rerun(arguments)
    return _retrain(arguments)


def _evaluate(arguments: argparse.Namespace) -> dict[str, Any]:
    from robustness.engine.anchors import anchor_diagnostics
    from robustness.engine.attacks import parse_epsilon
    from robustness.engine.checkpoints import sha256_file
    from robustness.engine.evaluate import EvaluationConfig, evaluate, resolve_device
    from robustness.engine.manifest import manifest_build

    config = EvaluationConfig(
        attacks=tuple(name.strip() for name in arguments.attacks.split(",") if name.strip()),
        epsilons=tuple(parse_epsilon(text) for text in arguments.eps.split(",") if text.strip()),
        n_examples=arguments.n,
        batch_size=arguments.batch_size,
        seed=arguments.seed,
        device=arguments.device,
    )
    device = resolve_device(config.device)
    spec = _model_spec(arguments)
    loaded, classifier, dataset, dataset_name, templates = _load_parts(arguments, device, spec)
    diagnostics = anchor_diagnostics(classifier.text_anchors, classifier.class_names).summary()
    with _ProgressBar("evaluating") as bar:
        result = evaluate(
            classifier,
            dataset,
            config,
            progress=bar,
            start_batch=arguments.start_batch,
            end_batch=arguments.end_batch,
            dataset_name=dataset_name,
            anchor_diagnostics=diagnostics,
        )
    manifest = manifest_build(
        spec=spec, loaded=loaded, checkpoint_sha256=sha256_file(spec.checkpoint_path) if spec.checkpoint_path else "",
        source=_source_label(arguments), file_sha256=_dataset_file_sha(arguments), subset_of=None, evaluated=dataset,
        templates=templates, config=config, versions=result.record.versions, device=result.record.device)
    manifest.data["cli"] = {"split": arguments.split, "n": arguments.n, "seed": arguments.seed}
    return {"record": json.loads(result.record.to_json()), "partial": result.partial.to_dict(),
            "manifest": manifest.to_dict()}


def _source_label(arguments: argparse.Namespace) -> str:
    """Where the CLI's images came from, as a manifest names it."""
    if arguments.dataset == "digits":
        return "builtin:digits"
    if arguments.dataset == "synthetic":
        return f"synthetic:{arguments.split}"
    kind, _, path = arguments.dataset.partition(":")
    return f"{kind}:{Path(path).name}"


def _dataset_file_sha(arguments: argparse.Namespace) -> str:
    from robustness.engine.checkpoints import sha256_file

    kind, _, path = arguments.dataset.partition(":")
    return sha256_file(path) if kind == "zip" else ""


def _rerun(arguments: argparse.Namespace) -> dict[str, Any]:
    """Rebuild model, data and settings from the manifest (checking every hash), evaluate, compare."""
    from robustness.engine.checkpoints import sha256_file
    from robustness.engine.classifier import ZeroShotClassifier
    from robustness.engine.evaluate import EvaluationConfig, evaluate, resolve_device
    from robustness.engine.manifest import (
        ManifestError,
        RunManifest,
        manifest_dataset,
        manifest_images_check,
        manifest_model_spec,
        record_differences,
    )
    from robustness.engine.models import load_clip

    stored = _json_argument(arguments.manifest, "manifest")
    if not isinstance(stored, dict):
        raise ManifestError("the manifest file must hold a JSON object")
    raw = stored.get("manifest") or (stored.get("provenance") or {}).get("manifest") or {}
    manifest = RunManifest.from_dict(raw)
    expected = stored.get("record") or stored.get("result") or {}
    config = EvaluationConfig.from_dict(manifest.evaluation)
    if arguments.device:
        config = EvaluationConfig.from_dict({**manifest.evaluation, "device": arguments.device})
    device = resolve_device(config.device)
    spec = manifest_model_spec(manifest, arguments.checkpoint, sha256_file)
    if str(manifest.data["source"]).startswith("synthetic:"):
        cli = manifest.data.get("cli") or {}
        dataset, _, _ = _synthetic(argparse.Namespace(split=str(manifest.data["source"]).split(":", 1)[1],
                                                      command="evaluate", n=cli.get("n"), seed=cli.get("seed", 0)))
        manifest_images_check(manifest, dataset)
    else:
        dataset = manifest_dataset(manifest, arguments.dataset, sha256_file)
    loaded = load_clip(spec, device)
    if loaded.activation != manifest.model.get("activation"):
        used = manifest.model.get("activation")
        raise ManifestError(f"the model builds with {loaded.activation}, the run used {used}")
    classifier = ZeroShotClassifier.from_loaded(loaded, tuple(manifest.data["class_names"]),
                                                tuple(manifest.data["templates"])).to(device)
    with _ProgressBar("re-running") as bar:
        result = evaluate(classifier, dataset, config, progress=bar, dataset_name=str(expected.get("dataset") or ""))
    found = json.loads(result.record.to_json())
    differences = record_differences(expected, found) if expected else ["the file holds no record to compare"]
    return {"identical": not differences, "differences": differences, "record": found,
            "same_device": found.get("device") == manifest.device,
            "same_versions": found.get("versions") == manifest.versions}


def _anchors(arguments: argparse.Namespace) -> dict[str, Any]:
    from robustness.engine.anchors import expand_anchors
    from robustness.engine.evaluate import resolve_device

    device = resolve_device(arguments.device)
    _, classifier, _, dataset_name = _load(arguments, device)
    train_names, target_names = _anchor_sets(arguments, classifier.class_names)
    anchors = classifier.text_anchors.cpu()
    index = {name: i for i, name in enumerate(classifier.class_names)}
    train = anchors[[index[name] for name in train_names]]
    target = anchors[[index[name] for name in target_names]] if target_names else None
    _, report = expand_anchors(train, target, train_names=train_names, target_names=target_names, top_k=arguments.top_k)
    return {
        "dataset": dataset_name,
        "train_classes": list(train_names),
        "target_classes": list(target_names),
        "expansion": report.summary(),
    }


def _anchor_sets(arguments: argparse.Namespace, names: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Synthetic --split all: fit on the seen classes, apply to the held-out ones; else fit on all."""
    if arguments.dataset == "synthetic" and arguments.split == "all":
        from robustness.engine import synthetic

        held_out = set(synthetic.class_names(synthetic.held_out_compositions()))
        return tuple(n for n in names if n not in held_out), tuple(n for n in names if n in held_out)
    return names, ()


# The command line's values without --preset (what its flags defaulted to before presets).
CLI_RETRAIN_DEFAULTS: dict[str, Any] = {"method": "alignment-ce", "steps": 100, "lr": 2e-4, "batch_size": 64,
                                        "warmup_steps": 10, "checkpoint_every": 50, "attack_steps": 2,
                                        "eps": 4 / 255, "optimizer": "adamw"}


def _retrain(arguments: argparse.Namespace) -> dict[str, Any]:
    import torch

    from robustness.engine.attacks import parse_epsilon
    from robustness.engine.distributed import from_environment, leave
    from robustness.engine.evaluate import resolve_device
    from robustness.engine.finetune import RetrainConfig, retrain

    names = ("method", "lr", "steps", "batch_size", "warmup_steps", "checkpoint_every", "attack_steps", "momentum",
             "weight_decay", "scale", "ratio", "consistency_weight", "optimizer", "schedule")
    given = {name: getattr(arguments, name) for name in names if getattr(arguments, name) is not None}
    for name in ("eps", "attack_step_size"):
        if getattr(arguments, name) is not None:
            given[name] = parse_epsilon(getattr(arguments, name))
    if arguments.no_expand_anchors:
        given["expand_anchors"] = False
    given["seed"] = arguments.seed
    if arguments.config:
        given.update(_json_argument(arguments.config, "--config"))
    try:
        config = (RetrainConfig.from_preset(arguments.preset, **given) if arguments.preset
                  else RetrainConfig.from_dict({**CLI_RETRAIN_DEFAULTS, **given}))
    except TypeError as error:
        raise CommandLineError(f"bad --config: {error}") from error
    device = resolve_device(arguments.device)
    distributed = from_environment(torch.device(device))  # None unless started by torchrun
    clip_model, classifier, dataset, dataset_name = _load(arguments, device)
    try:
        with _ProgressBar("retraining") as bar:
            result = retrain(
                classifier,
                dataset,
                config,
                out_dir=arguments.out,
                clip_model=clip_model,
                parent_checkpoint=_parent_checkpoint(arguments),
                data_description=dataset_name,
                device=device,
                progress=bar,
                train_class_names=classifier.class_names,
                distributed=distributed,
            )
    finally:
        leave()
    summary = asdict(result)
    summary.pop("losses")
    return summary


def _load(arguments: argparse.Namespace, device: Any) -> tuple[Any, Any, Any, str]:
    """(clip model, zero-shot classifier over the dataset's classes, dataset, dataset description)."""
    loaded, classifier, dataset, dataset_name, _ = _load_parts(arguments, device, _model_spec(arguments))
    return loaded.model, classifier, dataset, dataset_name


def _load_parts(arguments: argparse.Namespace, device: Any, spec: Any) -> tuple[Any, Any, Any, str, tuple[str, ...]]:
    """(loaded clip, classifier, dataset, dataset description, the prompt templates used)."""
    from robustness.engine.classifier import DEFAULT_TEMPLATES, ZeroShotClassifier
    from robustness.engine.models import load_clip

    dataset, dataset_name, default_templates = _dataset(arguments)
    templates = _json_argument(arguments.templates, "--templates") if arguments.templates else default_templates
    templates = tuple(templates or DEFAULT_TEMPLATES)
    loaded = load_clip(spec, device)
    classifier = ZeroShotClassifier.from_loaded(loaded, dataset.class_names, templates)
    return loaded, classifier.to(device), dataset, dataset_name, templates


def _model_spec(arguments: argparse.Namespace) -> Any:
    from robustness.engine.models import ModelSpec
    from robustness.engine.pretrain import demo_model_path, demo_model_spec

    if arguments.demo_model:
        folder = demo_model_path(arguments.demo_model)
        if not (folder / "card.json").is_file():
            raise CommandLineError(f"no demo model under {folder}; run `pretrain-demo --var {arguments.demo_model}`")
        return demo_model_spec(folder)
    if not arguments.model:
        raise CommandLineError("give --model ARCHITECTURE (with --checkpoint or --pretrained, --model-config) "
                               "or --demo-model VAR")
    config = _json_argument(arguments.model_config, "--model-config") if arguments.model_config else None
    return ModelSpec(arguments.model, checkpoint_path=arguments.checkpoint, model_config=config,
                     pretrained_tag=arguments.pretrained)


def _parent_checkpoint(arguments: argparse.Namespace) -> str | None:
    if arguments.demo_model:
        return str(_model_spec(arguments).checkpoint_path)
    return arguments.checkpoint or None


def _dataset(arguments: argparse.Namespace) -> tuple[Any, str, tuple[str, ...] | None]:
    from robustness.engine import data

    source = arguments.dataset
    if source == "synthetic":
        return _synthetic(arguments)
    if source == "digits":
        return data.load_digits(), "digits (scikit-learn)", None
    kind, _, path = source.partition(":")
    if kind == "folder" and path:
        return data.load_image_folder(path), f"image folder {path}", None
    if kind == "zip" and path:
        return data.load_image_zip(path), f"image zip {path}", None
    raise CommandLineError(f"unknown --dataset {source!r}: use synthetic, digits, folder:PATH or zip:PATH")


def _synthetic(arguments: argparse.Namespace) -> tuple[Any, str, tuple[str, ...]]:
    from robustness.engine import data, synthetic

    compositions = {
        "held-out": synthetic.held_out_compositions(),
        "seen": synthetic.seen_compositions(),
        "all": synthetic.all_compositions(),
    }[arguments.split]
    split = "train" if arguments.command == "retrain" else "test"
    per_class = 50 if arguments.n is None else max(1, math.ceil(arguments.n / len(compositions)))
    generated = synthetic.generate_split(synthetic.SyntheticSpec(seed=arguments.seed), split, compositions, per_class)
    dataset = data.restrict_to_classes(generated.dataset, synthetic.class_names(compositions))
    if arguments.n is not None:
        dataset = data.subset(dataset, arguments.n, seed=arguments.seed)
    name = f"synthetic compositions ({arguments.split}, {split} split, seed {arguments.seed})"
    return dataset, name, synthetic.TEMPLATES


def _json_argument(text: str, flag: str) -> Any:
    try:
        path = Path(text)
        return json.loads(path.read_text() if text.endswith(".json") and path.is_file() else text)
    except (ValueError, OSError) as error:
        raise CommandLineError(f"{flag} is not valid JSON (or a readable .json file): {error}") from error


class _ProgressBar:
    """A tqdm bar on stderr driven by the engine's (done, total, message, eta) callbacks."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None

    def __enter__(self) -> _ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()

    def __call__(self, done: int, total: int, message: str = "", eta: float | None = None) -> None:
        from tqdm import tqdm

        if self.bar is None:
            self.bar = tqdm(total=total, desc=self.label, file=sys.stderr, leave=False)
        self.bar.n = done
        self.bar.set_postfix_str(message, refresh=True)


if __name__ == "__main__":
    sys.exit(main())
