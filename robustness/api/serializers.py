"""API shapes of runs; requests are validated here and then by the services."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from governance.web.filters import MAX_ID
from robustness.models import AnchorAnalysis, EvaluationRun, RetrainingRun

RUN_FIELDS = ("id", "ai_system", "model_version", "status", "progress", "eta_seconds", "message", "error", "attempt",
              "trigger", "rerun_of", "config", "cancel_requested", "result", "provenance", "artifacts", "created_at",
              "started_at", "finished_at")


class EvaluationRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = EvaluationRun
        fields = (*RUN_FIELDS, "dataset", "shard_count", "evidence_version", "retraining")
        read_only_fields = fields


class AnchorAnalysisSerializer(serializers.ModelSerializer):
    class Meta:
        model = AnchorAnalysis
        fields = RUN_FIELDS
        read_only_fields = fields


class RetrainingRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = RetrainingRun
        fields = (*RUN_FIELDS, "training_dataset", "output_model_version")
        read_only_fields = fields


class RunRequestSerializer(serializers.Serializer):
    """POST body: the model version (its AI system follows), a dataset where the kind takes one, settings."""

    model_version = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    dataset = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_ID)
    shards = serializers.IntegerField(required=False, min_value=1, max_value=64, default=1)
    config = serializers.JSONField(required=False, default=dict)

    def validate_config(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise serializers.ValidationError("config must be a JSON object")
        return value
