"""Evidence, its versions (upload or link), downloads through access checks, and verify."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from assessments.api import serializers as s
from assessments.models import Evidence, EvidenceVersion
from assessments.selectors.verify import file_verify
from assessments.services import evidence_annotation_add, evidence_create, evidence_version_add
from governance.models import AISystem, Requirement
from governance.permissions import Permission
from governance.web.api import OrganisationViewSet, organisation_row, route_needs
from governance.web.downloads import file_download
from governance.web.filters import list_schema

EVIDENCE_FILTERS = {"kind": "kind", "status": "status", "ai_system": "ai_system_id", "requirement": "requirements"}
VERSION_FILTERS = {"evidence": "evidence_id", "sha256": "sha256", "source": "source"}


@extend_schema_view(list=list_schema(s.EvidenceSerializer, EVIDENCE_FILTERS))
class EvidenceViewSet(OrganisationViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Evidence; a new file or link is a new immutable version (`POST …/versions/`)."""

    queryset = Evidence.objects.select_related("current_version").prefetch_related(
        "requirements", "versions", "annotations__created_by")
    serializer_class = s.EvidenceSerializer
    write_action = Permission.EDIT_ASSESSMENTS
    filters = EVIDENCE_FILTERS
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(request=s.EvidenceCreateSerializer, responses={201: s.EvidenceSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = s.EvidenceCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        requirements = list(Requirement.objects.filter(pk__in=values["requirements"]))
        if len(requirements) != len(set(values["requirements"])):
            raise exceptions.ValidationError({"requirements": "Unknown id(s)."})
        evidence = evidence_create(organisation=self.access.organisation, title=values["title"],
                                   kind=values["kind"], actor=request.user, requirements=requirements,
                                   ai_system=organisation_row(AISystem, values.get("ai_system"), request))
        return Response(s.EvidenceSerializer(evidence).data, status=status.HTTP_201_CREATED)

    @extend_schema(request={"multipart/form-data": s.EvidenceVersionUploadSerializer,
                            "application/json": s.EvidenceVersionUploadSerializer},
                   responses={201: s.EvidenceVersionSerializer})
    @action(detail=True, methods=["post"])
    def versions(self, request: Request, pk: str, *args: Any, **kwargs: Any) -> Response:
        data = s.EvidenceVersionUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        metadata = values.get("metadata") or {}
        upload = values.get("file")
        version = evidence_version_add(
            evidence=self.get_object(), actor=request.user, file=upload, url=values.get("url") or "",
            filename=upload.name if upload else "", effective_date=values.get("effective_date"),
            valid_until=values.get("valid_until"), metadata=metadata)
        return Response(s.EvidenceVersionSerializer(version).data, status=status.HTTP_201_CREATED)


    @extend_schema(request=s.EvidenceAnnotationCreateSerializer, responses={201: s.EvidenceAnnotationSerializer})
    @action(detail=True, methods=["post"])
    def annotations(self, request: Request, pk: str, *args: Any, **kwargs: Any) -> Response:
        """A person's note beside the evidence; machine evidence takes notes, never hand-made versions."""
        data = s.EvidenceAnnotationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        annotation = evidence_annotation_add(evidence=self.get_object(), text=data.validated_data["text"],
                                             actor=request.user)
        return Response(s.EvidenceAnnotationSerializer(annotation).data, status=status.HTTP_201_CREATED)


@extend_schema_view(list=list_schema(s.EvidenceVersionSerializer, VERSION_FILTERS))
class EvidenceVersionViewSet(OrganisationViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = EvidenceVersion.objects.select_related("evidence").order_by("-uploaded_at", "-id")
    serializer_class = s.EvidenceVersionSerializer
    write_action = Permission.EDIT_ASSESSMENTS
    filters = VERSION_FILTERS

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], required_actions=route_needs(Permission.DOWNLOAD_REPORTS))
    def download(self, request: Request, pk: str, *args: Any, **kwargs: Any) -> FileResponse:
        version = self.get_object()
        if not version.file:
            raise Http404("A link has no file: follow its URL.")
        return file_download(version.file, filename=version.filename, content_type=version.content_type,
                             sha256=version.sha256)


class VerifyViewSet(OrganisationViewSet):
    """Upload a file: which recorded evidence version or report has its SHA-256. Stores nothing."""

    queryset = EvidenceVersion.objects.none()  # it lists nothing
    serializer_class = s.VerifySerializer
    parser_classes = [MultiPartParser, FormParser]
    write_action = Permission.VERIFY

    @extend_schema(request={"multipart/form-data": s.VerifySerializer}, responses=s.VerifyResultSerializer)
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = s.VerifySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = file_verify(organisation=self.access.organisation, stream=data.validated_data["file"])
        return Response(s.VerifyResultSerializer({
            "sha256": outcome.sha256, "size": outcome.size, "matched": outcome.matched,
            "evidence_versions": outcome.evidence_versions, "reports": outcome.reports}).data)
