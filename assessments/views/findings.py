"""Findings pages: list (drill-down by severity/status), create, detail with edit and status moves."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from assessments.forms import FindingForm
from assessments.models import Finding
from assessments.models.findings import FINDING_TRANSITIONS, OPEN_FINDING_STATUSES
from assessments.services import finding_create, finding_update
from governance.permissions import Permission
from governance.web.views import OrganisationView


class FindingListView(OrganisationView):
    def get(self, request: HttpRequest) -> HttpResponse:
        findings = Finding.objects.filter(organisation=self.access.organisation).select_related("owner", "ai_system")
        if request.GET.get("open") == "1":
            findings = findings.filter(status__in=OPEN_FINDING_STATUSES)
        for name, lookup in (("severity", "severity"), ("status", "status"), ("ai_system", "ai_system_id"),
                             ("source", "source")):
            if request.GET.get(name):
                findings = findings.filter(**{lookup: request.GET[name]})
        return render(request, "assessments/finding_list.html",
                      {"page": self.paginate(findings), "query": self.query_string()})


def _finding_data(data: dict) -> dict:
    return {key: data[key] for key in ("title", "description", "severity", "owner", "due_date")}


class FindingCreateView(OrganisationView):
    required_actions = {"GET": Permission.EDIT_ASSESSMENTS, "POST": Permission.EDIT_ASSESSMENTS}

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(FindingForm(organisation=self.access.organisation))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = FindingForm(request.POST, organisation=self.access.organisation)
        if not form.is_valid():
            return self._render(form)
        data = form.cleaned_data
        finding = finding_create(organisation=self.access.organisation, actor=request.user, source="manual",
                                 ai_system=data["ai_system"], assessment=data["assessment"],
                                 requirements=data["requirements"], risks=data["risks"], **_finding_data(data))
        return redirect("assessments:finding-detail", pk=finding.pk)

    def _render(self, form: FindingForm) -> HttpResponse:
        return render(self.request, "assessments/form.html", {
            "form": form, "title": "New finding", "cancel_url": reverse("assessments:finding-list")})


class FindingDetailView(OrganisationView):
    write_action = Permission.EDIT_ASSESSMENTS

    def get(self, request: HttpRequest, pk: int, form: FindingForm | None = None) -> HttpResponse:
        finding = self.organisation_object(Finding.objects.select_related("owner", "ai_system", "assessment")
                                           .prefetch_related("requirements", "risks", "actions"), pk=pk)
        form = form or FindingForm(organisation=self.access.organisation, initial={
            "title": finding.title, "description": finding.description, "severity": finding.severity,
            "status": finding.status, "ai_system": finding.ai_system_id, "assessment": finding.assessment_id,
            "requirements": list(finding.requirements.all()), "risks": list(finding.risks.all()),
            "owner": finding.owner_id, "due_date": finding.due_date})
        return render(request, "assessments/finding_detail.html", {
            "finding": finding, "form": form, "next_statuses": sorted(FINDING_TRANSITIONS[finding.status])})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        finding = self.organisation_object(Finding, pk=pk)
        form = FindingForm(request.POST, organisation=self.access.organisation)
        if form.is_valid():
            data = form.cleaned_data
            try:
                finding_update(finding=finding, actor=request.user, status=data["status"],
                               requirements=data["requirements"], risks=data["risks"], **_finding_data(data))
                return redirect("assessments:finding-detail", pk=finding.pk)
            except ValidationError as error:
                form.add_error(None, error)
        return self.get(request, pk, form=form)
