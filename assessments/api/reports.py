"""Reports over the API: request one (a background job), follow it, download the PDF."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from assessments.api import serializers as s
from assessments.models import Assessment, Report
from assessments.selectors.dashboard import dashboard_get
from assessments.services import report_attest, report_request
from governance.models.jobs import JobStatus
from governance.permissions import Permission
from governance.web.api import OrganisationViewSet, organisation_row_required, route_needs
from governance.web.downloads import file_download


class ReportViewSet(OrganisationViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = Report.objects.select_related("assessment").prefetch_related("attestations__attested_by")
    serializer_class = s.ReportSerializer
    write_action = Permission.GENERATE_REPORTS
    filters = {"assessment": "assessment_id", "status": "status"}

    @extend_schema(request=s.ReportCreateSerializer, responses={202: s.ReportSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = s.ReportCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        assessment = organisation_row_required(Assessment, data.validated_data["assessment"], request)
        report = report_request(assessment=assessment, actor=request.user)
        return Response(s.ReportSerializer(report).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=s.ReportAttestSerializer, responses={201: s.ReportAttestationSerializer})
    @action(detail=True, methods=["post"], required_actions=route_needs(Permission.ATTEST_REPORTS))
    def attest(self, request: Request, pk: str, *args: Any, **kwargs: Any) -> Response:
        """An auditor attests a generated Final report: 400 for a wrong hash, 409 for a draft, an unfinished
        report or a second attestation, 403 for another role."""
        data = s.ReportAttestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        attestation = report_attest(report=self.get_object(), actor=request.user,
                                    report_sha256=data.validated_data["report_sha256"],
                                    comment=data.validated_data["comment"])
        return Response(s.ReportAttestationSerializer(attestation).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], required_actions=route_needs(Permission.DOWNLOAD_REPORTS))
    def download(self, request: Request, pk: str, *args: Any, **kwargs: Any) -> FileResponse:
        report = self.get_object()
        if report.status != JobStatus.SUCCEEDED or not report.file:
            raise Http404("The report is not ready.")
        return file_download(report.file, filename=f"{report.report_id}.pdf", content_type="application/pdf",
                             sha256=report.sha256)


class DashboardViewSet(OrganisationViewSet):
    """The dashboard's numbers (coverage per framework, findings by severity, expiring, overdue)."""

    queryset = Report.objects.none()  # its one answer is computed, not rows
    write_action = None

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        dashboard = dashboard_get(organisation=self.access.organisation, today=timezone.localdate())
        return Response({
            "coverage": [{"framework": c.framework_id, "name": c.name, "applicable": c.applicable,
                          "compliant": c.compliant, "partially_compliant": c.partial,
                          "non_compliant": c.non_compliant, "not_assessed": c.not_assessed,
                          "not_applicable": c.not_applicable, "assessment_scale": c.assessment_scale,
                          "result_labels": c.labels} for c in dashboard.coverage],
            "open_findings_by_severity": {value: n for value, _label, n in dashboard.findings_by_severity},
            "evidence_expiring_soon": dashboard.expiring_count, "evidence_expired": dashboard.expired_count,
            "overdue_actions": dashboard.overdue_count,
            "locked_assessments_with_expired_evidence": dashboard.locked_expired_count,
        })
