"""Assessments pages: list, create, detail with results, result edit and review, transitions, exports."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from assessments.forms import AssessmentForm, ResultForm
from assessments.models import Assessment, RequirementResult, ResultStatus, result_label
from assessments.selectors import exports
from assessments.selectors.dashboard import current_results, results_filter
from assessments.selectors.signoff import approval_refusal, lock_blockers
from assessments.services import (
    assessment_approve,
    assessment_create,
    assessment_lock,
    assessment_return_to_draft,
    assessment_submit_for_review,
    requirement_result_review,
    requirement_result_update,
)
from assessments.services.inference import result_inference_confirm
from governance.access import signed_in_user
from governance.permissions import Permission
from governance.web.downloads import XLSX, download
from governance.web.views import OrganisationView, run_service

ASSESSMENTS = Assessment.objects.select_related("framework", "ai_system", "model_version")


class AssessmentListView(OrganisationView):
    def get(self, request: HttpRequest) -> HttpResponse:
        assessments = ASSESSMENTS.filter(organisation=self.access.organisation)
        for name, lookup in (("framework", "framework_id"), ("ai_system", "ai_system_id"), ("status", "status")):
            if request.GET.get(name):
                assessments = assessments.filter(**{lookup: request.GET[name]})
        if request.GET.get("expired_evidence") == "1":
            from django.utils import timezone

            from assessments.selectors.dashboard import locked_with_expired_evidence

            assessments = assessments.filter(pk__in=locked_with_expired_evidence(
                self.access.organisation, timezone.localdate()).values("pk"))
        return render(request, "assessments/assessment_list.html",
                      {"page": self.paginate(assessments), "query": self.query_string()})


class AssessmentCreateView(OrganisationView):
    required_actions = {"GET": Permission.EDIT_ASSESSMENTS, "POST": Permission.EDIT_ASSESSMENTS}

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(AssessmentForm(organisation=self.access.organisation))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = AssessmentForm(request.POST, organisation=self.access.organisation)
        if not form.is_valid():
            return self._render(form)
        try:
            assessment = assessment_create(organisation=self.access.organisation, actor=request.user,
                                           **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
            return self._render(form)
        return redirect("assessments:assessment-detail", pk=assessment.pk)

    def _render(self, form: AssessmentForm) -> HttpResponse:
        return render(self.request, "assessments/form.html",
                      {"form": form, "title": "New assessment", "cancel_url": reverse("assessments:assessment-list")})


class AssessmentDetailView(OrganisationView):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        assessment = self.organisation_object(ASSESSMENTS.prefetch_related("assessors", "reviewers"), pk=pk)
        results = (assessment.results.select_related("requirement", "inferred_via__source", "inferred_via__target",
                                                      "inferred_from__requirement__framework", "inference_confirmed_by")
                   .prefetch_related("controls", "evidence_versions").order_by("requirement__order"))
        scale = assessment.assessment_scale
        counts = {result_label(status.value, assessment_scale=scale):
                  sum(1 for r in results if r.result == status.value) for status in ResultStatus}
        return render(request, "assessments/assessment_detail.html", {
            "assessment": assessment, "results": results, "counts": counts,
            **signoff_state(assessment, signed_in_user(request)),
            "reports": assessment.reports.all()[:10], "editable": assessment.status in ("draft", "in_review")})


def signoff_state(assessment: Assessment, user: User | None) -> dict[str, object]:
    """What the page says before anyone presses Approve or Lock: the refusal they would get."""
    open_for_signoff = assessment.status in ("in_review", "approved")
    return {"lock_blockers": lock_blockers(assessment) if open_for_signoff else [],
            "approval_refusal": approval_refusal(assessment, user) if assessment.status == "in_review" else None}


_TRANSITIONS = {
    "submit": (assessment_submit_for_review, Permission.EDIT_ASSESSMENTS, "Submitted for review."),
    "approve": (assessment_approve, Permission.APPROVE_ASSESSMENTS, "Approved."),
    "lock": (assessment_lock, Permission.APPROVE_ASSESSMENTS, "Locked: the snapshot and its SHA-256 are stored."),
    "return": (assessment_return_to_draft, Permission.APPROVE_ASSESSMENTS, "Returned to draft."),
}


class AssessmentTransitionView(OrganisationView):
    """POST …/submit|approve|lock|return: each with its own permission."""

    transition = "submit"

    @classmethod
    def for_transition(cls, name: str):
        return cls.as_view(transition=name, required_actions={"POST": _TRANSITIONS[name][1]})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        assessment = self.organisation_object(Assessment, pk=pk)
        service, _, success = _TRANSITIONS[self.transition]
        return run_service(request, lambda: service(assessment=assessment, actor=request.user), success=success,
                           back=reverse("assessments:assessment-detail", args=[assessment.pk]))


class ResultEditView(OrganisationView):
    required_actions = {"GET": Permission.EDIT_ASSESSMENTS, "POST": Permission.EDIT_ASSESSMENTS}

    def _result(self, pk: int) -> RequirementResult:
        return self.organisation_object(
            RequirementResult.objects.select_related("assessment__framework", "requirement"), pk=pk)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        result = self._result(pk)
        initial = {
            "result": result.result, "rationale": result.rationale, "applicable": result.applicable,
            "not_assessed_reason": result.not_assessed_reason,
            "applicability_justification": result.applicability_justification,
            "controls": list(result.controls.all()), "evidence_versions": list(result.evidence_versions.all())}
        form = ResultForm(organisation=self.access.organisation, initial=initial,
                          assessment_scale=result.assessment.assessment_scale)
        return self._render(result, form)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        result = self._result(pk)
        form = ResultForm(request.POST, organisation=self.access.organisation,
                          assessment_scale=result.assessment.assessment_scale)
        if not form.is_valid():
            return self._render(result, form)
        data = form.cleaned_data
        back = reverse("assessments:assessment-detail", args=[result.assessment_id])
        return run_service(request, lambda: requirement_result_update(
            result=result, actor=request.user, result_status=data["result"], rationale=data["rationale"],
            not_assessed_reason=data["not_assessed_reason"],
            applicable=data["applicable"], applicability_justification=data["applicability_justification"],
            controls=data["controls"], evidence_versions=data["evidence_versions"]),
            success=f"{result.requirement.ref_id} saved.", back=back)

    def _render(self, result: RequirementResult, form: ResultForm) -> HttpResponse:
        return render(self.request, "assessments/result_form.html", {"result": result, "form": form})


class ResultReviewView(OrganisationView):
    required_actions = {"POST": Permission.EDIT_ASSESSMENTS}

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        result = self.organisation_object(RequirementResult.objects.select_related("requirement"), pk=pk)
        accept = request.POST.get("accept", "1") == "1"
        return run_service(request, lambda: requirement_result_review(result=result, actor=request.user,
                                                                      accept=accept),
                           success=f"{result.requirement.ref_id} reviewed.",
                           back=reverse("assessments:assessment-detail", args=[result.assessment_id]))


class ResultInferenceConfirmView(OrganisationView):
    """POST: a person confirms an inferred result (it stays inferred, and now counts for approval)."""

    required_actions = {"POST": Permission.EDIT_ASSESSMENTS}

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        result = self.organisation_object(RequirementResult.objects.select_related("requirement"), pk=pk)
        return run_service(request, lambda: result_inference_confirm(result=result, actor=request.user),
                           success=f"{result.requirement.ref_id}: inference confirmed.",
                           back=reverse("assessments:assessment-detail", args=[result.assessment_id]))


class ResultListView(OrganisationView):
    """The drill-down behind the dashboard's coverage numbers and heat map cells."""

    def get(self, request: HttpRequest) -> HttpResponse:
        organisation = self.access.organisation
        results = (current_results(organisation) if request.GET.get("current") == "1"
                   else RequirementResult.objects.filter(organisation=organisation))
        results = results_filter(results, request.GET.dict()).select_related(
            "requirement", "assessment__framework", "assessment__ai_system", "inferred_via",
            "inferred_from__requirement__framework", "inference_confirmed_by",
        ).order_by("assessment_id", "requirement__order")
        page = self.paginate(results)
        return render(request, "assessments/result_list.html", {"page": page, "query": self.query_string()})


_EXPORTS = {
    "soa.csv": (lambda a: exports.csv_bytes(exports.SOA_HEADER, exports.soa_rows(a)), "text/csv", "soa"),
    "soa.xlsx": (lambda a: exports.xlsx_bytes("Statement of Applicability", exports.SOA_HEADER,
                                              exports.soa_rows(a)), XLSX, "soa"),
    "manifest.csv": (lambda a: exports.csv_bytes(exports.MANIFEST_HEADER, exports.manifest_rows(a)), "text/csv",
                     "evidence-manifest"),
    "manifest.xlsx": (lambda a: exports.xlsx_bytes("Evidence manifest", exports.MANIFEST_HEADER,
                                                   exports.manifest_rows(a)), XLSX, "evidence-manifest"),
    "snapshot.json": (lambda a: exports.snapshot_json(a)[0], "application/json", "snapshot"),
}


class AssessmentExportView(OrganisationView):
    required_actions = {"GET": Permission.DOWNLOAD_REPORTS}

    def get(self, request: HttpRequest, pk: int, export: str) -> HttpResponse:
        assessment = self.organisation_object(Assessment, pk=pk)
        build, content_type, stem = _EXPORTS[export]
        extension = export.rsplit(".", 1)[1]
        return download(build(assessment), filename=f"assessment-{assessment.pk}-{stem}.{extension}",
                        content_type=content_type)
