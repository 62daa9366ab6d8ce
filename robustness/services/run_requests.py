"""Requesting, cancelling and re-running runs: the web's and the API's one write path.

Each request freezes its configuration as JSON on the row, records an audit event in the same
transaction, and enqueues the worker task on commit (by name: tasks import services, never
the other way round).
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable, Mapping
from typing import Any

from celery import chord, group, signature
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from governance.audit import Actor
from governance.jobs import job_enqueue
from governance.models.registry import AISystem, Dataset, ModelVersion, ValidationStatus
from governance.services._audit import record_create, record_update, snapshot
from governance.thresholds import parse_epsilon
from robustness.engine.attacks import PRESETS
from robustness.engine.evaluate import DEVICES, EvaluationConfig, EvaluationConfigError
from robustness.models import (
    AnchorAnalysis,
    EvaluationRun,
    EvaluationShard,
    RetrainingRun,
    RobustnessRun,
    RunStatus,
    RunTrigger,
)
from robustness.services.loading import BUILTIN_DATASETS
from robustness.task_names import (
    ANCHOR_ANALYSIS_EXECUTE,
    EVALUATION_RUN_EXECUTE,
    EVALUATION_RUN_MERGE,
    EVALUATION_SHARD_EXECUTE,
    QUEUE,
    RETRAINING_RUN_EXECUTE,
)

logger = logging.getLogger(__name__)
TASKS: dict[type[models.Model], str] = {
    EvaluationRun: EVALUATION_RUN_EXECUTE,
    AnchorAnalysis: ANCHOR_ANALYSIS_EXECUTE,
    RetrainingRun: RETRAINING_RUN_EXECUTE,
    EvaluationShard: EVALUATION_SHARD_EXECUTE,
}


def run_enqueue(run: models.Model) -> None:
    """Send the run's task once the transaction commits (sharded evaluations as a chord)."""
    if isinstance(run, EvaluationRun) and run.shard_count > 1:
        transaction.on_commit(lambda: _send_chord(run.pk))
    else:
        job_enqueue(TASKS[type(run)], run.pk, QUEUE)


def _send_chord(run_id: int) -> None:
    shard_ids = list(EvaluationShard.objects.filter(run_id=run_id).order_by("index").values_list("pk", flat=True))
    header = group(signature(TASKS[EvaluationShard], args=[pk], queue=QUEUE) for pk in shard_ids)
    try:
        chord(header)(signature(EVALUATION_RUN_MERGE, args=[run_id], queue=QUEUE))
    except Exception:
        logger.exception("could not enqueue the shards of evaluation %s", run_id)


def _version_check(ai_system: AISystem, version: ModelVersion) -> None:
    if version.ai_system_id != ai_system.pk or version.organisation_id != ai_system.organisation_id:
        raise ValidationError({"model_version": "Choose a model version of this AI system."})
    if version.status == ValidationStatus.INVALID:
        raise ValidationError({"model_version": f"This model version is invalid: {version.status_reason}"})


def _dataset_check(ai_system: AISystem, dataset: Dataset | None, builtin: str, field: str) -> None:
    if dataset is None:
        if builtin not in BUILTIN_DATASETS:
            raise ValidationError({field: "Choose an uploaded dataset or a built-in one."})
        return
    if dataset.organisation_id != ai_system.organisation_id:
        raise ValidationError({field: "Choose a dataset of this organisation."})
    if dataset.status == ValidationStatus.INVALID:
        raise ValidationError({field: f"This dataset is invalid: {dataset.status_reason}"})


def _config_errors(clean: Callable[[Mapping[str, Any]], dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """Settings come from people and API clients: anything unreadable is a 400, never a 500."""
    @functools.wraps(clean)
    def checked(config: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(config, Mapping):
            raise ValidationError({"config": "Settings must be a JSON object."})
        try:
            cleaned = clean(config)
        except (TypeError, ValueError, OverflowError, AttributeError) as error:
            raise ValidationError({"config": f"Unreadable settings: {error}"}) from None
        if not DEVICES.match(cleaned.get("device", "auto")):
            raise ValidationError({"device": "Device must be auto, cpu, cuda or cuda:N."})
        return cleaned
    return checked


def _bounded(value: Any, low: float, high: float, field: str, kind: type = int) -> Any:
    number = kind(value)
    if not low <= number <= high:  # also refuses NaN
        raise ValidationError({field: f"{field} must be in {low:g}..{high:g}."})
    return number


def _epsilon_one(value: Any, field: str = "eps") -> float:
    try:
        return parse_epsilon(value)
    except ValueError as error:
        raise ValidationError({field: str(error)}) from None


def _names(value: Any, field: str) -> list[str]:
    if value in (None, ""):
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError({field: "Give a list of names."})
    return [item.strip() for item in value if item.strip()][:1000]


def evaluation_config_clean(config: Any) -> EvaluationConfig:
    """A request's settings as the engine's frozen `EvaluationConfig` (its ranges, stated once there), limited
    to the attack presets; anything else is a 400 naming the setting."""
    try:
        cleaned = EvaluationConfig.from_dict(config)
    except EvaluationConfigError as error:
        raise ValidationError({error.field: _sentence(str(error))}) from None
    unknown = [name for name in cleaned.attacks if name not in PRESETS]
    if unknown:
        raise ValidationError({"attacks": f"Unknown attack presets {unknown}; choose from {', '.join(PRESETS)}."})
    return cleaned


def _sentence(message: str) -> str:
    """The engine's message as a sentence; it begins with the setting's own name (`batch_size …`), kept as is."""
    return message if message.endswith(".") else f"{message}."


def _shards_plan(run: EvaluationRun) -> None:
    """Batch-aligned example ranges (× attack-ε keys when split_attacks) as shard rows."""
    config = EvaluationConfig.from_dict(run.config)
    batches = -(-(config.n_examples or 1) // config.batch_size)
    ranges_wanted = run.shard_count
    keys = [[attack, eps] for attack in config.attacks for eps in config.epsilons]
    key_groups = [[key] for key in keys] if config.split_attacks else [keys]
    if config.split_attacks:
        ranges_wanted = max(1, run.shard_count // len(key_groups))
    step = -(-batches // min(ranges_wanted, batches))
    index = 0
    for group_keys in key_groups:
        for start in range(0, batches, step):
            EvaluationShard.objects.create(run=run, index=index, keys=group_keys, start_batch=start,
                                           end_batch=min(start + step, batches))
            index += 1
    EvaluationRun.objects.filter(pk=run.pk).update(shard_count=index)
    run.shard_count = index


@transaction.atomic
def evaluation_run_request(*, ai_system: AISystem, model_version: ModelVersion, actor: Actor,
                           config: Mapping[str, Any], dataset: Dataset | None = None, shards: int = 1,
                           trigger: str = RunTrigger.REQUEST, rerun_of: EvaluationRun | None = None,
                           retraining: RetrainingRun | None = None) -> EvaluationRun:
    _version_check(ai_system, model_version)
    frozen = evaluation_config_clean(config)
    _dataset_check(ai_system, dataset, frozen.builtin_dataset, "dataset")
    if not 1 <= shards <= 64:
        raise ValidationError({"shards": "Shards must be in 1..64."})
    run = EvaluationRun.objects.create(
        organisation=ai_system.organisation, ai_system=ai_system, model_version=model_version, dataset=dataset,
        requester=_user(actor), trigger=trigger, rerun_of=rerun_of, retraining=retraining, config=frozen.to_dict(),
        shard_count=shards, message="Waiting for a robustness worker.",
        provenance={"model_sha256": model_version.checkpoint_sha256, "data_sha256": dataset.sha256 if dataset else ""})
    if shards > 1:
        _shards_plan(run)
    record_create(run, actor=actor)
    run_enqueue(run)
    return run


def anchor_config_clean(config: Mapping[str, Any], *, default_classes: list[str]) -> dict[str, Any]:
    if not isinstance(config, Mapping):
        raise ValidationError({"config": "Settings must be a JSON object."})
    target = _names(config.get("target_class_names"), "target_class_names")
    train = _names(config.get("train_class_names"), "train_class_names") or default_classes
    if len(set(train)) < 2:
        raise ValidationError({"train_class_names": "Anchor analysis needs at least two training classes."})
    try:
        top_k = _bounded(config.get("top_k") or 5, 1, 50, "top_k")
    except (TypeError, ValueError, OverflowError):
        raise ValidationError({"top_k": "top_k must be a whole number."}) from None
    return {"train_class_names": train, "target_class_names": target, "top_k": top_k}


@transaction.atomic
def anchor_analysis_request(*, ai_system: AISystem, model_version: ModelVersion, actor: Actor,
                            config: Mapping[str, Any], trigger: str = RunTrigger.REQUEST,
                            rerun_of: AnchorAnalysis | None = None) -> AnchorAnalysis:
    _version_check(ai_system, model_version)
    frozen = anchor_config_clean(config, default_classes=list(model_version.class_names or []))
    run = AnchorAnalysis.objects.create(
        organisation=ai_system.organisation, ai_system=ai_system, model_version=model_version, requester=_user(actor),
        trigger=trigger, rerun_of=rerun_of, config=frozen, message="Waiting for a robustness worker.")
    record_create(run, actor=actor)
    run_enqueue(run)
    return run


# Without a preset, a request starts from these (the platform's defaults before presets existed).
RETRAINING_DEFAULTS: dict[str, Any] = {"method": "alignment-ce", "steps": 100, "eps": 4 / 255, "lr": 2e-4,
                                       "batch_size": 32, "attack_steps": 2, "checkpoint_every": 10, "seed": 0}
_NUMBER_FIELDS = {"steps": int, "batch_size": int, "attack_steps": int, "warmup_steps": int, "checkpoint_every": int,
                  "seed": int, "lr": float, "momentum": float, "weight_decay": float, "ratio": float,
                  "consistency_weight": float, "scale": float, "attack_step_size": float}


@_config_errors
def retraining_config_clean(config: Mapping[str, Any]) -> dict[str, Any]:
    """Every hyperparameter of the engine's RetrainConfig, from a paper preset and the request's own
    values, validated by the engine (one set of ranges); a 400 names the setting at fault."""
    from robustness.engine.finetune import RETRAIN_PRESETS, RetrainConfig, RetrainConfigError

    preset = str(config.get("preset") or "")
    if preset and preset not in RETRAIN_PRESETS:
        raise ValidationError({"preset": f"Choose one of {', '.join(RETRAIN_PRESETS)}."})
    base = dict(RETRAIN_PRESETS[preset].fields) if preset else dict(RETRAINING_DEFAULTS)
    given = {key: value for key, value in config.items() if value not in (None, "")}
    fields = {**base, **{key: given[key] for key in RetrainConfig.field_names() if key in given}}
    for name, kind in _NUMBER_FIELDS.items():
        if name in given and not (name == "attack_step_size" and isinstance(given[name], str)):
            fields[name] = _number(given[name], name, kind)
    if "eps" in given:
        fields["eps"] = _epsilon_one(given["eps"])
    if isinstance(given.get("attack_step_size"), str):  # "1/255" as the form writes ε
        fields["attack_step_size"] = _epsilon_one(given["attack_step_size"], "attack_step_size")
    if "warmup_steps" not in given and not preset:
        fields["warmup_steps"] = max(1, int(fields["steps"]) // 10)
    for flag in ("expand_anchors", "bf16_autocast"):
        if flag in given and not isinstance(given[flag], bool):
            raise ValidationError({flag: f"{flag} must be true or false."})
    fields["preset"] = preset
    try:
        engine = RetrainConfig.from_dict(fields)
    except RetrainConfigError as error:
        raise ValidationError({error.field or "config": str(error)}) from None
    evaluation = config.get("evaluation") or {}
    if not isinstance(evaluation, Mapping):
        raise ValidationError({"evaluation": "The re-evaluation settings must be a JSON object."})
    return {**engine.to_dict(), "builtin_dataset": str(config.get("builtin_dataset") or ""),
            "device": str(config.get("device") or "auto"), "evaluation": dict(evaluation)}


def _number(value: Any, field: str, kind: type) -> Any:
    if isinstance(value, bool):
        raise ValidationError({field: f"{field} must be a number."})
    try:
        number = kind(value)
    except (TypeError, ValueError, OverflowError):
        raise ValidationError({field: f"{field} must be a number, got {value!r}."}) from None
    if kind is float and not math.isfinite(number):
        raise ValidationError({field: f"{field} must be a finite number."})
    if kind is int and isinstance(value, float) and value != number:
        raise ValidationError({field: f"{field} must be a whole number, got {value!r}."})
    return number


@transaction.atomic
def retraining_run_request(*, ai_system: AISystem, model_version: ModelVersion, actor: Actor,
                           config: Mapping[str, Any], training_dataset: Dataset | None = None,
                           trigger: str = RunTrigger.REQUEST, rerun_of: RetrainingRun | None = None) -> RetrainingRun:
    """`config["evaluation"]`: the settings of the automatic re-evaluation (defaults: the latest
    evaluation of the parent version, so before and after compare like with like)."""
    _version_check(ai_system, model_version)
    frozen = retraining_config_clean(config)
    _dataset_check(ai_system, training_dataset, frozen["builtin_dataset"], "training_dataset")
    if not frozen["evaluation"]:
        frozen["evaluation"] = _latest_evaluation_settings(model_version)
    else:
        frozen["evaluation"] = {**evaluation_config_clean(frozen["evaluation"]).to_dict(),
                                "dataset_id": frozen["evaluation"].get("dataset_id")}
    run = RetrainingRun.objects.create(
        organisation=ai_system.organisation, ai_system=ai_system, model_version=model_version,
        training_dataset=training_dataset, requester=_user(actor), trigger=trigger, rerun_of=rerun_of,
        config=frozen, message="Waiting for a robustness worker.")
    record_create(run, actor=actor)
    run_enqueue(run)
    return run


def _latest_evaluation_settings(version: ModelVersion) -> dict[str, Any]:
    latest = (EvaluationRun.objects.filter(model_version=version, status=RunStatus.SUCCEEDED)
              .order_by("-finished_at").first())
    if latest is None:
        return {**evaluation_config_clean({"builtin_dataset": "synthetic-held-out"}).to_dict(), "dataset_id": None}
    return {**latest.config, "dataset_id": latest.dataset_id}


@transaction.atomic
def run_cancel(*, run: RobustnessRun, actor: Actor) -> RobustnessRun:
    """Pending: cancelled at once. Running: flagged; the worker stops between batches/steps."""
    row = type(run)._default_manager.select_for_update().get(pk=run.pk)
    if row.is_finished:
        raise ValidationError("This run has already finished.")
    before = snapshot(row)
    if row.status == RunStatus.PENDING:
        row.status, row.finished_at, row.message = RunStatus.CANCELLED, timezone.now(), "Cancelled before it started."
        if isinstance(row, EvaluationRun):
            row.shards.filter(status=RunStatus.PENDING).update(status=RunStatus.CANCELLED)
    row.cancel_requested = True
    row.save()
    record_update(row, before, actor=actor)
    return row


def run_rerun(*, run: RobustnessRun, actor: Actor) -> RobustnessRun:
    """The same settings, as a new run (the old one stays as it was)."""
    common: dict[str, Any] = {"ai_system": run.ai_system, "model_version": run.model_version, "actor": actor,
              "trigger": RunTrigger.RERUN, "rerun_of": run}
    if isinstance(run, EvaluationRun):
        return evaluation_run_request(config=run.config, dataset=run.dataset, shards=run.shard_count, **common)
    if isinstance(run, AnchorAnalysis):
        return anchor_analysis_request(config=run.config, **common)
    assert isinstance(run, RetrainingRun), type(run)  # the three kinds of run (RobustnessRun is abstract)
    return retraining_run_request(config=run.config, training_dataset=run.training_dataset, **common)


def _user(actor: Actor) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None

