"""The names of the robustness app's Celery tasks: the services enqueue by name (no import of the tasks)."""

from __future__ import annotations

from governance.task_names import DATASET_VALIDATE, MODEL_VERSION_VALIDATE

QUEUE = "robustness"
EVALUATION_RUN_EXECUTE = "robustness.tasks.evaluation_run_execute"
EVALUATION_SHARD_EXECUTE = "robustness.tasks.evaluation_shard_execute"
EVALUATION_RUN_MERGE = "robustness.tasks.evaluation_run_merge"
ANCHOR_ANALYSIS_EXECUTE = "robustness.tasks.anchor_analysis_execute"
RETRAINING_RUN_EXECUTE = "robustness.tasks.retraining_run_execute"
RUNS_REAP_EXPIRED_LEASES = "robustness.tasks.runs_reap_expired_leases"
EVALUATIONS_SCHEDULE_PERIODIC = "robustness.tasks.evaluations_schedule_periodic"
DEMO_PREPARE = "robustness.tasks.demo_prepare"

__all__ = ["ANCHOR_ANALYSIS_EXECUTE", "DATASET_VALIDATE", "DEMO_PREPARE", "EVALUATIONS_SCHEDULE_PERIODIC",
           "EVALUATION_RUN_EXECUTE", "EVALUATION_RUN_MERGE", "EVALUATION_SHARD_EXECUTE", "MODEL_VERSION_VALIDATE",
           "QUEUE", "RETRAINING_RUN_EXECUTE", "RUNS_REAP_EXPIRED_LEASES"]
