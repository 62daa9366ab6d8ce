"""Worker-side validation of uploads registered in governance (queue `robustness`).

Governance enqueues these by name (the ground floor never imports this app); each task loads
the upload through the seam (`robustness.services.loading`) and reports valid/invalid with the
reason through a governance service. Bad input is terminal and says why; it is never retried.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery import shared_task

from governance.models.registry import Dataset, ModelVersion, ValidationStatus
from governance.services.model_versions import dataset_validation_finish, model_version_validation_finish
from robustness import task_names

logger = logging.getLogger(__name__)


@shared_task(name=task_names.MODEL_VERSION_VALIDATE, acks_late=True)
def model_version_validate(model_version_id: int) -> str:
    version = ModelVersion.objects.filter(pk=model_version_id, status=ValidationStatus.VALIDATING).first()
    if version is None:
        return "nothing to do"
    try:
        from robustness.services.loading import model_version_verdict

        valid, reason = model_version_verdict(version)
    except MemoryError:
        valid, reason = False, "Out of memory while loading the checkpoint on the worker."
    except Exception:  # an unexpected failure must not leave the version validating forever
        logger.exception("model version %s: validation failed unexpectedly", model_version_id)
        valid, reason = False, "Validation failed unexpectedly (details are in the worker log)."
    model_version_validation_finish(model_version_id=model_version_id, valid=valid, reason=reason)
    return "valid" if valid else "invalid"


@shared_task(name=task_names.DATASET_VALIDATE, acks_late=True)
def dataset_validate(dataset_id: int) -> str:
    dataset = Dataset.objects.filter(pk=dataset_id, status=ValidationStatus.VALIDATING).first()
    if dataset is None or not dataset.file:
        return "nothing to do"
    try:
        from robustness.services.loading import dataset_verdict

        valid, reason, names, count = dataset_verdict(dataset)
    except MemoryError:
        valid, reason, names, count = False, "Out of memory while decoding the dataset on the worker.", None, None
    except Exception as error:  # never leave the dataset validating forever
        logger.exception("dataset %s: validation failed unexpectedly", dataset_id)
        valid, reason, names, count = False, f"Validation failed unexpectedly ({type(error).__name__}).", None, None
    dataset_validation_finish(dataset_id=dataset_id, valid=valid, reason=reason, class_names=names,
                              image_count=count)
    return "valid" if valid else "invalid"


# --- Robustness runs ------------------------------------------------------------------------------
# Thin: take an id, call the service (which claims the row with a lease). Only named transient
# errors are retried; the service has already turned bad input into a terminal failure.

def _retry_transient(task: Any, body: Callable[[], str]) -> str:
    from governance.jobs import TRANSIENT_ERRORS

    try:
        return body()
    except TRANSIENT_ERRORS as error:
        raise task.retry(exc=error, countdown=5) from error


@shared_task(name=task_names.EVALUATION_RUN_EXECUTE, bind=True, acks_late=True, max_retries=5)
def evaluation_run_execute(self: Any, run_id: int) -> str:
    from robustness.services.evaluations import evaluation_run_execute as execute

    return _retry_transient(self, lambda: execute(run_id=run_id))


@shared_task(name=task_names.EVALUATION_SHARD_EXECUTE, bind=True, acks_late=True, max_retries=5)
def evaluation_shard_execute(self: Any, shard_id: int) -> str:
    from robustness.services.shards import evaluation_shard_execute as execute

    return _retry_transient(self, lambda: execute(shard_id=shard_id))


@shared_task(name=task_names.EVALUATION_RUN_MERGE, bind=True, acks_late=True, max_retries=5)
def evaluation_run_merge(self: Any, shard_results: list[str] | None, run_id: int) -> str:
    """The chord's callback (the last shard to finish also merges: whichever comes first wins)."""
    from robustness.services.shards import evaluation_shards_merge

    return _retry_transient(self, lambda: evaluation_shards_merge(run_id=run_id))


@shared_task(name=task_names.ANCHOR_ANALYSIS_EXECUTE, bind=True, acks_late=True, max_retries=5)
def anchor_analysis_execute(self: Any, analysis_id: int) -> str:
    from robustness.services.anchor_analyses import anchor_analysis_execute as execute

    return _retry_transient(self, lambda: execute(analysis_id=analysis_id))


@shared_task(name=task_names.RETRAINING_RUN_EXECUTE, bind=True, acks_late=True, max_retries=5)
def retraining_run_execute(self: Any, run_id: int) -> str:
    from robustness.services.retraining import retraining_run_execute as execute

    return _retry_transient(self, lambda: execute(run_id=run_id))


@shared_task(name=task_names.RUNS_REAP_EXPIRED_LEASES, acks_late=True)
def runs_reap_expired_leases() -> int:
    """Beat: re-enqueue runs whose worker died (the server-less broker never redelivers)."""
    from robustness.services.maintenance import runs_reap_expired_leases as reap

    return reap()


@shared_task(name=task_names.EVALUATIONS_SCHEDULE_PERIODIC, acks_late=True)
def evaluations_schedule_periodic() -> int:
    """Beat: re-evaluate each AI system whose review frequency has come round."""
    from robustness.services.maintenance import evaluations_schedule_periodic as schedule

    return schedule()


@shared_task(name=task_names.DEMO_PREPARE, bind=True, acks_late=True, max_retries=3)
def demo_prepare(self: Any, organisation_id: int) -> str:
    """Build (or reuse) the demo model on this worker, register it, request the demo runs."""
    from robustness.services.demo import demo_prepare as prepare

    return _retry_transient(self, lambda: prepare(organisation_id=organisation_id))
