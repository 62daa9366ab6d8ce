"""The REST API at /api/v1/: one router that each app registers its viewsets on, plus diagnostics."""

from __future__ import annotations

import json
import uuid

from django.db import transaction
from django_celery_results.models import TaskResult
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.throttling import ScopedRateThrottle, UserRateThrottle
from rest_framework.views import APIView

from assessments.api import routes as assessments_routes
from config.tasks import ping
from governance.api import routes as governance_routes
from governance.models.tenancy import Membership
from governance.permissions import PERMISSIONS, Permission
from robustness.api import routes as robustness_routes

router = DefaultRouter()
for app_routes in (governance_routes, assessments_routes, robustness_routes):
    app_routes.register(router)

_JOB = inline_serializer("WorkerPingJob", fields={
    "task_id": serializers.CharField(),
    "status": serializers.CharField(),
    "result": serializers.JSONField(allow_null=True),
})


# Who may run the diagnostics: Django staff, or a member whose role may manage members
# (governance.permissions: org_admin) in at least one organisation. The diagnostics are not
# organisation data, but they put work on the shared `default` queue (which also renders reports).
DIAGNOSTICS_ACTION = Permission.MANAGE_MEMBERS


class IsStaffOrOrganisationAdmin(BasePermission):
    message = "The diagnostics are for staff and organisation administrators."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return bool(user.is_staff) or Membership.objects.filter(
            user=user, role__in=PERMISSIONS[DIAGNOSTICS_ACTION]).exists()


class WorkerPingView(APIView):
    """Enqueue a ping on the `default` queue: proves a web request reaches a real worker."""

    permission_classes = [IsStaffOrOrganisationAdmin]
    # Per user: the scope's rate (`API_THROTTLE_DIAGNOSTICS`, default 10/minute) on top of the user rate.
    throttle_classes = [UserRateThrottle, ScopedRateThrottle]
    throttle_scope = "diagnostics"

    @extend_schema(request=None, responses={202: _JOB})
    def post(self, request: Request) -> Response:
        task_id = str(uuid.uuid4())
        transaction.on_commit(lambda: ping.apply_async(task_id=task_id, queue="default"))
        return Response({"task_id": task_id, "status": "PENDING", "result": None}, status=status.HTTP_202_ACCEPTED)


class WorkerPingDetailView(APIView):
    """The persisted result of a ping, read from the result table (django-celery-results)."""

    permission_classes = [IsStaffOrOrganisationAdmin]

    @extend_schema(responses={200: _JOB})
    def get(self, request: Request, task_id: str) -> Response:
        row = TaskResult.objects.filter(task_id=task_id, task_name="config.tasks.ping").first()
        if row is None:
            return Response({"task_id": task_id, "status": "PENDING", "result": None})
        result = json.loads(row.result) if row.result else None
        return Response({"task_id": task_id, "status": row.status, "result": result})
