"""Findings, engagements, phases and actions over the API."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from assessments.api import serializers as s
from assessments.models import Action, Assessment, Engagement, EvidenceVersion, Finding, Phase
from assessments.models.engagements import OPEN_ACTION_STATUSES
from assessments.services import (
    action_create,
    action_update,
    engagement_assessments_set,
    engagement_create,
    finding_create,
    finding_update,
    phase_update,
)
from governance.models import AISystem, Control, Requirement, Risk
from governance.permissions import Permission
from governance.web.api import OrganisationViewSet, member_user, organisation_row, organisation_rows
from governance.web.filters import list_schema, query_value

FINDING_FILTERS = {"severity": "severity", "status": "status", "ai_system": "ai_system_id",
                   "assessment": "assessment_id", "source": "source", "owner": "owner_id"}
ACTION_FILTERS = {"engagement": "engagement_id", "phase": "phase_id", "status": "status", "owner": "owner_id"}


def _requirements(ids: list[int] | None) -> list[Requirement] | None:
    return None if ids is None else list(Requirement.objects.filter(pk__in=ids))


@extend_schema_view(list=list_schema(s.FindingSerializer, FINDING_FILTERS))
class FindingViewSet(OrganisationViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = Finding.objects.prefetch_related("requirements", "risks")
    serializer_class = s.FindingSerializer
    write_action = Permission.EDIT_ASSESSMENTS
    filters = FINDING_FILTERS

    @extend_schema(request=s.FindingWriteSerializer, responses={201: s.FindingSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = s.FindingWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        finding = finding_create(
            organisation=self.access.organisation, title=v.get("title", ""), description=v.get("description", ""),
            severity=v.get("severity", "medium"), actor=request.user, source="manual",
            ai_system=organisation_row(AISystem, v.get("ai_system"), request),
            assessment=organisation_row(Assessment, v.get("assessment"), request),
            requirements=_requirements(v.get("requirements")) or (),
            risks=organisation_rows(Risk, v.get("risks"), request) or (),
            owner=member_user(v.get("owner"), request), due_date=v.get("due_date"))
        return Response(s.FindingSerializer(finding).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.FindingWriteSerializer, responses=s.FindingSerializer)
    def partial_update(self, request: Request, pk: str, *args: Any, **kwargs: Any) -> Response:
        data = s.FindingWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        requirements = _requirements(v.pop("requirements", None))
        risks = organisation_rows(Risk, v.pop("risks", None), request)
        for key in ("ai_system", "assessment"):
            v.pop(key, None)
        if "owner" in v:
            v["owner"] = member_user(v["owner"], request)
        finding = finding_update(finding=self.get_object(), actor=request.user, requirements=requirements, risks=risks,
                                 **v)
        return Response(s.FindingSerializer(finding).data)


class EngagementViewSet(OrganisationViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """A consultant opens one for the client organisation: the default three phases come with it."""

    queryset = Engagement.objects.prefetch_related("phases", "baseline_assessments", "closing_assessments")
    serializer_class = s.EngagementSerializer
    write_action = Permission.EDIT_ENGAGEMENTS

    @extend_schema(request=s.EngagementCreateSerializer, responses={201: s.EngagementSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = s.EngagementCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        engagement = engagement_create(organisation=self.access.organisation, actor=request.user,
                                       **data.validated_data)
        return Response(s.EngagementSerializer(engagement).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.EngagementUpdateSerializer, responses=s.EngagementSerializer)
    def partial_update(self, request: Request, pk: str, *args: Any, **kwargs: Any) -> Response:
        data = s.EngagementUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        engagement = engagement_assessments_set(
            engagement=self.get_object(), actor=request.user,
            baseline=organisation_rows(Assessment, v.get("baseline_assessments"), request),
            closing=organisation_rows(Assessment, v.get("closing_assessments"), request))
        return Response(s.EngagementSerializer(engagement).data)


class PhaseViewSet(OrganisationViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = Phase.objects.all()
    serializer_class = s.PhaseSerializer
    write_action = Permission.EDIT_ENGAGEMENTS
    filters = {"engagement": "engagement_id"}

    @extend_schema(request=s.PhaseUpdateSerializer, responses=s.PhaseSerializer)
    def partial_update(self, request: Request, pk: str, *args: Any, **kwargs: Any) -> Response:
        data = s.PhaseUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        return Response(s.PhaseSerializer(phase_update(phase=self.get_object(), actor=request.user,
                                                       **data.validated_data)).data)


def _action_arguments(values: dict, request: Request) -> dict:
    values = dict(values)
    values.pop("engagement", None)
    for name, model in (("findings", Finding), ("controls", Control), ("evidence_versions", EvidenceVersion),
                        ("closure_evidence", EvidenceVersion)):
        if name in values:
            values[name] = organisation_rows(model, values[name], request)
    if "owner" in values:
        values["owner"] = member_user(values["owner"], request)
    if "phase" in values:
        values["phase"] = organisation_row(Phase, values["phase"], request)
    return values


def _overdue_only(request: Request) -> bool:
    return bool(query_value(request.query_params, "overdue", serializers.BooleanField()))


@extend_schema_view(list=list_schema(s.ActionSerializer, ACTION_FILTERS, OpenApiParameter(
    "overdue", bool, description="Only open actions due before today (false or empty: no filter).")))
class ActionViewSet(OrganisationViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = Action.objects.prefetch_related("findings", "controls", "evidence_versions", "closure_evidence")
    serializer_class = s.ActionSerializer
    write_action = Permission.EDIT_ENGAGEMENTS
    filters = ACTION_FILTERS

    def scoped_queryset(self) -> Any:
        queryset = super().scoped_queryset()
        if self.action == "list" and _overdue_only(self.request):
            queryset = queryset.filter(status__in=OPEN_ACTION_STATUSES, due_date__lt=timezone.localdate())
        return queryset

    @extend_schema(request=s.ActionWriteSerializer, responses={201: s.ActionSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = s.ActionWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        engagement = organisation_row(Engagement, data.validated_data.get("engagement"), request)
        if engagement is None:
            return Response({"engagement": ["Required."]}, status=status.HTTP_400_BAD_REQUEST)
        arguments = _action_arguments(data.validated_data, request)
        action = action_create(engagement=engagement, actor=request.user, title=arguments.pop("title", ""),
                               **arguments)
        return Response(s.ActionSerializer(action).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ActionWriteSerializer, responses=s.ActionSerializer)
    def partial_update(self, request: Request, pk: str, *args: Any, **kwargs: Any) -> Response:
        data = s.ActionWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        action = action_update(action=self.get_object(), actor=request.user,
                               **_action_arguments(data.validated_data, request))
        return Response(s.ActionSerializer(action).data)
