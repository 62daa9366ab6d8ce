"""Catalog, applicability, control, risk, membership and audit-trail endpoints."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from governance import selectors, services
from governance.api.serializers import (
    ApplicabilityDecisionSerializer,
    AuditEventSerializer,
    ControlSerializer,
    CrosswalkSerializer,
    DecisionInputSerializer,
    FrameworkSerializer,
    MembershipAddSerializer,
    MembershipSerializer,
    RequirementSerializer,
    RiskMatrixSerializer,
    RiskSerializer,
)
from governance.models import (
    ApplicabilityDecision,
    AuditEvent,
    Control,
    Crosswalk,
    Framework,
    Membership,
    Requirement,
    Risk,
)
from governance.permissions import Permission
from governance.web.api import OrganisationViewSet, service_call
from governance.web.filters import FILTER_ERROR, id_field, list_schema, query_value

_READ_ONLY = None  # catalogs are global and read-only: no write action exists


class FrameworkViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrganisationViewSet):
    serializer_class = FrameworkSerializer
    queryset = Framework.objects.all()
    write_action = _READ_ONLY

    def scoped_queryset(self) -> Any:
        return Framework.objects.all()


REQUIREMENT_FILTERS = {"framework": "framework__slug", "assessable": "assessable"}
APPLICABILITY_FILTERS = {"ai_system": "ai_system_id", "framework": "requirement__framework__slug"}
CROSSWALK_REQUIREMENT = id_field("mappings from or to this requirement id")


@extend_schema_view(list=list_schema(RequirementSerializer, REQUIREMENT_FILTERS))
class RequirementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrganisationViewSet):
    queryset = Requirement.objects.none()
    serializer_class = RequirementSerializer
    write_action = _READ_ONLY
    filters = REQUIREMENT_FILTERS

    def scoped_queryset(self) -> Any:
        return Requirement.objects.select_related("framework", "parent").order_by("framework__slug", "order")


@extend_schema_view(list=extend_schema(
    parameters=[OpenApiParameter("requirement", OpenApiTypes.INT, description=CROSSWALK_REQUIREMENT.help_text)],
    responses={200: CrosswalkSerializer, 400: FILTER_ERROR}))
class CrosswalkViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrganisationViewSet):
    queryset = Crosswalk.objects.none()
    serializer_class = CrosswalkSerializer
    write_action = _READ_ONLY

    def scoped_queryset(self) -> Any:
        rows = Crosswalk.objects.select_related("source", "target")
        requirement = query_value(self.request.query_params, "requirement", CROSSWALK_REQUIREMENT) \
            if self.action == "list" else None
        return rows if requirement is None else rows.filter(Q(source_id=requirement) | Q(target_id=requirement))


@extend_schema_view(list=list_schema(ApplicabilityDecisionSerializer, APPLICABILITY_FILTERS))
class ApplicabilityDecisionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrganisationViewSet):
    """The Statement of Applicability rows; PATCH …/decide/ confirms or overrides with a justification."""

    queryset = ApplicabilityDecision.objects.none()
    serializer_class = ApplicabilityDecisionSerializer
    write_action = Permission.EDIT_CONTROLS
    filters = APPLICABILITY_FILTERS

    def scoped_queryset(self) -> Any:
        return selectors.applicability_for(self.access)

    @extend_schema(request=DecisionInputSerializer, responses={200: ApplicabilityDecisionSerializer})
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
        payload = DecisionInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        decision = service_call(services.applicability_decide, decision=self.get_object(), actor=request.user,
                                **payload.validated_data)
        return Response(ApplicabilityDecisionSerializer(decision).data)


class ControlViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                     mixins.UpdateModelMixin, mixins.DestroyModelMixin, OrganisationViewSet):
    queryset = Control.objects.none()
    serializer_class = ControlSerializer
    write_action = Permission.EDIT_CONTROLS

    def scoped_queryset(self) -> Any:
        return selectors.controls_for(self.access)

    def perform_create(self, serializer: ControlSerializer) -> None:
        data = dict(serializer.validated_data)
        requirements = data.pop("requirements", [])
        serializer.instance = service_call(services.control_create, organisation=self.access.organisation,
                                           actor=self.request.user, data=data, requirements=requirements)

    def perform_update(self, serializer: ControlSerializer) -> None:
        data = dict(serializer.validated_data)
        requirements = data.pop("requirements", None)
        serializer.instance = service_call(services.control_update, control=serializer.instance,
                                           actor=self.request.user, data=data, requirements=requirements)

    def perform_destroy(self, instance: Any) -> None:
        service_call(services.control_delete, control=instance, actor=self.request.user)


class RiskViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                  mixins.UpdateModelMixin, mixins.DestroyModelMixin, OrganisationViewSet):
    queryset = Risk.objects.none()
    serializer_class = RiskSerializer
    write_action = Permission.EDIT_CONTROLS

    def scoped_queryset(self) -> Any:
        return selectors.risks_for(self.access)

    def perform_create(self, serializer: RiskSerializer) -> None:
        data = dict(serializer.validated_data)
        controls = data.pop("controls", [])
        serializer.instance = service_call(services.risk_create, organisation=self.access.organisation,
                                           actor=self.request.user, data=data, controls=controls)

    def perform_update(self, serializer: RiskSerializer) -> None:
        data = dict(serializer.validated_data)
        controls = data.pop("controls", None)
        serializer.instance = service_call(services.risk_update, risk=serializer.instance, actor=self.request.user,
                                           data=data, controls=controls)

    def perform_destroy(self, instance: Any) -> None:
        service_call(services.risk_delete, risk=instance, actor=self.request.user)

    @extend_schema(parameters=[OpenApiParameter("residual", OpenApiTypes.BOOL)], responses={200: OpenApiTypes.OBJECT})
    @action(detail=False, methods=["get"], url_path="heat-map")
    def heat_map(self, request: Request, **kwargs: Any) -> Response:
        """Counts of open risks per likelihood × impact cell of the organisation's matrix."""
        residual = request.query_params.get("residual") == "true"
        cells = selectors.risk_heat_map(self.access, residual=residual)
        return Response({"matrix": self.access.organisation.risk_matrix, "residual": residual,
                         "cells": [cell.__dict__ for row in cells for cell in row]})

    @extend_schema(request=RiskMatrixSerializer, responses={200: RiskMatrixSerializer})
    @action(detail=False, methods=["get", "put"], serializer_class=RiskMatrixSerializer)
    def matrix(self, request: Request, **kwargs: Any) -> Response:
        """The organisation's likelihood and impact scales (3 to 7 levels, lowest first)."""
        if request.method == "PUT":
            payload = RiskMatrixSerializer(data=request.data)
            payload.is_valid(raise_exception=True)
            service_call(services.organisation_risk_matrix_update, organisation=self.access.organisation,
                         actor=request.user, **payload.validated_data)
        return Response(self.access.organisation.risk_matrix)


class MembershipViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                        mixins.UpdateModelMixin, mixins.DestroyModelMixin, OrganisationViewSet):
    """Members and roles; only organisation admins change them."""

    queryset = Membership.objects.none()
    serializer_class = MembershipSerializer
    write_action = Permission.MANAGE_MEMBERS

    def scoped_queryset(self) -> Any:
        return selectors.memberships_for(self.access)

    @extend_schema(request=MembershipAddSerializer, responses={201: MembershipSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payload = MembershipAddSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        membership = service_call(services.membership_add, organisation=self.access.organisation,
                                  actor=request.user, **payload.validated_data)
        return Response(MembershipSerializer(membership).data, status=201)

    def perform_update(self, serializer: MembershipSerializer) -> None:
        serializer.instance = service_call(services.membership_update, membership=serializer.instance,
                                           role=serializer.validated_data.get("role", serializer.instance.role),
                                           actor=self.request.user)

    def perform_destroy(self, instance: Any) -> None:
        service_call(services.membership_delete, membership=instance, actor=self.request.user)


@extend_schema(parameters=[OpenApiParameter(name, OpenApiTypes.STR) for name in
                           ("action", "object_type", "object_id", "actor", "since", "until")])
class AuditEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrganisationViewSet):
    """The organisation's audit trail, newest first; filter by action, object, actor, dates (YYYY-MM-DD)."""

    queryset = AuditEvent.objects.none()
    serializer_class = AuditEventSerializer
    write_action = _READ_ONLY
    lookup_field = "sequence"

    def scoped_queryset(self) -> Any:
        filters = AuditFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)  # a `since` that is not a date is a 400, not a 500
        return selectors.audit_events_for(self.access, **{name: str(value) for name, value in
                                                          filters.validated_data.items() if value})


class AuditFilterSerializer(serializers.Serializer):
    action = serializers.CharField(required=False, allow_blank=True)
    object_type = serializers.CharField(required=False, allow_blank=True)
    object_id = serializers.CharField(required=False, allow_blank=True)
    actor = serializers.CharField(required=False, allow_blank=True)
    since = serializers.DateField(required=False)
    until = serializers.DateField(required=False)
