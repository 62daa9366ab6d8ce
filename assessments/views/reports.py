"""Report pages (request, follow, download) and the verify page (hash a file, store nothing)."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from assessments.forms import ReportAttestationForm, VerifyForm
from assessments.models import Assessment, Report
from assessments.selectors.signoff import attestation_refusal
from assessments.selectors.verify import file_verify
from assessments.services import report_attest, report_request
from governance.access import signed_in_user
from governance.models.jobs import JobStatus
from governance.permissions import Permission
from governance.web.downloads import file_download
from governance.web.views import OrganisationView, run_service


class ReportListView(OrganisationView):
    def get(self, request: HttpRequest) -> HttpResponse:
        reports = Report.objects.filter(organisation=self.access.organisation).select_related(
            "assessment", "requested_by")
        if request.GET.get("assessment"):
            reports = reports.filter(assessment_id=request.GET["assessment"])
        return render(request, "assessments/report_list.html", {"page": self.paginate(reports)})


class ReportRequestView(OrganisationView):
    required_actions = {"POST": Permission.GENERATE_REPORTS}

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        assessment = self.organisation_object(Assessment, pk=pk)
        return run_service(request, lambda: report_request(assessment=assessment, actor=request.user),
                           success="The report is being generated in the background.",
                           back=reverse("assessments:report-list") + f"?assessment={assessment.pk}")


class ReportDetailView(OrganisationView):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        report = self.organisation_object(Report.objects.select_related("assessment", "requested_by"), pk=pk)
        if request.GET.get("format") == "json":  # polled by the page while the job runs
            return JsonResponse({"status": report.status, "progress": report.progress, "message": report.message})
        return render(request, "assessments/report_detail.html", {
            "report": report, "attestations": report.attestations.select_related("attested_by"),
            "attestation_form": ReportAttestationForm(),
            "attestation_refusal": attestation_refusal(report, signed_in_user(request))})


class ReportAttestView(OrganisationView):
    """POST: an auditor attests a generated Final report by the SHA-256 they verified."""

    required_actions = {"POST": Permission.ATTEST_REPORTS}

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        report = self.organisation_object(Report, pk=pk)
        form = ReportAttestationForm(request.POST)
        back = reverse("assessments:report-detail", args=[report.pk])
        if not form.is_valid():
            messages.error(request, " ".join(
                f"{form.fields[name].label or name}: {' '.join(str(message) for message in errors)}"
                for name, errors in form.errors.items()))
            return redirect(back)
        data = form.cleaned_data
        return run_service(request, lambda: report_attest(report=report, actor=request.user,
                                                          report_sha256=data["report_sha256"],
                                                          comment=data["comment"]),
                           success=f"{report.report_id} attested.", back=back)



class ReportDownloadView(OrganisationView):
    """Reports leave only through here (auditors included), never a public /media/ URL."""

    required_actions = {"GET": Permission.DOWNLOAD_REPORTS}

    def get(self, request: HttpRequest, pk: int) -> FileResponse:
        report = self.organisation_object(Report, pk=pk)
        if report.status != JobStatus.SUCCEEDED or not report.file:
            raise Http404("The report is not ready.")
        return file_download(report.file, filename=f"{report.report_id}.pdf", content_type="application/pdf",
                             sha256=report.sha256)


class VerifyView(OrganisationView):
    required_actions = {"GET": Permission.VERIFY, "POST": Permission.VERIFY}

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, "assessments/verify.html", {"form": VerifyForm()})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = VerifyForm(request.POST, request.FILES)
        if not form.is_valid():
            return render(request, "assessments/verify.html", {"form": form}, status=400)
        outcome = file_verify(organisation=self.access.organisation, stream=form.cleaned_data["file"])
        return render(request, "assessments/verify.html", {"form": VerifyForm(), "outcome": outcome,
                                                           "filename": form.cleaned_data["file"].name})


