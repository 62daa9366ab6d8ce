"""Method comparison on the synthetic benchmark's HELD-OUT compositions with the demo model.

For alignment cross-entropy, TeCoA, AGFT and FARE: retrain the demo model's vision tower on
the SEEN compositions, choose each method's learning rate and number of steps on a validation
split of the seen compositions only (highest robust accuracy at 4/255 whose clean accuracy stays within 5
points of the original; else the best clean + robust sum), then report clean and PGD-10
(screen-pgd10) robust accuracy at ε = 1, 2, 4/255 on the held-out compositions, 9-way.

Writes docs/robustness-results-table.md (the table), docs/figures/robustness-front.svg and
var/benchmarks/robustness_front.json (every record). Usage:
  python benchmarks/robustness_front.py [--stops 40,80] [--n-test 90] [--lrs 2e-4]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.svg_plot import Series, front_plot  # noqa: E402
from robustness.engine import synthetic  # noqa: E402
from robustness.engine.anchors import fit_anchor_expansion  # noqa: E402
from robustness.engine.cards import read_demo_model_card  # noqa: E402
from robustness.engine.classifier import ZeroShotClassifier  # noqa: E402
from robustness.engine.data import restrict_to_classes  # noqa: E402
from robustness.engine.evaluate import EvaluationConfig, evaluate  # noqa: E402
from robustness.engine.finetune import RetrainConfig, retrain  # noqa: E402
from robustness.engine.models import load_clip  # noqa: E402
from robustness.engine.pretrain import demo_model_path, demo_model_spec, ensure_demo_model  # noqa: E402

EPSILONS = (1 / 255, 2 / 255, 4 / 255)
METHODS = ("alignment-ce", "tecoa", "agft", "fare")
LABELS = {"original": "original", "alignment-ce": "alignment CE", "tecoa": "TeCoA", "agft": "AGFT", "fare": "FARE"}


@dataclass(frozen=True)
class Scores:
    clean: float
    robust: dict[float, float]
    record: dict[str, Any]


def split(names_from: tuple, which: str, per_class: int) -> Any:
    names = synthetic.class_names(names_from)
    generated = synthetic.generate_split(synthetic.SyntheticSpec(), which, names_from, per_class)
    return restrict_to_classes(generated.dataset, names)


def score(clip_model: torch.nn.Module, dataset: Any, epsilons: tuple[float, ...], *, anchors: Any = None) -> Scores:
    classifier = ZeroShotClassifier(
        clip_model, TOKENIZER, dataset.class_names, synthetic.TEMPLATES, IMAGE_SIZE, MEAN, STD
    )
    if anchors is not None:
        classifier.set_text_anchors(anchors(classifier.text_anchors))
    config = EvaluationConfig(epsilons=tuple(epsilons), n_examples=None, batch_size=90, device="cpu")
    result = evaluate(classifier, dataset, config)
    record = result.record
    robust = {eps: record.result("screen-pgd10", eps).robust_accuracy.value for eps in epsilons}
    return Scores(record.clean_accuracy.value, robust, json.loads(record.to_json()))


def fresh_model() -> torch.nn.Module:
    return load_clip(SPEC).model


def train(method: str, lr: float, stops: list[int], train_set: Any, out: Path) -> list[tuple[int, Any, float]]:
    """Train to each stop in turn (one cosine schedule to the last stop, resumed between stops);
    return (steps, clip model at that point, cumulative seconds) per stop."""
    config = RetrainConfig(
        method=method,
        lr=lr,
        optimizer="adamw",
        steps=stops[-1],
        warmup_steps=max(1, stops[-1] // 10),
        batch_size=64,
        eps=4 / 255,
        attack_steps=2,
        checkpoint_every=stops[-1],
        seed=0,
    )
    results, seconds = [], 0.0
    for stop in stops:
        clip_model = fresh_model()  # retrain resumes from out/ and keeps the ORIGINAL as AGFT/FARE's reference
        classifier = ZeroShotClassifier(
            clip_model, TOKENIZER, train_set.class_names, synthetic.TEMPLATES, IMAGE_SIZE, MEAN, STD
        )
        began = time.monotonic()
        retrain(
            classifier,
            train_set,
            config,
            out_dir=out,
            clip_model=clip_model,
            stop_after=stop,
            parent_checkpoint=SPEC.checkpoint_path,
            data_description="synthetic seen compositions, train split",
        )
        seconds += time.monotonic() - began
        results.append((stop, clip_model, seconds))
    return results


def expansion_for(method: str, train_set: Any) -> Any:
    """The seen-class anchor expansion alignment CE trains against (None for other methods)."""
    if method != "alignment-ce":
        return None
    classifier = ZeroShotClassifier(
        fresh_model(), TOKENIZER, train_set.class_names, synthetic.TEMPLATES, IMAGE_SIZE, MEAN, STD
    )
    return fit_anchor_expansion(classifier.text_anchors)


def choose(candidates: list[tuple[tuple[float, int], Scores]], original: Scores) -> tuple[tuple[float, int], Scores]:
    """Highest robust@4/255 with clean within 5 points of the original; else best clean + robust."""
    within = [c for c in candidates if c[1].clean >= original.clean - 0.05]
    if within:
        return max(within, key=lambda c: c[1].robust[4 / 255])
    return max(candidates, key=lambda c: c[1].clean + c[1].robust[4 / 255])


def main() -> None:
    global SPEC, TOKENIZER, IMAGE_SIZE, MEAN, STD
    parser = argparse.ArgumentParser()
    parser.add_argument("--stops", default="40,80", help="training steps at which to consider stopping")
    parser.add_argument("--n-test", type=int, default=90)
    parser.add_argument("--n-validation-per-class", type=int, default=2)
    parser.add_argument("--lrs", default="2e-4")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--output-name", default="robustness_front", help="var/benchmarks/<name>.json")
    parser.add_argument("--merge", default=None, help="comma-separated result JSONs to merge into docs/, then exit")
    parser.add_argument("--model-dir", default=None, help="demo model folder (default: ensure_demo_model(var))")
    arguments = parser.parse_args()
    if arguments.merge:
        write_docs(merge_results([Path(p) for p in arguments.merge.split(",")]))
        return
    torch.manual_seed(0)
    if arguments.model_dir:  # a specific demo model folder (e.g. one built with an earlier recipe)
        card = read_demo_model_card(Path(arguments.model_dir) / "card.json")
        SPEC = demo_model_spec(arguments.model_dir)
    else:
        card = ensure_demo_model(ROOT / "var")
        SPEC = demo_model_spec(demo_model_path(ROOT / "var"))
    loaded = load_clip(SPEC)
    TOKENIZER, IMAGE_SIZE, MEAN, STD = loaded.tokenizer, loaded.image_size, loaded.mean, loaded.std
    seen, held_out = synthetic.seen_compositions(), synthetic.held_out_compositions()
    train_set = split(seen, "train", 40)
    validation = split(seen, "validation", arguments.n_validation_per_class)
    test = split(held_out, "test", -(-arguments.n_test // len(held_out)))
    results_card = {
        "checkpoint": str(SPEC.checkpoint_path),
        "sha256": card.checkpoint_sha256,
        "recipe": card.recipe,
        "recipe_hash": card.recipe_hash,
    }
    log(
        f"demo model {SPEC.checkpoint_path} (held-out 9-way on card: {card.accuracy('held_out_among_held_out'):.3f}); "
        f"train {len(train_set)}, validation {len(validation)}, test {len(test)}"
    )
    results: dict[str, Any] = {"settings": vars(arguments), "model": results_card, "methods": {}}
    original_validation = score(loaded.model, validation, (4 / 255,))
    original = score(loaded.model, test, EPSILONS)
    results["methods"]["original"] = summary(original, None, None, 0.0, original_validation)
    log(f"original: {format_scores(original)}")
    stops = [int(v) for v in arguments.stops.split(",")]
    for method in arguments.methods.split(","):
        candidates, chosen_models = [], {}
        for lr in (float(v) for v in arguments.lrs.split(",")):
            out = ROOT / "var" / "benchmarks" / "front" / f"{method}-{lr:g}"
            shutil.rmtree(out, ignore_errors=True)  # a fresh run, never a resume of an older one
            for steps, clip_model, seconds in train(method, lr, stops, train_set, out):
                validation_scores = score(clip_model, validation, (4 / 255,))
                candidates.append(((lr, steps), validation_scores))
                chosen_models[(lr, steps)] = (clip_model, seconds)
                log(f"{method} lr {lr:g} steps {steps}: {seconds:.0f} s, validation {format_scores(validation_scores)}")
        (lr, steps), chosen = choose(candidates, original_validation)
        clip_model, seconds = chosen_models[(lr, steps)]
        expansion = expansion_for(method, train_set)
        scores = score(clip_model, test, EPSILONS)
        results["methods"][method] = summary(scores, lr, steps, seconds, chosen)
        log(f"{method} (lr {lr:g}, {steps} steps) held-out: {format_scores(scores)}")
        if expansion is not None and expansion.applied:
            expanded = score(clip_model, test, EPSILONS, anchors=expansion.apply)
            results["methods"][f"{method}+expanded-test-anchors"] = summary(expanded, lr, steps, seconds, chosen)
            log(f"{method} with expanded held-out anchors: {format_scores(expanded)}")
        results["methods"][method]["anchor_expansion"] = (
            None
            if expansion is None
            else {"factor": expansion.factor, "applied": expansion.applied, "reason": expansion.reason}
        )
        results["methods"][method]["validation_candidates"] = [
            {"lr": c[0][0], "steps": c[0][1], "clean": c[1].clean, "robust_4/255": c[1].robust[4 / 255]}
            for c in candidates
        ]
        write_outputs(results, arguments.output_name)
    log("done")


def summary(
    scores: Scores, lr: float | None, steps: int | None, seconds: float, validation: Scores | None
) -> dict[str, Any]:
    return {
        "clean": scores.clean,
        "robust": {f"{round(e * 255)}/255": v for e, v in scores.robust.items()},
        "lr": lr,
        "steps": steps,
        "train_seconds": round(seconds, 1),
        "validation": None
        if validation is None
        else {"clean": validation.clean, "robust_4/255": validation.robust[4 / 255]},
        "record": scores.record,
    }


def format_scores(scores: Scores) -> str:
    robust = ", ".join(f"{round(e * 255)}/255 {v:.3f}" for e, v in scores.robust.items())
    return f"clean {scores.clean:.3f}, PGD-10 {robust}"


def merge_results(paths: list[Path]) -> dict[str, Any]:
    """Runs split by method (parallel processes) merged; the first file's settings and original win."""
    merged: dict[str, Any] = json.loads(paths[0].read_text())
    for path in paths[1:]:
        for name, item in json.loads(path.read_text())["methods"].items():
            merged["methods"].setdefault(name, item)
    return merged


def write_outputs(results: dict[str, Any], name: str) -> None:
    out = ROOT / "var" / "benchmarks"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(results, indent=1, sort_keys=True))
    if name == "robustness_front":
        write_docs(results)


def ordered(methods: dict[str, Any]) -> list[tuple[str, Any]]:
    """The original first, then the methods in METHODS order (JSON files sort their keys)."""
    rank = {name: index for index, name in enumerate(("original", *METHODS))}
    return sorted(methods.items(), key=lambda item: (rank.get(item[0].split("+")[0], 99), item[0]))


def write_docs(results: dict[str, Any]) -> None:
    rows = [
        "| method | lr | steps | train s | clean | PGD-10 1/255 | PGD-10 2/255 | PGD-10 4/255 "
        "| Δ clean | Δ robust 4/255 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    base = results["methods"]["original"]
    for name, item in ordered(results["methods"]):
        label = LABELS.get(name, name.replace("alignment-ce+expanded-test-anchors", "alignment CE, expanded anchors"))
        robust = item["robust"]
        rows.append(
            f"| {label} | {item['lr'] or '—'} | {item['steps'] or '—'} | {item['train_seconds'] or '—'} | "
            f"{100 * item['clean']:.1f} | "
            f"{100 * robust['1/255']:.1f} | {100 * robust['2/255']:.1f} | {100 * robust['4/255']:.1f} | "
            f"{100 * (item['clean'] - base['clean']):+.1f} | "
            f"{100 * (robust['4/255'] - base['robust']['4/255']):+.1f} |"
        )
    docs = ROOT / "docs"
    (docs / "figures").mkdir(parents=True, exist_ok=True)
    (docs / "robustness-results-table.md").write_text("\n".join(rows) + "\n")
    series = [
        Series(
            LABELS.get(name, name),
            [(100 * item["clean"], 100 * v) for v in item["robust"].values()],
            list(item["robust"]),
        )
        for name, item in ordered(results["methods"])
    ]
    (docs / "figures" / "robustness-front.svg").write_text(front_plot(series))


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


if __name__ == "__main__":
    main()
