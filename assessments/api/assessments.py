"""Assessments and requirement results over the API."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from assessments.api import serializers as s
from assessments.models import Assessment, EvidenceVersion, RequirementResult
from assessments.selectors import exports
from assessments.services import (
    assessment_approve,
    assessment_create,
    assessment_lock,
    assessment_return_to_draft,
    assessment_submit_for_review,
    assessment_update,
    requirement_result_review,
    requirement_result_update,
)
from assessments.services.inference import result_inference_confirm
from governance.models import AISystem, Control, Framework, ModelVersion
from governance.permissions import Permission
from governance.web.api import OrganisationViewSet, member_users, organisation_row, organisation_rows, route_needs
from governance.web.downloads import XLSX, download
from governance.web.filters import list_schema

ASSESSMENT_FILTERS = {"framework": "framework_id", "ai_system": "ai_system_id", "status": "status"}
RESULT_FILTERS = {"assessment": "assessment_id", "result": "result", "requirement": "requirement_id",
                  "framework": "assessment__framework_id", "ai_system": "assessment__ai_system_id",
                  "is_inferred": "is_inferred", "needs_review": "needs_review"}
APPROVE = route_needs(Permission.APPROVE_ASSESSMENTS)  # every verb of the route
DOWNLOAD = route_needs(Permission.DOWNLOAD_REPORTS)


@extend_schema_view(list=list_schema(s.AssessmentSerializer, ASSESSMENT_FILTERS))
class AssessmentViewSet(OrganisationViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Assessments: create from the Statement of Applicability; submit → approve → lock; exports."""

    queryset = Assessment.objects.select_related("framework", "ai_system").prefetch_related("assessors", "reviewers")
    serializer_class = s.AssessmentSerializer
    write_action = Permission.EDIT_ASSESSMENTS
    filters = ASSESSMENT_FILTERS

    @extend_schema(request=s.AssessmentCreateSerializer, responses={201: s.AssessmentSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = s.AssessmentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        framework = Framework.objects.filter(pk=values["framework"]).first()
        if framework is None:
            return Response({"framework": ["Unknown id."]}, status=status.HTTP_400_BAD_REQUEST)
        assessment = assessment_create(
            organisation=self.access.organisation, framework=framework, actor=request.user, title=values["title"],
            ai_system=organisation_row(AISystem, values.get("ai_system"), request),
            model_version=organisation_row(ModelVersion, values.get("model_version"), request),
            period_start=values.get("period_start"), period_end=values.get("period_end"),
            scope_notes=values["scope_notes"], assessors=member_users(values["assessors"], request),
            reviewers=member_users(values["reviewers"], request))
        return Response(s.AssessmentSerializer(assessment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.AssessmentUpdateSerializer, responses=s.AssessmentSerializer)
    def partial_update(self, request: Request, pk: str, *args: Any, **kwargs: Any) -> Response:
        data = s.AssessmentUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        assessment = assessment_update(assessment=self.get_object(), actor=request.user, **data.validated_data)
        return Response(s.AssessmentSerializer(assessment).data)

    def _transition(self, service, request: Request) -> Response:
        assessment = service(assessment=self.get_object(), actor=request.user)
        return Response(s.AssessmentSerializer(assessment).data)

    @extend_schema(request=None, responses=s.AssessmentSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str, *args: Any, **kwargs: Any) -> Response:
        return self._transition(assessment_submit_for_review, request)

    @extend_schema(request=None, responses=s.AssessmentSerializer)
    @action(detail=True, methods=["post"], required_actions=APPROVE)
    def approve(self, request: Request, pk: str, *args: Any, **kwargs: Any) -> Response:
        return self._transition(assessment_approve, request)

    @extend_schema(request=None, responses=s.AssessmentSerializer)
    @action(detail=True, methods=["post"], required_actions=APPROVE)
    def lock(self, request: Request, pk: str, *args: Any, **kwargs: Any) -> Response:
        return self._transition(assessment_lock, request)

    @extend_schema(request=None, responses=s.AssessmentSerializer)
    @action(detail=True, methods=["post"], url_path="return-to-draft", required_actions=APPROVE)
    def return_to_draft(self, request: Request, pk: str, *args: Any, **kwargs: Any) -> Response:
        return self._transition(assessment_return_to_draft, request)

    @extend_schema(responses={(200, "application/json"): OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"], required_actions=DOWNLOAD)
    def snapshot(self, request: Request, pk: str, *args: Any, **kwargs: Any) -> Response:
        assessment = self.get_object()
        content, sha256 = exports.snapshot_json(assessment)
        response = download(content, filename=f"assessment-{assessment.pk}-snapshot.json",
                            content_type="application/json")
        response["X-Content-SHA256"] = sha256
        return response

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], url_path="soa.csv", required_actions=DOWNLOAD)
    def soa_csv(self, request: Request, pk: str, *args: Any, **kwargs: Any) -> Response:
        assessment = self.get_object()
        return download(exports.csv_bytes(exports.SOA_HEADER, exports.soa_rows(assessment)),
                        filename=f"assessment-{assessment.pk}-soa.csv", content_type="text/csv")

    @extend_schema(responses={(200, XLSX): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], url_path="soa.xlsx", required_actions=DOWNLOAD)
    def soa_xlsx(self, request: Request, pk: str, *args: Any, **kwargs: Any) -> Response:
        assessment = self.get_object()
        return download(exports.xlsx_bytes("Statement of Applicability", exports.SOA_HEADER,
                                           exports.soa_rows(assessment)),
                        filename=f"assessment-{assessment.pk}-soa.xlsx", content_type=XLSX)

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], url_path="manifest.csv", required_actions=DOWNLOAD)
    def manifest_csv(self, request: Request, pk: str, *args: Any, **kwargs: Any) -> Response:
        assessment = self.get_object()
        return download(exports.csv_bytes(exports.MANIFEST_HEADER, exports.manifest_rows(assessment)),
                        filename=f"assessment-{assessment.pk}-evidence-manifest.csv", content_type="text/csv")

    @extend_schema(responses={(200, XLSX): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], url_path="manifest.xlsx", required_actions=DOWNLOAD)
    def manifest_xlsx(self, request: Request, pk: str, *args: Any, **kwargs: Any) -> Response:
        assessment = self.get_object()
        return download(exports.xlsx_bytes("Evidence manifest", exports.MANIFEST_HEADER,
                                           exports.manifest_rows(assessment)),
                        filename=f"assessment-{assessment.pk}-evidence-manifest.xlsx", content_type=XLSX)


@extend_schema_view(list=list_schema(s.RequirementResultSerializer, RESULT_FILTERS))
class RequirementResultViewSet(OrganisationViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Per-requirement results; editing one proposes inferred results on mapped requirements."""

    queryset = (RequirementResult.objects.select_related("requirement", "assessment__framework",
                                                         "inferred_via__source", "inferred_via__target",
                                                         "inferred_from__requirement__framework",
                                                         "inference_confirmed_by")
                .prefetch_related("controls", "evidence_versions").order_by("assessment_id", "requirement__order"))
    serializer_class = s.RequirementResultSerializer
    write_action = Permission.EDIT_ASSESSMENTS
    filters = RESULT_FILTERS

    @extend_schema(request=s.ResultUpdateSerializer, responses=s.RequirementResultSerializer)
    def partial_update(self, request: Request, pk: str, *args: Any, **kwargs: Any) -> Response:
        data = s.ResultUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        result = requirement_result_update(
            result=self.get_object(), actor=request.user, result_status=values.get("result"),
            rationale=values.get("rationale"), not_assessed_reason=values.get("not_assessed_reason"),
            applicable=values.get("applicable"),
            applicability_justification=values.get("applicability_justification"),
            controls=organisation_rows(Control, values.get("controls"), request),
            evidence_versions=organisation_rows(EvidenceVersion, values.get("evidence_versions"), request))
        return Response(s.RequirementResultSerializer(result).data)

    @extend_schema(request=s.ReviewSerializer, responses=s.RequirementResultSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request: Request, pk: str, *args: Any, **kwargs: Any) -> Response:
        data = s.ReviewSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = requirement_result_review(result=self.get_object(), actor=request.user,
                                           accept=data.validated_data["accept"])
        return Response(s.RequirementResultSerializer(result).data)

    @extend_schema(request=None, responses=s.RequirementResultSerializer)
    @action(detail=True, methods=["post"], url_path="confirm-inference",
            required_actions=route_needs(Permission.EDIT_ASSESSMENTS))
    def confirm_inference(self, request: Request, pk: str, *args: Any, **kwargs: Any) -> Response:
        """A person confirms an inferred result; 409 when it is not inferred or already confirmed."""
        result = result_inference_confirm(result=self.get_object(), actor=request.user)
        return Response(s.RequirementResultSerializer(self.get_queryset().get(pk=result.pk)).data)
