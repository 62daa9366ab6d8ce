"""Robustness REST endpoints at /api/v1/robustness/...: list, read, request, cancel, re-run.

Every endpoint is a `governance.web.api.OrganisationViewSet`: reads need READ, writes (POST:
request, cancel, re-run) need RUN_ROBUSTNESS; querysets are the caller's organisation's, and a
service's refusal is answered by the kit's one translation (`governance.web.api.service_error_to_api`).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from governance.authz import access_of
from governance.models.registry import Dataset, ModelVersion
from governance.permissions import Permission
from governance.web.api import OrganisationViewSet
from governance.web.filters import query_id
from robustness import selectors
from robustness.api.serializers import (
    AnchorAnalysisSerializer,
    EvaluationRunSerializer,
    RetrainingRunSerializer,
    RunRequestSerializer,
)
from robustness.models import AnchorAnalysis, EvaluationRun, RetrainingRun
from robustness.services import run_requests


class _RunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrganisationViewSet):
    write_action = Permission.RUN_ROBUSTNESS
    kind = ""

    def scoped_queryset(self) -> Any:
        # Only the list filters (a detail URL ignores the query); a bad id is a 400 naming `ai_system`.
        ai_system = query_id(self.request.query_params, "ai_system") if self.action == "list" else None
        return selectors.runs_of(self.access.organisation, self.kind, ai_system_id=ai_system)

    def _submit(self, request: Request, make: Any) -> Response:
        body = RunRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        organisation = access_of(request).organisation
        version = ModelVersion.objects.filter(pk=body.validated_data["model_version"],
                                              organisation=organisation).select_related("ai_system").first()
        if version is None:
            raise NotFound("No such model version.")
        dataset = None
        if body.validated_data.get("dataset"):
            dataset = Dataset.objects.filter(pk=body.validated_data["dataset"], organisation=organisation).first()
            if dataset is None:
                raise NotFound("No such dataset.")
        run = make(version=version, dataset=dataset, data=body.validated_data)
        return Response(self.get_serializer(run).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
        run = run_requests.run_cancel(run=self.get_object(), actor=request.user)
        return Response(self.get_serializer(run).data)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def rerun(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
        run = run_requests.run_rerun(run=self.get_object(), actor=request.user)
        return Response(self.get_serializer(run).data, status=status.HTTP_201_CREATED)


class EvaluationRunViewSet(_RunViewSet):
    kind = "evaluations"
    serializer_class = EvaluationRunSerializer
    queryset = EvaluationRun.objects.none()  # for the schema; get_queryset filters by organisation

    @extend_schema(request=RunRequestSerializer, responses={201: EvaluationRunSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._submit(request, lambda version, dataset, data: run_requests.evaluation_run_request(
            ai_system=version.ai_system, model_version=version, actor=request.user, config=data["config"],
            dataset=dataset, shards=data["shards"]))


class AnchorAnalysisViewSet(_RunViewSet):
    kind = "anchor-analyses"
    serializer_class = AnchorAnalysisSerializer
    queryset = AnchorAnalysis.objects.none()

    @extend_schema(request=RunRequestSerializer, responses={201: AnchorAnalysisSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._submit(request, lambda version, dataset, data: run_requests.anchor_analysis_request(
            ai_system=version.ai_system, model_version=version, actor=request.user, config=data["config"]))


class RetrainingRunViewSet(_RunViewSet):
    kind = "retraining"
    serializer_class = RetrainingRunSerializer
    queryset = RetrainingRun.objects.none()

    @extend_schema(request=RunRequestSerializer, responses={201: RetrainingRunSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._submit(request, lambda version, dataset, data: run_requests.retraining_run_request(
            ai_system=version.ai_system, model_version=version, actor=request.user, config=data["config"],
            training_dataset=dataset))

