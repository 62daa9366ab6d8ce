"""The names of the Celery tasks this floor sends or defines: services enqueue by name, never by import.

The two validations run on a `robustness` worker (they load the upload through the engine);
their names live here, on the floor that sends them, and `robustness.task_names` repeats them.
"""

from __future__ import annotations

MODEL_VERSION_VALIDATE = "robustness.tasks.model_version_validate"
DATASET_VALIDATE = "robustness.tasks.dataset_validate"
STALE_VALIDATIONS_REQUEUE = "governance.tasks.stale_validations_requeue"
