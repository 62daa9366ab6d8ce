"""Periodic governance jobs (queue `default`)."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from governance.models.registry import Dataset, ModelVersion, ValidationStatus
from governance.services.model_versions import validation_enqueue
from governance.task_names import DATASET_VALIDATE, MODEL_VERSION_VALIDATE, STALE_VALIDATIONS_REQUEUE

STALE_AFTER = timedelta(minutes=30)


@shared_task(name=STALE_VALIDATIONS_REQUEUE, ignore_result=True)
def stale_validations_requeue() -> int:
    """Re-enqueue uploads still `validating` long after upload: the server-less broker never
    redelivers a message lost with its worker, so nothing else would ever finish them."""
    cutoff = timezone.now() - STALE_AFTER
    count = 0
    with transaction.atomic():
        for task_name, model in ((MODEL_VERSION_VALIDATE, ModelVersion), (DATASET_VALIDATE, Dataset)):
            for row_id in model.objects.filter(status=ValidationStatus.VALIDATING, created_at__lt=cutoff) \
                    .values_list("pk", flat=True):
                validation_enqueue(task_name, row_id)
                count += 1
    return count
